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

Prices in force on a date: a catalog row may carry `effective_from` / `effective_to`. The days any row begins or
ends cut time into pricing periods (`Catalog.price_periods`); each request falls in one by its `ts`
(`workload.period_bucket`: a CASE over those few dates in the engine, or `np.searchsorted` in memory), and the
price key is (model, scope, region, tier, period): each key is resolved once, to the row in force through that
period, and a period with no row in force is the catalog's MissingPriceError naming the dates.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import ibis
import numba
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import engine
from .catalog import Catalog
from .catalog.schema import BedrockPrice, ProvisionedPrice
from .codes import column_id, combo_codes
from .errors import ConfigError, MissingPriceError
from .workload import (
    BUCKET,
    COLUMNS,
    KEYS,
    PERIOD,
    TOKEN_COLUMNS,
    Workload,
    period_bucket,
    rollup,
    rollup_by,
    total_input,
)

# token kind -> workload column
KINDS: dict[str, str] = {
    "input": "input_tokens",
    "output": "output_tokens",
    "cache_read": "cache_read_tokens",
    "cache_write_5m": "cache_write_5m_tokens",
    "cache_write_1h": "cache_write_1h_tokens",
}
COST_COLUMNS = tuple(f"{k}_usd" for k in KINDS)
Key = tuple[str, str, str, str]  # (model, scope, region, tier): what a price row is looked up by
PriceKey = tuple[str, str, str, str, int]  # ... and the pricing period of the requests' time (0 when none is dated)


@dataclass
class Bill:
    """A priced workload: per-request cost columns (`table`), the price rows used, and a priced roll-up.

    `table` is built on first use: totals and breakdowns come from roll-ups and never need it.
    """

    make_table: Callable[[], ibis.Table]
    prices: dict[PriceKey, BedrockPrice] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    workload: Workload | None = None
    thresholds: tuple[int, ...] = ()
    base: pa.Table | None = None  # priced roll-up by price key only
    # keys kept out of token dollars (provisioned tier, models not billed per token): (reason, requests)
    excluded: dict[tuple[str, str, str, str], tuple[str, int]] = field(default_factory=dict)
    periods: tuple[int, ...] = ()  # the catalog's price boundaries (Catalog.price_periods_us) it was priced with
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
            roll = rollup_by(self._source, self.thresholds, dims, self.periods)
            self._cache[names] = price_rollup(roll, self.prices, self.thresholds)
        return self._cache[names]

    @property
    def _source(self) -> ibis.Table:
        return self.workload.table if self.workload is not None else self.table

    def priced_rollup(self, dims: Mapping[str, ibis.Value]) -> pa.Table:
        """Roll the workload up by `dims` (name -> expression over the workload's table) and price it."""
        return price_rollup(rollup(self._source, self.thresholds, dims, periods=self.periods), self.prices,
                            self.thresholds)


def _check(model: str, scope: str, region: str, tier: str, sums: dict[str, int], needs_lc: bool,
           price: BedrockPrice) -> None:
    """Every token kind with tokens must have a price (and a long-context price where it applies)."""
    for kind, col in KINDS.items():
        if not sums[col]:
            continue
        for field_name in [f"{kind}_usd_per_mtok", *([f"lc_{kind}_usd_per_mtok"] if needs_lc else [])]:
            if getattr(price, field_name) is None:
                dated = "" if price.window() == "always" else f", row in force {price.window()}"
                raise MissingPriceError(
                    f"model {model!r} ({scope}/{region}/{tier}{dated}) has {sums[col]:,} {kind.replace('_', ' ')} "
                    f"tokens but the catalog has no `{field_name}`; add it in your catalog file (--catalog FILE) "
                    "under `bedrock_prices:`")


def excluded_reason(catalog: Catalog, model: str, tier: str) -> str | None:
    """Why requests of this model and tier carry no token dollars, or None when they are token-priced.

    `provisioned`: Provisioned Throughput is billed per model-unit hour (priced from units, see
    `provisioned_costs`), never at on-demand token rates. `image`/`second`/`speech`: the model is billed per
    image, second of video or speech token (`billing_unit` in the catalog), which token prices cannot express.
    """
    if tier == "provisioned":
        return "provisioned"
    bm = catalog.bedrock_models.get(model)
    if bm is not None and bm.billing_unit != "token":
        return bm.billing_unit
    return None


