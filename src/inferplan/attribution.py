"""Attribution: where the money went, by call type, model, tag or time bucket.

Each breakdown row has requests and tokens beside dollars, per token kind, so a reader sees *why* a line
costs what it does (input-heavy RAG versus output-heavy generation). Breakdowns come from priced roll-ups
(`pricing.price_rollup`): call type, model, region, tier, scope and day reuse the roll-up made while reading;
any other dimension (a tag, the hour) costs one more scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from .errors import ConfigError
from .pricing import COST_COLUMNS, KINDS, Bill
from .workload import base_dims, hour_dim

DIMENSIONS = ("call_type", "model", "region", "tier", "scope", "hour", "day")
_IN_BASE = ("model", "region", "tier", "scope")
_CALL_DAY = ("call_type", "day")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Totals:
    requests: int
    total_usd: float
    usd: dict[str, float]  # token kind -> usd
    tokens: dict[str, int]  # token kind -> tokens

    def token_share(self) -> dict[str, float]:
        """Each token kind's share of the dollars."""
        return {k: (v / self.total_usd if self.total_usd else 0.0) for k, v in self.usd.items()}


def _sum(t: pa.Table, col: str) -> float:
    return pc.sum(t.column(col)).as_py() or 0


def _base(bill: Bill) -> pa.Table:
    if bill.base is None:
        raise ConfigError("this bill has no roll-up; build it with pricing.price_workload")
    return bill.base


def totals(bill: Bill) -> Totals:
    base = _base(bill)
    return Totals(
        requests=int(_sum(base, "requests")),
        total_usd=float(_sum(base, "total_usd")),
        usd={k: float(_sum(base, f"{k}_usd")) for k in KINDS},
        tokens={k: int(_sum(base, c)) for k, c in KINDS.items()},
    )


def span(bill: Bill) -> tuple[str | None, str | None]:
    """First and last request time (ISO 8601), from the call-type/day roll-up."""
    roll = bill.priced_by(_CALL_DAY, base_dims)
    start, end = pc.min(roll.column("_min_ts")).as_py(), pc.max(roll.column("_max_ts")).as_py()
    return (start.isoformat() if start else None, end.isoformat() if end else None)


def _dims(t: ibis.Table, by: str) -> dict[str, ibis.Value]:
    if by == "hour":
        return {by: hour_dim(t)}
    if by.startswith("tag:"):
        return {by: t.tags.get(by[4:]).fill_null("(none)")}
    raise ConfigError(f"cannot group by {by!r}; use one of {', '.join(DIMENSIONS)} or tag:<key>")


def _label(by: str, value: object) -> object:
    if by == "day" and isinstance(value, int):
        return (_EPOCH + timedelta(days=value)).date().isoformat()
    if by == "hour" and isinstance(value, int):
        return (_EPOCH + timedelta(hours=value)).isoformat()
    return value


def breakdown(bill: Bill, by: str) -> list[dict]:
    """Rows of (key, requests, tokens per kind, usd per kind, total_usd, share), most expensive first."""
    if by in _IN_BASE:
        priced = _base(bill)
    elif by in _CALL_DAY:  # both from one scan: a summary always wants both
        priced = bill.priced_by(_CALL_DAY, base_dims)
    else:
        priced = bill.priced_by((by,), lambda t: _dims(t, by))
    aggs = [("requests", "sum"), *[(c, "sum") for c in KINDS.values()], *[(c, "sum") for c in COST_COLUMNS],
            ("total_usd", "sum")]
    grouped = priced.group_by(by).aggregate(aggs)
    rows = grouped.rename_columns([c.removesuffix("_sum") for c in grouped.column_names]).to_pylist()
    rows.sort(key=lambda r: -(r["total_usd"] or 0.0))
    grand = sum(r["total_usd"] or 0.0 for r in rows)
    for r in rows:
        r["key"] = _label(by, r[by])
        r["share"] = (r["total_usd"] / grand) if grand else 0.0
        for kind, col in KINDS.items():
            r[f"{kind}_tokens"] = r.pop(col)
    return rows
