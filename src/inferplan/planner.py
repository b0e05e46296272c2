"""The `plan` job: from logs to "do this first".

Spend and its run-rate; the workload levers alone and compounded; the serving options over the traffic's own
series (`compare`); the break-even of every self-hosted and SageMaker option against Bedrock after the levers,
for all the traffic and for each call type (the guide's "steady slice"), with its Monte Carlo; the model levers
(quantization, distillation); and the ranked findings (`advisor`). One plain dict (`--json`): keys `spend`
(`analyze`'s summary of the same bill, plus the month as the plan projects it), `levers`, `model_levers`,
`compare`, `breakeven`, `uncertainty`, `findings`, `phases`, `notes`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import advisor
from .advisor.serving import Current
from .analysis import summarize
from .catalog import Catalog
from .economics import TcoOptions, UncertaintyOptions, simulate
from .economics.montecarlo import throughput_errors
from .economics.options import curve_arrays, solve_on, today_costs, tps
from .errors import ConfigError, InferplanError
from .levers import evaluate
from .levers._table import LeverTable
from .levers.distillation import DistillationOptions
from .levers.options import load_options
from .levers.quantization import QuantizationOptions
from .pricing import price_workload
from .scenario import invalid, where
from .scenario import read as read_scenario
from .workload import Workload


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelLevers(_Strict):
    quantization: QuantizationOptions = QuantizationOptions()
    distillation: DistillationOptions = DistillationOptions()


class PlanSettings(_Strict):
    """The scenario's `plan:` section."""

    slices: bool = Field(default=True, description="also solve the break-even for each call type on its own")
    scale_low: float = Field(default=0.01, gt=0)
    scale_high: float = Field(default=1000.0, gt=0)
    scale_points: int = Field(default=25, ge=5, le=200)


def _section(doc: dict[str, Any], key: str, model: type[BaseModel], scenario: Any = None) -> Any:
    try:
        return model.model_validate(doc.get(key) or {})
    except ValidationError as exc:
        raise invalid(exc, key, scenario) from None


def _slice_break_even(demand: Any, catalog: Catalog, spec: Any, tco: TcoOptions, unc: UncertaintyOptions,
                      bedrock_after: float, label: str, scales: np.ndarray, daily: np.ndarray | None
                      ) -> dict[str, Any]:
    bk, today = solve_on(demand, catalog, spec, bedrock_after, tco, scales=scales)
    steps = tps(today)
    errors = {name: throughput_errors(catalog, bk.instances.get(name), steps.get(name, 1)) for name in bk.infra}
    purchases = {name: spec.purchase for name in bk.infra if bk.kinds[name] in ("ec2", "hybrid")}
    mc = simulate(bk, tco, catalog, unc, daily_volume=daily, purchases=purchases, errors=errors)
    groups = today.demand.groups
    return {"label": label, "call_types": sorted({g.call_type for g in groups}),
            "model": groups[0].model if len({g.model for g in groups}) == 1 else None,
            "bedrock_after_levers_monthly_usd": round(bedrock_after, 2), **bk.summary(),
            "today": {k: round(v, 2) for k, v in today_costs(today, tco).items()},
            "peak_to_mean": round(float(today.demand.peak_to_mean), 4),
            "uncertainty": mc, "arrays": curve_arrays(bk), "notes": list(today.notes)}


def _daily(demand: Any) -> np.ndarray | None:
    per_day = int(round(86_400 / demand.window_s))
    tot = demand.requests.sum(axis=0)
    days = tot.size // per_day if per_day else 0
    return tot[: days * per_day].reshape(days, per_day).sum(axis=1) if days >= 3 else None


