"""Model levers: quantization changes what fits where (and the bill); distillation's one-time cost, monthly saving
and payback from their parts."""

from __future__ import annotations

import pytest

from inferplan.demand.readers import read_demand
from inferplan.economics import TcoOptions
from inferplan.levers import distillation, quantization
from inferplan.serving.spec import CompareSpec
from inferplan.workload import Workload
from tests.helpers import rows_table
from tests.test_advisor import SONNET, _rows


@pytest.fixture(scope="module")
def steady(tmp_path_factory, catalog):
    p = tmp_path_factory.mktemp("q") / "steady.csv"
    p.write_text("ts,requests,input_tokens,output_tokens\n"
                 + "".join(f"{1_700_000_000 + 60 * i},600,600000,120000\n" for i in range(60)))
    return read_demand([p], catalog, "demand", model="us.meta.llama3-3-70b-instruct-v1:0")


def test_quantization_changes_what_fits_where(steady, catalog):
    r = quantization.evaluate(steady, catalog, "llama-3.3-70b", CompareSpec())
    rows = {x["precision"]: x for x in r["precisions"]}
    spec = catalog.model_spec("llama-3.3-70b")
    assert rows["bf16"]["weights_gib"] == pytest.approx(spec.params_b_total * 2e9 / 2**30, abs=0.01)
    assert rows["int8"]["weights_gib"] == pytest.approx(rows["bf16"]["weights_gib"] / 2, abs=0.01)
    # fewer bytes per weight: the smallest accelerator memory the model fits in (and serves within the target)
    # shrinks, never grows, and 131 GiB of bf16 weights never fit on under 131 GiB
    mem = {p: rows[p]["smallest_fit"]["accelerator_memory_gib"] for p in ("bf16", "int8", "int4")}
    assert mem["bf16"] > rows["bf16"]["weights_gib"]
    assert mem["int4"] <= mem["int8"] < mem["bf16"]
    assert r["before_monthly_usd"] == rows["bf16"]["monthly_usd"]
    assert r["after_monthly_usd"] == min(rows[p]["monthly_usd"] for p in ("fp8", "int8", "int4"))
    assert r["monthly_saving_usd"] == pytest.approx(r["before_monthly_usd"] - r["after_monthly_usd"], abs=0.01)
    assert r["monthly_saving_usd"] > 0
    assert r["hardware_tier_change"] == (rows[r["after"]]["instance"] != rows["bf16"]["instance"])
    assert "validate on your own evals" in r["caveat"]


def test_distillation_one_time_cost_and_payback(catalog):
    wl = Workload(table=rows_table(_rows("triage", SONNET, 3000, inp=800, out=100, every_s=1.2), catalog))
    from inferplan.demand import from_workload
    from inferplan.pricing import price_workload

    bill = price_workload(wl, catalog)
    demand = from_workload(wl, 60, bill=bill)
    opts = distillation.DistillationOptions(examples=2000, epochs=2, share=0.8, engineering_weeks=3)
    tco = TcoOptions()
    bedrock_after = 40_000.0
    r = distillation.evaluate(wl.table.to_pyarrow(), demand, catalog, CompareSpec(), tco, "triage", bedrock_after,
                              opts)
    assert r["feasible"]
    one = r["one_time"]
    batch = catalog.price("anthropic.claude-sonnet-4-5-20250929-v1:0", "us", "us-east-1", "batch")
    teacher = 2000 * (800 * batch.input_usd_per_mtok + 100 * batch.output_usd_per_mtok) / 1e6
    assert one["teacher_outputs_usd"] == pytest.approx(teacher, abs=0.01)
    inst = catalog.ec2("p4d.24xlarge")
    peak = catalog.accelerator(inst.accelerator).bf16_tflops * 1e12 * inst.accelerator_count
    hours = 6 * catalog.model_spec("llama-3.1-8b").params_b_active * 1e9 * 2000 * 900 * 2 / (peak * 0.35) / 3600
    assert one["fine_tune"]["instance_hours"] == pytest.approx(hours, abs=0.0005)
    assert one["fine_tune"]["usd"] == pytest.approx(hours * inst.on_demand_usd_per_hour, abs=0.005)
    # engineering: the distillation weeks plus the self-hosted option's set-up weeks, at the loaded cost
    setup = 10 if r["kind"] == "ec2" else 4
    assert one["engineering_weeks"] == 3 + setup
    assert one["total_usd"] == pytest.approx(one["teacher_outputs_usd"] + one["fine_tune"]["usd"]
                                             + one["engineering_usd"], abs=0.02)
    saving = 0.8 * bedrock_after - r["student_serving_monthly_usd"] - r["student_engineering_monthly_usd"]
    assert r["monthly_saving_usd"] == pytest.approx(saving, abs=0.02)
    assert r["payback_months"] == pytest.approx(one["total_usd"] / saving, rel=1e-3)


def test_distillation_unknown_call_type_is_named(catalog):
    wl = Workload(table=rows_table(_rows("x", "us.amazon.nova-lite-v1:0", 10, inp=100, out=10), catalog))
    from inferplan.errors import InferplanError

    with pytest.raises(InferplanError, match="'nope' is not in the traffic"):
        distillation.teacher_usd(wl.table.to_pyarrow(), catalog, "nope", 10, 0)


def test_quantization_says_no_saving_when_the_lower_precision_costs_the_same(catalog, tmp_path):
    """Light llama-3.1-8b traffic: int8 and int4 both fit one g4dn.xlarge, so int4 saves nothing; the plan read
    "int8 -> int4" as if it did. The smallest fit, cheapest here, is among the instances it fits on."""
    p = tmp_path / "light.csv"
    p.write_text("ts,requests,input_tokens,output_tokens\n"
                 + "".join(f"{1_700_000_000 + 60 * i},6,6000,1200\n" for i in range(60)))
    light = read_demand([p], catalog, "demand", model="us.meta.llama3-1-8b-instruct-v1:0")
    same = quantization.evaluate(light, catalog, "llama-3.1-8b", CompareSpec(),
                                 quantization.QuantizationOptions(base="int8", precisions=["int4"]))
    rows = {x["precision"]: x for x in same["precisions"]}
    assert rows["int8"]["monthly_usd"] == rows["int4"]["monthly_usd"]
    assert same["after"] is None and same["after_monthly_usd"] is None and same["monthly_saving_usd"] == 0
    for r in same["precisions"]:
        assert r["smallest_fit"]["instance"] in r["fits_on"]
    lower = quantization.evaluate(light, catalog, "llama-3.1-8b", CompareSpec())
    assert lower["after"] in ("int8", "int4") and lower["monthly_saving_usd"] > 0
