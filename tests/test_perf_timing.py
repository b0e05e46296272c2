"""Time model: exact by hand on a tiny shape, and monotonicity properties on real shapes."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferplan.perf import Arch, Coefficients, Deployment, Device, default_coefficients, plan_memory
from inferplan.perf.timing import decode_step_seconds, prefill_marginal_seconds, prefill_seconds

D = date(2026, 11, 26)
TINY = Arch(name="tiny", layers=1, hidden=4, heads=1, kv_heads=1, head_dim=4, intermediate=8, vocab=10)
L8B = Arch(name="llama-3.1-8b", layers=32, hidden=4096, heads=32, kv_heads=8, head_dim=128, intermediate=14336,
           vocab=128256, params_total=8.03e9)
UNIT = Coefficients(bw_eff_weights=1, bw_eff_kv=1, compute_eff_decode=1, decode_s_per_layer=0, decode_s_fixed=0,
                    compute_eff_prefill=1, compute_eff_prefill_attn=1, eager_s_per_layer=0, eager_s_fixed=0,
                    allreduce_latency_s=0, link_eff=1)


def device(bw_Bps: float, flops: float, mem_gib: float = 80, link: float | None = 1e9) -> Device:
    return Device(key="x", kind="gpu", memory_bytes=mem_gib * 2**30, bandwidth_Bps=bw_Bps, bf16_flops=flops,
                  fp8_flops=2 * flops, int8_ops=None, link_Bps=link)


def test_tiny_decode_step_by_hand():
    # params read per step: attention 4*(1+2)*4 + 4*4 = 64, MLP 3*4*8 = 96, vocabulary head 10*4 = 40 -> 200
    assert TINY.weight_params_read(1) == 200
    d = Deployment(device(bw_Bps=100, flops=1000), 1, 1)
    # weights 400 bytes / 100 B/s = 4 s; GEMM FLOPs 2*(160+40) = 400 / 1000 = 0.4 s -> memory-bound, 4 s
    assert float(decode_step_seconds(TINY, d, UNIT, "bf16", "bf16", 1, 0)) == pytest.approx(4.0)
    # 10 cached tokens: KV 10 * (2*1*4*2 = 16 B) = 160 B -> 1.6 s; attention FLOPs 4*10*4 = 160 -> 0.16 s
    assert float(decode_step_seconds(TINY, d, UNIT, "bf16", "bf16", 1, 10)) == pytest.approx(5.6)
    # fixed floors add per layer and per step
    c = UNIT.model_copy(update={"decode_s_per_layer": 0.5, "decode_s_fixed": 0.25})
    assert float(decode_step_seconds(TINY, d, c, "bf16", "bf16", 1, 10)) == pytest.approx(6.35)


def test_tiny_prefill_by_hand():
    d = Deployment(device(bw_Bps=1e6, flops=1000), 1, 1)
    # 2 prompts x 5 tokens: GEMMs 2*10*160 + 2*2*40 (head on the last token only) = 3360 FLOP -> 3.36 s;
    # causal attention 4*2*1*4*1*(5*5/2) = 400 FLOP -> 0.4 s; weight reads 400 B / 1e6 B/s are negligible
    assert float(prefill_seconds(TINY, d, UNIT, "bf16", "bf16", 2, 5)) == pytest.approx(3.76)
    # the eager host floor applies only when it is slower
    c = UNIT.model_copy(update={"eager_s_per_layer": 10.0, "eager_s_fixed": 1.0})
    assert float(prefill_seconds(TINY, d, c, "bf16", "bf16", 2, 5, eager=True)) == pytest.approx(11.0)
    # the marginal cost of one 5-token prompt: its FLOPs only (no weight read, no floors)
    marginal = float(prefill_marginal_seconds(TINY, d, UNIT, "bf16", "bf16", 5))
    assert marginal == pytest.approx((2 * 5 * 160 + 200) / 1000)


def test_tensor_parallel_adds_allreduce_time():
    c = UNIT.model_copy(update={"allreduce_latency_s": 1e-5, "link_eff": 0.5})
    d1 = Deployment(device(3e12, 1e15, link=900e9), 1, 1)
    d2 = Deployment(device(3e12, 1e15, link=900e9), 2, 2)
    t1 = float(decode_step_seconds(L8B, d1, c, "bf16", "bf16", 1, 0))
    t2 = float(decode_step_seconds(L8B, d2, c, "bf16", "bf16", 1, 0))
    comm = 2 * 32 * (1e-5 + 2 * 1 / 2 * 4096 * 2 / (900e9 * 0.5))
    assert t2 == pytest.approx(t1 / 2 + comm)


@settings(max_examples=60, deadline=None)
@given(bw=st.floats(100e9, 10e12), more=st.floats(1.0, 4.0), batch=st.integers(1, 512),
       ctx=st.integers(1, 32_768))
def test_more_bandwidth_is_never_slower(bw, more, batch, ctx):
    c = default_coefficients()
    slow = Deployment(device(bw, 500e12), 1, 1)
    fast = Deployment(device(bw * more, 500e12), 1, 1)
    assert decode_step_seconds(L8B, fast, c, "bf16", "bf16", batch, ctx) <= \
        decode_step_seconds(L8B, slow, c, "bf16", "bf16", batch, ctx) + 1e-15
    assert prefill_seconds(L8B, fast, c, "bf16", "bf16", 1, ctx) <= prefill_seconds(L8B, slow, c, "bf16", "bf16",
                                                                                     1, ctx) + 1e-15


@settings(max_examples=40, deadline=None)
@given(mem=st.floats(24, 160), ctx=st.integers(64, 16_384), bw=st.floats(300e9, 5e12),
       flops=st.floats(100e12, 2000e12))
def test_larger_batch_never_lowers_throughput_until_memory_runs_out(mem, ctx, bw, flops):
    c = default_coefficients()
    d = Deployment(device(bw, flops, mem_gib=mem), 1, 1)
    top = plan_memory(L8B, d, "bf16").max_batch(ctx)
    if top < 2:
        return
    b = np.arange(1, top + 1)
    tps = b / decode_step_seconds(L8B, d, c, "bf16", "bf16", b, ctx)
    assert np.all(np.diff(tps) >= -1e-9 * tps[1:])


def test_fp8_and_int4_decode_faster_than_bf16_at_batch_1():
    c = default_coefficients()
    d = Deployment(device(3.35e12, 989e12), 1, 1)
    t = {p: float(decode_step_seconds(L8B, d, c, p, "bf16", 1, 1000)) for p in ("bf16", "fp8", "int4")}
    assert t["int4"] < t["fp8"] < t["bf16"]


def test_moe_reads_more_experts_as_batch_grows():
    moe = Arch(name="moe", layers=2, hidden=64, heads=4, kv_heads=2, head_dim=16, intermediate=128, vocab=100,
               experts=8, experts_active=2)
    touched = moe.experts_touched(np.array([1, 4, 1000]))
    assert touched[0] == pytest.approx(2.0)  # one token reads its 2 experts
    assert touched[0] < touched[1] < touched[2] <= 8.0
