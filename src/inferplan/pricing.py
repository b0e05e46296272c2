"""Repricing: per-request cost columns for every row, and exact priced roll-ups.

Prices are resolved once per distinct (model, scope, region, tier), which is tiny, in Python against the
catalog. Two ways to use them, both exact:

- `Bill.table`: every request with its cost columns (`input_usd` ... `total_usd`), a join and column
  arithmetic in the engine; what levers and per-request analyses read.
- `rollup()` + `price_rollup()`: one pass that sums integer token counts per group (dimensions x price key x
  long-context bucket), then multiplies each group's sums by its rates. Cost is linear in tokens within a
  group, so this equals the sum of per-request costs, with one multiplication per group instead of per row:
  faster and free of float accumulation error. Totals and breakdowns use it.

A token kind with tokens but no price is an error naming what to add, never a zero. The long-context rate
(Claude above 200k input tokens) applies to the whole request when its total input (all four input buckets)
exceeds the threshold.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .catalog import Catalog, ResolvedModel
from .catalog.schema import BedrockPrice
from .errors import MissingPriceError
from .workload import BUCKET, COLUMNS, KEYS, TOKEN_COLUMNS, Workload, constants, rollup, total_input

# token kind -> workload column
KINDS: dict[str, str] = {
    "input": "input_tokens",
    "output": "output_tokens",
    "cache_read": "cache_read_tokens",
    "cache_write_5m": "cache_write_tokens",
    "cache_write_1h": "cache_write_1h_tokens",
}
COST_COLUMNS = tuple(f"{k}_usd" for k in KINDS)


@dataclass
class Bill:
    """A priced workload: per-request cost columns (`table`), the price rows used, and a priced roll-up.

    `table` is built on first use: totals and breakdowns come from roll-ups and never need it.
    """

    make_table: Callable[[], ibis.Table]
    prices: dict[tuple[str, str, str, str], BedrockPrice] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    workload: Workload | None = None
    thresholds: tuple[int, ...] = ()
    base: pa.Table | None = None  # priced roll-up by price key only
    _cache: dict[tuple[str, ...], pa.Table] = field(default_factory=dict)
    _table: ibis.Table | None = None

    @property
    def table(self) -> ibis.Table:
        """Every request with `input_usd` ... `total_usd` and `long_context` (a lazy Ibis expression)."""
        if self._table is None:
            self._table = self.make_table()
        return self._table

    def priced_by(self, names: tuple[str, ...], dims: Callable[[ibis.Table], Mapping[str, ibis.Value]]) -> pa.Table:
        """A priced roll-up by named dimensions, made once per bill (`dims` builds them over a table)."""
        if names not in self._cache:
            wl = self.workload
            source = wl.pre if wl is not None and wl.pre is not None else (wl.table if wl else self.table)
            self._cache[names] = self.priced_rollup(dims(source))
        return self._cache[names]

    def priced_rollup(self, dims: Mapping[str, ibis.Value]) -> pa.Table:
        """Roll the workload up by `dims` (name -> expression over the workload's table) and price it."""
        wl = self.workload
        if wl is not None and wl.pre is not None and wl.resolved is not None:
            roll = rollup(wl.pre, self.thresholds, dims, resolved=wl.resolved)
        else:
            roll = rollup(wl.table if wl else self.table, self.thresholds, dims)
        return price_rollup(roll, self.prices, self.thresholds)


def _check(model: str, scope: str, region: str, tier: str, sums: dict[str, int], needs_lc: bool,
           price: BedrockPrice) -> None:
    """Every token kind with tokens must have a price (and a long-context price where it applies)."""
    for kind, col in KINDS.items():
        if not sums[col]:
            continue
        for field_name in [f"{kind}_usd_per_mtok", *([f"lc_{kind}_usd_per_mtok"] if needs_lc else [])]:
            if getattr(price, field_name) is None:
                raise MissingPriceError(
                    f"model {model!r} ({scope}/{region}/{tier}) has {sums[col]:,} {kind.replace('_', ' ')} "
                    f"tokens but the catalog has no `{field_name}`; add it in your catalog file (--catalog FILE) "
                    "under `bedrock_prices:`")


def resolve_prices(roll: pa.Table, catalog: Catalog, thresholds: tuple[int, ...]
                   ) -> tuple[dict[tuple[str, str, str, str], BedrockPrice], list[str]]:
    """Price rows for every key in a roll-up, checked against the tokens each key actually has."""
    per_key: dict[tuple, dict[str, int]] = {}
    max_bucket: dict[tuple, int] = {}
    requests: dict[tuple, int] = {}
    cols = {c: roll.column(c).to_pylist() for c in (*KEYS, *TOKEN_COLUMNS, BUCKET, "requests")}
    for i in range(roll.num_rows):  # one iteration per group, not per request
        key = tuple(cols[k][i] for k in KEYS)
        sums = per_key.setdefault(key, dict.fromkeys(TOKEN_COLUMNS, 0))
        for c in TOKEN_COLUMNS:
            sums[c] += cols[c][i] or 0
        max_bucket[key] = max(max_bucket.get(key, 0), cols[BUCKET][i])
        requests[key] = requests.get(key, 0) + cols["requests"][i]
    prices: dict[tuple[str, str, str, str], BedrockPrice] = {}
    notes: list[str] = []
    provisioned = 0
    for key, sums in per_key.items():
        if key[3] == "provisioned":
            provisioned += requests[key]
            continue
        price = catalog.price(*key)
        th = price.lc_threshold_tokens
        needs_lc = th is not None and max_bucket[key] > bisect.bisect_left(thresholds, th)
        _check(*key, sums, needs_lc, price)
        prices[key] = price
    if provisioned:
        notes.append(f"{provisioned:,} request(s) ran on provisioned throughput: billed per model-unit hour, "
                     "not per token, so their token cost here is 0; price the commitment with the serving options")
    return prices, notes


def price_rollup(roll: pa.Table, prices: Mapping[tuple[str, str, str, str], BedrockPrice],
                 thresholds: tuple[int, ...]) -> pa.Table:
    """Add `<kind>_usd` and `total_usd` to a roll-up: each group's token sums times its rates."""
    n = roll.num_rows
    rates = {kind: np.zeros(n) for kind in KINDS}
    keys = list(zip(*(roll.column(k).to_pylist() for k in KEYS), strict=True)) if n else []
    buckets = roll.column(BUCKET).to_numpy(zero_copy_only=False) if n else np.zeros(0)
    for i, key in enumerate(keys):  # one iteration per group
        p = prices.get(key)
        if p is None:  # provisioned: noted, not priced per token
            continue
        lc = p.lc_threshold_tokens is not None and buckets[i] > bisect.bisect_left(thresholds, p.lc_threshold_tokens)
        for kind in KINDS:
            r = getattr(p, f"lc_{kind}_usd_per_mtok" if lc else f"{kind}_usd_per_mtok")
            rates[kind][i] = r or 0.0  # None only where the group has no tokens of this kind (checked)
    out = roll
    total = np.zeros(n)
    for kind, col in KINDS.items():
        tokens = pc.fill_null(roll.column(col), 0).to_numpy(zero_copy_only=False).astype(np.float64)
        usd = tokens * rates[kind] / 1_000_000
        total += usd
        out = out.append_column(f"{kind}_usd", pa.array(usd))
    return out.append_column("total_usd", pa.array(total))


def _price_memtable(prices: Mapping[tuple[str, str, str, str], BedrockPrice],
                    resolved: Mapping[str, ResolvedModel] | None = None) -> ibis.Table:
    """The price table to join: keyed by (model, scope, region, tier), or, given the id resolution, by
    (logged id, region, tier) with the catalog model and scope as columns, so one join does both."""
    rows: list[tuple[tuple, BedrockPrice]] = []
    if resolved is None:
        names = list(KEYS)
        rows = [(key, p) for key, p in prices.items()]
    else:
        names = ["_id", "region", "tier", "_model", "_scope"]
        for ident, r in resolved.items():
            rows += [((ident, reg, tier, m, sc), p) for (m, sc, reg, tier), p in prices.items()
                     if (m, sc) == (r.model, r.scope)]
    cols: dict[str, list] = {k: [k_[i] for k_, _ in rows] for i, k in enumerate(names)}
    for kind in KINDS:
        cols[f"_p_{kind}"] = [getattr(p, f"{kind}_usd_per_mtok") for _, p in rows]
        cols[f"_lc_{kind}"] = [getattr(p, f"lc_{kind}_usd_per_mtok") for _, p in rows]
    cols["_lc_threshold"] = [p.lc_threshold_tokens for _, p in rows]
    schema = pa.schema([*[(k, pa.string()) for k in names],
                        *[(c, pa.float64()) for c in cols if c.startswith(("_p_", "_lc_")) and c != "_lc_threshold"],
                        ("_lc_threshold", pa.int64())])
    return ibis.memtable(pa.table(cols, schema=schema))


def per_request_costs(table: ibis.Table, prices: Mapping[tuple[str, str, str, str], BedrockPrice],
                      resolved: Mapping[str, ResolvedModel] | None = None) -> ibis.Table:
    """Every request with its cost columns: a join with the (tiny) price table and column arithmetic.

    With `resolved`, `table` is the workload before model resolution (logged ids in `model`, no scope set by
    the source): the same join then resolves the ids too, instead of a second join.
    """
    prices_t = _price_memtable(prices, resolved)
    if resolved is None:
        joined = table.view().left_join(prices_t, list(KEYS))
        joined = joined.drop(*[f"{k}_right" for k in KEYS if f"{k}_right" in joined.columns])
    else:
        joined = table.left_join(prices_t, [table.model == prices_t._id, "region", "tier"])
        canonical = {c: joined[c] for c in COLUMNS} | {"model": joined._model, "scope": joined._scope}
        joined = joined.select(**canonical, **{c: joined[c] for c in joined.columns if c.startswith(("_p_", "_lc_"))})
    has_lc = any(p.lc_threshold_tokens is not None for p in prices.values())
    is_lc = (joined._lc_threshold.notnull() & (total_input(joined) > joined._lc_threshold)) if has_lc \
        else ibis.literal(False)
    costs = {}
    for kind, col in KINDS.items():
        rate = ibis.ifelse(is_lc, joined[f"_lc_{kind}"], joined[f"_p_{kind}"]) if has_lc else joined[f"_p_{kind}"]
        costs[f"{kind}_usd"] = (joined[col] * rate / 1_000_000).fill_null(0.0)
    out = joined.mutate(**costs)
    out = out.mutate(total_usd=sum((out[c] for c in COST_COLUMNS[1:]), out[COST_COLUMNS[0]]),
                     long_context=is_lc.fill_null(False))
    return out.drop(*[c for c in out.columns if c.startswith(("_p_", "_lc_"))])


def price_workload(workload: Workload | ibis.Table, catalog: Catalog) -> Bill:
    """Price every request: one scan by price key (reused if reading already made it); per-request costs lazily."""
    wl = workload if isinstance(workload, Workload) else Workload(table=workload)
    thresholds = catalog.lc_thresholds
    roll = wl.rollup if wl.rollup is not None and wl.rollup_thresholds == thresholds else None
    if roll is None:
        roll = rollup(wl.table, thresholds)
    prices, notes = resolve_prices(roll, catalog, thresholds)
    one_join = wl.pre is not None and wl.resolved is not None and "scope" in constants(wl.pre) \
        and constants(wl.pre)["scope"] is None
    def make_table() -> ibis.Table:
        return per_request_costs(wl.pre, prices, wl.resolved) if one_join else per_request_costs(wl.table, prices)

    return Bill(make_table=make_table, prices=prices, notes=notes, workload=wl,
                thresholds=thresholds, base=price_rollup(roll, prices, thresholds))
