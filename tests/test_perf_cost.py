"""Cost per token and right-sizing on a tiny hand-built catalog (prices here are test values, not truth)."""

from __future__ import annotations

from datetime import date

import pytest

from inferplan.catalog import Catalog
from inferplan.catalog.schema import Accelerator, Discount, Ec2Instance, ModelSpec
from inferplan.perf import RequestMix, Slo, hourly_prices, replica_throughput, rightsize, usd_per_mtok
from inferplan.perf.cost import usd_per_mtok as per_mtok

D = date(2026, 11, 26)


def tiny_catalog() -> Catalog:
    accs = [Accelerator(accelerator="big", name="big", vendor="t", kind="gpu", memory_gib=80,
                        memory_bandwidth_gbps=3000, bf16_tflops=900, fp8_tflops=1800, interconnect_gbps=900, source="t",
                        checked=D),
            Accelerator(accelerator="small", name="small", vendor="t", kind="gpu", memory_gib=16,
                        memory_bandwidth_gbps=300, bf16_tflops=100, interconnect_gbps=32, source="t", checked=D)]
    insts = [Ec2Instance(instance="big.x", family="big", accelerator="big", accelerator_count=1,
                         accelerator_memory_gib=80, vcpu=8, memory_gib=64, on_demand_usd_per_hour=10.0,
                         spot_usd_per_hour=4.0, source="t", checked=D),
             Ec2Instance(instance="big.4x", family="big", accelerator="big", accelerator_count=4,
                         accelerator_memory_gib=320, vcpu=32, memory_gib=256, on_demand_usd_per_hour=45.0,
                         source="t", checked=D),
             Ec2Instance(instance="small.x", family="small", accelerator="small", accelerator_count=1,
                         accelerator_memory_gib=16, vcpu=4, memory_gib=16, on_demand_usd_per_hour=1.0,
                         source="t", checked=D)]
    disc = [Discount(plan="compute-savings-plan", term_years=1, payment="no-upfront", discount_fraction=0.25,
                     source="t", checked=D),
            Discount(plan="compute-savings-plan", term_years=1, payment="no-upfront", discount_fraction=0.4,
                     applies_to="small", source="t", checked=D),
            Discount(plan="compute-savings-plan", term_years=3, payment="no-upfront", discount_fraction=0.5,
                     source="t", checked=D)]
    spec = ModelSpec(spec="m8", name="m8", params_b_total=8.03, params_b_active=8.03, layers=32, hidden_size=4096,
                     attention_heads=32, kv_heads=8, head_dim=128, intermediate_size=14336, vocab_size=128256,
                     source="t", checked=D)
    return Catalog({"accelerators": accs, "ec2_instances": insts, "discounts": disc, "model_specs": [spec]})


def test_usd_per_mtok_by_hand():
    # $10/h at 1000 tokens/s: 3.6M tokens an hour -> $2.778 per million
    assert per_mtok(10.0, 1000.0) == pytest.approx(10 / 3.6)
    assert per_mtok(None, 1000.0) is None


def test_hourly_prices_pick_family_discount_and_keep_missing_spot_missing():
    cat = tiny_catalog()
    big, small = hourly_prices(cat, cat.ec2("big.x")), hourly_prices(cat, cat.ec2("small.x"))
    # no reserved-instance rows in this catalog: those options have no price (None), never a guess
    assert big == {"on-demand": 10.0, "spot": 4.0, "savings-plan-1y": 7.5, "savings-plan-3y": 5.0,
                   "reserved-1y": None, "reserved-3y": None}
    assert small["savings-plan-1y"] == pytest.approx(0.6)  # the family row (40%) wins over * (25%)
    assert small["spot"] is None


def test_replica_cost_uses_all_replicas_of_the_instance():
    cat = tiny_catalog()
    mix = RequestMix(input_tokens=500, output_tokens=100)
    p = replica_throughput("m8", "big.x", "bf16", mix, Slo(tpot_ms=50), catalog=cat)
    c = usd_per_mtok(p, "big.x", catalog=cat)
    assert c["on-demand"]["usd_per_mtok"] == pytest.approx(10.0 / (p.tokens_per_s * 3600) * 1e6)
    assert c["on-demand"]["usd_per_mreq"] == pytest.approx(10.0 / (p.requests_per_s * 3600) * 1e6)
    p4 = replica_throughput("m8", "big.4x", "bf16", mix, Slo(tpot_ms=50), catalog=cat)
    assert p4.instance_tokens_per_s >= 4 * p.tokens_per_s * 0.999  # 4 replicas at tp1 is at least as good


def test_rightsize_ranks_and_rejects_with_reasons():
    cat = tiny_catalog()
    r = rightsize(cat, cat.model_spec("m8"), RequestMix(input_tokens=500, output_tokens=100), Slo(tpot_ms=50), top=1)
    assert [x["instance"] for x in r.ranked] == ["big.x"]
    reasons = {x["instance"]: x["reason"] for x in r.rejected}
    assert reasons["small.x"].startswith("does not fit")
    assert reasons["big.4x"].startswith("costs more")
    tight = rightsize(cat, cat.model_spec("m8"), RequestMix(input_tokens=500, output_tokens=100), Slo(tpot_ms=1))
    assert not tight.ranked
    assert all(x["reason"].startswith(("misses the target", "does not fit")) for x in tight.rejected)
