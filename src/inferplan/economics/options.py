"""The serving options of `compare`, with engineering added: what the break-even and the Monte Carlo solve over.

One `compare_demand` call costs every option over a (scaled) series; the throughput model runs once (its
capacities are passed back on later calls). Option names carry a hybrid's base size, which changes with volume,
so names are made stable (`k x`) before they key a cost curve.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..catalog import Catalog
from .breakeven import Breakeven, OptionCost, solve
from .tco import MANAGED_KINDS, TcoOptions, engineering

SOLVED_KINDS = ("sagemaker-realtime", "sagemaker-serverless", "sagemaker-async", "ec2", "hybrid")


def stable_name(name: str) -> str:
    return re.sub(r"from \d+ ", "from k ", re.sub(r": \d+ x ", ": k x ", name))


def option_costs(result: Any, tco: TcoOptions) -> list[OptionCost]:
    """Every self-hosted and SageMaker option of a CompareResult as an OptionCost (infra + engineering)."""
    out = []
    for o in result.options:
        if o.kind in MANAGED_KINDS or o.kind not in SOLVED_KINDS:
            continue
        inst = (o.details or {}).get("instance")
        eng = engineering(o.kind, inst, tco)["monthly_usd"]
        ok = bool(o.feasible and o.monthly_usd is not None and np.isfinite(o.monthly_usd))
        reason = o.reason
        if ok and o.kind == "hybrid" and o.replicas is not None and o.replicas.get("max") == 0:
            # a base of 0 that never scales up is Bedrock alone: not self-hosting, so neither an option with
            # self-hosting's engineering nor a break-even (at Bedrock's own cost it would tie at every scale)
            ok, reason = False, "a base of 0 replicas at this volume: all of it on Bedrock (no self-hosting)"
        out.append(OptionCost(name=stable_name(o.name), kind=o.kind, infra_usd=float(o.monthly_usd) if ok else np.inf,
                              engineering_usd=eng, feasible=ok, reason=reason, instance=inst))
    return out


def tokens_per_month(demand: Any) -> float:
    return float(demand.input_total.sum() + demand.output_tokens.sum()) * demand.monthly_factor


def tps(result: Any) -> dict[str, int]:
    """Tensor-parallel size (devices per replica) of each option, for its throughput-model error."""
    return {stable_name(o.name): int((o.details or {}).get("tp") or 1) for o in result.options}


def solve_on(demand: Any, catalog: Catalog, spec: Any, bedrock_after_monthly: float, tco: TcoOptions, *,
             scales: np.ndarray | None = None) -> tuple[Breakeven, Any]:
    """Break-even of every self-hosted and SageMaker option on `demand` (already transformed by the spec's
    scale and growth), against Bedrock after the levers (a month, at this volume). Returns it and the
    CompareResult at this volume."""
    from ..serving.compare import compare_demand

    base_spec = spec.model_copy(update={"scale": 1.0, "growth_pct_per_month": 0.0, "bedrock_tiers": [],
                                        "candidates": max(spec.candidates, 8)})
    today = compare_demand(demand, catalog, base_spec)
    caps = today.capacities

    def cost_at(s: float) -> list[OptionCost]:
        res = compare_demand(demand.scaled(s), catalog, base_spec, capacities=caps)
        return option_costs(res, tco)

    bk = solve(cost_at, bedrock_after_monthly, tokens_per_month(demand), scales=scales)
    return bk, today


def today_costs(result: Any, tco: TcoOptions) -> dict[str, float]:
    """Total monthly cost (infra + engineering) of each solved option at today's volume."""
    return {o.name: o.total_usd for o in option_costs(result, tco) if o.feasible}


def curve_arrays(bk: Breakeven) -> dict[str, Any]:
    """The cost curve as arrays (for charts), under documented keys."""
    return {"scales": bk.scales.tolist(), "bedrock_usd": (bk.scales * bk.bedrock_monthly_usd).tolist(),
            "options": {k: [None if not np.isfinite(v) else round(float(v + bk.engineering[k]), 2) for v in arr]
                        for k, arr in bk.infra.items()}}