def excluded_notes(excluded: Mapping[tuple[str, str, str, str], tuple[str, int]]) -> list[str]:
    """The notes for requests kept out of token dollars: how many, and why, by model."""
    prov: dict[str, int] = {}
    other: dict[tuple[str, str], int] = {}
    for (model, _s, _r, _t), (reason, n) in excluded.items():
        if reason == "provisioned":
            prov[model] = prov.get(model, 0) + n
        else:
            other[(model, reason)] = other.get((model, reason), 0) + n
    notes = []
    if prov:
        notes.append(f"billed by the hour, not per token: {sum(prov.values()):,} request(s) on provisioned throughput ("
                     + ", ".join(f"{m}: {n:,}" for m, n in sorted(prov.items()))
                     + "), kept out of token dollars; price them from model units (--provisioned-units MODEL=N)")
    if other:
        notes.append(f"not token-priced: {sum(other.values()):,} request(s) ("
                     + ", ".join(f"{m}: {n:,}, billed per {u}" for (m, u), n in sorted(other.items()))
                     + "), kept out of token dollars")
    return notes


def resolve_prices(roll: pa.Table, catalog: Catalog, thresholds: tuple[int, ...]
                   ) -> tuple[dict[PriceKey, BedrockPrice], list[str]]:
    """Price rows for every key in a roll-up, checked against the tokens each key actually has."""
    prices, excluded = _resolve_keys(roll, catalog, thresholds)
    return prices, excluded_notes(excluded)


def _periods(roll: pa.Table, catalog: Catalog | None = None) -> list[int]:
    """The roll-up's pricing period per group (all 0 for a roll-up made without dated prices)."""
    if PERIOD in roll.column_names:
        return roll.column(PERIOD).to_pylist()
    if catalog is not None and catalog.price_periods:
        raise ConfigError(f"a roll-up without `{PERIOD}` cannot be priced with dated catalog prices "
                          "(make it with workload.rollup(..., periods=catalog.price_periods_us))")
    return [0] * roll.num_rows


def _resolve_keys(roll: pa.Table, catalog: Catalog, thresholds: tuple[int, ...]
                  ) -> tuple[dict[PriceKey, BedrockPrice], dict[Key, tuple[str, int]]]:
    """Price rows per (key, period), and the keys kept out of token dollars with (reason, requests)."""
    per_key: dict[tuple, dict[str, int]] = {}
    max_bucket: dict[tuple, int] = {}
    requests: dict[tuple, int] = {}
    cols = {c: roll.column(c).to_pylist() for c in (*KEYS, *TOKEN_COLUMNS, BUCKET, "requests")}
    cols[PERIOD] = _periods(roll, catalog)
    for i in range(roll.num_rows):  # one iteration per group, not per request
        key = tuple(cols[k][i] for k in (*KEYS, PERIOD))
        sums = per_key.setdefault(key, dict.fromkeys(TOKEN_COLUMNS, 0))
        for c in TOKEN_COLUMNS:
            sums[c] += cols[c][i] or 0
        max_bucket[key] = max(max_bucket.get(key, 0), cols[BUCKET][i])
        requests[key] = requests.get(key, 0) + cols["requests"][i]
    prices: dict[PriceKey, BedrockPrice] = {}
    excluded: dict[Key, tuple[str, int]] = {}
    for key, sums in per_key.items():
        reason = excluded_reason(catalog, key[0], key[3])
        if reason is not None:
            n = excluded.get(key[:4], (reason, 0))[1]  # type: ignore[call-overload]
            excluded[key[:4]] = (reason, n + requests[key])  # type: ignore[index]
            continue
        price = catalog.price(*key[:4], period=key[4])
        th = price.lc_threshold_tokens
        needs_lc = th is not None and max_bucket[key] > bisect.bisect_left(thresholds, th)
        _check(*key[:4], sums, needs_lc, price)
        prices[key] = price  # type: ignore[index]
    return prices, excluded


def price_rollup(roll: pa.Table, prices: Mapping[PriceKey, BedrockPrice], thresholds: tuple[int, ...]) -> pa.Table:
    """Add `<kind>_usd` and `total_usd` to a roll-up: each group's token sums times its rates (the rows of
    `resolve_prices`, by price key and period)."""
    n = roll.num_rows
    rates = {kind: np.zeros(n) for kind in KINDS}
    keys = list(zip(*(roll.column(k).to_pylist() for k in KEYS), _periods(roll), strict=True)) if n else []
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


def _rate_table(rows: list[tuple[tuple, BedrockPrice]], names: list[str], period: bool) -> ibis.Table:
    """A (tiny) table of rates to join: key columns `names` (strings; then `_pp`, the period, when `period`)."""
    cols: dict[str, list] = {k: [key[i] for key, _ in rows] for i, k in enumerate(names)}
    fields = [(k, pa.string()) for k in names]
    if period:
        cols["_pp"] = [key[len(names)] for key, _ in rows]
        fields.append(("_pp", pa.int16()))
    for kind in KINDS:
        cols[f"_p_{kind}"] = [getattr(p, f"{kind}_usd_per_mtok") for _, p in rows]
        cols[f"_lc_{kind}"] = [getattr(p, f"lc_{kind}_usd_per_mtok") for _, p in rows]
    cols["_lc_threshold"] = [p.lc_threshold_tokens for _, p in rows]
    schema = pa.schema([*fields, *[(c, pa.float64()) for c in cols if c.startswith(("_p_", "_lc_"))
                                   and c != "_lc_threshold"], ("_lc_threshold", pa.int64())])
    return ibis.memtable(pa.table(cols, schema=schema))


