"""The Neuron and multi-GPU fits: held-out accuracy with the shipped factors, held-out rows never reach a fit,
the engine's batch rule, the serving point, and the two older Neuron rows read as input + output tokens."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from inferplan.perf import RequestMix, ServingOptions, default_coefficients
from inferplan.perf.arch import Arch
from inferplan.perf.coefficients import KindCoefficients
from inferplan.perf.fit import CALIBRATION_REL, h100, predict_rows, read_calibration
from inferplan.perf.fit_published import (
    fit_gpu_engine,
    fit_neuron,
    predict_neuron,
    predict_trtllm,
    trtllm_engine_settings,
)
from inferplan.perf.hardware import Deployment, Device
from inferplan.perf.memory import heads_per_device, plan_memory
from inferplan.perf.neuron_tables import ROWS as NEURON_ROWS
from inferplan.perf.published import PUBLISHED
from inferplan.perf.serving import replica_throughput
from inferplan.perf.trtllm_tables import ROWS as TRT_ROWS


def _abs_med(errors) -> float:
    return float(np.median(np.abs(errors)))


def test_inferentia2_held_out_tpot_within_15_percent(catalog):
    c = default_coefficients()
    held = [r for r in NEURON_ROWS if r.held_out and r.accelerator == "inferentia2"]
    assert len(held) >= 20 and {"Llama-3-8B", "Llama-3-70B", "Mistral-7B-Instruct-v0.2"} <= {r.name for r in held}
    assert _abs_med([predict_neuron(catalog, r, c).tpot_ms / r.tpot_ms - 1 for r in held]) <= 0.15


def test_multi_gpu_held_out_throughput_within_15_percent_and_single_gpu_within_10(catalog):
    c = default_coefficients()
    multi = [r for r in TRT_ROWS if r.held_out and r.tp > 1]
    assert {2, 4, 8} <= {r.tp for r in multi}
    assert _abs_med([predict_trtllm(catalog, r, c) / r.tokens_per_s - 1 for r in multi]) <= 0.15
    single = [r for r in TRT_ROWS if r.tp == 1]
    assert all(r.held_out for r in single)
    assert _abs_med([predict_trtllm(catalog, r, c) / r.tokens_per_s - 1 for r in single]) <= 0.10


def _poison(rows):
    """Held-out rows with absurd measurements: a fit that never reads them cannot change."""
    out = []
    for r in rows:
        if not r.held_out:
            out.append(r)
        elif hasattr(r, "tpot_ms"):
            out.append(dataclasses.replace(r, tpot_ms=r.tpot_ms * 50, ttft_ms=r.ttft_ms * 50))
        else:
            out.append(dataclasses.replace(r, tokens_per_s=r.tokens_per_s / 50))
    return out


def test_held_out_rows_never_reach_the_fits(catalog):
    base = default_coefficients().model_copy(update={"kinds": {}})
    gpu_rows = [r for r in TRT_ROWS if r.model == "llama-3.1-70b" and r.precision == "fp8" and r.tp in (2, 4)]
    assert any(r.held_out for r in gpu_rows) and any(not r.held_out for r in gpu_rows)
    assert fit_gpu_engine(catalog, base, gpu_rows, iters=15) == fit_gpu_engine(catalog, base, _poison(gpu_rows),
                                                                               iters=15)
    neuron_rows = [r for r in NEURON_ROWS if r.name == "Llama-2-70b"]
    assert any(r.held_out for r in neuron_rows) and any(not r.held_out for r in neuron_rows)
    assert fit_neuron(catalog, base, neuron_rows, iters=10) == fit_neuron(catalog, base, _poison(neuron_rows),
                                                                           iters=10)


def test_trtllm_engine_settings_rule():
    assert trtllm_engine_settings(100, 128, 128) == (128, 2048)  # 32-multiples under 256, at least 2048 tokens
    assert trtllm_engine_settings(20, 128, 2048) == (64, 2048)  # at least 64
    assert trtllm_engine_settings(300, 2048, 128) == (384, 5120)  # 128-multiples; 300 x 17 = 5100 -> 512-multiple
    assert trtllm_engine_settings(9000, 1000, 1000) == (4096, 8192)  # capped at 4096 requests


def test_reserve_admission_counts_the_whole_sequence(catalog):
    arch = Arch.from_spec(catalog.model_spec("llama-3.1-8b"))
    dep = Deployment(Device.from_accelerator(catalog.accelerator("h100")), 1, 1, None)
    mix = RequestMix(input_tokens=1000, output_tokens=1000)
    mem = plan_memory(arch, dep, "bf16")
    paged = replica_throughput(arch, dep, "bf16", mix, opts=ServingOptions(max_num_seqs=4096))
    reserve = replica_throughput(arch, dep, "bf16", mix, opts=ServingOptions(max_num_seqs=4096, admission="reserve"))
    assert paged.max_batch == mem.max_batch(1500) and reserve.max_batch == mem.max_batch(2000)
    capped = replica_throughput(arch, dep, "bf16", mix, opts=ServingOptions(max_num_seqs=32))
    assert capped.max_batch == 32 and capped.batch <= 32
    assert ServingOptions().max_num_seqs == 256  # vLLM's default scheduler cap, not the largest batch that fits


def test_neuron_shards_heads_per_core():
    assert heads_per_device(8, 12, 2) == 2  # 8 KV heads over 24 NeuronCores: one (replicated) per core
    assert heads_per_device(32, 12, 2) == 4  # 32 heads padded to 48 over 24 cores
    assert heads_per_device(8, 4, 1) == 2  # GPUs: split evenly


def test_calibration_is_predicted_without_engine_overrides(shared_data, catalog):
    rows = read_calibration(shared_data / CALIBRATION_REL)[:6]
    c = default_coefficients()
    odd = c.model_copy(update={"kinds": {"gpu": KindCoefficients(decode_s_per_seq_layer=1.0)}})
    assert np.allclose(predict_rows(rows, c, h100(catalog)), predict_rows(rows, odd, h100(catalog)))
    assert odd.for_kind("gpu").decode_s_per_seq_layer == 1.0 and odd.for_kind("cpu") is odd


def test_older_neuron_rows_read_as_input_plus_output_tokens():
    rows = {p.key: p for p in PUBLISHED if p.accelerator == "inferentia2"}
    assert rows["neuron217-13b-tp24-b1-1024-1024"].tokens_per_s == pytest.approx(227.8 / 2)
    assert rows["neuron216-70b-tp24-b1-256-256"].tokens_per_s == pytest.approx(18.4 / 2)
    # 13B at 1024/1024: 2 x 1024 tokens x 4.39 ms / 1024 output tokens ~ 8.8 ms per output token, not 4.39 ms,
    # which would be faster than reading the weights once (26 GB over 12 chips x 820 GB/s = 2.65 ms).
    assert 1e3 / rows["neuron217-13b-tp24-b1-1024-1024"].tokens_per_s > 26e9 / (12 * 820e9) * 1e3
