"""Memory arithmetic of the throughput model, checked by hand on Llama 3.1 8B; infeasible cases and reasons."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inferplan.catalog.schema import Accelerator, ModelSpec
from inferplan.perf import Arch, Deployment, Device, MemoryOptions, RequestMix, plan_memory
from inferplan.perf.serving import replica_throughput

D = date(2026, 11, 26)
GIB = 2**30


def spec_8b(**kw) -> ModelSpec:
    base = dict(spec="llama-3.1-8b", name="Llama 3.1 8B", params_b_total=8.03, params_b_active=8.03, layers=32,
                hidden_size=4096, attention_heads=32, kv_heads=8, head_dim=128, intermediate_size=14336,
                vocab_size=128256, source="test", checked=D, neuron_supported=True)
    return ModelSpec(**{**base, **kw})


def acc(key="gpu24", kind="gpu", mem=24.0, bw=600.0, bf16=125.0, fp8=None, link=64.0) -> Accelerator:
    return Accelerator(accelerator=key, name=key, vendor="test", kind=kind, memory_gib=mem, memory_bandwidth_gbps=bw,
                       bf16_tflops=bf16, fp8_tflops=fp8, interconnect_gbps=link, source="test", checked=D)


def dep(a: Accelerator, tp: int = 1) -> Deployment:
    return Deployment(Device.from_accelerator(a), tp, tp, None)


def test_memory_by_hand_llama_8b_on_24gib():
    arch = Arch.from_spec(spec_8b())
    m = plan_memory(arch, dep(acc()), "bf16", "bf16")
    assert m.weights_bytes == pytest.approx(8.03e9 * 2)
    # K and V x 32 layers x 8 KV heads x 128 dims x 2 bytes
    assert m.kv_bytes_per_token == 2 * 32 * 8 * 128 * 2 == 131_072
    # one 2048-token prefill chunk: (4 x hidden + 2 x intermediate + (32 + 2 x 8) x 128) x 2 bytes per token,
    # plus fp32 logits for 256 sequences
    act = 2048 * (4 * 4096 + 2 * 14336 + 48 * 128) * 2 + 256 * 128256 * 4
    assert m.activation_bytes == pytest.approx(act) == pytest.approx(341_049_344)
    usable = 0.9 * 24 * GIB
    assert m.usable_bytes == pytest.approx(usable)
    budget = usable - 16.06e9 - 341_049_344
    assert m.kv_budget_bytes == pytest.approx(budget)
    assert m.max_cached_tokens == int(budget // 131_072) == 51_817
    assert m.max_batch(1280) == 51_817 // 1280 == 40
    assert m.infeasible_reason(1280) is None


def test_tensor_parallel_splits_weights_and_kv_heads():
    arch = Arch.from_spec(spec_8b())
    m2 = plan_memory(arch, dep(acc(), tp=2), "bf16", "bf16")
    assert m2.weights_bytes == pytest.approx(8.03e9)
    assert m2.kv_bytes_per_token == 65_536
    # 16 devices for 8 KV heads: each device keeps one head (replicated), not half of one
    m16 = plan_memory(arch, dep(acc(), tp=16), "bf16", "bf16")
    assert m16.kv_bytes_per_token == 2 * 32 * 1 * 128 * 2


def test_fp8_kv_halves_the_cache_and_precisions_scale_weights():
    arch = Arch.from_spec(spec_8b())
    d = dep(acc(mem=80, bw=3350, bf16=989, fp8=1979))
    assert plan_memory(arch, d, "bf16", "fp8").kv_bytes_per_token == 65_536
    w = {p: plan_memory(arch, d, p).weights_bytes for p in ("bf16", "fp8", "int8", "int4")}
    vocab = 2 * 128256 * 4096  # embedding and vocabulary head stay 16-bit in quantised checkpoints
    assert w["bf16"] == pytest.approx(8.03e9 * 2)
    assert w["fp8"] == w["int8"] == pytest.approx((8.03e9 - vocab) * 1 + vocab * 2)
    assert w["int4"] == pytest.approx((8.03e9 - vocab) * (0.5 + 4 / 128) + vocab * 2)  # group-128 scale and zero


@given(mem=st.floats(8, 200), tp=st.sampled_from([1, 2, 4, 8]), ctx=st.integers(1, 200_000))
def test_int4_never_needs_more_memory_than_bf16(mem, tp, ctx):
    arch = Arch.from_spec(spec_8b())
    d = dep(acc(mem=mem), tp)
    lo, hi = plan_memory(arch, d, "int4"), plan_memory(arch, d, "bf16")
    assert lo.weights_bytes <= hi.weights_bytes
    assert lo.max_batch(ctx) >= hi.max_batch(ctx)
    if hi.infeasible_reason(ctx) is None:
        assert lo.infeasible_reason(ctx) is None


def test_70b_does_not_fit_one_24gib_gpu_with_reason():
    arch = Arch.from_spec(spec_8b(spec="llama-3.3-70b", params_b_total=70.55, params_b_active=70.55, layers=80,
                                  hidden_size=8192, attention_heads=64, intermediate_size=28672))
    reason = plan_memory(arch, dep(acc()), "bf16").infeasible_reason(1000)
    assert reason is not None and reason.startswith("does not fit: weights 131.4 GiB")
    assert "21.6 GiB usable" in reason


def test_context_too_long_for_kv_left_is_infeasible():
    arch = Arch.from_spec(spec_8b())
    m = plan_memory(arch, dep(acc()), "bf16")
    reason = m.infeasible_reason(60_000)  # 60k tokens x 128 KiB = 7.3 GiB > 6.3 GiB left
    assert reason is not None and "one sequence of 60000 tokens needs" in reason
    perf = replica_throughput(arch, dep(acc()), "bf16", RequestMix(input_tokens=59_000, output_tokens=1000))
    assert not perf.feasible and perf.reason == reason


def test_unsupported_precision_and_neuron_architecture():
    arch = Arch.from_spec(spec_8b())
    mix = RequestMix(input_tokens=100, output_tokens=10)
    p = replica_throughput(arch, dep(acc(fp8=None)), "fp8", mix)
    assert not p.feasible and "no fp8 support" in p.reason
    neuron = acc(key="inferentia2", kind="neuron", mem=32, bw=820, bf16=190, fp8=190, link=None)
    p = replica_throughput(arch, dep(neuron), "bf16", mix, neuron_supported=False)
    assert not p.feasible and "not supported by the Neuron SDK" in p.reason


def test_memory_options_change_usable_share():
    arch = Arch.from_spec(spec_8b())
    m = plan_memory(arch, dep(acc()), "bf16", opts=MemoryOptions(usable_fraction=0.8))
    assert m.usable_bytes == pytest.approx(0.8 * 24 * GIB)


def test_tied_vocabulary_counts_once(catalog):
    tied = Arch.from_spec(catalog.model_spec("llama-3.2-1b"))  # tie_word_embeddings: 1.24B = layers + one matrix
    untied = Arch.from_spec(catalog.model_spec("llama-3.1-8b"))
    assert (tied.vocab_matrices, untied.vocab_matrices) == (1, 2)
    assert tied.weight_bytes("bf16") == pytest.approx(tied.memory_params * 2)
    assert tied.weight_bytes("fp8") == pytest.approx(tied.memory_params + tied.head_params)
