"""Reconcile: inferplan's repricing of the logs against the bill (CUR), per day, model and token kind.

Both sides are brought to one long table keyed by (day, model, scope, region, tier, token kind); a full outer
join gives the difference in tokens and dollars on each key, so a missing day of cache writes in the logs
shows up as that day, that model, that token kind, and by how much. CUR lines with cost that are not text-token
usage (images, guardrails, provisioned hours, models the catalog lacks under `--on-error skip`) are kept in
`unreconciled`, each with its dollars, so the bill total is never quietly smaller than the invoice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import ibis
import pyarrow as pa

from .catalog import Catalog
from .pricing import KINDS, price_workload
from .readers.cur import Cur
from .workload import Workload

KEY = ("day", "model", "scope", "region", "tier", "token_kind")


@dataclass
class Reconciliation:
    """Per-key tokens and dollars on both sides; `differences` keeps the keys that differ."""

    table: pa.Table
    tolerance_usd: float
    notes: list[str] = field(default_factory=list)
    unreconciled: list[dict] = field(default_factory=list)

    @property
    def differences(self) -> pa.Table:
        import pyarrow.compute as pc

        t = self.table
        mask = pc.or_(pc.greater(pc.abs(t["diff_usd"]), self.tolerance_usd), pc.not_equal(t["diff_tokens"], 0))
        return t.filter(mask)

    def summary(self, top: int = 20) -> dict[str, Any]:
        import pyarrow.compute as pc

        t = self.table
        logs = float(pc.sum(t["logs_usd"]).as_py() or 0.0)
        bill = float(pc.sum(t["bill_usd"]).as_py() or 0.0)
        diffs = self.differences
        # one row per differing key (days x models x kinds): small, sorted in Python
        rows = sorted(diffs.to_pylist(), key=lambda r: -abs(r["diff_usd"]))[:top]
        for r in rows:
            r["day"] = r["day"].isoformat()
        return {"logs_usd": logs, "bill_usd": bill, "difference_usd": bill - logs,
                "keys": t.num_rows, "keys_differing": diffs.num_rows, "tolerance_usd": self.tolerance_usd,
                "differences": rows, "notes": list(self.notes),
                "unreconciled_usd": sum(u["cost_usd"] for u in self.unreconciled),
                "unreconciled": sorted(self.unreconciled, key=lambda u: (-abs(u["cost_usd"]), u["usage_type"]))}


def logs_by_day(workload: Workload | ibis.Table, catalog: Catalog) -> pa.Table:
    """The repriced logs in the CUR's shape: tokens and dollars per day, model, scope, region, tier, kind."""
    bill = price_workload(workload, catalog).table
    t = bill.mutate(day=bill.ts.date())
    parts = []
    for kind, col in KINDS.items():
        g = t.group_by(["day", "model", "scope", "region", "tier"]).aggregate(
            tokens=t[col].sum().cast("int64"), cost_usd=t[f"{kind}_usd"].sum())
        parts.append(g.mutate(token_kind=ibis.literal(kind)))
    out = ibis.union(*parts)
    return out.filter(out.tokens != 0).to_pyarrow()


def _fold_geo_into_in_region(logs: pa.Table, bill: pa.Table) -> tuple[pa.Table, int]:
    """Relabel geographic-scope log keys as in-region where the bill has only the in-region key.

    Both tables are already aggregated per day/model/kind (small), so this is plain Python over their keys.
    """
    rest = [k for k in KEY if k != "scope"]
    bill_keys = set(zip(*(bill[k].to_pylist() for k in KEY), strict=True))
    in_region = {tuple(k[i] for i, name in enumerate(KEY) if name != "scope") for k in bill_keys
                 if k[KEY.index("scope")] == "in-region"}
    scopes = logs["scope"].to_pylist()
    cols = list(zip(*(logs[k].to_pylist() for k in KEY), strict=True))
    new, folded = [], set()
    for key, scope in zip(cols, scopes, strict=True):
        twin = tuple(key[KEY.index(k)] for k in rest)
        if scope not in ("in-region", "global") and key not in bill_keys and twin in in_region:
            new.append("in-region")
            folded.add(twin)
        else:
            new.append(scope)
    if not folded:
        return logs, 0
    t = logs.set_column(logs.schema.get_field_index("scope"), "scope", pa.array(new, pa.string()))
    g = t.group_by(list(KEY)).aggregate([("tokens", "sum"), ("cost_usd", "sum")])
    g = g.rename_columns([c.removesuffix("_sum") for c in g.column_names])
    schema = pa.schema([t.schema.field(c) for c in (*KEY, "tokens", "cost_usd")])
    return g.select(schema.names).cast(schema), len(folded)


def reconcile(workload: Workload | ibis.Table, cur: Cur, catalog: Catalog, *,
              tolerance_usd: float = 0.005) -> Reconciliation:
    """Compare the logs' repricing with the bill on every (day, model, scope, region, tier, token kind)."""
    logs_t, folded = _fold_geo_into_in_region(logs_by_day(workload, catalog), cur.table)
    logs = ibis.memtable(logs_t).rename(logs_tokens="tokens", logs_usd="cost_usd")
    bill = ibis.memtable(cur.table).rename(bill_tokens="tokens", bill_usd="cost_usd")
    logs = logs.select(*KEY, "logs_tokens", "logs_usd")
    bill = bill.select(*KEY, "bill_tokens", "bill_usd")
    j = logs.outer_join(bill, list(KEY))
    key = {k: ibis.coalesce(j[k], j[f"{k}_right"]) for k in KEY}
    out = j.select(**key, logs_tokens=j.logs_tokens.fill_null(0), bill_tokens=j.bill_tokens.fill_null(0),
                   logs_usd=j.logs_usd.fill_null(0.0), bill_usd=j.bill_usd.fill_null(0.0))
    out = out.mutate(diff_tokens=out.bill_tokens - out.logs_tokens, diff_usd=out.bill_usd - out.logs_usd)
    table = out.order_by(list(KEY)).to_pyarrow()
    notes = list(cur.notes)
    if folded:
        notes.append(f"{folded} day/model/region/tier/token-kind key(s) of geographic-profile calls (us., eu., ...) "
                     "compared with the bill's in-region usage type: the bill has no geographic line for them "
                     "(Marketplace usage types such as MP:USE1_InputTokenCount meter both alike)")
    return Reconciliation(table=table, tolerance_usd=tolerance_usd, notes=notes,
                          unreconciled=list(cur.unreconciled))
