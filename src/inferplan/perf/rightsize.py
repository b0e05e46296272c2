"""Right-sizing: the cheapest instance types that serve a model within a latency target, and why not the others."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..catalog import Catalog
from ..catalog.schema import ModelSpec
from ..errors import ConfigError
from .api import best_on_instance, usd_per_mtok
from .coefficients import Coefficients
from .cost import OPTION_NAMES
from .serving import RequestMix, ServingOptions, Slo


@dataclass
class Rightsizing:
    model: str
    precision: str
    mix: RequestMix
    slo: Slo
    purchase: str
    ranked: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "precision": self.precision,
                "mix": self.mix.model_dump(exclude={"output_samples"}),
                "slo": self.slo.model_dump(), "ranked_by": f"usd_per_mtok ({self.purchase})",
                "ranked": self.ranked, "rejected": self.rejected}


def rightsize(cat: Catalog, spec: ModelSpec, mix: RequestMix, slo: Slo, precision: str = "bf16",
              purchase: str = "on-demand", top: int = 5, instances: list[str] | None = None,
              opts: ServingOptions | None = None, coeffs: Coefficients | None = None) -> Rightsizing:
    """Rank every accelerated instance type by $ per million output tokens at full use.

    The first `top` feasible types are ranked; the rest are rejected as costing more, beside those that do not
    fit, miss the target or cannot run the model at that precision.
    """
    if purchase not in OPTION_NAMES:
        raise ConfigError(f"--purchase must be one of {', '.join(OPTION_NAMES)}, not {purchase!r}")
    names = instances or sorted(cat.ec2_instances)
    feasible: list[dict[str, Any]] = []
    out = Rightsizing(spec.spec, precision, mix, slo, purchase)
    for name in names:
        inst = cat.ec2(name)
        if not inst.accelerator or inst.accelerator_count < 1:
            continue
        perf = best_on_instance(cat, spec, inst, precision, mix, slo, opts, coeffs)
        row: dict[str, Any] = {"instance": name, "accelerator": inst.accelerator, "count": inst.accelerator_count}
        if not perf.feasible:
            out.rejected.append({**row, "reason": perf.reason})
            continue
        costs = usd_per_mtok(perf, inst, catalog=cat)
        row.update(tp=perf.tp, replicas=perf.replicas_per_instance, batch=perf.batch, ttft_ms=perf.ttft_ms,
                   tpot_ms=perf.tpot_ms, tokens_per_s=perf.instance_tokens_per_s,
                   usd_per_mtok={k: v["usd_per_mtok"] for k, v in costs.items()},
                   usd_per_mreq={k: v["usd_per_mreq"] for k, v in costs.items()},
                   usd_per_hour={k: v["usd_per_hour"] for k, v in costs.items()})
        if row["usd_per_mtok"][purchase] is None:
            out.rejected.append({**row, "reason": f"no {purchase} price in the catalog"})
            continue
        feasible.append(row)
    feasible.sort(key=lambda r: r["usd_per_mtok"][purchase])
    out.ranked = feasible[:top]
    if feasible:
        best = feasible[0]["usd_per_mtok"][purchase]
        for r in feasible[top:]:
            out.rejected.append({**r, "reason": f"costs more: ${r['usd_per_mtok'][purchase]:.3f} per million output "
                                 f"tokens vs ${best:.3f} for {feasible[0]['instance']}"})
    return out
