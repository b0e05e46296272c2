"""SageMaker Serverless and Asynchronous inference (real-time endpoints are in `selfhost`, with EC2).

- **Serverless**: CPU only, 1-6 GB of memory (the catalog's `sagemaker_serverless` rows), a concurrency cap
  (200 per endpoint). A model whose weights plus runtime do not fit the largest memory size is infeasible,
  with the sizes in the reason. Otherwise each request is billed for its compute time x the memory size, the
  compute time being one request at a time on a CPU (`defaults.SERVERLESS_CPU_PROXY` through the throughput
  model); windows whose concurrency passes the cap throttle the excess (counted as misses).
- **Asynchronous**: deferrable traffic only, queued and served by an ml.* instance fleet that scales to zero
  on an empty queue (target tracking on the backlog, SageMaker's scale-out delay); billed per instance-hour
  while instances run; the queue delay is reported. Interactive traffic stays on Bedrock on-demand.
"""

from __future__ import annotations

import numpy as np

from ..catalog import Catalog
from ..demand import DemandSeries
from ..errors import UnknownItemError
from ..fleet import Policy, simulate
from ..perf import Slo
from ..perf.api import best_on_instance
from ..perf.arch import precision_bytes
from . import defaults
from .bedrock import per_mtok, tokens
from .capacity import Capacity, mix_of
from .result import OptionResult
from .selfhost import _default, _windows, sagemaker_prices
from .spec import CompareSpec


def _first_per_model(capacities: list[Capacity]) -> list[Capacity]:
    seen: dict[str, Capacity] = {}
    for c in capacities:
        if c.spec not in seen or (c.feasible and not seen[c.spec].feasible):
            seen[c.spec] = c
    return list(seen.values())


def _cheapest_ml_per_model(cat: Catalog, capacities: list[Capacity]) -> list[Capacity]:
    """Per model, the candidate whose ml.* twin serves a request for the least at full use (else the first)."""
    best: dict[str, tuple[float, Capacity]] = {}
    for c in capacities:
        sm = sagemaker_prices(cat, c.instance, "on-demand")
        cost = sm[1].on_demand / c.rps if sm is not None and c.rps > 0 else float("inf")
        if c.spec not in best or cost < best[c.spec][0]:
            best[c.spec] = (cost, c)
    return [c for _, c in best.values()]


def serverless(demand: DemandSeries, cat: Catalog, cs: CompareSpec, capacities: list[Capacity]) -> list[OptionResult]:
    rows = sorted(cat.sagemaker_serverless, key=lambda r: r.memory_gb)
    out: list[OptionResult] = []
    for cap in _first_per_model(capacities):
        name = f"SageMaker Serverless ({cap.spec} {cap.precision})"
        if not rows:
            where = f" in {cat.instance_region}" if cat.instance_region else ""
            out.append(OptionResult(name=name, kind="sagemaker-serverless", monthly_usd=None, feasible=False,
                                    reason=f"the catalog has no `sagemaker_serverless:` price rows{where}; run "
                                    "`inferplan prices update` with the AmazonSageMaker offer file, or add them"))
            continue
        spec = cat.model_spec(cap.spec)
        weights_gb = spec.params_b_total * 1e9 * precision_bytes(cap.precision) / 1e9
        overhead = defaults.get("serverless_runtime_overhead_gb")
        need = weights_gb + overhead
        largest = rows[-1].memory_gb
        if need > largest:
            out.append(OptionResult(
                name=name, kind="sagemaker-serverless", monthly_usd=None, feasible=False,
                reason=(f"does not fit: {cap.spec} at {cap.precision} needs {need:.1f} GB ({weights_gb:.1f} GB of "
                        f"weights + {overhead:g} GB runtime) and SageMaker Serverless offers at most {largest} GB "
                        "of memory, on CPU only (no GPU)")))
            continue
        row = next(r for r in rows if r.memory_gb >= need)
        try:
            proxy = cat.ec2(defaults.SERVERLESS_CPU_PROXY)
        except UnknownItemError as exc:
            out.append(OptionResult(name=name, kind="sagemaker-serverless", monthly_usd=None, feasible=False,
                                    reason=str(exc)))
            continue
        mix = mix_of(demand, cap.groups)
        perf = best_on_instance(cat, spec, proxy, cap.precision, mix, None)
        if not perf.single:
            out.append(OptionResult(name=name, kind="sagemaker-serverless", monthly_usd=None, feasible=False,
                                    reason=f"cannot run on CPU: {perf.reason}"))
            continue
        duration = 1.0 / perf.single["requests_per_s"]
        req = demand.requests[cap.groups].sum(axis=0)
        conc = req / demand.window_s * duration
        cap_c = defaults.get("serverless_max_concurrency")
        throttled = np.maximum(0.0, req * (1.0 - cap_c / np.maximum(conc, 1e-300)))
        throttled = np.where(conc > cap_c, throttled, 0.0)
        compute_s = float(req.sum() - throttled.sum()) * duration
        rest = np.setdiff1d(np.arange(len(demand.groups)), cap.groups)
        rest_usd = float(demand.bedrock_usd[rest].sum())
        usd = compute_s * row.memory_gb * row.usd_per_gb_second + rest_usd
        slow = (perf.single["tpot_ms"] > cs.slo_tpot_ms) or (perf.single["ttft_ms"] > cs.slo_ttft_ms)
        total_req = float(req.sum())
        miss = 1.0 if slow else (float(throttled.sum()) / total_req if total_req else 0.0)
        out.append(OptionResult(
            name=name, kind="sagemaker-serverless", monthly_usd=usd * demand.monthly_factor, period_usd=usd,
            utilization=None, idle_share=0.0, slo_miss_share=miss, usd_per_mtok=per_mtok(usd, tokens(demand)),
            lever="memory size; cold starts",
            details={"memory_gb": row.memory_gb, "seconds_per_request": duration, "cpu_proxy": proxy.instance,
                     "ttft_ms": perf.single["ttft_ms"], "tpot_ms": perf.single["tpot_ms"],
                     "peak_concurrency": float(conc.max()) if conc.size else 0.0},
            notes=[f"{row.memory_gb} GB at ${row.usd_per_gb_second}/GB-s; {duration:.1f} s of CPU per request "
                   f"(one at a time, {proxy.instance} as the CPU)", "cold starts after idle are not modelled",
                   *(["one request at a time on CPU misses the latency target"] if slow else [])]))
    return out