def _price_memtable(prices: Mapping[PriceKey, BedrockPrice], period: bool = False) -> ibis.Table:
    """The (tiny) price table to join, keyed by (model, scope, region, tier) and, with `period`, `_pp`."""
    return _rate_table(list(prices.items()), list(KEYS), period)


def _with_rates(table: ibis.Table, prices: Mapping[PriceKey, BedrockPrice], *, fast: bool = True,
                periods: tuple[int, ...] = ()) -> ibis.Table:
    """The canonical columns and each request's rates (`_p_*`, `_lc_*`, `_lc_threshold`).

    Portable twin: join the price table on (model, scope, region, tier) and, when prices are dated, the
    request's pricing period (`period_bucket` of its `ts`). Fast path, for a table the readers resolved from a
    source that sets no scope (`engine.rewrites`): join the table before resolution once, on (logged id,
    region, tier[, period]), with the catalog model and scope as columns of the price table: one join, not two.
    """
    found = engine.rewrites.find(("resolved", table.op())) if fast else None
    if found is None or "scope" not in found[2] or found[2]["scope"] is not None:
        t = table.view()
        rates_t = _price_memtable(prices, bool(periods))
        on = [t[k] == rates_t[k] for k in KEYS]
        if periods:
            on.append(period_bucket(t, periods) == rates_t._pp)
        joined = t.left_join(rates_t, on)
        return joined.drop(*[c for c in (*(f"{k}_right" for k in KEYS), "_pp") if c in joined.columns])
    pre, resolved, _ = found
    rows = [((ident, reg, tier, m, sc, per), p) for ident, r in resolved.items()
            for (m, sc, reg, tier, per), p in prices.items() if (m, sc) == (r.model, r.scope)]
    by_id = _rate_table(rows, ["_id", "_region", "_tier", "_model", "_scope"], bool(periods))
    on = [pre.model == by_id._id, pre.region == by_id._region, pre.tier == by_id._tier]
    if periods:
        on.append(period_bucket(pre, periods) == by_id._pp)
    j = pre.left_join(by_id, on)
    # a logged id always resolves (read_workload checked), so _model/_scope are null only where no price row
    # matched: there the resolved names still come from the id map, as the twin's resolved table has them
    ids = {i: (r.model, r.scope) for i, r in resolved.items()}
    model = j._model.fill_null(j.model.substitute({i: m for i, (m, _) in ids.items()}))
    scope = j._scope.fill_null(j.model.substitute({i: sc for i, (_, sc) in ids.items()}))
    rates = [c for c in by_id.columns if c.startswith(("_p_", "_lc_"))]
    return j.select(**{c: (model if c == "model" else scope if c == "scope" else j[c]) for c in COLUMNS},
                    **{c: j[c] for c in rates})


def per_request_costs(table: ibis.Table, prices: Mapping[PriceKey, BedrockPrice],
                      periods: tuple[int, ...] = ()) -> ibis.Table:
    """Every request with its cost columns: a join with the (tiny) price table (on the price key and, with
    dated prices, the request's pricing period) and column arithmetic."""
    joined = _with_rates(table, prices, periods=periods)
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
    periods = catalog.price_periods_us
    roll = rollup(wl.table, thresholds, periods=periods)  # made while reading, if `read_workload` read it (engine.memo)
    prices, excluded = _resolve_keys(roll, catalog, thresholds)
    notes = excluded_notes(excluded)

    def make_table() -> ibis.Table:
        return per_request_costs(wl.table, prices, periods)

    return Bill(make_table=make_table, prices=prices, notes=notes, workload=wl, excluded=excluded,
                thresholds=thresholds, base=price_rollup(roll, prices, thresholds), periods=periods)


# ---- per-request pricing of in-memory tables (the levers' counterfactuals) ------------------------------------

def _count(t: pa.Table, name: str) -> np.ndarray:
    """A token column as integers (nulls as 0): int64, or the int32 of a lever table (`levers._table`), not
    copied to 64 bits (consumers sum in int64 or float64); read-only where arrow's memory is used as it is."""
    c = t.column(name)
    if c.null_count:
        c = pc.fill_null(c, 0)
    a = c.to_numpy(zero_copy_only=False)
    return a if a.dtype in (np.int32, np.int64) else a.astype(np.int64)