def run(workload: Workload, catalog: Catalog, spec: Any, scenario: Path | str | dict[str, Any] | None,
        tco: TcoOptions, *, chosen: list[str] | None = None, cmd: str = "FILES",
        charts: dict[str, Any] | None = None) -> dict[str, Any]:
    """The whole plan (see the module docstring). `chosen`: instances or models the user picked (flags).

    `charts`, when given, receives what only the HTML charts draw (`series`: demand and replicas over time),
    kept out of the returned summary so `--json` stays small on a month of minutes."""
    from .serving.compare import compare as run_compare
    from .serving.compare import compare_demand

    doc = read_scenario(scenario)
    unc, settings, scales = _settings(doc, scenario)
    current = _section(doc, "current", Current, scenario)
    mlev = _section(doc, "model_levers", ModelLevers, scenario)
    notes: list[str] = []

    bill = price_workload(workload, catalog)
    spend = summarize(bill, catalog)
    # the lever columns streamed once, in the input's order (`levers._table`), for the levers and for every
    # other reader of the traffic below (with the prefixes as 64-bit ids): the canonical table is never pulled
    # whole to memory, and the routing lever picks the same requests as `analyze --levers` does
    lt = LeverTable.read(workload.table)
    table = lt.with_prefix()
    opts = load_options(doc)
    levers = evaluate(lt, catalog, "all", scenario, baseline=bill)
    notes += list(levers.get("notes") or [])
    result = run_compare(workload, catalog, spec)
    if charts is not None:
        from .report.series import compare_series

        charts["series"] = compare_series(result)
    demand = result.demand  # the spec's scale/growth applied
    m = demand.monthly_factor
    vol = float(demand.requests.sum()) / spend["requests"] if spend["requests"] else 1.0  # --scale, growth
    after_ct = {k: v * m * vol for k, v in levers["compounded"]["by_call_type_usd"].items()}
    spend_out = {**spend, "period_usd": spend["total_usd"], "hours": round(demand.hours, 4),
                 "monthly_usd": round(spend["total_usd"] * m, 2), "volume_factor": round(vol, 6),
                 "by_call_type_monthly_usd": {k: round(v * m, 2) for k, v in spend["by_call_type"].items()},
                 "by_model_monthly_usd": {k: round(v * m, 2) for k, v in spend["by_model"].items()},
                 "tokens": spend["tokens"], "period": spend["period"]}
    levers_out = {**levers, "monthly_baseline_usd": round(levers["baseline_usd"] * m, 2),
                  "monthly_after_usd": round(levers["compounded"]["new_usd"] * m, 2),
                  "monthly_saving_usd": round(levers["compounded"]["saving_usd"] * m, 2)}

    slices = []
    if not any(o.kind in ("ec2", "hybrid", "sagemaker-realtime") for o in result.options if o.feasible):
        notes.append("no self-hosted candidate for this traffic (no open-weights twin of its models in the catalog): "
                     "pass --self-host SPEC to cost one; break-even not solved")
    else:
        targets: list[tuple[str, np.ndarray]] = [("all traffic", np.arange(len(demand.groups)))]
        if settings.slices:
            cts = sorted({g.call_type for g in demand.groups})
            if len(cts) > 1:
                targets += [(ct, np.flatnonzero([g.call_type == ct for g in demand.groups])) for ct in cts]
        for label, idx in targets:
            d = demand if idx.size == len(demand.groups) else demand.select(idx)
            cts = {demand.groups[i].call_type for i in idx}
            bed = sum(v for k, v in after_ct.items() if k in cts)
            if bed <= 0:
                notes.append(f"{label}: no Bedrock spend after the levers, no break-even")
                continue
            try:
                slices.append(_slice_break_even(d, catalog, spec, tco, unc, bed, label, scales, _daily(d)))
            except InferplanError as exc:
                notes.append(f"{label}: break-even not solved: {exc}")

    cache = _cache_curve(table)
    if cache is not None:  # the breakers the caching lever found (segments that change ahead of repeating ones)
        cache["breakers"] = list(((levers["alone"].get("caching") or {}).get("evidence") or {}).get("breakers", []))
    facts = advisor.call_type_facts(table)
    findings = advisor.workload_findings(table, catalog, levers, opts, facts, m * vol, cmd)
    findings += advisor.serving.above_breakeven(slices[1:] if len(slices) > 1 else slices, cmd)
    endpoints = []
    for ep in current.endpoints:
        a = advisor.serving.assess(ep, catalog, demand, (spec.slo_ttft_ms, spec.slo_tpot_ms))
        sub = demand.select(a.pop("groups"))
        alt = compare_demand(sub, catalog, spec.model_copy(update={"self_host": [ep.model], "instance": [],
                                                                     "scale": 1.0, "growth_pct_per_month": 0.0}))
        alts = [{"name": o.name, "kind": o.kind, "monthly_usd": o.monthly_usd, "instance": (o.details or {}).get(
            "instance")} for o in alt.options if o.feasible and o.monthly_usd is not None]
        bed = sum(v for k, v in after_ct.items() if k in ep.call_types)
        findings += advisor.serving.endpoint_findings(ep, a, facts, catalog, tco, bed, alts, cmd)
        endpoints.append(a)
    picked = list(chosen or []) + [f"{e.name} ({e.count} x {e.instance}, running today)"
                                   for e in current.endpoints]
    findings += advisor.levers_first(levers, m * vol, picked, cmd)
    ranked = advisor.advise(findings)

    model_levers = _model_levers(table, demand, catalog, spec, tco, mlev, facts, after_ct, slices, notes)
    phases = _phases(ranked, slices)
    return {
        "spend": spend_out, "levers": levers_out, "model_levers": model_levers, "compare": result.summary(),
        "breakeven": [{k: v for k, v in s.items() if k not in ("uncertainty", "arrays")} for s in slices],
        "uncertainty": [{"label": s["label"], **s["uncertainty"]} for s in slices],
        "arrays": {"curves": {s["label"]: s["arrays"] for s in slices}},
        **({"cache_curve": cache} if cache else {}),
        "endpoints": endpoints, "findings": ranked, "phases": phases, "engineering": tco.model_dump(),
        "notes": list(dict.fromkeys([*spend["notes"], *notes])),
        "monthly_factor": round(m, 6),
    }


