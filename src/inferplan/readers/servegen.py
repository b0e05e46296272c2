"""Alibaba ServeGen (github.com/alibaba/ServeGen) rate files, as the repository publishes them, and the
derived aggregate series in `../shared/data/traces/servegen`.

Published layout: `data/<category>/<model>/chunk-<N>-trace.csv` and `chunk-<N>-dataset.json`, one pair per
client N. The trace file has NO header; each line is one 600-second window of that client:
`timestamp,rate,cv,pattern,shape,scale` (window start in seconds, mean requests per second, coefficient of
variation of inter-arrival times, the fitted inter-arrival distribution `Gamma` or `Weibull` with its two
parameters; an idle window is `ts,0,0,,0,0`), as `servegen/clientpool.py` `_load_data` parses it. The dataset
file maps a window start (every 21,600 s) to per-field probability tables written as Python dict literals
(`"input_tokens": "{224: 0.0003, ...}"`, token count -> probability).

The derived series (`ts,total_rps,active_clients`, with a header) is the per-window sum over clients.

Reading requests from rates: per window, a Poisson count at `rate x 600 s x ReadOptions.rate_scale` (default
0.01; seeded by `ReadOptions.seed`). In chunk files the arrival times follow the window's own pattern the
way ServeGen's `construct._sample_iats` does (inter-arrival times drawn from its Gamma/Weibull, scaled so
they fill the window), and token lengths are drawn from the client's dataset file beside it (the window at or
before the request); without one, and for the derived series, lognormal at m-large's published means
(~914 input, ~155 output; coefficient of variation 1, an assumption, said in the notes). Call type: the
model folder (`m-large`); tag `client` = N. Model from `--model`.

`read_rate_files(paths)` returns the rates themselves, for demand series (`inferplan.demand`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa

from ..engine import connection
from ..errors import InputError
from ._csv import read_csv_checked
from .base import InputFile, Raw, ReadOptions, as_file, head_bytes

NAME = "servegen"
MEAN_INPUT, MEAN_OUTPUT, CV = 914.0, 155.0, 1.0
WINDOW_S = 600
_NUM = r"-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?"
_CHUNK_LINE = re.compile(rf"^[0-9]+,{_NUM},{_NUM},[A-Za-z]*,{_NUM},{_NUM}\r?$".encode())
_CHUNK_NAME = re.compile(r"^chunk-([0-9]+)-(trace\.csv|dataset\.json)$")
RATE_SCHEMA = pa.schema([("client", pa.int64()), ("window_start_s", pa.int64()), ("window_s", pa.int64()),
                         ("rate_rps", pa.float64()), ("cv", pa.float64()), ("pattern", pa.string()),
                         ("pattern_shape", pa.float64()), ("pattern_scale", pa.float64()),
                         ("active_clients", pa.int64()), ("source", pa.string())])


def _is_summary(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf").startswith(b"ts,total_rps")


def _is_chunk(head: bytes) -> bool:
    return bool(_CHUNK_LINE.match(head.split(b"\n", 1)[0]))


def sniff(path: InputFile, head: bytes) -> bool:
    m = _CHUNK_NAME.match(path.name)
    if m and m.group(2) == "dataset.json":
        return True
    return _is_summary(head) or _is_chunk(head)


def _client(path: Path) -> int | None:
    m = _CHUNK_NAME.match(path.name)
    return int(m.group(1)) if m else None


def _read_one(path: Path, on_error: str = "raise") -> tuple[pa.Table, dict[str, int]]:
    """One rate file as `RATE_SCHEMA` rows (by window start), and the lines skipped."""
    head = head_bytes(path)
    con = connection()
    if _is_summary(head):
        name, skipped = read_csv_checked(con, path, {"ts": "DOUBLE", "total_rps": "DOUBLE", "active_clients": "BIGINT"},
                                         on_error)
        t = con.table(name).to_pyarrow()
        n = t.num_rows
        cols = {"client": pa.nulls(n, pa.int64()), "window_start_s": t.column("ts"), "rate_rps": t.column("total_rps"),
                "cv": pa.nulls(n, pa.float64()), "pattern": pa.nulls(n, pa.string()),
                "pattern_shape": pa.nulls(n, pa.float64()), "pattern_scale": pa.nulls(n, pa.float64()),
                "active_clients": t.column("active_clients")}
    elif _is_chunk(head):
        name, skipped = read_csv_checked(con, path, {"ts": "BIGINT", "rate": "DOUBLE", "cv": "DOUBLE",
                                                     "pattern": "VARCHAR", "shape": "DOUBLE", "scale": "DOUBLE"},
                                         on_error, header=False)
        t = con.table(name).to_pyarrow()
        n = t.num_rows
        client = _client(path)
        cols = {"client": pa.array([client] * n, pa.int64()), "window_start_s": t.column("ts"),
                "rate_rps": t.column("rate"), "cv": t.column("cv"),
                "pattern": pa.array([x or None for x in t.column("pattern").to_pylist()], pa.string()),
                "pattern_shape": t.column("shape"), "pattern_scale": t.column("scale"),
                "active_clients": pa.nulls(n, pa.int64())}
    else:
        raise InputError(f"{path}: not a ServeGen rate file (read as ServeGen: expected headerless "
                         "`timestamp,rate,cv,pattern,shape,scale` lines as in chunk-N-trace.csv, or the derived "
                         "`ts,total_rps,active_clients` series)")
    if n == 0:
        raise InputError(f"{path}: no rate rows (read as a ServeGen rate file)")
    ts = np.asarray(cols["window_start_s"].to_numpy(zero_copy_only=False), np.float64)
    rate = np.asarray(cols["rate_rps"].to_numpy(zero_copy_only=False), np.float64)
    if np.isnan(ts).any() or np.isnan(rate).any() or (rate < 0).any():
        raise InputError(f"{path}: window starts and rates must be numbers, rates non-negative (read as a ServeGen "
                         "rate file)")
    order = np.argsort(ts, kind="stable")
    steps = np.diff(ts[order])
    width = int(np.median(steps)) if steps.size else WINDOW_S
    if width <= 0 or (steps <= 0).any():
        raise InputError(f"{path}: window starts must be distinct (read as a ServeGen rate file)")
    cols["window_start_s"] = pa.array(ts.astype(np.int64))
    cols["window_s"] = pa.array(np.full(n, width, np.int64))
    cols["source"] = pa.array([str(path)] * n, pa.string())
    table = pa.table({k: cols[k] for k in RATE_SCHEMA.names}).cast(RATE_SCHEMA).take(pa.array(order))
    return table, {f"servegen: {k}": v for k, v in skipped.items()}


def read_rate_files(paths: list[str | Path]) -> pa.Table:
    """ServeGen rates as published (headerless `chunk-N-trace.csv`) or derived (`ts,total_rps,active_clients`),
    one row per (client, window): `client` (N from the file name; null for the derived series),
    `window_start_s` (seconds from the trace start), `window_s` (600), `rate_rps` (mean requests per second),
    `cv`, `pattern` (`Gamma`/`Weibull`, null when idle), `pattern_shape`, `pattern_scale`, `active_clients`
    (derived series only), `source` (the file). Sum `rate_rps x window_s` by `window_start_s` for the total
    demand. Dataset files among `paths` are ignored."""
    files = [as_file(p) for p in paths if not str(p).endswith("-dataset.json")]
    if not files:
        raise InputError("no ServeGen rate files given")
    return pa.concat_tables([_read_one(f)[0] for f in files])


def _pdf(text: str, where: str) -> np.ndarray:
    """A ServeGen probability table (`"{224: 0.0003, ...}"`, a Python dict literal) as a dense pdf by token count."""
    body = text.strip()
    if not (body.startswith("{") and body.endswith("}")):
        raise InputError(f"{where}: not a token-count probability table")
    try:
        flat = np.array(body[1:-1].replace(":", " ").replace(",", " ").split(), dtype=np.float64)
    except ValueError:
        raise InputError(f"{where}: not a token-count probability table") from None
    if flat.size % 2:
        raise InputError(f"{where}: not a token-count probability table")
    keys, vals = flat[0::2], flat[1::2]
    if (keys != np.floor(keys)).any():
        raise InputError(f"{where}: token counts must be integers")
    keys = keys.astype(np.int64)
    if keys.size == 0 or (keys < 0).any() or (vals < 0).any() or vals.sum() <= 0:
        raise InputError(f"{where}: empty or negative probability table")
    pdf = np.zeros(int(keys.max()) + 1)
    np.add.at(pdf, keys, vals)
    return pdf / pdf.sum()


def _datasets(path: Path) -> dict[int, dict[str, np.ndarray]]:
    """window start -> {field: pdf} for input_tokens and output_tokens (other fields and empty windows skipped)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a ServeGen dataset file ({exc})") from None
    out: dict[int, dict[str, np.ndarray]] = {}
    for ts, fields in doc.items():
        if not isinstance(fields, dict) or any(f not in fields for f in ("input_tokens", "output_tokens")):
            continue
        if any(str(fields[f]).strip() in ("{}", "") for f in ("input_tokens", "output_tokens")):
            continue
        out[int(ts)] = {f: _pdf(str(fields[f]), f"{path}: window {ts} {f}") for f in ("input_tokens", "output_tokens")}
    return out


