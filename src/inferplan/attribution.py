"""Attribution: where the money went, by call type, model, tag or time bucket.

Each breakdown row has requests and tokens beside dollars, per token kind, so a reader sees *why* a line
costs what it does (input-heavy RAG versus output-heavy generation).
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis

from .errors import ConfigError
from .pricing import COST_COLUMNS, KINDS, Bill

DIMENSIONS = ("call_type", "model", "region", "tier", "scope", "hour", "day")


@dataclass(frozen=True)
class Totals:
    requests: int
    total_usd: float
    usd: dict[str, float]  # token kind -> usd
    tokens: dict[str, int]  # token kind -> tokens
    start: str | None
    end: str | None

    def token_share(self) -> dict[str, float]:
        """Each token kind's share of the dollars."""
        return {k: (v / self.total_usd if self.total_usd else 0.0) for k, v in self.usd.items()}


def _aggs(t: ibis.Table) -> dict[str, ibis.Value]:
    aggs: dict[str, ibis.Value] = {"requests": t.count()}
    for kind, col in KINDS.items():
        aggs[f"{kind}_tokens"] = t[col].sum()
    for c in COST_COLUMNS:
        aggs[c] = t[c].sum()
    aggs["total_usd"] = t.total_usd.sum()
    return aggs


def totals(bill: Bill) -> Totals:
    t = bill.table
    row = t.aggregate(**_aggs(t), start=t.ts.min(), end=t.ts.max()).to_pyarrow().to_pylist()[0]
    return Totals(
        requests=int(row["requests"]),
        total_usd=float(row["total_usd"] or 0.0),
        usd={k: float(row[f"{k}_usd"] or 0.0) for k in KINDS},
        tokens={k: int(row[f"{k}_tokens"] or 0) for k in KINDS},
        start=row["start"].isoformat() if row["start"] else None,
        end=row["end"].isoformat() if row["end"] else None,
    )


def dimension(t: ibis.Table, by: str) -> ibis.Value:
    """The grouping expression for a dimension name: a column, `hour`, `day` or `tag:<key>`."""
    if by == "hour":
        return t.ts.truncate("h").name(by)
    if by == "day":
        return t.ts.truncate("D").name(by)
    if by.startswith("tag:"):
        key = by[4:]
        return t.tags.get(key).fill_null("(none)").name(by)
    if by in t.columns and by in DIMENSIONS:
        return t[by].name(by)
    raise ConfigError(f"cannot group by {by!r}; use one of {', '.join(DIMENSIONS)} or tag:<key>")


def breakdown(bill: Bill, by: str) -> list[dict]:
    """Rows of (key, requests, tokens per kind, usd per kind, total_usd, share), most expensive first."""
    t = bill.table
    key = dimension(t, by)
    rows = t.group_by(key).aggregate(**_aggs(t)).order_by(ibis.desc("total_usd")).to_pyarrow().to_pylist()
    grand = sum(r["total_usd"] or 0.0 for r in rows)
    for r in rows:
        k = r[by]
        r["key"] = k.isoformat() if hasattr(k, "isoformat") else k
        r["share"] = (r["total_usd"] / grand) if grand else 0.0
    return rows