@numba.njit(cache=True)
def _sums_by(by: np.ndarray, rate_code: np.ndarray, n_rates: int, n: int, tok: np.ndarray) -> np.ndarray:
    """Integer token sums per (value of `by`, rate code) group, `by * n_rates + rate_code`: exact."""
    out = np.zeros(n, np.int64)
    for i in range(by.size):
        out[by[i] * n_rates + rate_code[i]] += tok[i]
    return out


@numba.njit(cache=True)
def _input_sums(rows: np.ndarray, code: np.ndarray, t0: np.ndarray, t1: np.ndarray, t2: np.ndarray, t3: np.ndarray,
                r0: np.ndarray, r1: np.ndarray, r2: np.ndarray, r3: np.ndarray, u0: np.ndarray, u1: np.ndarray,
                u2: np.ndarray, u3: np.ndarray, given: np.ndarray, by: np.ndarray, n_by: int
                ) -> tuple[np.ndarray, bool]:
    """Per value of `by`: the input side of each request of `rows` (input, cache read, 5m and 1h writes, each
    `tok * rate` where tok > 0, summed left to right), added in row order; and whether a request has tokens of
    a kind without a price."""
    out = np.zeros(n_by)
    bad = False
    for j in range(rows.size):
        i = rows[j]
        c = code[i]
        acc = 0.0
        for k in range(4):
            if not given[k]:
                part = 0.0
            else:
                tok = (t0[i] if k == 0 else t1[i] if k == 1 else t2[i] if k == 2 else t3[i])
                rate = (r0[c] if k == 0 else r1[c] if k == 1 else r2[c] if k == 2 else r3[c])
                un = (u0[c] if k == 0 else u1[c] if k == 1 else u2[c] if k == 2 else u3[c])
                part = tok * rate if tok > 0 else 0.0
                if tok > 0 and un:
                    bad = True
            acc = part if k == 0 else acc + part
        out[by[j]] += acc
    return out, bad


