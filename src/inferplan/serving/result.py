"""Results of `compare`: one `OptionResult` per serving option, and the `CompareResult` that holds them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

KINDS = ("bedrock", "bedrock-batch", "bedrock-provisioned", "sagemaker-realtime", "sagemaker-serverless",
         "sagemaker-async", "ec2", "hybrid")
BILLING_UNIT = {
    "bedrock": "per input/output token",
    "bedrock-batch": "per token (batch price)",
    "bedrock-provisioned": "per model-unit hour",
    "sagemaker-realtime": "per instance-hour (warm)",
    "sagemaker-serverless": "per GB-second of compute",
    "sagemaker-async": "per instance-hour (scales to zero)",
    "ec2": "per instance-hour",
    "hybrid": "instance-hours + overflow tokens",
}


def _r(v: float | None, nd: int = 6) -> float | None:
    if v is None or not np.isfinite(v):
        return None
    return round(float(v), nd)


@dataclass
class OptionResult:
    """One serving option costed over the series (money over the series scaled to a 730-hour month)."""

    name: str
    kind: str
    monthly_usd: float | None
    period_usd: float | None = None  # over the series itself
    utilization: float | None = None
    idle_share: float | None = None
    slo_miss_share: float | None = None
    replicas: dict[str, float] | None = None  # min, mean, max
    usd_per_mtok: float | None = None
    feasible: bool = True
    reason: str | None = None
    notes: list[str] = field(default_factory=list)
    replica_timeline: np.ndarray | None = None
    wait_s: dict[str, float] | None = None  # p50, p95, p99 queue wait
    lever: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def billing_unit(self) -> str:
        return BILLING_UNIT.get(self.kind, "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "kind": self.kind, "billing_unit": self.billing_unit,
            "monthly_usd": _r(self.monthly_usd, 2), "period_usd": _r(self.period_usd, 6),
            "utilization": _r(self.utilization), "idle_share": _r(self.idle_share),
            "slo_miss_share": _r(self.slo_miss_share),
            "replicas": None if self.replicas is None else {k: _r(v, 3) for k, v in self.replicas.items()},
            "usd_per_mtok": _r(self.usd_per_mtok), "feasible": self.feasible, "reason": self.reason,
            "notes": list(self.notes),
            "wait_s": None if self.wait_s is None else {k: _r(v, 3) for k, v in self.wait_s.items()},
            "lever": self.lever, "details": self.details,
            "timeline": short_timeline(self.replica_timeline),
        }


def short_timeline(tl: np.ndarray | None, points: int = 24) -> list[float] | None:
    """A replica timeline cut to `points` equal slices (the mean of each): what a table or sparkline shows."""
    if tl is None or np.size(tl) == 0:
        return None
    parts = np.array_split(np.asarray(tl, dtype=np.float64), min(points, np.size(tl)))
    return [round(float(p.mean()), 2) for p in parts]


@dataclass
class HybridResult:
    """The fixed-base hybrid at its optimal base: k replicas paid every hour, overflow to Bedrock on-demand."""

    base_replicas: int
    monthly_usd: float
    self_host_monthly_usd: float
    bedrock_monthly_usd: float
    overflow_share: float
    candidate: str
    marginal: list[dict[str, float]] = field(default_factory=list)  # per k: share of time load exceeds it

    def as_dict(self) -> dict[str, Any]:
        return {"base_replicas": self.base_replicas, "monthly_usd": _r(self.monthly_usd, 2),
                "self_host_monthly_usd": _r(self.self_host_monthly_usd, 2),
                "bedrock_monthly_usd": _r(self.bedrock_monthly_usd, 2), "overflow_share": _r(self.overflow_share),
                "candidate": self.candidate}


@dataclass
class CompareResult:
    demand: Any  # DemandSeries
    options: list[OptionResult]
    hybrid: HybridResult | None = None
    notes: list[str] = field(default_factory=list)
    spec: Any = None
    capacities: list[Any] = field(default_factory=list)  # serving.capacity.Capacity, reusable on scaled series

    def cheapest(self, feasible_only: bool = True) -> OptionResult | None:
        opts = [o for o in self.options if o.monthly_usd is not None and (o.feasible or not feasible_only)]
        return min(opts, key=lambda o: o.monthly_usd) if opts else None  # type: ignore[arg-type,return-value]

    def option(self, kind: str) -> OptionResult | None:
        return next((o for o in self.options if o.kind == kind), None)

    def summary(self) -> dict[str, Any]:
        """The `--json` shape: `demand`, `options`, `hybrid` (plus notes and the cheapest feasible option)."""
        d = self.demand
        best = self.cheapest()
        return {
            "demand": {"window_s": d.window_s, "windows": d.windows, "hours": round(d.hours, 6),
                       "requests": round(float(d.requests.sum()), 3), "peak_to_mean": round(d.peak_to_mean, 6),
                       "input_tokens": round(float(d.input_total.sum()), 3),
                       "prefill_tokens": round(float(d.input_tokens.sum()), 3),
                       "output_tokens": round(float(d.output_tokens.sum()), 3),
                       "start": d.start,
                       "groups": [{"model": g.model, "call_type": g.call_type, "interactive": g.interactive,
                                   "requests": round(float(d.requests[i].sum()), 3)}
                                  for i, g in enumerate(d.groups)]},
            "options": [o.as_dict() for o in self.options],
            "hybrid": None if self.hybrid is None else self.hybrid.as_dict(),
            "cheapest": None if best is None else best.name,
            "notes": [*d.notes, *self.notes],
        }
