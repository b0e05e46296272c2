"""Quantization (the guide's step 2): a lower precision changes what fits where, so the hardware tier and the bill.

For a self-hosted model, each precision is sized by the throughput model (`inferplan.perf.rightsize`: which
instance types it fits on and serves within the latency target, cheapest first) and then costed on this
traffic's own series (`compare`: replicas over time, idle included). The saving is the cheapest option at the
base precision less the cheapest at a lower one. Weight-only int8/int4 run at the 16-bit compute peak; fp8 needs
fp8 units (H100, L40S, L4): where a device lacks them the precision is rejected with that reason.

Quality is not modelled: post-training int8/fp8 usually stays within a small tolerance and int4 loses more,
task by task. Validate on your own evals before switching.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..catalog import Catalog
from ..perf import RequestMix, Slo, rightsize
from ..perf.arch import precision_bytes

CAVEAT = ("quality is not modelled: post-training fp8/int8 usually stays within a small tolerance, int4 loses "
          "more and varies by task; validate on your own evals before switching")


class QuantizationOptions(BaseModel):
    """The scenario's `model_levers: quantization:` section."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = Field(default=None, description="model spec to quantize (default: the plan's self-hosted "
                              "candidate)")
    base: str = "bf16"
    precisions: list[str] = Field(default_factory=lambda: ["fp8", "int8", "int4"])


def evaluate(demand: Any, catalog: Catalog, spec_name: str, cs: Any, opts: QuantizationOptions | None = None
             ) -> dict[str, Any]:
    """Per precision: weights, the cheapest instance types it fits and serves on, and its monthly cost on this
    traffic; before (base precision) and after (the cheapest lower precision)."""
    from ..serving.capacity import mix_of
    from ..serving.compare import compare_demand

    o = opts or QuantizationOptions()
    spec = catalog.model_spec(spec_name)
    slo = Slo(ttft_ms=cs.slo_ttft_ms, tpot_ms=cs.slo_tpot_ms)
    import numpy as np

    mix: RequestMix = mix_of(demand, np.arange(len(demand.groups)))
    rows = []
    for p in [o.base, *[x for x in o.precisions if x != o.base]]:
        rs = rightsize(catalog, spec, mix, slo, p, cs.purchase, top=len(catalog.ec2_instances))
        weights_gib = spec.params_b_total * 1e9 * precision_bytes(p) / 2**30
        row: dict[str, Any] = {"precision": p, "weights_gib": round(weights_gib, 2), "fits_on": [],
                               "smallest_fit": None, "monthly_usd": None, "option": None, "instance": None}
        if not rs.ranked:
            why = sorted({r["reason"] for r in rs.rejected})[:2]
            row["reason"] = "; ".join(why) if why else "no instance type in the catalog"
            rows.append(row)
            continue
        # what fits where: the instance type with the least accelerator memory that serves it within the target
        smallest = min(rs.ranked, key=lambda r: (catalog.ec2(r["instance"]).accelerator_memory_gib,
                                                  catalog.ec2(r["instance"]).on_demand_usd_per_hour))
        row["smallest_fit"] = {"instance": smallest["instance"], "accelerator": smallest["accelerator"],
                               "count": smallest["count"],
                               "accelerator_memory_gib": catalog.ec2(smallest["instance"]).accelerator_memory_gib}
        names = list(dict.fromkeys([*(r["instance"] for r in rs.ranked[:3]), smallest["instance"]]))
        row["fits_on"] = names  # the cheapest three, and the smallest fit when it is not among them
        res = compare_demand(demand, catalog, cs.model_copy(update={
            "self_host": [spec.spec], "precision": p, "instance": names, "scale": 1.0, "bedrock_tiers": []}))
        best = min((x for x in res.options if x.kind in ("ec2", "sagemaker-realtime") and x.feasible
                    and x.monthly_usd is not None), key=lambda x: x.monthly_usd, default=None)
        if best is None:
            row["reason"] = "no feasible self-hosted option on this traffic"
        else:
            row.update(monthly_usd=round(best.monthly_usd, 2), option=best.name,
                       instance=(best.details or {}).get("instance"),
                       utilization=None if best.utilization is None else round(best.utilization, 4))
        rows.append(row)
    before = rows[0]
    after = min((r for r in rows[1:] if r["monthly_usd"] is not None), key=lambda r: r["monthly_usd"], default=None)
    if after is not None and before["monthly_usd"] is not None and after["monthly_usd"] > before["monthly_usd"] - 0.005:
        after = None  # no lower precision costs less here: "bf16 -> int8" at the same dollars would read as a saving
    saving = (before["monthly_usd"] - after["monthly_usd"]) if (after and before["monthly_usd"] is not None) else 0.0
    tier_change = bool(after and before["instance"] and after["instance"] != before["instance"])
    return {"model": spec.spec, "base": o.base, "precisions": rows,
            "before_monthly_usd": before["monthly_usd"],
            "after": None if after is None else after["precision"],
            "after_monthly_usd": None if after is None else after["monthly_usd"],
            "monthly_saving_usd": round(max(saving, 0.0), 2), "hardware_tier_change": tier_change,
            "caveat": CAVEAT}
