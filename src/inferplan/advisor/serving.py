"""Findings of the guide's steps 3 and 4 (serving option, instance): stated endpoints and the break-even.

A *stated* endpoint is one the team runs today, declared in the scenario (`current: endpoints:`), with the call
types it serves in these logs. Its cost is the catalog's hourly price x count x 730 hours; its busy share is the
traffic's demand per window over its capacity (the throughput model through `compare`'s capacity, or the
endpoint's own `replica_rps` from a load test). What it should cost instead comes from `compare` on the same
traffic. The break-even findings read the plan's break-even and Monte Carlo.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..catalog import Catalog
from ..economics.tco import TcoOptions, engineering
from ..errors import ConfigError, MissingPriceError
from .traffic import CallTypeFacts
from .workload import finding

IDLE_UTILIZATION = 0.5  # an endpoint busy less than half the time is "mostly idle"
OVERSIZED_WEIGHT_SHARE = 0.25  # weights fill under a quarter of the accelerator memory


class Endpoint(BaseModel):
    """One serving deployment the team runs today."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kind: Literal["sagemaker-realtime", "ec2"]
    instance: str = Field(description="EC2 type, or the ml.* type for SageMaker")
    count: int = Field(default=1, ge=1)
    model: str = Field(description="open-weights model spec it serves (catalog model_specs key)")
    precision: str = "bf16"
    purchase: Literal["on-demand", "spot", "savings-plan-1y", "savings-plan-3y", "reserved-1y",
                      "reserved-3y"] = "on-demand"
    call_types: list[str] = Field(min_length=1, description="the call types of these logs it serves")
    replica_rps: float | None = Field(default=None, gt=0, description="requests/s one instance sustains (your "
                                      "load test); default: the throughput model")


class Current(BaseModel):
    """The scenario's `current:` section."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoints: list[Endpoint] = Field(default_factory=list)


def ec2_type(catalog: Catalog, ep: Endpoint) -> str:
    if ep.kind == "ec2":
        catalog.ec2(ep.instance)
        return ep.instance
    sm = catalog.sagemaker_instances.get(ep.instance)
    if sm is None or not sm.ec2_instance:
        raise ConfigError(f"endpoint {ep.name}: {ep.instance!r} is not a SageMaker instance with its EC2 hardware "
                          "in the catalog (sagemaker_instances.ec2_instance)")
    return sm.ec2_instance


def hourly(catalog: Catalog, ep: Endpoint, purchase: str | None = None) -> float:
    """$ per instance-hour as the endpoint is bought (a missing price is an error, never zero)."""
    if ep.kind == "sagemaker-realtime":
        sm = catalog.sagemaker_instances.get(ep.instance)
        if sm is None:
            raise MissingPriceError(f"endpoint {ep.name}: no SageMaker price for {ep.instance!r}; add it under "
                                    "`sagemaker_instances:` in your catalog file")
        return sm.usd_per_hour
    from ..perf.cost import hourly_prices

    p = hourly_prices(catalog, catalog.ec2(ep.instance))[purchase or ep.purchase]
    if p is None:
        raise MissingPriceError(f"endpoint {ep.name}: no {purchase or ep.purchase} price for {ep.instance} in the "
                                "catalog; add it under `ec2_instances:` (spot_usd_per_hour) or `discounts:`")
    return p


def assess(ep: Endpoint, catalog: Catalog, demand: Any, slo: tuple[float, float]) -> dict[str, Any]:
    """Cost, capacity and busy share of a stated endpoint on its slice of the demand series."""
    from ..perf import Slo
    from ..serving.capacity import capacity_of, mix_of
    from ..serving.spec import CompareSpec

    groups = np.flatnonzero([g.call_type in ep.call_types for g in demand.groups])
    missing = sorted(set(ep.call_types) - {demand.groups[i].call_type for i in groups})
    if missing:
        raise ConfigError(f"endpoint {ep.name}: call type(s) {missing} are not in the traffic")
    spec = catalog.model_spec(ep.model)
    cs = CompareSpec(replica_rps=ep.replica_rps, slo_ttft_ms=slo[0], slo_tpot_ms=slo[1])
    cap = capacity_of(catalog, spec, ec2_type(catalog, ep), ep.precision, mix_of(demand, groups),
                      Slo(ttft_ms=slo[0], tpot_ms=slo[1]), groups, cs)
    monthly = ep.count * hourly(catalog, ep) * 730.0
    rps = demand.requests[groups].sum(axis=0) / demand.window_s
    util = None
    if cap.feasible and cap.rps > 0:
        util = float(np.mean(np.minimum(rps / (ep.count * cap.rps), 1.0)))
    from ..perf.arch import precision_bytes

    acc_mem = catalog.ec2(ec2_type(catalog, ep)).accelerator_memory_gib
    weights_gib = spec.params_b_total * 1e9 * precision_bytes(ep.precision) / 2**30
    return {"endpoint": ep.name, "kind": ep.kind, "instance": ep.instance, "count": ep.count,
            "monthly_usd": round(monthly, 2), "capacity_rps_per_instance": round(cap.rps, 4) if cap.feasible else None,
            "capacity_source": cap.source, "feasible": cap.feasible, "reason": cap.reason,
            "utilization": None if util is None else round(util, 4),
            "weights_gib": None if weights_gib is None else round(weights_gib, 2),
            "accelerator_memory_gib": acc_mem, "groups": groups}


def endpoint_findings(ep: Endpoint, a: dict[str, Any], facts: dict[str, CallTypeFacts], catalog: Catalog,
                      tco: TcoOptions, bedrock_after: float, alternatives: list[dict[str, Any]], cmd: str
                      ) -> list[dict[str, Any]]:
    """idle-endpoint, oversized-accelerator, interruptible-not-on-spot and self-host-below-breakeven for one
    stated endpoint. `bedrock_after`: its call types on Bedrock after the workload levers, a month;
    `alternatives`: compare's feasible options for its traffic (name, kind, monthly_usd, instance)."""
    out: list[dict[str, Any]] = []
    ct = ", ".join(ep.call_types)
    model = ep.model
    monthly = a["monthly_usd"]
    best = min(alternatives, key=lambda o: o["monthly_usd"]) if alternatives else None
    util = a["utilization"]
    if util is not None and util < IDLE_UTILIZATION and best is not None and best["monthly_usd"] < monthly:
        out.append(finding("idle-endpoint", ct, model, monthly - best["monthly_usd"], {
            "endpoint": ep.name, "instances": ep.count, "utilization": util, "monthly_usd": monthly,
            "instead": best["name"], "instead_monthly_usd": round(best["monthly_usd"], 2),
            "text": f"{ep.name} ({ep.count} x {ep.instance}) is busy {util:.0%} of the time on this traffic: "
                    f"${monthly:,.0f}/month of which most buys idle; {best['name']} carries the same traffic for "
                    f"${best['monthly_usd']:,.0f}"}, "high" if ep.replica_rps else "medium",
            f"inferplan compare {cmd}", 3))
    w, mem = a["weights_gib"], a["accelerator_memory_gib"]
    smaller = [o for o in alternatives if o.get("instance") and o["instance"] != ec2_type(catalog, ep)
               and o["kind"] in ("ec2", "sagemaker-realtime") and o["monthly_usd"] < monthly]
    if w is not None and mem and w < OVERSIZED_WEIGHT_SHARE * mem and smaller:
        s = min(smaller, key=lambda o: o["monthly_usd"])
        out.append(finding("oversized-accelerator", ct, model, monthly - s["monthly_usd"], {
            "endpoint": ep.name, "weights_gib": w, "accelerator_memory_gib": mem, "instead": s["name"],
            "text": f"{model} at {ep.precision} is {w:.1f} GiB of weights on {mem:g} GiB of accelerator memory "
                    f"({w / mem:.0%}); {s['name']} serves this traffic for ${s['monthly_usd']:,.0f}/month"},
            "medium", f"inferplan compare {cmd} --self-host {model}", 4))
    non_inter = [facts[c] for c in ep.call_types if c in facts]
    if (ep.kind == "ec2" and ep.purchase != "spot" and non_inter
            and all(f.interactive_known_share == 1 and f.non_interactive_share == 1 for f in non_inter)):
        try:
            spot = hourly(catalog, ep, "spot")
        except MissingPriceError:
            spot = None
        if spot is not None:
            now = hourly(catalog, ep)
            out.append(finding("interruptible-not-on-spot", ct, model, ep.count * (now - spot) * 730.0, {
                "endpoint": ep.name, "purchase": ep.purchase, "usd_per_hour": now, "spot_usd_per_hour": spot,
                "text": f"nobody waits on {ct} (every request non-interactive) yet {ep.name} runs {ep.purchase} at "
                        f"${now:.3f}/h; Spot is ${spot:.3f}/h (two minutes' notice, in-flight requests retried)"},
                "high", f"inferplan compare {cmd} --purchase spot", 4))
    eng = engineering(ep.kind, ep.instance, tco)
    total = monthly + eng["monthly_usd"]
    if bedrock_after < total:
        out.append(finding("self-host-below-breakeven", ct, model, total - bedrock_after, {
            "endpoint": ep.name, "infra_monthly_usd": monthly, "engineering_monthly_usd": eng["monthly_usd"],
            "bedrock_after_levers_monthly_usd": round(bedrock_after, 2),
            "text": f"{ep.name} costs ${monthly:,.0f}/month plus ${eng['monthly_usd']:,.0f} of engineering; the "
                    f"same traffic on Bedrock after the levers costs ${bedrock_after:,.0f}"},
            "medium", f"inferplan breakeven {cmd}", 3))
    return out