def _lognormal(rng: np.random.Generator, mean: float, n: int) -> np.ndarray:
    s2 = np.log1p(CV**2)
    return np.maximum(1, np.rint(rng.lognormal(np.log(mean) - s2 / 2, np.sqrt(s2), n))).astype(np.int64)


def _arrivals(rng: np.random.Generator, start: np.ndarray, width: np.ndarray, counts: np.ndarray,
              pattern: np.ndarray, shape: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Arrival times (s): per window, inter-arrival times from its pattern scaled to fill the window
    (ServeGen `construct._sample_iats`); uniform within the window where there is no pattern."""
    n = int(counts.sum())
    idx = np.repeat(np.arange(counts.size), counts)
    a, b = shape[idx], scale[idx]
    a1, b1 = np.where(a > 0, a, 1.0), np.where(b > 0, b, 1.0)
    iat = np.where(pattern[idx] == "Gamma", rng.gamma(a1, b1), rng.weibull(a1) * b1)
    patterned = np.isin(pattern[idx], ["Gamma", "Weibull"]) & (a > 0) & (b > 0)
    iat = np.where(patterned, np.maximum(iat, 1e-12), 0.0)
    gs = np.bincount(idx, weights=iat, minlength=counts.size)  # each window's sum of inter-arrival times
    within = np.cumsum(iat) - (np.cumsum(gs) - gs)[idx] - iat    # time since the window start, first at 0
    frac = np.where(patterned, within / np.where(gs[idx] > 0, gs[idx], 1.0), rng.random(n))
    return start[idx] + frac * width[idx]


def _draw_tokens(rng: np.random.Generator, t_s: np.ndarray, ds: dict[int, dict[str, np.ndarray]],
                 field: str) -> np.ndarray:
    """Token counts for requests at times `t_s` from the dataset window at or before each."""
    keys = np.array(sorted(ds), np.int64)
    which = np.clip(np.searchsorted(keys, t_s, side="right") - 1, 0, keys.size - 1)
    out = np.empty(t_s.size, np.int64)
    for i in np.unique(which):  # one draw per dataset window (at most 56 per client), vectorised inside
        sel = which == i
        cdf = np.cumsum(ds[int(keys[i])][field])
        out[sel] = np.minimum(np.searchsorted(cdf, rng.random(int(sel.sum())) * cdf[-1], side="right"), cdf.size - 1)
    return np.maximum(out, 1) if field == "input_tokens" else out


def read(paths: list[InputFile], options: ReadOptions) -> Raw:
    rng = np.random.default_rng(options.seed)
    start_us = int(options.trace_start.timestamp() * 1e6)
    datasets = {(p.parent, _client(p)): p for p in paths if p.name.endswith("-dataset.json")}
    rate_files = [p for p in paths if not p.name.endswith("-dataset.json")]
    if not rate_files:
        raise InputError(f"{paths[0]}: ServeGen dataset files without their chunk-N-trace.csv rate files")
    parts = []
    notes: list[str] = []
    skipped: dict[str, int] = {}
    total = 0
    drawn_from_pdf = 0
    for p in rate_files:
        r, bad = _read_one(p, options.on_error)
        skipped.update(bad)
        start = r.column("window_start_s").to_numpy(zero_copy_only=False).astype(np.float64)
        width = r.column("window_s").to_numpy(zero_copy_only=False).astype(np.float64)
        rate = r.column("rate_rps").to_numpy(zero_copy_only=False)
        counts = rng.poisson(rate * width * options.rate_scale)
        pattern = np.array(r.column("pattern").to_pylist(), dtype=object)
        shape = np.nan_to_num(r.column("pattern_shape").to_numpy(zero_copy_only=False).astype(np.float64))
        scale = np.nan_to_num(r.column("pattern_scale").to_numpy(zero_copy_only=False).astype(np.float64))
        t_s = _arrivals(rng, start, width, counts, pattern, shape, scale)
        n = t_s.size
        total += n
        client = _client(p)
        ds_path = datasets.get((p.parent, client))
        ds = _datasets(ds_path) if ds_path is not None else {}
        if ds:
            inp, out = _draw_tokens(rng, t_s, ds, "input_tokens"), _draw_tokens(rng, t_s, ds, "output_tokens")
            drawn_from_pdf += n
        else:
            inp, out = _lognormal(rng, MEAN_INPUT, n), _lognormal(rng, MEAN_OUTPUT, n)
        t_us = start_us + np.rint(t_s * 1e6).astype(np.int64)
        order = np.argsort(t_us, kind="stable")
        call_type = p.parent.name if client is not None else "m-large"
        tags = [("client", str(client))] if client is not None else []
        parts.append(pa.table({
            "ts": pa.array(t_us[order], pa.timestamp("us", tz="UTC")),
            "call_type": pa.repeat(call_type, n),
            "input_tokens": pa.array(inp[order]),
            "output_tokens": pa.array(out[order]),
            "tags": pa.array([tags] * n, pa.map_(pa.string(), pa.string())),
        }))
    table = ibis.memtable(pa.concat_tables(parts))
    notes.append(f"servegen: {total:,} requests drawn from {len(rate_files)} rate file(s) at rate_scale "
                 f"{options.rate_scale} (seed {options.seed})")
    if drawn_from_pdf < total:
        notes.append(f"servegen: token lengths of {total - drawn_from_pdf:,} request(s) drawn lognormal at the "
                     f"published m-large means {MEAN_INPUT:.0f}/{MEAN_OUTPUT:.0f} (cv {CV:g}, an assumption): no "
                     "chunk-N-dataset.json beside their rate file")
    if drawn_from_pdf:
        notes.append(f"servegen: token lengths of {drawn_from_pdf:,} request(s) drawn from their client's "
                     "chunk-N-dataset.json")
    return Raw(table=table, skipped=skipped, notes=notes)
