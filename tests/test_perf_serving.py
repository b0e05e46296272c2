"""Serving model: targets respected, continuous batching vs one at a time, prefix hits, static batching."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferplan.perf import Arch, Deployment, Device, RequestMix, Slo, static_batch_throughput
from inferplan.perf.serving import expected_max, replica_throughput

L8B = Arch(name="llama-3.1-8b", layers=32, hidden=4096, heads=32, kv_heads=8, head_dim=128, intermediate=14336,
           vocab=128256, params_total=8.03e9)
L40S = Deployment(Device(key="l40s", kind="gpu", memory_bytes=48 * 2**30, bandwidth_Bps=864e9, bf16_flops=362e12,
                         fp8_flops=733e12, int8_ops=None, link_Bps=64e9), 1, 1)


@settings(max_examples=30, deadline=None)
@given(tpot=st.floats(15, 200), ttft=st.floats(50, 5000), n_in=st.integers(16, 8000), n_out=st.integers(1, 2000))
def test_sustained_point_meets_the_target(tpot, ttft, n_in, n_out):
    p = replica_throughput(L8B, L40S, "bf16", RequestMix(input_tokens=n_in, output_tokens=n_out),
                           Slo(ttft_ms=ttft, tpot_ms=tpot))
    if p.feasible:
        assert p.tpot_ms <= tpot + 1e-9 and p.ttft_ms <= ttft + 1e-9
        assert 1 <= p.batch <= p.max_batch
        assert p.tokens_per_s >= p.single["tokens_per_s"] * (1 - 1e-9)
    else:
        assert p.reason


def test_looser_target_never_serves_less():
    mix = RequestMix(input_tokens=1000, output_tokens=200)
    tps = [replica_throughput(L8B, L40S, "bf16", mix, Slo(tpot_ms=t)).tokens_per_s for t in (30, 50, 100, None)]
    assert all(a <= b for a, b in zip(tps, tps[1:], strict=False))


def test_missed_target_says_why():
    p = replica_throughput(L8B, L40S, "bf16", RequestMix(input_tokens=1000, output_tokens=200), Slo(tpot_ms=5))
    assert not p.feasible and p.reason.startswith("misses the target even one request at a time: TPOT")


def test_prefix_hits_cut_ttft_and_raise_throughput():
    cold = replica_throughput(L8B, L40S, "bf16", RequestMix(input_tokens=8000, output_tokens=200))
    warm = replica_throughput(L8B, L40S, "bf16", RequestMix(input_tokens=8000, output_tokens=200, prefix_hit=0.8))
    assert warm.prefill_ms < cold.prefill_ms
    assert warm.tokens_per_s > cold.tokens_per_s


def test_expected_max_by_hand():
    # two equally likely values 1 and 3: max of two draws is 1 only if both are 1 (1/4) -> 1/4 + 3*3/4 = 2.5
    assert expected_max(np.array([1.0, 3.0]), 2) == pytest.approx(2.5)
    assert expected_max(np.array([5.0, 5.0, 5.0]), 7) == pytest.approx(5.0)


def test_static_batching_wastes_slots_on_spread_outputs():
    outs = np.array([20, 50, 100, 400, 1000], dtype=float)
    mix = RequestMix.from_arrays(np.full(5, 500.0), outs)
    even = RequestMix.from_arrays(np.full(5, 500.0), np.full(5, outs.mean()))
    assert static_batch_throughput(L8B, L40S, "bf16", mix, 32) < static_batch_throughput(L8B, L40S, "bf16", even, 32)


def test_mix_from_workload_counts_every_input_bucket():
    import ibis

    t = ibis.memtable({"input_tokens": [100, 300], "cache_read_tokens": [100, 0], "cache_write_5m_tokens": [0, 100],
                       "cache_write_1h_tokens": [0, 0], "output_tokens": [10, 30]})
    mix = RequestMix.from_workload(t)
    assert mix.input_tokens == 300 and mix.output_tokens == 20  # (200 + 400) / 2, (10 + 30) / 2
    assert mix.prefix_hit == pytest.approx(100 / 600)
    assert RequestMix.from_workload(t, use_cache_reads=False).prefix_hit == 0
