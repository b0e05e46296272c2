"""Each serving option's arithmetic on tiny hand-built series: purchase mix, Spot, batch, Provisioned Throughput,
the Reserved tier; and the command on a demand CSV, with its errors."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from inferplan.demand import from_workload
from inferplan.serving import CompareSpec, compare_demand, selfhost
from inferplan.serving.bedrock import batch, provisioned, reserved
from inferplan.serving.spec import ProvisionedSpec, ReservedSpec
from inferplan.workload import Workload
from tests.helpers import rows_table
from tests.test_compare import by_name, cap, series

BIN = Path(sys.executable).parent / "inferplan"
FIX = Path(__file__).parent / "fixtures" / "demand"
T0 = datetime(2026, 1, 5, tzinfo=UTC)


def test_savings_plan_baseline_paid_every_hour(catalog):
    rps, w = 2.0, 60
    per_window = rps * w
    # 3 replicas' worth for 60 windows, then 1 replica's worth for 60 windows
    d = series(np.r_[np.full(60, 3 * per_window), np.full(60, per_window)])
    opts, _ = selfhost.options(d, catalog, CompareSpec(purchase="savings-plan-1y", boot_s=0, target_utilization=1.0,
                                                       scale_in_lookback_s=60, scale_in_cooldown_s=0), cap(rps))
    inst = catalog.ec2("g6e.xlarge")
    disc = next(x for x in catalog.discounts if x.plan == "compute-savings-plan" and x.term_years == 1
                and x.payment == "no-upfront" and x.applies_to == "*")
    sp = inst.on_demand_usd_per_hour * (1 - disc.discount_fraction)
    fixed = by_name(opts, "fixed for the peak")
    assert fixed.period_usd == pytest.approx(3 * sp * d.hours, rel=1e-12)  # all three committed
    auto = by_name(opts, "EC2 llama-3.1-8b bf16 on g6e.xlarge, autoscaled")
    paid = auto.replica_timeline
    assert paid.min() == 1 and paid.max() == 3
    expected = 1 * sp * d.hours + (paid - 1).sum() / 60 * inst.on_demand_usd_per_hour
    assert auto.period_usd == pytest.approx(expected, rel=1e-12)
    assert any("committed" in n for n in auto.notes)


def test_spot_prices_interruptions_and_a_missing_spot_price(catalog):
    d = series(np.full(60, 120.0))
    opts, _ = selfhost.options(d, catalog, CompareSpec(purchase="spot", spot_interruption=">20%"), cap(2.0))
    inst = catalog.ec2("g6e.xlarge")
    fixed = by_name(opts, "fixed for the peak")
    n = fixed.replicas["max"]
    assert fixed.period_usd == pytest.approx(n * inst.spot_usd_per_hour * d.hours, rel=1e-12)
    # interruptions take a little capacity away: one replica at exactly full load no longer quite keeps up
    assert fixed.utilization < 1.0 and any("Spot" in x for x in fixed.notes)
    no_spot, _ = selfhost.options(d, catalog, CompareSpec(purchase="spot"), cap(2.0, instance="g6e.2xlarge"))
    ec2 = next(o for o in no_spot if o.kind == "ec2")
    assert not ec2.feasible and "spot_usd_per_hour" in ec2.reason


def _tiny_workload(catalog) -> Workload:
    rows = [
        {"ts": T0 + timedelta(seconds=10 * i), "model": "us.anthropic.claude-haiku-4-5-20251001-v1:0",
         "call_type": "chat" if i % 2 else "nightly", "interactive": bool(i % 2), "input_tokens": 1000 + i,
         "cache_read_tokens": 200 if i % 2 == 0 else 0, "output_tokens": 100}
        for i in range(20)
    ]
    return Workload(table=rows_table(rows, catalog))


def test_batch_reprices_deferrable_groups_through_the_rate_card(catalog):
    d = from_workload(_tiny_workload(catalog), 60, catalog=catalog)
    res = batch(d, catalog)
    m = "anthropic.claude-haiku-4-5-20251001-v1:0"
    std = catalog.price(m, "us", "us-east-1", "standard")
    bat = catalog.price(m, "us", "us-east-1", "batch")
    night_in = sum(1000 + i + 200 for i in range(0, 20, 2))  # cache reads become plain input in a batch job
    chat_in = sum(1000 + i for i in range(1, 20, 2))
    expected = (night_in * bat.input_usd_per_mtok + 10 * 100 * bat.output_usd_per_mtok
                + chat_in * std.input_usd_per_mtok + 10 * 100 * std.output_usd_per_mtok) / 1e6
    assert res.feasible and res.period_usd == pytest.approx(expected, rel=1e-12)


def test_provisioned_throughput_sized_for_the_peak(catalog):
    d = series(np.array([10.0, 50.0, 20.0]))  # 1000 input / 200 output tokens a request, 60 s windows
    m = "meta.llama3-1-8b-instruct-v1:0"
    none = provisioned(d, catalog, CompareSpec())
    assert len(none) == 1 and not none[0].feasible and "input_tokens_per_minute_per_mu" in none[0].reason
    spec = CompareSpec(provisioned={m: ProvisionedSpec(input_tokens_per_minute_per_mu=20_000,
                                                       output_tokens_per_minute_per_mu=4_000,
                                                       usd_per_mu_hour={"1-month": 30.0})})
    (res,) = provisioned(d, catalog, spec)
    assert res.details["model_units"] == 3  # peak 50,000 input tpm / 20,000 -> 2.5 -> 3
    assert res.period_usd == pytest.approx(3 * 30.0 * d.hours)
    assert res.monthly_usd == pytest.approx(3 * 30.0 * 730)
    assert res.details["price_source"] == "scenario"


def test_reserved_tier_overflow_at_standard(catalog):
    d = series(np.array([10.0, 50.0]), usd_per_request=0.01)  # tokens per minute: 12,000 and 60,000
    spec = CompareSpec(reserved=ReservedSpec(input_tokens_per_minute=20_000, output_tokens_per_minute=4_000,
                                             usd_per_hour=5.0, source="a quote"))
    res = reserved(d, spec)
    # window 2: 60,000 tokens against 24,000 reserved: 60% of its $0.50 at the standard price
    assert res.period_usd == pytest.approx(5.0 * d.hours + 0.6 * 0.5)


def test_compare_demand_lists_every_kind_and_zero_traffic_options(catalog):
    d = series(np.full(30, 100.0))
    res = compare_demand(d, catalog, CompareSpec(self_host=["llama-3.1-8b"], instance=["g6e.xlarge"]))
    kinds = {o.kind for o in res.options}
    assert {"bedrock", "bedrock-batch", "bedrock-provisioned", "ec2", "sagemaker-realtime", "hybrid",
            "sagemaker-serverless", "sagemaker-async"} <= kinds
    assert res.summary()["options"][0]["kind"] == "bedrock"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN), "compare", *args], capture_output=True, text=True, check=False)


def test_compare_cli_on_a_demand_csv_and_bad_input():
    p = _run(str(FIX / "demand.csv"), "--model", "claude-haiku-4.5", "--self-host", "llama-3.1-8b", "--instance",
             "g6e.xlarge", "--replica-rps", "2", "--purchase", "savings-plan-1y", "--json")
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    assert s["demand"]["window_s"] == 60 and s["demand"]["requests"] == 40
    ec2 = [o for o in s["options"] if o["kind"] == "ec2"]
    assert ec2 and all(o["details"]["capacity_source"] == "--replica-rps" for o in ec2)


def test_compare_cli_errors_are_one_line():
    from typer.testing import CliRunner

    from inferplan.cli import app
    from inferplan.commands import load_all

    load_all()
    runner = CliRunner()
    bad = runner.invoke(app, ["compare", str(FIX / "demand.csv"), "--model", "claude-haiku-4.5", "--purchase",
                              "reserved"])
    assert bad.exit_code == 2 and "purchase" in bad.output and "Traceback" not in bad.output
    rps = runner.invoke(app, ["compare", str(FIX / "demand.csv"), "--model", "claude-haiku-4.5", "--self-host",
                              "llama-3.1-8b", "--replica-rps", "2"])
    assert rps.exit_code == 2 and "--instance" in rps.output


def test_capacity_from_scenario_tokens_per_second(catalog):
    from inferplan.perf import Slo
    from inferplan.serving.capacity import capacity_of, mix_of

    d = series(np.full(10, 60.0))  # 1000 input, 200 output tokens a request
    cs = CompareSpec(prefill_tokens_per_s=10_000, decode_tokens_per_s=1_000)
    c = capacity_of(catalog, catalog.model_spec("llama-3.1-8b"), "g6e.xlarge", "bf16", mix_of(d, np.array([0])),
                    Slo(), np.array([0]), cs)
    assert c.rps == pytest.approx(1 / (1000 / 10_000 + 200 / 1_000)) and c.source == "scenario tokens/s"


def test_graviton_candidate_wins_light_traffic_for_a_small_model(catalog):
    from dataclasses import replace

    d = series(np.full(60, 1.0), model="meta.llama3-2-1b-instruct-v1:0")  # one short request a minute
    d = replace(d, input_tokens=d.requests * 200, input_total=d.requests * 200, output_tokens=d.requests * 50)
    res = compare_demand(d, catalog, CompareSpec(precision="int8", slo_tpot_ms=100, bedrock_tiers=[]))
    ec2 = [o for o in res.options if o.kind == "ec2" and o.feasible]
    cheapest = min(ec2, key=lambda o: o.monthly_usd)
    acc = catalog.ec2(cheapest.details["instance"]).accelerator
    assert catalog.accelerators[acc].kind == "cpu"