@dataclass
class RequestRates:
    """USD per token of each request and token kind, long-context rates where the request is long (NaN: the
    catalog has no such price), from the same price rows, rules and errors as the bill.

    Rates depend on a request's key and total input only, so a counterfactual that moves tokens between input
    buckets (caching, batch's cache-free input) is priced with the same rates (`costs`). They are held per
    (price key, long-context) pair, `rates[kind][rate_code]`, with one small integer code per request: a
    request's rate is gathered only where it is needed (`per_token`), never five float arrays per request.
    """

    rates: dict[str, np.ndarray]  # token kind (KINDS) -> USD per token per rate code (2 x keys: short, long)
    long_context: np.ndarray  # bool per request
    excluded: np.ndarray  # bool per request: kept out of token dollars (provisioned, not billed per token)
    code: np.ndarray  # per request: index into `keys`
    keys: list[PriceKey]  # (model, scope, region, tier, pricing period of the request's ts)
    prices: dict[PriceKey, BedrockPrice]
    reasons: dict[PriceKey, str]  # excluded key -> reason
    missing: dict[PriceKey, str] = field(default_factory=dict)  # key -> catalog's error (strict=False)
    excluded_keys: np.ndarray | None = None  # bool per key (derived from `excluded` when not given)
    _rate_code: np.ndarray | None = field(default=None, repr=False)

    @property
    def rate_code(self) -> np.ndarray:
        """Per request: 2 x its key's index + 1 where it is long-context (an index into `rates`)."""
        if self._rate_code is None:
            self._rate_code = self.code * 2 + self.long_context
        return self._rate_code

    @property
    def _excluded_codes(self) -> np.ndarray:
        """Per rate code: kept out of token dollars."""
        if self.excluded_keys is None:
            ek = np.zeros(len(self.keys), bool)
            ek[self.code[self.excluded]] = True
            self.excluded_keys = ek
        return np.repeat(self.excluded_keys, 2)

    def per_token(self, kind: str, rows: np.ndarray | None = None) -> np.ndarray:
        """USD per token of `kind` for each request (or only `rows`), NaN where there is no price."""
        return self.rates[kind][self.rate_code if rows is None else self.rate_code[rows]]

    @property
    def usd_per_token(self) -> dict[str, np.ndarray]:
        """Token kind -> USD per token per request (every kind gathered: prefer `per_token`)."""
        return {kind: self.per_token(kind) for kind in KINDS}

    def priced(self, *kinds: str) -> np.ndarray:
        """Requests that have a price for each of `kinds` (excluded requests have none)."""
        ok = ~self._excluded_codes
        for k in kinds:
            ok &= ~np.isnan(self.rates[k])
        return ok[self.rate_code]

    def costs(self, tokens: Mapping[str, np.ndarray], rows: np.ndarray | None = None) -> RequestCosts:
        """USD per request for these token counts (token kind -> per request; absent kinds are 0). With `rows`,
        for those requests only (`tokens` then per row of `rows`).

        A request with tokens of a kind its key has no price for raises the bill's MissingPriceError."""
        code = self.rate_code if rows is None else self.rate_code[rows]
        n = code.size
        self.check(tokens, rows)
        keep = ~self._excluded_codes
        usd: dict[str, np.ndarray] = {}
        for kind in KINDS:
            tok = np.asarray(tokens.get(kind, np.zeros(n, np.int64)))
            rate = np.where(keep, np.nan_to_num(self.rates[kind]), 0.0)[code]
            usd[kind] = np.where(tok > 0, tok * rate, 0.0)
        sub = (lambda a: a) if rows is None else (lambda a: a[rows])
        return RequestCosts(usd=usd, long_context=sub(self.long_context), excluded=sub(self.excluded))

    def input_usd_sums(self, columns: Mapping[str, np.ndarray], rows: np.ndarray, by: np.ndarray, n_by: int
                       ) -> np.ndarray:
        """`np.bincount(by, costs({k: v[rows]}, rows).input_side, minlength=n_by)` bit for bit (input, cache read
        and write dollars per request, what caching changes, summed per group in row order), from whole columns
        (`columns`: token kind -> one count per request of the table) read at `rows` in one compiled pass: no
        gathered counts, no float per request. The same MissingPriceError for tokens of a kind with no price."""
        side = ("input", "cache_read", "cache_write_5m", "cache_write_1h")
        keep = ~self._excluded_codes
        zero = np.zeros(0, np.int64)
        cols = [np.ascontiguousarray(columns[k]) if k in columns else zero for k in side]
        rates = [np.where(keep, np.nan_to_num(self.rates[k]), 0.0) for k in side]
        unpriced = [np.isnan(self.rates[k]) & keep if k in columns else np.zeros(keep.size, bool) for k in side]
        rows_ = np.ascontiguousarray(rows)
        out, bad = _input_sums(rows_, np.ascontiguousarray(self.rate_code), *cols, *rates, *unpriced,
                               np.array([k in columns for k in side]), np.ascontiguousarray(by), int(n_by))
        if bad:  # the bill's error, with its counts
            self.check({k: np.asarray(v)[rows_] for k, v in columns.items()}, rows_)
        return out

    def check(self, tokens: Mapping[str, np.ndarray], rows: np.ndarray | None = None) -> None:
        """The bill's MissingPriceError where a request has tokens of a kind its key has no price for (`rows`:
        `tokens` are for those requests only)."""
        for kind, tok in tokens.items():
            unpriced = np.isnan(self.rates[kind]) & ~self._excluded_codes  # per rate code: few
            if not unpriced.any():
                continue
            bad = (np.asarray(tok) > 0) & unpriced[self.rate_code if rows is None else self.rate_code[rows]]
            if bad.any():
                if rows is not None:  # the error counts the tokens of these rows
                    tok = np.zeros(self.code.size, np.int64)
                    tok[rows] = tokens[kind]
                    bad = (tok > 0) & unpriced[self.rate_code]
                self._raise(kind, np.asarray(tok), bad)

    def totals_by(self, tokens: Mapping[str, np.ndarray], by: np.ndarray, n_by: int) -> np.ndarray:
        """USD per value of `by` (an integer code per request), exact as the bill's roll-up: integer token sums
        per (code, price key, long-context) group, times that group's rates."""
        self.check(tokens)
        if not self.keys:  # no requests: nothing to price (the arrays below would be indexed empty)
            return np.zeros(n_by)
        R = 2 * len(self.keys)
        small = n_by * R <= 1 << 22
        if small and all(np.asarray(t).dtype.kind in "iu" for t in tokens.values()):
            # few groups: every possible one, integer sums in one compiled pass a kind (no float copy a request)
            uniq = np.arange(n_by * R, dtype=np.int64)
            by_, rc = np.ascontiguousarray(by), np.ascontiguousarray(self.rate_code)

            def sums_of(tok: np.ndarray) -> np.ndarray:
                return _sums_by(by_, rc, R, uniq.size, np.ascontiguousarray(tok)).astype(np.float64)
        else:
            group = np.asarray(by, np.int64) * R + self.rate_code
            if small:
                inv, uniq = group, np.arange(n_by * R, dtype=np.int64)
            elif group.size:
                enc = pc.dictionary_encode(pa.array(group))
                inv = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
                uniq = enc.dictionary.to_numpy(zero_copy_only=False)
            else:
                inv, uniq = np.zeros(0, np.int64), np.zeros(0, np.int64)

            def sums_of(tok: np.ndarray) -> np.ndarray:
                return np.bincount(inv, weights=np.asarray(tok, np.float64), minlength=uniq.size)  # exact < 2^53
        usd = np.zeros(uniq.size)
        keep = ~self._excluded_codes[uniq % R]
        for kind, tok in tokens.items():
            sums = sums_of(tok)
            rate = np.nan_to_num(self.rates[kind][uniq % R])
            usd += np.where(keep & (sums > 0), sums * rate, 0.0)
        return np.bincount(uniq // R, weights=usd, minlength=n_by)

    def excluded_counts(self) -> dict[Key, tuple[str, int]]:
        """Keys kept out of token dollars with (reason, requests), as `Bill.excluded`."""
        counts = np.bincount(self.code[self.excluded], minlength=len(self.keys))
        out: dict[Key, tuple[str, int]] = {}
        for i, k in enumerate(self.keys):
            if k in self.reasons:
                out[k[:4]] = (self.reasons[k], out.get(k[:4], ("", 0))[1] + int(counts[i]))  # type: ignore[index]
        return out

    def _raise(self, kind: str, tok: np.ndarray, bad: np.ndarray) -> None:
        k = int(self.code[np.flatnonzero(bad)[0]])
        key = self.keys[k]
        sums = dict.fromkeys(TOKEN_COLUMNS, 0)
        sums[KINDS[kind]] = int(tok[self.code == k].sum())
        needs_lc = bool(self.long_context[self.code == k].any())
        if key in self.missing:
            raise MissingPriceError(self.missing[key])
        _check(*key[:4], sums, needs_lc, self.prices[key])


@dataclass
class RequestCosts:
    """USD per request by token kind (KINDS keys), for an in-memory table."""

    usd: dict[str, np.ndarray]
    long_context: np.ndarray
    excluded: np.ndarray  # requests kept out of token dollars (0 here, counted by the caller)

    @property
    def total(self) -> np.ndarray:
        return sum((self.usd[k] for k in KINDS), np.zeros(self.long_context.size))

    @property
    def input_side(self) -> np.ndarray:
        """Input, cache read and cache write dollars: what prompt caching changes."""
        return self.usd["input"] + self.usd["cache_read"] + self.usd["cache_write_5m"] + self.usd["cache_write_1h"]


_KEY_MEMO: dict[tuple, tuple[list[Any], np.ndarray, list[PriceKey]]] = {}
_KEY_MEMO_SIZE = 4


def clear_key_codes() -> None:
    """Forget the remembered key codes (a caller that dropped the tables whose columns they keep alive)."""
    _KEY_MEMO.clear()


def _key_codes(table: pa.Table, fixed: Mapping[str, str]) -> tuple[np.ndarray, list[Key]]:
    """Per request its index into the distinct (model, scope, region, tier) keys, and the keys (first
    occurrence)."""
    # `region` is never fixed, so one column at least is combined; first occurrence, 4 bytes a request
    inv, found = combo_codes([table.column(k) for k in KEYS if k not in fixed])
    keys: list[Key] = []
    for vals in found:  # distinct keys, not requests
        it = iter(vals)
        keys.append(tuple(fixed[k] if k in fixed else next(it) for k in KEYS))  # type: ignore[arg-type]
    return inv, keys


def _price_codes(table: pa.Table, fixed: Mapping[str, str], periods: tuple[int, ...]
                 ) -> tuple[np.ndarray, list[PriceKey]]:
    """Per request its price-key code (key and pricing period, `_with_periods` of `_key_codes`), remembered
    for the last few sets of key and `ts` columns (kept alive with it): a lever that changes only tokens
    (trim, caching) keeps its input's key columns, so its result is priced without a pass over them."""
    live = [table.column(k) for k in (*KEYS, "ts") if k not in fixed and k in table.column_names]
    memo_key = (tuple(sorted(fixed.items())), periods, *(column_id(c) for c in live))
    if memo_key in _KEY_MEMO:
        return _KEY_MEMO[memo_key][1], _KEY_MEMO[memo_key][2]
    inv, keys = _with_periods(*_key_codes(table, fixed), table, periods)
    if len(_KEY_MEMO) >= _KEY_MEMO_SIZE:
        _KEY_MEMO.pop(next(iter(_KEY_MEMO)))
    _KEY_MEMO[memo_key] = (live, inv, keys)
    return inv, keys


@numba.njit(cache=True)
def _over(code: np.ndarray, threshold: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray
          ) -> np.ndarray:
    """Per request: its four input-side counts summed (int64) exceed its key's long-context threshold."""
    out = np.empty(code.size, np.bool_)
    for i in range(code.size):
        out[i] = np.int64(a[i]) + np.int64(b[i]) + np.int64(c[i]) + np.int64(d[i]) > threshold[code[i]]
    return out


def _with_periods(inv: np.ndarray, keys: list[Key], table: pa.Table, periods: tuple[int, ...]
                  ) -> tuple[np.ndarray, list[PriceKey]]:
    """Key codes and keys with each request's pricing period added: `np.searchsorted` of its `ts` over the
    price boundaries (what `workload.period_bucket` computes in the engine; -1 for a null `ts`)."""
    if not periods:
        return inv, [(*k, 0) for k in keys]  # type: ignore[misc]
    if "ts" not in table.column_names:
        raise ConfigError("the catalog's prices are dated, so pricing needs each request's `ts`; the table has none")
    ts = pc.cast(table.column("ts"), pa.timestamp("us", tz="UTC"), safe=False)  # ns (pandas) truncated, as the engine
    us = pc.fill_null(ts.cast(pa.int64()), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    period = np.searchsorted(np.asarray(periods, np.int64), us, side="right").astype(np.int64)
    if ts.null_count:
        period[pc.is_null(ts).to_numpy(zero_copy_only=False)] = -1
    span = len(periods) + 2
    combined = inv.astype(np.int64) * span + period + 1  # a small dense space: keys x periods
    used = np.zeros(max(len(keys), 1) * span, bool)
    used[combined] = True
    present = np.flatnonzero(used)  # the distinct (key, period) pairs, by code: no hashing of every request
    remap = np.cumsum(used) - 1
    out = [(*keys[u // span], int(u % span) - 1) for u in present.tolist()]
    return remap.astype(np.int32)[combined], out  # type: ignore[return-value]


def request_rates(table: pa.Table, catalog: Catalog, *, tier: str | None = None, model: str | None = None,
                  strict: bool = True) -> RequestRates:
    """Per-request rates of a canonical pyarrow table, resolved once per distinct (model, scope, region, tier)
    and pricing period (the row in force at each request's `ts`, when the catalog's prices are dated).

    `tier` / `model` (a catalog model or alias; its scope comes with it) price every request as if it had
    that tier or model. `strict` (the default) raises the bill's MissingPriceError for a key with no price
    row; `strict=False` leaves NaN there instead, for a lever asking which requests *could* move (it must then
    use `priced()` and leave or report the rest). Either way `costs()` raises the bill's error for tokens of a
    kind that has no price.
    """
    fixed: dict[str, str] = {}
    if tier is not None:
        fixed["tier"] = tier
    if model is not None:
        r = catalog.resolve_model(model)
        fixed.update(model=r.model, scope=r.scope)
    inv, keys = _price_codes(table, fixed, tuple(catalog.price_periods_us))
    K = len(keys)
    rates = {kind: np.full(K, np.nan) for kind in KINDS}
    lc_rates = {kind: np.full(K, np.nan) for kind in KINDS}
    threshold = np.full(K, np.iinfo(np.int64).max, np.int64)
    excluded_k = np.zeros(K, bool)
    prices: dict[PriceKey, BedrockPrice] = {}
    reasons: dict[PriceKey, str] = {}
    missing: dict[PriceKey, str] = {}
    for i, key in enumerate(keys):
        reason = excluded_reason(catalog, key[0], key[3])
        if reason is not None:
            excluded_k[i] = True
            reasons[key] = reason
            continue
        try:
            p = catalog.price(*key[:4], period=key[4])
        except MissingPriceError as exc:
            if strict:
                raise
            missing[key] = str(exc)
            continue
        prices[key] = p
        if p.lc_threshold_tokens is not None:
            threshold[i] = p.lc_threshold_tokens
        for kind in KINDS:
            v, lv = getattr(p, f"{kind}_usd_per_mtok"), getattr(p, f"lc_{kind}_usd_per_mtok")
            rates[kind][i] = np.nan if v is None else v / 1_000_000
            lc_rates[kind][i] = np.nan if lv is None else lv / 1_000_000
    lc = _over(inv, threshold, *(_count(table, c) for c in TOKEN_COLUMNS[:4]))
    by_code = {kind: np.stack([rates[kind], lc_rates[kind]], axis=1).reshape(-1) for kind in KINDS}
    return RequestRates(rates=by_code, long_context=lc, excluded=excluded_k[inv], code=inv, keys=keys,
                        prices=prices, reasons=reasons, missing=missing, excluded_keys=excluded_k)


def request_costs(table: pa.Table, catalog: Catalog, *, tier: str | None = None, model: str | None = None
                  ) -> RequestCosts:
    """USD per request and token kind of a canonical pyarrow table: the bill's rates, long-context rule and
    errors, vectorised over the distinct price keys (requests kept out of token dollars cost 0 here and are
    flagged in `excluded`)."""
    rates = request_rates(table, catalog, tier=tier, model=model)
    return rates.costs(token_counts(table))


def token_counts(table: pa.Table) -> dict[str, np.ndarray]:
    """Token kind -> count per request (nulls as 0) of a canonical pyarrow table."""
    return {kind: _count(table, c) for kind, c in KINDS.items()}


# ---- provisioned throughput: priced per model-unit hour, never per token --------------------------------------

def parse_provisioned_units(items: list[str] | Mapping[str, Any] | None) -> dict[str, tuple[int, str | None]]:
    """`MODEL=N` or `MODEL=N:TERM` items (the CLI) or a {model: N | "N:TERM"} mapping (a scenario) -> model ->
    (model units, commitment term or None)."""
    pairs: list[tuple[str, str]] = []
    if isinstance(items, Mapping):
        pairs = [(str(k), str(v)) for k, v in items.items()]
    else:
        for item in items or []:
            model, eq, value = item.partition("=")
            if not eq or not model.strip():
                raise ConfigError(f"--provisioned-units {item!r}: expected MODEL=N or MODEL=N:TERM "
                                  "(e.g. claude-instant=2:1-month)")
            pairs.append((model.strip(), value.strip()))
    out: dict[str, tuple[int, str | None]] = {}
    for model, value in pairs:
        n, _, term = value.partition(":")
        try:
            units = int(n)
        except ValueError:
            units = -1
        if units <= 0:
            raise ConfigError(f"provisioned units for {model!r}: {value!r} is not a positive whole number of "
                              "model units (MODEL=N or MODEL=N:TERM)")
        out[model] = (units, term.strip() or None)
    return out


def provisioned_costs(excluded: Mapping[Key, tuple[str, int]], catalog: Catalog,
                      units: Mapping[str, tuple[int, str | None]], hours: float) -> dict[str, Any]:
    """What the provisioned requests cost: model units x $ per model-unit hour x hours in the window, for the
    models the user gave units for; the rest stay "billed by the hour, not per token" with their count.

    The hourly rate is the catalog's `provisioned_prices` row for the model, region and term (the only term
    listed when none is given). A model with units but no provisioned requests, or no price row, is an error.
    """
    by_model: dict[tuple[str, str], int] = {}
    for (model, _s, region, _t), (reason, n) in excluded.items():
        if reason == "provisioned":
            by_model[(model, region)] = by_model.get((model, region), 0) + n
    given: dict[str, tuple[int, str | None]] = {}
    for name, spec in units.items():
        given[catalog.resolve_model(name).model] = spec
    have = sorted({m for m, _ in by_model})
    for m in given:
        if m not in have:
            raise ConfigError(f"provisioned units given for {m!r}, but no request of the workload ran on its "
                              f"provisioned throughput (models with provisioned requests: {', '.join(have) or 'none'})")
    rows: list[dict[str, Any]] = []
    unpriced = 0
    for (model, region), n in sorted(by_model.items()):
        if model not in given:
            unpriced += n
            continue
        mu, term = given[model]
        p = _provisioned_price(catalog, model, region, term)
        usd = mu * p.usd_per_model_unit_hour * hours
        rows.append({"model": model, "region": region, "requests": n, "model_units": mu, "term": p.term,
                     "usd_per_model_unit_hour": p.usd_per_model_unit_hour, "hours": hours, "usd": usd,
                     "source": p.source, "checked": p.checked.isoformat()})
    return {"requests": sum(by_model.values()), "unpriced_requests": unpriced, "priced": rows,
            "usd": sum(r["usd"] for r in rows)}


def _provisioned_price(catalog: Catalog, model: str, region: str, term: str | None) -> ProvisionedPrice:
    rows = [p for p in catalog.provisioned_prices if p.model == model and p.region in (region, "*")]
    terms = sorted({p.term for p in rows})
    if term is None and len(terms) > 1:
        raise ConfigError(f"{model} has provisioned prices for terms {', '.join(terms)} in {region}: say which, "
                          f"e.g. --provisioned-units {model}=N:{terms[0]}")
    pick = [p for p in rows if term is None or p.term == term]
    if not pick:
        raise MissingPriceError(
            f"no Provisioned Throughput price for {model} in {region}" + (f", term {term}" if term else "")
            + f" (catalog terms there: {', '.join(terms) or 'none'}); add a `provisioned_prices:` row "
            "(model, region, term, usd_per_model_unit_hour, source, checked) to your catalog file (--catalog FILE)")
    return min(pick, key=lambda p: p.region == "*")  # the region's own row wins over `*`
