"""Instance-based options: EC2 self-hosting, SageMaker real-time, hybrids; all through one fleet simulation.

For each candidate (model, precision, instance; `capacity.Capacity`) the variants below run as one vectorised
`inferplan.fleet.simulate` call over the demand the candidate serves:

- EC2 fixed: enough replicas for the peak window, all the time.
- EC2 autoscaled: target tracking with boot + model-load delay, scale-in after the lookback and cooldown.
- SageMaker real-time: the same autoscaler at ml.* prices with SageMaker's scale-out delay, at least one
  instance; and with inference components, down to zero, where requests arriving while nothing runs wait
  for the wake-up (counted as TTFT misses).
- Hybrid: a fixed base of k replicas (k optimal on the load-duration curve, `hybrid.optimal_base`) with
  everything above their capacity sent to Bedrock on-demand; and the autoscaled hybrid (target tracking above
  that base, overflow to Bedrock instead of queueing while new replicas boot).

Purchase mix: a committed baseline (Savings Plan, paid every hour whether used or not), on-demand above it, and
a Spot share of the replicas above the baseline. Spot interruptions (Spot Instance Advisor band) take an
expected share of capacity away: each interruption costs the replacement time beyond the two-minute notice,
and the requests then in flight that cannot finish within the notice are served again.
Traffic of groups a candidate does not serve stays on Bedrock on-demand and is added to its cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..catalog import Catalog
from ..demand import HOURS_PER_MONTH, DemandSeries
from ..errors import MissingPriceError
from ..fleet import FleetRun, Policy, latency_on_timeline, simulate
from ..perf.cost import COMMITMENT_YEARS, find_discount, hourly_prices
from . import defaults
from .bedrock import per_mtok, tokens
from .capacity import Capacity
from .hybrid import optimal_base
from .result import HybridResult, OptionResult
from .spec import CompareSpec

PLAN = COMMITMENT_YEARS  # purchase option -> commitment term (Savings Plans and Reserved Instances)


@dataclass
class Prices:
    """USD per instance-hour of one candidate: committed baseline, on-demand, Spot."""

    on_demand: float
    committed: float | None
    spot: float | None
    committed_label: str | None


def ec2_prices(cat: Catalog, instance: str, purchase: str) -> Prices:
    inst = cat.ec2(instance)
    hp = hourly_prices(cat, inst)
    committed = hp.get(purchase) if purchase in PLAN else None
    if purchase in PLAN and committed is None:
        plan = "reserved-instance" if purchase.startswith("reserved") else "compute-savings-plan"
        raise MissingPriceError(f"no {purchase} price for {instance}: add a {plan} `discounts:` row to your catalog "
                                "file (--catalog FILE), or run `inferplan prices update` with the AmazonEC2 offer "
                                "file of its region (Reserved terms)")
    if purchase == "spot" and hp["spot"] is None:
        raise MissingPriceError(f"no Spot price for {instance} in the catalog: add spot_usd_per_hour to its "
                                "`ec2_instances:` row in your catalog file (--catalog FILE)")
    return Prices(on_demand=inst.on_demand_usd_per_hour, committed=committed, spot=hp["spot"],
                  committed_label=purchase if purchase in PLAN else None)


def sagemaker_prices(cat: Catalog, instance: str, purchase: str) -> tuple[str, Prices] | None:
    """The ml.* twin of an EC2 type and its prices (SageMaker Savings Plan for a commitment; no Spot)."""
    ml = next((m for m in cat.sagemaker_instances.values() if m.ec2_instance == instance), None)
    if ml is None and cat.instance_region is not None:
        twin = next((m for m in cat.current("sagemaker_instances") if m.ec2_instance == instance), None)  # type: ignore[attr-defined]
        if twin is not None:  # priced elsewhere, not in the traffic's region: say what to add
            ml = cat.sagemaker_in(twin.instance, cat.instance_region)  # type: ignore[attr-defined]
    if ml is None:
        return None
    committed = None
    if purchase in PLAN:  # SageMaker has no Reserved Instances: its commitment is the SageMaker Savings Plan
        d = find_discount(cat, cat.ec2(instance), "sagemaker-savings-plan", PLAN[purchase], "no-upfront")
        committed = ml.usd_per_hour * (1.0 - d.discount_fraction)
    return ml.instance, Prices(on_demand=ml.usd_per_hour, committed=committed, spot=None,
                               committed_label=f"sagemaker-savings-plan-{PLAN[purchase]}y" if committed else None)


def _default(cs_value: float | None, key: str) -> float:
    return float(cs_value) if cs_value is not None else defaults.get(key)


@dataclass
class Variant:
    name: str
    kind: str
    prices: Prices
    policy: dict
    purchase: str
    spot_share: float
    baseline: int | None  # None: the fleet's minimum (with a commitment)
    lever: str
    notes: list[str]
    hybrid: bool = False


def _windows(seconds: float, window_s: int) -> int:
    return int(np.ceil(seconds / window_s - 1e-9))


def options(demand: DemandSeries, cat: Catalog, cs: CompareSpec, cap: Capacity
            ) -> tuple[list[OptionResult], HybridResult | None]:
    """Every instance-based variant of one candidate, costed over the series."""
    w_s = demand.window_s
    groups = cap.groups
    d = demand.requests[groups].sum(axis=0)
    rest = np.setdiff1d(np.arange(len(demand.groups)), groups)
    rest_usd = float(demand.bedrock_usd[rest].sum())
    all_tokens = tokens(demand)
    cap_w = cap.rps * w_s
    budget = max(0.0, (cs.slo_ttft_ms - (cap.base_ttft_ms or 0.0)) / 1000.0)
    target = _default(cs.target_utilization, "target_utilization")
    boot = _default(cs.boot_s, "ec2_boot_s")
    sm_boot = _default(cs.sagemaker_scale_out_s, "sagemaker_scale_out_s")
    wake = _default(cs.inference_component_wake_s, "inference_component_wake_s")
    lookback = _windows(_default(cs.scale_in_lookback_s, "scale_in_lookback_s"), w_s)
    cooldown = _windows(_default(cs.scale_in_cooldown_s, "scale_in_cooldown_s"), w_s)
    max_n = cs.max_replicas or 1_000_000
    peak_n = max(1, int(np.ceil(d.max() / cap_w - 1e-9))) if d.size else 1
    auto = dict(fixed=False, target=target, scale_in_w=max(1, lookback), cooldown_w=cooldown, max_n=max_n)
    spot_share = cs.spot_share if cs.spot_share is not None else (1.0 if cs.purchase == "spot" else 0.0)
    label = cap.label
    out: list[OptionResult] = []
    variants: list[Variant] = []
    try:
        ep = ec2_prices(cat, cap.instance, cs.purchase)
    except MissingPriceError as exc:
        out.append(OptionResult(name=f"EC2 {label}", kind="ec2", monthly_usd=None, feasible=False, reason=str(exc)))
        ep = None
    if ep is not None:
        variants += [
            Variant(f"EC2 {label}, fixed for the peak ({cs.purchase})", "ec2", ep,
                    dict(fixed=True, min_n=peak_n, max_n=peak_n), cs.purchase, spot_share, None,
                    "Inferentia2, Spot, Savings Plans", []),
            Variant(f"EC2 {label}, autoscaled ({cs.purchase})", "ec2", ep,
                    dict(auto, min_n=cs.min_replicas, boot_w=_windows(boot, w_s)), cs.purchase, spot_share, None,
                    "Inferentia2, Spot, Savings Plans",
                    [f"target tracking at {target:.0%} of a replica's throughput, {boot:.0f} s boot + load"]),
        ]
    sm = sagemaker_prices(cat, cap.instance, cs.purchase)
    if sm is not None:
        ml, sp = sm
        sm_purchase = cs.purchase if cs.purchase in PLAN else "on-demand"
        sm_notes = [] if cs.purchase != "spot" else ["SageMaker real-time endpoints do not run on Spot: on-demand"]
        variants += [
            Variant(f"SageMaker real-time {ml} ({cap.spec} {cap.precision}), autoscaled", "sagemaker-realtime", sp,
                    dict(auto, min_n=max(1, cs.min_replicas), boot_w=_windows(sm_boot, w_s)), sm_purchase, 0.0,
                    None, "utilisation, right-sizing",
                    [*sm_notes, f"at least one instance; {sm_boot:.0f} s scale-out delay"]),
            Variant(f"SageMaker real-time {ml} ({cap.spec} {cap.precision}), scale to zero", "sagemaker-realtime", sp,
                    dict(auto, min_n=0, boot_w=_windows(wake, w_s)), "on-demand", 0.0, None,
                    "utilisation, right-sizing",
                    [*sm_notes, f"inference components scaled to zero: requests after idle wait {wake:.0f} s "
                     "(TTFT misses)"]),
        ]
    else:
        out.append(OptionResult(name=f"SageMaker real-time ({cap.instance})", kind="sagemaker-realtime",
                                monthly_usd=None, feasible=False,
                                reason=f"the catalog has no ml.* instance for {cap.instance}; add a "
                                       "`sagemaker_instances:` row with ec2_instance: " + cap.instance))
    hybrid_res = None
    if ep is not None:
        base_price = _purchase_price(ep, cs.purchase)
        u = _unit_usd(demand, groups)
        replica_usd = base_price * demand.hours
        if demand.fine_requests is not None and demand.fine_window_s:  # overflow decided request by request:
            ratio = w_s // demand.fine_window_s                       # size the base on the finer arrivals
            fine_d = demand.fine_requests[groups].sum(axis=0)
            k = optimal_base(fine_d, np.repeat(u, ratio)[: fine_d.size], cap.rps * demand.fine_window_s, replica_usd)
        else:
            k = optimal_base(d, u, cap_w, replica_usd)
        k = min(k, max_n)
        variants += [
            Variant(f"Hybrid: {k} x {label} ({cs.purchase}) + Bedrock overflow", "hybrid", ep,
                    dict(fixed=True, min_n=k, max_n=k, overflow=True), cs.purchase, spot_share, k,
                    "base size on the load-duration curve", [], hybrid=True),
            Variant(f"Hybrid autoscaled: {label} from {k} ({cs.purchase}) + Bedrock overflow", "hybrid", ep,
                    dict(auto, min_n=max(k, cs.min_replicas), boot_w=_windows(boot, w_s), overflow=True,
                         target=min(1.0, target + 0.2)),
                    cs.purchase, spot_share, k, "base size and target", []),
        ]
    if not variants:
        return out, None
    rate = defaults.spot_rate(cs.spot_interruption)
    notice = defaults.get("spot_notice_s")
    replace_s = cs.spot_replacement_s if cs.spot_replacement_s is not None else boot
    caps = np.array([cap_w * _spot_availability(v.spot_share, rate, replace_s, notice) for v in variants])
    retry = np.array([1.0 + _spot_retries(v.spot_share, rate, cap, notice, w_s) for v in variants])
    pol = Policy.make(len(variants), cap=caps, budget_s=budget,
                      **{k_: np.array([v.policy.get(k_, dflt) for v in variants]) for k_, dflt in
                         (("fixed", False), ("min_n", 1), ("max_n", max_n), ("target", target), ("boot_w", 0),
                          ("scale_in_w", 1), ("cooldown_w", 0), ("overflow", False))})
    # retried requests (Spot) add to the demand of the variants that use Spot: run those on their own demand
    runs = _simulate_groups(d, pol, w_s, retry)
    if demand.fine_requests is not None and demand.fine_window_s:
        fine = demand.fine_requests[groups].sum(axis=0)
        for i, v in enumerate(variants):  # queue waits replayed on the finer arrivals (bursts inside a window)
            if v.policy.get("overflow"):
                _fine_overflow(runs[i], fine * retry[i], d * retry[i], demand.fine_window_s, caps[i] / w_s)
                continue
            hist, missed = latency_on_timeline(d, runs[i].running, w_s, fine * retry[i], demand.fine_window_s,
                                               np.array([caps[i] / w_s]), np.array([budget]))
            runs[i].hist, runs[i].missed = hist, missed
    u = _unit_usd(demand, groups)
    for i, v in enumerate(variants):
        run = runs[i]
        paid = run.paid[0]
        period, committed_n = _fleet_cost(paid, w_s, v.prices, v.purchase, v.spot_share, v.baseline, demand.hours)
        over_usd = float((run.overflow[0] * u).sum())
        total = period + over_usd + rest_usd
        served = float(run.served[0].sum())
        paid_cap = float(paid.sum()) * cap_w  # nominal: Spot interruptions show as lower utilisation
        util = served / paid_cap if paid_cap > 0 else 0.0
        notes = list(v.notes) + list(cap.notes)
        if rest.size:
            notes.append(f"{demand.requests[rest].sum():,.0f} request(s) of other models stay on Bedrock on-demand "
                         f"(${rest_usd * demand.monthly_factor:,.0f}/month, included)")
        if v.spot_share > 0:
            notes.append(f"{v.spot_share:.0%} of replicas above the baseline on Spot, interruption band "
                         f"{cs.spot_interruption} ({rate:.1%}/month): expected capacity {caps[i] / cap_w:.4%}")
        if committed_n:
            notes.append(f"{committed_n} replica(s) committed ({v.prices.committed_label}), paid every hour")
        backlog_end = float(run.backlog[0, -1]) if run.backlog.shape[1] else 0.0
        if backlog_end > 0.5:
            notes.append(f"{backlog_end:,.0f} request(s) still queued at the end of the series: the fleet cannot "
                         "keep up")
        res = OptionResult(
            name=v.name, kind=v.kind, monthly_usd=total * demand.monthly_factor, period_usd=total,
            utilization=util, idle_share=1.0 - util, slo_miss_share=float(run.slo_miss_share[0]),
            replicas={"min": float(paid.min()), "mean": float(paid.mean()), "max": float(paid.max())},
            usd_per_mtok=per_mtok(total, all_tokens), notes=notes, replica_timeline=paid.astype(np.float64),
            wait_s={f"p{q}": float(run.wait_percentile(q)[0]) for q in (50, 95, 99)},
            lever=_lever(v, util),
            details={"instance": cap.instance, "model": cap.spec, "precision": cap.precision, "tp": cap.tp,
                     "replica_rps": cap.rps, "slots": cap.slots, "capacity_source": cap.source,
                     "base_ttft_ms": cap.base_ttft_ms, "queue_budget_s": budget, "usd_per_hour": v.prices.on_demand,
                     "overflow_requests": float(run.overflow[0].sum()),
                     **({"target_invocations_per_instance_per_minute": v.policy["target"] * cap.rps * 60}
                        if not v.policy.get("fixed") else {})})
        out.append(res)
        if v.hybrid and v.policy.get("fixed") and v.baseline is not None:
            self_usd = period
            bedrock_usd = over_usd + rest_usd
            tot_d = float(d.sum())
            hybrid_res = HybridResult(
                base_replicas=int(v.baseline), monthly_usd=total * demand.monthly_factor,
                self_host_monthly_usd=self_usd * demand.monthly_factor,
                bedrock_monthly_usd=bedrock_usd * demand.monthly_factor,
                overflow_share=float(run.overflow[0].sum()) / tot_d if tot_d > 0 else 0.0, candidate=label)
    return out, hybrid_res


def _fine_overflow(run: FleetRun, fine: np.ndarray, d: np.ndarray, fine_s: int, cap_per_s: float) -> None:
    """Overflow of a hybrid replayed on finer arrivals: a burst above the replicas inside a window goes to Bedrock
    too. Per window, served + overflow still equals the demand."""
    ratio = run.window_s // fine_s
    run_f = np.repeat(run.running[0], ratio)[: fine.size].astype(np.float64)
    over_f = np.maximum(0.0, fine - run_f * cap_per_s * fine_s)
    pad = (-over_f.size) % ratio
    over = np.pad(over_f, (0, pad)).reshape(-1, ratio).sum(axis=1)[: d.size]
    over = np.minimum(over, d)
    run.overflow[0] = over
    run.served[0] = d - over


def _simulate_groups(d: np.ndarray, pol: Policy, w_s: int, retry: np.ndarray) -> list[FleetRun]:
    """One simulate call per distinct demand multiplier (usually one), results split per variant."""
    runs: list[FleetRun | None] = [None] * len(retry)
    for m in np.unique(retry):
        idx = np.flatnonzero(retry == m)
        sub = Policy(**{f: getattr(pol, f)[idx] for f in pol.__dataclass_fields__})
        run = simulate(d * m, sub, w_s)
        for j, i in enumerate(idx):
            runs[i] = FleetRun(running=run.running[j:j + 1], paid=run.paid[j:j + 1], served=run.served[j:j + 1],
                               backlog=run.backlog[j:j + 1], overflow=run.overflow[j:j + 1], demand=run.demand,
                               window_s=w_s, hist=run.hist[j:j + 1], missed=run.missed[j:j + 1])
    return runs  # type: ignore[return-value]


def _purchase_price(p: Prices, purchase: str) -> float:
    if purchase in PLAN and p.committed is not None:
        return p.committed
    if purchase == "spot" and p.spot is not None:
        return p.spot
    return p.on_demand


def _fleet_cost(paid: np.ndarray, w_s: int, p: Prices, purchase: str, spot_share: float, baseline: int | None,
                hours: float) -> tuple[float, int]:
    """Cost of a replica timeline: committed baseline every hour, the rest on-demand or Spot."""
    h = w_s / 3600.0
    committed_n = 0
    if purchase in PLAN and p.committed is not None:
        committed_n = int(paid.min()) if baseline is None else int(baseline)
    above = np.maximum(0.0, paid - committed_n)
    spot = p.spot if p.spot is not None else p.on_demand
    above_rate = spot_share * spot + (1.0 - spot_share) * p.on_demand
    if purchase == "spot" and baseline is not None and spot_share == 1.0:  # a Spot base in a hybrid
        above_rate = spot
    cost = committed_n * (p.committed or 0.0) * hours + float(above.sum()) * h * above_rate
    return cost, committed_n


def _spot_availability(share: float, rate_per_month: float, replace_s: float, notice_s: float) -> float:
    """Expected share of time a replica serves, with `share` of replicas on Spot."""
    lost = max(0.0, replace_s - notice_s) * rate_per_month / (HOURS_PER_MONTH * 3600.0)
    return 1.0 - share * lost


def _spot_retries(share: float, rate_per_month: float, cap: Capacity, notice_s: float, w_s: int) -> float:
    """Extra requests per request served: in-flight requests that cannot finish within the notice, retried."""
    if share <= 0:
        return 0.0
    service = cap.service_s
    unfinished = max(0.0, 1.0 - notice_s / service) if np.isfinite(service) and service > 0 else 1.0
    # interruptions per request served = rate per replica-second / requests per replica-second
    per_req = rate_per_month / (HOURS_PER_MONTH * 3600.0) / cap.rps
    return share * per_req * cap.slots * unfinished


def _unit_usd(demand: DemandSeries, groups: np.ndarray) -> np.ndarray:
    """Bedrock on-demand dollars per request in each window for these groups (the series mean where empty)."""
    usd = demand.bedrock_usd[groups].sum(axis=0)
    req = demand.requests[groups].sum(axis=0)
    mean = usd.sum() / req.sum() if req.sum() > 0 else 0.0
    return np.where(req > 0, usd / np.maximum(req, 1e-300), mean)


def _lever(v: Variant, util: float) -> str:
    if v.kind == "hybrid":
        return v.lever
    if util < 0.5:
        return "utilisation: autoscale, or a hybrid base with Bedrock overflow"
    return v.lever
