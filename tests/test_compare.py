"""Serving options over a demand series: closed forms, conservation, monotonicity, the hybrid optimum against a
brute force, Bedrock on-demand equal to analyze to the cent, Serverless infeasible for an 8B model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferplan.demand import DemandSeries, GroupKey
from inferplan.demand.readers import read_demand
from inferplan.fleet import Policy, simulate
from inferplan.serving import CompareSpec, compare_demand, selfhost
from inferplan.serving.capacity import Capacity

BIN = Path(sys.executable).parent / "inferplan"
LLAMA8 = "meta.llama3-1-8b-instruct-v1:0"


def series(requests: np.ndarray, window_s: int = 60, usd_per_request: float = 0.001,
           model: str = LLAMA8, interactive: bool = True) -> DemandSeries:
    r = np.atleast_2d(np.asarray(requests, dtype=float))
    return DemandSeries(window_s=window_s, start=0, groups=[GroupKey(model, "chat", interactive)], requests=r,
                        input_tokens=r * 1000, output_tokens=r * 200, input_total=r * 1000,
                        bedrock_usd=r * usd_per_request)


def cap(rps: float, instance: str = "g6e.xlarge") -> Capacity:
    return Capacity(spec="llama-3.1-8b", instance=instance, precision="bf16", groups=np.array([0]), feasible=True,
                    rps=rps, slots=8, base_ttft_ms=100.0, source="test")


def by_name(opts, fragment):
    return next(o for o in opts if fragment in o.name)


# ---- closed forms ------------------------------------------------------------------------------------------
def test_constant_demand_at_k_replicas_costs_k_times_price_times_hours(catalog):
    k, rps, w = 4, 2.5, 60
    d = series(np.full(120, k * rps * w), window_s=w)
    opts, hyb = selfhost.options(d, catalog, CompareSpec(), cap(rps))
    price = catalog.ec2("g6e.xlarge").on_demand_usd_per_hour
    fixed = by_name(opts, "fixed for the peak")
    assert fixed.replicas == {"min": k, "mean": k, "max": k}
    assert fixed.period_usd == pytest.approx(k * price * d.hours, rel=1e-12)
    assert fixed.monthly_usd == pytest.approx(k * price * 730, rel=1e-12)
    assert fixed.slo_miss_share == 0.0 and fixed.details["overflow_requests"] == 0.0
    assert fixed.utilization == pytest.approx(1.0)
    # the hybrid base takes all of it when a replica is cheaper than Bedrock for its tokens
    d_cheap_hw = series(np.full(120, k * rps * w), window_s=w, usd_per_request=1.0)
    _, hyb = selfhost.options(d_cheap_hw, catalog, CompareSpec(), cap(rps))
    assert hyb is not None and hyb.base_replicas == k and hyb.overflow_share == 0.0


def test_zero_traffic_costs_nothing_scaled_to_zero_and_730_hours_on_one_instance(catalog):
    d = series(np.zeros(60))
    opts, _ = selfhost.options(d, catalog, CompareSpec(), cap(1.0))
    ml = next(m for m in catalog.sagemaker_instances.values() if m.ec2_instance == "g6e.xlarge")
    assert by_name(opts, "scale to zero").monthly_usd == 0.0
    one = by_name(opts, "SageMaker real-time ml.g6e.xlarge (llama-3.1-8b bf16), autoscaled")
    assert one.replicas["max"] == 1 and one.monthly_usd == pytest.approx(730 * ml.usd_per_hour, rel=1e-12)


# ---- the fleet simulator: conservation and monotonicity ----------------------------------------------------
demand_st = st.lists(st.floats(min_value=0, max_value=500, allow_nan=False), min_size=1, max_size=80)


@settings(max_examples=60, deadline=None)
@given(demand_st, st.floats(min_value=1, max_value=100), st.integers(0, 6), st.booleans(), st.booleans(),
       st.integers(0, 5))
def test_conservation_in_every_window(demand, capacity, min_n, fixed, overflow, boot_w):
    d = np.array(demand)
    run = simulate(d, Policy.make(1, cap=capacity, min_n=min_n, max_n=max(min_n, 50), fixed=fixed,
                                  overflow=overflow, boot_w=boot_w, scale_in_w=3, cooldown_w=2, budget_s=1.0), 60)
    prev = np.concatenate([[0.0], run.backlog[0, :-1]])
    np.testing.assert_allclose(d + prev, run.served[0] + run.backlog[0] + run.overflow[0], rtol=1e-9, atol=1e-6)
    assert (run.served[0] <= run.running[0] * capacity + 1e-6).all()
    assert (run.paid[0] >= run.running[0]).all()


@settings(max_examples=60, deadline=None)
@given(demand_st, st.floats(min_value=1, max_value=100), st.integers(0, 8), st.floats(min_value=0, max_value=300))
def test_more_fixed_replicas_never_miss_more(demand, capacity, n, budget):
    d = np.array(demand)
    run = simulate(d, Policy.make(2, cap=capacity, min_n=[n, n + 1], max_n=[n, n + 1], fixed=True,
                                  budget_s=budget), 60)
    assert run.missed[1] <= run.missed[0] + 1e-9
    assert run.wait_percentile(95)[1] <= run.wait_percentile(95)[0] + 1e-9


def test_queue_waits_closed_form():
    # 4 replicas x 10/window against 50/window: the queue grows 10 a window; after 100 windows a request waits
    # up to 1000 / (40/60 s) = 1500 s, uniformly spread: median 750 s
    run = simulate(np.full(100, 50.0), Policy.make(1, cap=10, min_n=4, max_n=4, fixed=True, budget_s=30), 60)
    assert run.backlog[0, -1] == pytest.approx(1000)
    assert run.wait_percentile(50)[0] == pytest.approx(750, rel=0.05)
    # every window after the first has waits above 30 s; the first spreads 0..15 s
    assert run.slo_miss_share[0] == pytest.approx(0.98, abs=0.005)


# ---- hybrid optimum = brute force, on ServeGen --------------------------------------------------------------
def test_hybrid_base_equals_brute_force_on_servegen(catalog, shared_data):
    demand = read_demand([shared_data / "traces/servegen/aggregate_rate_m-large.csv"], catalog, model=LLAMA8)
    assert demand.window_s == 600 and demand.windows == 2016
    spec = CompareSpec(self_host=["llama-3.1-8b"], instance=["g6e.xlarge"], replica_rps=12.0, bedrock_tiers=[])
    res = compare_demand(demand, catalog, spec)
    d = demand.requests.sum(axis=0)
    u = demand.bedrock_usd.sum(axis=0) / d
    cap_w = 12.0 * 600
    replica_usd = catalog.ec2("g6e.xlarge").on_demand_usd_per_hour * demand.hours
    costs = []
    for k in range(int(d.max() / cap_w) + 3):  # brute force, one k at a time
        costs.append(k * replica_usd + float((np.maximum(0.0, d - k * cap_w) * u).sum()))
    assert res.hybrid is not None
    assert res.hybrid.base_replicas == int(np.argmin(costs))
    assert res.hybrid.monthly_usd == pytest.approx(min(costs) * demand.monthly_factor, rel=1e-9)
    assert 0 < res.hybrid.base_replicas < d.max() / cap_w  # neither all-Bedrock nor peak-sized


# ---- Bedrock on-demand through compare equals analyze, to the cent -----------------------------------------
def _json(*args: str) -> dict:
    proc = subprocess.run([str(BIN), *args, "--json"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_bedrock_on_demand_equals_analyze_to_the_cent(shared_data):
    paths = [str(shared_data / "traces/azure2023"), "--model", "us.anthropic.claude-haiku-4-5-20251001-v1:0"]
    total = _json("analyze", *paths)["total_usd"]
    s = _json("compare", *paths, "--self-host", "llama-3.1-8b", "--instance", "g6e.xlarge")
    od = next(o for o in s["options"] if o["name"] == "Bedrock on-demand")
    assert round(od["period_usd"], 2) == round(total, 2)
    assert od["monthly_usd"] == pytest.approx(total * 730 / s["demand"]["hours"], abs=0.01)
    # the --json shape the issue asks for
    assert set(s["demand"]) >= {"window_s", "windows", "hours", "requests", "peak_to_mean"}
    assert s["demand"]["requests"] == 8819 + 19366
    for o in s["options"]:
        assert set(o) >= {"name", "kind", "monthly_usd", "utilization", "idle_share", "slo_miss_share", "replicas",
                          "usd_per_mtok", "feasible", "reason", "notes"}
    assert set(s["hybrid"]) >= {"base_replicas", "monthly_usd", "self_host_monthly_usd", "bedrock_monthly_usd",
                                "overflow_share"}
    kinds = {o["kind"] for o in s["options"]}
    assert {"bedrock", "ec2", "sagemaker-realtime", "hybrid", "sagemaker-serverless"} <= kinds
    # Serverless cannot hold an 8B model: infeasible, with its reason
    sv = next(o for o in s["options"] if o["kind"] == "sagemaker-serverless")
    assert not sv["feasible"] and "does not fit" in sv["reason"] and "6 GB" in sv["reason"]
    assert "16.1 GB of weights" in sv["reason"]


# ---- the request-level discrete-event check ----------------------------------------------------------------
@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 100), st.floats(0.01, 20)), min_size=1, max_size=40), st.integers(1, 5))
def test_fifo_waits_match_a_brute_force_queue(reqs, servers):
    from inferplan.fleet.des import fifo_waits

    arr = np.sort(np.array([r[0] for r in reqs]))
    svc = np.array([r[1] for r in reqs])
    free = [0.0] * servers
    expected = []
    for a, s in zip(arr, svc, strict=True):  # the oracle: take the earliest-free server, FIFO
        j = min(range(servers), key=lambda i: free[i])
        start = max(a, free[j])
        expected.append(start - a)
        free[j] = start + s
    np.testing.assert_allclose(fifo_waits(arr, svc, servers), expected, atol=1e-9)


def _azure(shared_data, name, catalog):
    import pyarrow.csv as pcsv

    from inferplan.perf import RequestMix, Slo
    from inferplan.perf.api import best_on_instance

    t = pcsv.read_csv(shared_data / f"traces/azure2023/AzureLLMInferenceTrace_{name}.csv")
    ts = t.column("TIMESTAMP").cast("timestamp[us]").cast("int64").to_numpy() / 1e6
    out = t.column("GeneratedTokens").to_numpy()
    mix = RequestMix(input_tokens=float(t.column("ContextTokens").to_numpy().mean()), output_tokens=float(out.mean()))
    perf = best_on_instance(catalog, catalog.model_spec("llama-3.1-8b"), catalog.ec2("g6e.xlarge"), "bf16", mix,
                            Slo(ttft_ms=2000, tpot_ms=50))
    return ts, out, perf.instance_requests_per_s, perf.batch * perf.replicas_per_instance, 2 - perf.ttft_ms / 1e3


def test_window_model_against_the_request_level_simulation(catalog, shared_data):
    """Azure traces, capacity from the throughput model. Conversation: both say no misses with headroom and nearly
    all when overloaded (p95 waits within 25%). Code (bursty inside minutes, a few slots a replica): 60-second
    counts alone miss the bursts, the replay on 10-second arrivals is within 5 points of the request-level
    simulation."""
    from inferplan.fleet.des import check

    ts, out, rps, slots, budget = _azure(shared_data, "conv", catalog)
    easy = check(ts, out, rps, slots, replicas=3, window_s=60, budget_s=budget)
    assert easy["utilization"] < 0.6
    assert easy["window_fine"]["slo_miss_share"] == 0.0 and easy["des"]["slo_miss_share"] < 0.01
    hard = check(ts, out, rps / 2, slots, replicas=2, window_s=60, budget_s=budget)
    assert hard["window_fine"]["slo_miss_share"] > 0.9 and hard["des"]["slo_miss_share"] > 0.9
    assert hard["des"]["p95"] == pytest.approx(hard["window_fine"]["p95"], rel=0.25)
    ts, out, rps, slots, budget = _azure(shared_data, "code", catalog)
    bursty = check(ts, out, rps, slots, replicas=3, window_s=60, budget_s=budget)
    assert bursty["des"]["slo_miss_share"] > 0.15
    assert abs(bursty["gap_fine"]["slo_miss_share"]) < 0.05 < abs(bursty["gap"]["slo_miss_share"])
