"""A demand series from a canonical workload: one priced roll-up by (call type, interactive, window).

The roll-up is the same one `analyze` prices (`Bill.priced_by`), so the series' Bedrock cost adds up to the
bill's total. Prefill tokens for self-hosting subtract what a self-hosted prefix cache would serve: replayed
on the workload's `prefix` segments when it has them (`inferplan.levers.prefix_cache`, one cache per model),
else the tokens the source read from a prompt cache (a prefix Bedrock found cached is one a self-hosted cache
of the same lifetime finds too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import engine
from ..catalog import Catalog
from ..codes import encode
from ..errors import ConfigError, InputError
from ..levers._common import total_input
from ..levers._table import lever_table
from ..levers.cache import prefix as prefix_cache
from ..levers.cache.flat import gather
from ..pricing import Bill, price_workload
from ..workload import BUCKET, KEYS, PERIOD, TOKEN_COLUMNS, Workload, window_dim

if TYPE_CHECKING:
    from . import DemandSeries

PrefixCache = Literal["auto", "replay", "cache-reads", "none"]


def _dims(window_s: int):  # noqa: ANN202 - a closure over the window width
    def dims(t: ibis.Table) -> dict[str, ibis.Value]:
        return {"call_type": t.call_type, "_interactive": t.interactive.fill_null(True),
                "_w": window_dim(t, window_s)}
    return dims


def _group_codes(models: list, cts: list, inter: list) -> tuple[np.ndarray, list[tuple[str, str, bool]]]:
    keys = list(zip(models, cts, inter, strict=True))
    index: dict[tuple, int] = {}
    codes = np.empty(len(keys), np.int64)
    for i, k in enumerate(keys):  # one iteration per roll-up row (groups x windows x price keys), not per request
        codes[i] = index.setdefault(k, len(index))
    return codes, list(index)


def from_workload(workload: Workload, window_s: int = 60, *, catalog: Catalog | None = None,
                  bill: Bill | None = None, prefix_cache: PrefixCache = "auto",
                  prefix_cache_tokens: int | None = None, prefix_ttl_s: float | None = None,
                  latency_window_s: int | None = 10) -> DemandSeries:
    """Bucket a workload into windows of `window_s` seconds per serving group (see `DemandSeries`).

    `bill` (the workload priced by `inferplan.pricing.price_workload`) is made from `catalog` when not given.
    `prefix_cache`: `auto` replays the `prefix` segments when the workload has any, else uses cache reads;
    `prefix_cache_tokens` caps the replayed cache (LRU, tokens of KV; default unlimited: an upper bound).
    `latency_window_s`: also count arrivals in these finer windows (must divide `window_s`), so that queue waits
    see bursts inside a window (None: latency at the window's own resolution).
    """
    from . import DemandSeries, GroupKey

    if window_s <= 0:
        raise ConfigError(f"window must be a positive number of seconds, not {window_s}")
    if bill is None:
        if catalog is None:
            raise ConfigError("from_workload needs a catalog or a bill to price the Bedrock baseline")
        bill = price_workload(workload, catalog)
    roll = bill.priced_by(("demand", str(window_s)), _dims(window_s))
    if roll.num_rows == 0:
        raise InputError("the workload has no requests: no demand series to build")
    g, keys = _group_codes(roll.column("model").to_pylist(), roll.column("call_type").to_pylist(),
                           roll.column("_interactive").to_pylist())
    w_abs = roll.column("_w").to_numpy(zero_copy_only=False).astype(np.int64)
    w0 = int(w_abs.min())
    w = w_abs - w0
    n_w = int(w.max()) + 1
    shape = (len(keys), n_w)

    def grid(values: np.ndarray) -> np.ndarray:
        out = np.zeros(shape)
        np.add.at(out, (g, w), values)
        return out

    def num(c: str) -> np.ndarray:
        return pc.fill_null(roll.column(c), 0).to_numpy(zero_copy_only=False).astype(np.float64)

    tin = sum(num(c) for c in ("input_tokens", "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens"))
    requests = grid(num("requests"))
    input_total = grid(tin)
    notes: list[str] = []
    wl_table = workload.table
    mode = prefix_cache
    if mode == "auto":
        has_prefix = int(wl_table.filter(wl_table.prefix.notnull()).count().execute()) > 0
        mode = "replay" if has_prefix else "cache-reads"
    if mode == "replay":
        hits = _replayed_hits(wl_table, window_s, w0, keys, shape, prefix_cache_tokens, prefix_ttl_s)
        cap = "unlimited" if prefix_cache_tokens is None else f"{prefix_cache_tokens:,} tokens"
        notes.append(f"self-hosted prefix cache replayed on the prompt segments ({cap}, one cache per model): "
                     f"{hits.sum() / max(input_total.sum(), 1):.1%} of input tokens need no prefill")
    elif mode == "cache-reads":
        hits = grid(num("cache_read_tokens"))
        if hits.sum() > 0:
            notes.append(f"self-hosted prefix cache: the {hits.sum() / max(input_total.sum(), 1):.1%} of input "
                         "tokens read from Bedrock's prompt cache are served from cache (no prompt segments)")
    else:
        hits = np.zeros(shape)
    price_roll = _price_roll(roll, g)
    groups = [GroupKey(str(m), str(c), bool(i)) for m, c, i in keys]
    unknown_inter = int(wl_table.filter(wl_table.interactive.isnull()).count().execute())
    if unknown_inter:
        notes.append(f"{unknown_inter:,} request(s) do not say whether a caller waited: counted as interactive")
    fine = None
    if latency_window_s is not None and latency_window_s < window_s:
        if window_s % latency_window_s:
            raise ConfigError(f"the latency window ({latency_window_s} s) must divide the window ({window_s} s)")
        fine = _fine_counts(wl_table, latency_window_s, w0 * window_s, keys, n_w * window_s // latency_window_s)
    return DemandSeries(window_s=window_s, start=(w0 * window_s), groups=groups, requests=requests,
                        fine_requests=fine, fine_window_s=latency_window_s if fine is not None else None,
                        input_tokens=np.maximum(input_total - hits, 0.0), output_tokens=grid(num("output_tokens")),
                        input_total=input_total, bedrock_usd=grid(num("total_usd")), price_roll=price_roll,
                        notes=notes, sources=list(workload.sources))


def _fine_counts(table: ibis.Table, fine_s: int, start_s: int, keys: list[tuple[str, str, bool]],
                 n_fine: int) -> np.ndarray:
    """Arrivals per (group, fine window): one grouped count in the engine."""
    w = window_dim(table, fine_s) - start_s // fine_s
    agg = engine.to_pyarrow(table.group_by([table.model, table.call_type,
                                            table.interactive.fill_null(True).name("_i"), w.name("_fw")])
                            .aggregate(n=table.count()))
    index = {k: i for i, k in enumerate(keys)}
    g = np.array([index[k] for k in zip(agg.column("model").to_pylist(), agg.column("call_type").to_pylist(),
                                        agg.column("_i").to_pylist(), strict=True)], np.int64)
    out = np.zeros((len(keys), n_fine))
    np.add.at(out, (g, agg.column("_fw").to_numpy(zero_copy_only=False).astype(np.int64)),
              agg.column("n").to_numpy(zero_copy_only=False).astype(np.float64))
    return out


def _price_roll(roll: pa.Table, g: np.ndarray) -> pa.Table:
    """Token sums per (group, price key, long-context bucket, pricing period): what repricing at another tier
    needs."""
    t = pa.table({"_g": pa.array(g, pa.int64()), **{k: roll.column(k) for k in (*KEYS, BUCKET, PERIOD)},
                  "requests": roll.column("requests"),
                  **{c: pc.fill_null(roll.column(c), 0) for c in TOKEN_COLUMNS}})
    agg = t.group_by(["_g", *KEYS, BUCKET, PERIOD], use_threads=False).aggregate(
        [(c, "sum") for c in ("requests", *TOKEN_COLUMNS)])
    return agg.rename_columns([c.removesuffix("_sum") for c in agg.column_names])


def _replayed_hits(table: ibis.Table, window_s: int, w0: int, keys: list[tuple[str, str, bool]],
                   shape: tuple[int, int], capacity: int | None, ttl_s: float | None) -> np.ndarray:
    """Input tokens per (group, window) that a self-hosted prefix cache serves, one LRU cache per model.

    The traffic is read as the levers read it (`levers._table.lever_table`: the lever columns streamed, the
    prefix segments as 64-bit ids): pulling the canonical rows with their hash strings took 11 GB at 10M
    requests. Each model's flat arrays are gathered from the shared ones in one compiled pass."""
    lt, prefixes = lever_table(table)
    index = {k: i for i, k in enumerate(keys)}
    out = np.zeros(shape)
    ts_all = _epoch_us(lt.column("ts"))
    model_code, models = _encode(lt.column("model"))
    ct_code, cts = _encode(lt.column("call_type"))
    inter = pc.fill_null(lt.column("interactive"), True).to_numpy(zero_copy_only=False).astype(bool)
    w_all = ts_all // (window_s * 1_000_000) - w0  # `workload.window_dim`, on the same microseconds
    tin_all = total_input(lt)
    row_of = lt.column("_row").to_numpy()
    ttl = None if ttl_s is None else int(round(ttl_s * 1e6))
    cap = prefix_cache.INF - 1 if capacity is None else capacity
    for mi, model in enumerate(models):  # one replay per model (a few), each vectorised/compiled
        rows = np.flatnonzero(model_code == mi)
        rows = rows[np.argsort(ts_all[rows], kind="stable")]
        flat = gather(prefixes.lengths, prefixes.starts, prefixes.seg, prefixes.tokens, row_of[rows], tin_all[rows],
                      np.zeros(rows.size, np.int64))
        if flat.size == 0:
            continue
        thr = prefix_cache.thresholds(flat, ts_all[rows], ttl)
        hit_tokens = np.bincount(flat.req, weights=np.where(thr <= cap, flat.tokens, 0), minlength=rows.size)
        del flat, thr
        lookup = {(c, i): index[(model, cts[c], bool(i))] for c in range(len(cts)) for i in (0, 1)
                  if (model, cts[c], bool(i)) in index}
        codes = ct_code[rows] * 2 + inter[rows].astype(np.int64)
        table_g = np.full(len(cts) * 2, -1, np.int64)
        for (c, i), gi in lookup.items():
            table_g[c * 2 + i] = gi
        gi_rows = table_g[codes]
        ok = gi_rows >= 0
        np.add.at(out, (gi_rows[ok], w_all[rows][ok]), hit_tokens[ok])
    return out


def _epoch_us(ts: pa.ChunkedArray) -> np.ndarray:
    """Microseconds since the epoch of a fetched timestamp column (whatever unit the engine returned)."""
    return pc.cast(ts.cast(pa.timestamp("us", tz="UTC")), pa.int64()).to_numpy(zero_copy_only=False)


def _encode(col: pa.ChunkedArray) -> tuple[np.ndarray, list]:
    return encode(col)
