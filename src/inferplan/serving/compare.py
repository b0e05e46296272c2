"""`compare`: every serving option costed over the traffic's own time series.

`compare(workload, catalog, spec)` prices the workload once (the exact bill, as `analyze`), builds its demand
series and calls `compare_demand`, which is cheap enough to call many times on scaled series (a break-even):
pass back `result.capacities` to skip the throughput model on later calls.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..attribution import totals
from ..catalog import Catalog
from ..demand import DemandSeries, from_workload
from ..pricing import price_workload
from ..workload import Workload
from . import bedrock, sagemaker, selfhost
from .capacity import Capacity, candidates
from .result import CompareResult, OptionResult
from .spec import CompareSpec


@dataclass
class _Prepared:
    demand: DemandSeries
    bill_total: float | None


def compare(workload: Workload, catalog: Catalog, spec: CompareSpec | None = None) -> CompareResult:
    """Read-priced workload in, every serving option out (see `compare_demand`)."""
    cs = spec or CompareSpec()
    bill = price_workload(workload, catalog)
    lw = cs.latency_window_s if cs.latency_window_s and cs.window_s % cs.latency_window_s == 0 else None
    demand = from_workload(workload, cs.window_s, bill=bill, prefix_cache_tokens=cs.prefix_cache_tokens,
                           latency_window_s=lw)
    result = compare_demand(demand, catalog, cs, bedrock_bill=totals(bill).total_usd)
    result.notes.extend([*workload.notes, *bill.notes])  # what the reading assumed, then what pricing found
    return result


def transformed(demand: DemandSeries, cs: CompareSpec) -> DemandSeries:
    """The spec's scale, growth and deferrable shift applied to a series."""
    out = demand
    if cs.scale != 1.0:
        out = out.scaled(cs.scale)
    if cs.growth_pct_per_month:
        out = out.grown(cs.growth_pct_per_month)
    if cs.shift_deferrable:
        out = out.shifted_deferrable()
    return out


def compare_demand(demand: DemandSeries, catalog: Catalog, spec: CompareSpec | None = None, *,
                   bedrock_bill: float | None = None, capacities: list[Capacity] | None = None) -> CompareResult:
    """Cost every option over a demand series.

    `bedrock_bill`: the exact on-demand bill of the untransformed series (from `analyze`); used for the on-demand
    option when the spec does not rescale the volume, so both report the same dollars.
    """
    cs = spec or CompareSpec()
    d = transformed(demand, cs)
    exact = bedrock_bill if (cs.scale == 1.0 and not cs.growth_pct_per_month) else None
    options: list[OptionResult] = [bedrock.on_demand(d, exact)]
    if "batch" in cs.bedrock_tiers:
        options.append(bedrock.batch(d, catalog))
    for t in ("flex", "priority"):
        if t in cs.bedrock_tiers:
            options.append(bedrock.tier(d, catalog, t))
    options += bedrock.provisioned(d, catalog, cs)
    if (res := bedrock.reserved(d, cs)) is not None:
        options.append(res)
    notes: list[str] = []
    if capacities is None:
        capacities, cand_notes = candidates(catalog, d, cs)
        notes += cand_notes
    per_cap: list[tuple[Capacity, list[OptionResult], object]] = []
    for cap in capacities:
        if not cap.feasible:
            options.append(OptionResult(name=f"EC2 {cap.label}", kind="ec2", monthly_usd=None, feasible=False,
                                        reason=cap.reason))
            continue
        opts, hyb = selfhost.options(d, catalog, cs, cap)
        per_cap.append((cap, opts, hyb))
    kept, dropped = _cheapest(per_cap, cs.candidates)
    if dropped:
        notes.append(f"{len(dropped)} more instance type(s) cost more on this traffic and are left out: "
                     + ", ".join(dropped))
    hybrids = []
    for _cap, opts, hyb in kept:
        options += opts
        if hyb is not None:
            hybrids.append(hyb)
    capacities = [c for c in capacities if not c.feasible] + [k[0] for k in kept]
    options += sagemaker.serverless(d, catalog, cs, capacities)
    options += sagemaker.asynchronous(d, catalog, cs, capacities)
    best_hybrid = min(hybrids, key=lambda h: h.monthly_usd) if hybrids else None
    return CompareResult(demand=d, options=options, hybrid=best_hybrid, notes=notes, spec=cs,
                         capacities=capacities)


def _cheapest(per_cap: list, n: int) -> tuple[list, list[str]]:
    """Per model, the `n` candidates whose cheapest EC2 option costs least on this traffic."""
    by_model: dict[str, list] = {}
    for item in per_cap:
        by_model.setdefault(item[0].spec, []).append(item)
    kept, dropped = [], []
    for items in by_model.values():
        def best(item: tuple) -> float:
            costs = [o.monthly_usd for o in item[1] if o.kind == "ec2" and o.feasible and o.monthly_usd is not None]
            return min(costs) if costs else float("inf")
        items = sorted(items, key=best)
        kept += items[:n]
        dropped += [f"{i[0].label} (${best(i):,.0f}/month)" for i in items[n:]]
    return kept, dropped