def _cache_curve(table: Any) -> dict[str, Any] | None:
    """The self-hosted prefix cache curve (as `inferplan cache-curve`, no TTL) at capacities a decade apart up to
    the traffic's prefix tokens, and unlimited; None when no request declares a prefix."""
    import pyarrow.compute as pc

    from .levers.cache import prefix as prefix_cache

    if "prefix" not in table.column_names or not pc.sum(pc.list_value_length(table.column("prefix"))).as_py():
        return None
    total = int(prefix_cache.total_input(table).sum())  # every input bucket: the cache sees them all
    caps: list[int | None] = [10**k for k in range(4, 11) if 10 ** (k - 1) < total]
    return prefix_cache.table_curve(table, [*caps, None])


def _model_levers(table: Any, demand: Any, catalog: Catalog, spec: Any, tco: TcoOptions, mlev: ModelLevers,
                  facts: dict[str, Any], after_ct: dict[str, float], slices: list[dict[str, Any]],
                  notes: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"quantization": None, "distillation": None}
    model = mlev.quantization.model or (spec.self_host[0] if spec.self_host else None)
    if model is None:
        for s in slices:
            for r in s["breakeven"]:
                if r["kind"] == "ec2":
                    model = next((w for w in r["option"].split() if w in catalog.model_specs), None)
                    break
            if model:
                break
    if model:
        from .levers import quantization

        try:
            out["quantization"] = quantization.evaluate(demand, catalog, model, spec, mlev.quantization)
        except InferplanError as exc:
            notes.append(f"quantization not evaluated: {exc}")
    else:
        notes.append("quantization not evaluated: no self-hosted model for this traffic (--self-host SPEC)")
    d = mlev.distillation
    ct = d.call_type
    if ct is None:
        easy = [f for f in facts.values() if f.mean_output <= 300 and after_ct.get(f.call_type, 0) > 0]
        ct = max(easy, key=lambda f: after_ct[f.call_type]).call_type if easy else None
    if ct is None:
        notes.append("distillation not evaluated: no call type with short answers to distil "
                     "(set model_levers.distillation.call_type)")
        return out
    from .levers import distillation

    try:
        out["distillation"] = distillation.evaluate(table, demand, catalog, spec, tco, ct, after_ct.get(ct, 0.0), d)
    except InferplanError as exc:
        notes.append(f"distillation not evaluated: {exc}")
    return out


def _neuron_option(s: dict[str, Any]) -> dict[str, Any] | None:
    """The slice's best Inferentia/Trainium option: the lowest break-even, else the nearest to breaking even."""
    from .economics.tco import is_neuron

    rows = [r for r in s["breakeven"] if is_neuron(r["instance"])]
    if not rows:
        return None
    hit = [r for r in rows if r["scale"] is not None]
    if hit:
        r = min(hit, key=lambda r: r["monthly_bedrock_usd"])
    else:
        near = [r for r in rows if r.get("cost_ratio_at_max_scale") is not None]
        if not near:
            return {"option": None, "reason": rows[0]["reason"]}
        r = min(near, key=lambda r: r["cost_ratio_at_max_scale"])
    return {"option": r["option"], "instance": r["instance"], "breakeven_monthly_bedrock_usd": r["monthly_bedrock_usd"],
            "volume_to_break_even": r["scale"], "reason": r["reason"],
            "cost_ratio_at_max_scale": r.get("cost_ratio_at_max_scale")}