def asynchronous(demand: DemandSeries, cat: Catalog, cs: CompareSpec, capacities: list[Capacity]
                 ) -> list[OptionResult]:
    out: list[OptionResult] = []
    defer_all = ~demand.interactive
    for cap in _cheapest_ml_per_model(cat, [c for c in capacities if c.feasible]):
        groups = np.array([g for g in cap.groups if defer_all[g]], np.int64)
        name = f"SageMaker Asynchronous ({cap.spec} {cap.precision}, deferrable traffic)"
        if groups.size == 0:
            out.append(OptionResult(name=name, kind="sagemaker-async", monthly_usd=None, feasible=False,
                                    reason="no deferrable traffic: asynchronous inference only suits work nobody "
                                           "waits on"))
            continue
        sm = sagemaker_prices(cat, cap.instance, "on-demand")
        if sm is None:
            out.append(OptionResult(name=name, kind="sagemaker-async", monthly_usd=None, feasible=False,
                                    reason=f"the catalog has no ml.* instance for {cap.instance}"))
            continue
        ml, prices = sm
        w_s = demand.window_s
        mix = mix_of(demand, groups)
        perf = best_on_instance(cat, cat.model_spec(cap.spec), cat.ec2(cap.instance), cap.precision, mix,
                                Slo(tpot_ms=None, ttft_ms=None))
        rps = cap.rps if cap.source != "throughput model" else (perf.instance_requests_per_s or cap.rps)
        d = demand.requests[groups].sum(axis=0)
        boot = _default(cs.sagemaker_scale_out_s, "sagemaker_scale_out_s")
        pol = Policy.make(1, cap=rps * w_s, min_n=0, max_n=cs.max_replicas or 1_000_000, target=1.0,
                          boot_w=_windows(boot, w_s), scale_in_w=1, cooldown_w=0)
        run = simulate(d, pol, w_s)
        paid = run.paid[0]
        inst_usd = float(paid.sum()) * w_s / 3600.0 * prices.on_demand
        rest = np.setdiff1d(np.arange(len(demand.groups)), groups)
        rest_usd = float(demand.bedrock_usd[rest].sum())
        usd = inst_usd + rest_usd
        served = float(run.served[0].sum())
        paid_cap = float(paid.sum()) * rps * w_s
        util = served / paid_cap if paid_cap > 0 else 0.0
        out.append(OptionResult(
            name=name, kind="sagemaker-async", monthly_usd=usd * demand.monthly_factor, period_usd=usd,
            utilization=util, idle_share=1.0 - util, slo_miss_share=None,
            replicas={"min": float(paid.min()), "mean": float(paid.mean()), "max": float(paid.max())},
            usd_per_mtok=per_mtok(usd, tokens(demand)), replica_timeline=paid.astype(np.float64),
            wait_s={f"p{q}": float(run.wait_percentile(q)[0]) for q in (50, 95, 99)},
            lever="batch the queue; scale to zero between bursts",
            details={"instance": ml, "replica_rps": rps, "queue_delay_p95_s": float(run.wait_percentile(95)[0])},
            notes=[f"{ml} at ${prices.on_demand}/h, scales to zero on an empty queue ({boot:.0f} s to scale out); "
                   "throughput without a latency target (nobody waits)",
                   f"interactive traffic stays on Bedrock on-demand (${rest_usd * demand.monthly_factor:,.0f}/month, "
                   "included)"]))
    return out