def above_breakeven(slices: list[dict[str, Any]], cmd: str) -> list[dict[str, Any]]:
    """Bedrock traffic already past an option's break-even: the option's total cost is below Bedrock's today."""
    out = []
    for sl in slices:
        bed = sl["bedrock_after_levers_monthly_usd"]
        mc = {o["option"]: o for o in sl.get("uncertainty", {}).get("options", [])}
        best = None
        for r in sl["breakeven"]:
            if r["scale"] is None or r["scale"] > 1.0:
                continue
            cost_now = sl["today"].get(r["option"])
            if cost_now is None or cost_now >= bed:
                continue
            if best is None or cost_now < best[1]:
                best = (r, cost_now)
        if best is None:
            continue
        r, cost_now = best
        p = mc.get(r["option"], {}).get("p_beats_bedrock")
        conf = "low" if p is None else ("high" if p >= 0.9 else "medium" if p >= 0.6 else "low")
        out.append(finding("self-host-above-breakeven", sl["label"], sl.get("model"), bed - cost_now, {
            "option": r["option"], "kind": r["kind"], "breakeven_monthly_bedrock_usd": r["monthly_bedrock_usd"],
            "bedrock_after_levers_monthly_usd": round(bed, 2), "option_total_monthly_usd": round(cost_now, 2),
            "p_beats_bedrock": p,
            "text": f"{sl['label']} spends ${bed:,.0f}/month on Bedrock after the levers, above {r['option']}'s "
                    f"break-even of ${r['monthly_bedrock_usd']:,.0f}; it would cost ${cost_now:,.0f} with "
                    f"engineering" + (f" (beats Bedrock in {p:.0%} of the Monte Carlo draws)" if p is not None
                                      else "")}, conf, f"inferplan breakeven {cmd}", 3))
    return out
