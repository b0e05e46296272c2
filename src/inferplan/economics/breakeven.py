"""Break-even, solved on the traffic's own shape: the volume where an option's total cost equals Bedrock's.

The traffic is scaled (same shape, `DemandSeries.scaled`) over a logarithmic grid of factors; at each one every
option is costed over the scaled series (`compare`) and engineering is added (`tco`). Bedrock's cost after the
workload levers is linear in volume (per-token prices, no idle), so Bedrock at scale s is s x its cost today.
The break-even of an option is the smallest scale at which its total cost is at most Bedrock's: located on the
grid (the first grid point where the difference changes sign), then refined inside that bracket, all options at
once (each refinement call costs every option), until the bracket is narrower than `rel_tol`. Self-hosted cost
is a step function of the replica count, so the answer is exact to one replica's worth of volume, which is what
the closed-form test checks (a grid can step over a crossing narrower than one grid interval: the answer is
then the next crossing, still within one replica of the sustained break-even).

An option that is still dearer at the largest scale searched never breaks even in the range (null, with the
reason and the ratio at the top of the range); one that is cheaper even at the smallest scale is reported at
that scale with a note.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError


@dataclass(frozen=True)
class OptionCost:
    """One option's monthly cost at one volume: infrastructure (as compare bills it) and engineering."""

    name: str
    kind: str
    infra_usd: float
    engineering_usd: float
    feasible: bool = True
    reason: str | None = None
    instance: str | None = None

    @property
    def total_usd(self) -> float:
        return self.infra_usd + self.engineering_usd


CostAt = Callable[[float], list[OptionCost]]


@dataclass
class Breakeven:
    """Break-even per option, and the cost curve over the scales evaluated."""

    bedrock_monthly_usd: float  # after the workload levers, at scale 1
    tokens_per_month: float  # at scale 1
    results: list[dict[str, Any]] = field(default_factory=list)
    curve: list[dict[str, Any]] = field(default_factory=list)
    scales: np.ndarray = field(default_factory=lambda: np.zeros(0))
    infra: dict[str, np.ndarray] = field(default_factory=dict)  # option -> infra $ on `scales` (Monte Carlo)
    engineering: dict[str, float] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    instances: dict[str, str | None] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"bedrock_monthly_usd": round(self.bedrock_monthly_usd, 2),
                "tokens_per_month": round(self.tokens_per_month), "breakeven": self.results, "curve": self.curve}


def default_scales(lo: float = 0.01, hi: float = 1000.0, points: int = 31) -> np.ndarray:
    if not (0 < lo < hi):
        raise ConfigError(f"break-even range must satisfy 0 < low < high, not {lo} .. {hi}")
    return np.geomspace(lo, hi, points)


def solve(cost_at: CostAt, bedrock_monthly_usd: float, tokens_per_month: float, *,
          scales: np.ndarray | None = None, rel_tol: float = 0.02, points: int = 5, levels: int = 2) -> Breakeven:
    """Break-even of every option `cost_at` returns, against Bedrock at `bedrock_monthly_usd` x scale.

    `cost_at(s)` costs every option at once, so refinement is shared: each level evaluates `points` scales
    inside every distinct bracket that holds some option's first crossing, until each bracket is narrower
    than `rel_tol` (or `levels` levels)."""
    if bedrock_monthly_usd <= 0:
        raise ConfigError("Bedrock costs nothing on this traffic (after the levers): there is no break-even to solve")
    grid = np.asarray(default_scales() if scales is None else scales, dtype=float)
    memo: dict[float, dict[str, OptionCost]] = {}

    def at(s: float) -> dict[str, OptionCost]:
        if s not in memo:
            memo[s] = {o.name: o for o in cost_at(s)}
        return memo[s]

    table = [at(float(s)) for s in grid]
    names = list(table[0])
    out = Breakeven(bedrock_monthly_usd=bedrock_monthly_usd, tokens_per_month=tokens_per_month, scales=grid)
    for name in names:
        first = table[0][name]
        out.kinds[name] = first.kind
        out.instances[name] = first.instance
        out.engineering[name] = first.engineering_usd
        out.infra[name] = np.array([_get(t, name).infra_usd if _get(t, name).feasible else np.inf for t in table])
    for i, s in enumerate(grid):
        row: dict[str, Any] = {"scale": round(float(s), 6), "bedrock_usd": round(bedrock_monthly_usd * s, 2)}
        for name in names:
            o = _get(table[i], name)
            row[name] = round(o.total_usd, 2) if o.feasible else None
        out.curve.append(row)

    def cheaper(name: str, s: float) -> bool:
        o = _get(memo[s], name)
        return o.feasible and o.total_usd <= bedrock_monthly_usd * s

    def first_cross(name: str) -> tuple[int, list[float]]:
        pts = sorted(memo)
        flags = [cheaper(name, s) for s in pts]
        return (flags.index(True) if any(flags) else -1), pts

    for _ in range(levels):
        brackets = set()
        for name in names:
            i, pts = first_cross(name)
            if i > 0 and pts[i] / pts[i - 1] - 1 > rel_tol:
                brackets.add((pts[i - 1], pts[i]))
        if not brackets:
            break
        for lo, hi in sorted(brackets):
            for s in np.geomspace(lo, hi, points + 2)[1:-1]:
                at(float(s))
    for name in names:
        i, pts = first_cross(name)
        out.results.append(_result(name, i, pts, memo, grid, bedrock_monthly_usd, tokens_per_month))
    return out


def _get(costs: dict[str, OptionCost], name: str) -> OptionCost:
    """An option missing at some scale (a candidate compare dropped) counts as infeasible there."""
    return costs.get(name) or OptionCost(name, "ec2", float("inf"), 0.0, feasible=False,
                                         reason="not among the options costed at this volume")


def _result(name: str, i: int, pts: list[float], memo: dict[float, dict[str, OptionCost]], grid: np.ndarray,
            bedrock: float, tokens: float) -> dict[str, Any]:
    first = _get(memo[float(grid[0])], name)
    base = {"option": name, "kind": first.kind, "instance": first.instance,
            "engineering_monthly_usd": round(first.engineering_usd, 2)}
    if i < 0:
        top = _get(memo[float(grid[-1])], name)
        feasible_any = any(_get(c, name).feasible for c in memo.values())
        if not feasible_any:
            why = f"infeasible at every scale searched: {top.reason}"
        elif top.feasible:
            why = (f"dearer than Bedrock at every scale searched (x{grid[0]:g} to x{grid[-1]:g}); at x{grid[-1]:g} "
                   f"it costs {top.total_usd / (bedrock * grid[-1]):.2f} x Bedrock")
        else:
            why = f"dearer than Bedrock wherever it is feasible (x{grid[0]:g} to x{grid[-1]:g})"
        ratio = top.total_usd / (bedrock * grid[-1]) if top.feasible else None
        return {**base, "monthly_bedrock_usd": None, "scale": None, "tokens_per_month": None, "reason": why,
                "cost_ratio_at_max_scale": None if ratio is None else round(float(ratio), 4)}
    s = pts[i]
    o = _get(memo[s], name)
    res = {**base, "monthly_bedrock_usd": round(bedrock * s, 2), "scale": round(s, 6),
           "tokens_per_month": round(tokens * s), "option_monthly_usd": round(o.total_usd, 2),
           "infra_monthly_usd": round(o.infra_usd, 2), "reason": None}
    if i == 0:
        res["note"] = f"already cheaper than Bedrock at the smallest scale searched (x{pts[0]:g})"
    return res
