"""Repricing: per-request cost columns for every row, as one Ibis expression.

Prices are resolved once per distinct (model, scope, region, tier), which is tiny, in Python against the
catalog; the per-request work is a join and column arithmetic in the engine. A token kind with tokens but no
price is an error naming what to add, never a zero. The long-context rate (Claude above 200k input tokens)
applies to the whole request when its total input (all four input buckets) exceeds the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis
import pyarrow as pa

from .catalog import Catalog
from .catalog.schema import BedrockPrice
from .errors import MissingPriceError
from .workload import Workload

KEYS = ("model", "scope", "region", "tier")
# token kind -> (workload column, price field stem)
KINDS: dict[str, str] = {
    "input": "input_tokens",
    "output": "output_tokens",
    "cache_read": "cache_read_tokens",
    "cache_write_5m": "cache_write_tokens",
    "cache_write_1h": "cache_write_1h_tokens",
}
COST_COLUMNS = tuple(f"{k}_usd" for k in KINDS)
INPUT_COLUMNS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens")


@dataclass
class Bill:
    """A workload with cost columns (`input_usd`, ..., `total_usd`) and the price rows that made them."""

    table: ibis.Table
    prices: list[BedrockPrice] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    workload: Workload | None = None


def total_input(t: ibis.Table) -> ibis.IntegerValue:
    """All input tokens of a request: the disjoint buckets added up."""
    return t.input_tokens + t.cache_read_tokens + t.cache_write_tokens + t.cache_write_1h_tokens


def _key_summary(table: ibis.Table) -> list[dict]:
    tin = total_input(table)
    aggs = {f"sum_{k}": table[c].sum() for k, c in KINDS.items()}
    aggs["max_total_input"] = tin.max()
    aggs["requests"] = table.count()
    return table.group_by(list(KEYS)).aggregate(**aggs).to_pyarrow().to_pylist()


def _check(row: dict, price: BedrockPrice) -> None:
    """Every token kind with tokens must have a price (and a long-context price where it applies)."""
    needs_lc = price.lc_threshold_tokens is not None and row["max_total_input"] > price.lc_threshold_tokens
    for kind in KINDS:
        if not row[f"sum_{kind}"]:
            continue
        for field_name in [f"{kind}_usd_per_mtok", *([f"lc_{kind}_usd_per_mtok"] if needs_lc else [])]:
            if getattr(price, field_name) is None:
                raise MissingPriceError(
                    f"model {price.model!r} ({price.scope}/{row['region']}/{price.tier}) has "
                    f"{row[f'sum_{kind}']:,} {kind.replace('_', ' ')} tokens but the catalog has no "
                    f"`{field_name}`; add it in your catalog file (--catalog FILE) under `bedrock_prices:`")


def price_workload(workload: Workload | ibis.Table, catalog: Catalog) -> Bill:
    """Reprice every request; returns the workload's columns plus one cost column per token kind."""
    wl = workload if isinstance(workload, Workload) else Workload(table=workload)
    table = wl.table
    notes: list[str] = []
    summary = _key_summary(table)
    price_rows: dict[tuple, BedrockPrice] = {}
    provisioned = 0
    for row in summary:
        key = tuple(row[k] for k in KEYS)
        if row["tier"] == "provisioned":
            provisioned += row["requests"]
            continue
        price = catalog.price(*key)
        _check(row, price)
        price_rows[key] = price
    if provisioned:
        notes.append(f"{provisioned:,} request(s) ran on provisioned throughput: billed per model-unit hour, "
                     "not per token, so their token cost here is 0; price the commitment with the serving "
                     "options")
    cols: dict[str, list] = {k: [] for k in KEYS}
    for kind in KINDS:
        cols[f"_p_{kind}"] = []
        cols[f"_lc_{kind}"] = []
    cols["_lc_threshold"] = []
    for key, p in price_rows.items():
        for k, v in zip(KEYS, key, strict=True):
            cols[k].append(v)
        for kind in KINDS:
            cols[f"_p_{kind}"].append(getattr(p, f"{kind}_usd_per_mtok"))
            cols[f"_lc_{kind}"].append(getattr(p, f"lc_{kind}_usd_per_mtok"))
        cols["_lc_threshold"].append(p.lc_threshold_tokens)
    schema = pa.schema([*[(k, pa.string()) for k in KEYS],
                        *[(c, pa.float64()) for c in cols if c.startswith(("_p_", "_lc_")) and c != "_lc_threshold"],
                        ("_lc_threshold", pa.int64())])
    prices = ibis.memtable(pa.table(cols, schema=schema))
    joined = table.left_join(prices, list(KEYS))
    joined = joined.drop(*[f"{k}_right" for k in KEYS if f"{k}_right" in joined.columns])
    is_lc = joined._lc_threshold.notnull() & (total_input(joined) > joined._lc_threshold)
    costs = {}
    for kind, col in KINDS.items():
        rate = ibis.ifelse(is_lc, joined[f"_lc_{kind}"], joined[f"_p_{kind}"])
        costs[f"{kind}_usd"] = (joined[col] * rate / 1_000_000).fill_null(0.0)
    out = joined.mutate(**costs)
    out = out.mutate(total_usd=sum((out[c] for c in COST_COLUMNS[1:]), out[COST_COLUMNS[0]]),
                     long_context=is_lc.fill_null(False))
    out = out.drop(*[c for c in out.columns if c.startswith(("_p_", "_lc_"))])
    return Bill(table=out, prices=list(price_rows.values()), notes=notes, workload=wl)