def _phases(ranked: list[dict[str, Any]], slices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The guide's order as a to-do list: levers first (steps 1-2), then the serving option per slice."""
    one = [{"kind": f["kind"], "call_type": f["call_type"], "monthly_saving_usd": f["monthly_saving_usd"]}
           for f in ranked if f["step"] <= 2]
    two = []
    part = slices[1:] if len(slices) > 1 else slices
    steadiest = min(part, key=lambda s: s["peak_to_mean"])["label"] if part else None
    for s in part:
        neuron = _neuron_option(s)
        best = None
        for r in s["breakeven"]:
            if r["scale"] is not None and (best is None or r["monthly_bedrock_usd"] < best["monthly_bedrock_usd"]):
                best = r
        if best is None:
            two.append({"slice": s["label"], "stay_on": "Bedrock", "peak_to_mean": s["peak_to_mean"],
                        "steadiest": s["label"] == steadiest, "inferentia_trainium": neuron,
                        "why": "no self-hosted option breaks even in the range searched"})
            continue
        bed = s["bedrock_after_levers_monthly_usd"]
        mc = next((o for o in s["uncertainty"]["options"] if o["option"] == best["option"]), {})
        two.append({"slice": s["label"], "peak_to_mean": s["peak_to_mean"], "steadiest": s["label"] == steadiest,
                    "option": best["option"], "kind": best["kind"],
                    "instance": best["instance"], "bedrock_after_levers_monthly_usd": bed,
                    "breakeven_monthly_bedrock_usd": best["monthly_bedrock_usd"],
                    "breakeven_p10_p50_p90": mc.get("breakeven_monthly_bedrock_usd"),
                    "p_beats_bedrock": mc.get("p_beats_bedrock"),
                    "stay_on": "self-host" if best["scale"] <= 1 else "Bedrock", "inferentia_trainium": neuron,
                    "volume_to_break_even": round(best["scale"], 3)})
    return [{"phase": 1, "what": "workload and model levers (cache, batch, route, fewer tokens)", "items": one},
            {"phase": 2, "what": "serving option per slice, against the break-even after the levers", "items": two}]



def _settings(doc: dict[str, Any], scenario: Any = None) -> tuple[UncertaintyOptions, PlanSettings, np.ndarray]:
    """The scenario's uncertainty and plan sections, and the volume scales the cost curves are drawn at."""
    unc = _section(doc, "uncertainty", UncertaintyOptions, scenario)
    settings = _section(doc, "plan", PlanSettings, scenario)
    if settings.scale_low >= settings.scale_high:
        at = where(scenario)
        raise ConfigError(f"{at + ': ' if at else ''}plan.scale_low must be below plan.scale_high")
    return unc, settings, np.geomspace(settings.scale_low, settings.scale_high, settings.scale_points)

def run_breakeven(workload: Workload | None, demand: Any, catalog: Catalog, spec: Any,
                  scenario: Path | str | dict[str, Any] | None, tco: TcoOptions, *, call_type: str | None = None
                  ) -> dict[str, Any]:
    """The `breakeven` job: every self-hosted and SageMaker option against Bedrock after the workload levers
    (usage logs), or against Bedrock on-demand (a demand series: no requests to replay the levers on)."""
    from .serving.compare import transformed

    doc = read_scenario(scenario)
    unc, settings, scales = _settings(doc, scenario)
    notes: list[str] = []
    levers_out = None
    if workload is not None:
        from .demand import from_workload

        bill = price_workload(workload, catalog)
        demand = from_workload(workload, spec.window_s, bill=bill, prefix_cache_tokens=spec.prefix_cache_tokens)
        levers = evaluate(workload, catalog, "all", scenario, baseline=bill)  # streamed, in the input's order
        notes += list(levers.get("notes") or [])
        base_ct = dict(levers["compounded"]["by_call_type_usd"])
        levers_out = {"baseline_usd": levers["baseline_usd"], "after_usd": levers["compounded"]["new_usd"],
                      "saving_pct": levers["compounded"]["saving_pct"], "levers": levers["levers"]}
        period_requests = float(demand.requests.sum())
    else:
        base_ct = {}
        for i, g in enumerate(demand.groups):
            base_ct[g.call_type] = base_ct.get(g.call_type, 0.0) + float(demand.bedrock_usd[i].sum())
        notes.append("a demand series has no requests to replay the workload levers on: Bedrock is on-demand "
                     "as the series prices it")
        period_requests = float(demand.requests.sum())
    d = transformed(demand, spec)
    vol = float(d.requests.sum()) / period_requests if period_requests else 1.0
    if call_type is not None:
        idx = [i for i, g in enumerate(d.groups) if g.call_type == call_type]
        if not idx:
            raise ConfigError(f"--call-type {call_type!r} is not in the traffic; it has "
                              f"{', '.join(sorted({g.call_type for g in d.groups}))}")
        d = d.select(idx)
        base_ct = {call_type: base_ct.get(call_type, 0.0)}
    bed = sum(base_ct.values()) * d.monthly_factor * vol
    label = call_type or "all traffic"
    sl = _slice_break_even(d, catalog, spec, tco, unc, bed, label, scales, _daily(d))
    return {"label": label, "bedrock_after_levers_monthly_usd": sl["bedrock_after_levers_monthly_usd"],
            "tokens_per_month": sl["tokens_per_month"], "breakeven": sl["breakeven"], "curve": sl["curve"],
            "today": sl["today"], "uncertainty": sl["uncertainty"], "levers": levers_out,
            "engineering": tco.model_dump(), "arrays": {"curves": {label: sl["arrays"]}},
            "notes": list(dict.fromkeys([*notes, *sl["notes"]]))}
