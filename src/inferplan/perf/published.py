"""Published serving-engine measurements (REFERENCE.md section 3) and how the model predicts each one.

These are measurements, not prices: they validate the time model; none is used to fit it (the Neuron factors are
fitted on the Neuron SDK's 2.18 tables, `neuron_tables`). Three architectures used by the benchmarks are not in the
catalog's model specs (LLaMA-7B, Llama-2-13B, Llama-2-70B); their shapes are from their Hugging Face config.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np

from ..catalog import Catalog
from ..catalog.schema import ModelSpec
from .arch import Arch
from .coefficients import Coefficients
from .hardware import Deployment, Device
from .timing import decode_step_seconds, prefill_seconds

_D = date(2026, 11, 26)
EXTRA_SPECS: dict[str, ModelSpec] = {
    "llama-7b": ModelSpec(spec="llama-7b", name="LLaMA 7B (same shape as Llama-2-7B)", params_b_total=6.74,
                          params_b_active=6.74, layers=32, hidden_size=4096, attention_heads=32, kv_heads=32,
                          head_dim=128, intermediate_size=11008, vocab_size=32000, checked=_D,
                          source="Hugging Face config.json of meta-llama/Llama-2-7b-hf"),
    "llama-2-13b": ModelSpec(spec="llama-2-13b", name="Llama 2 13B", params_b_total=13.02, params_b_active=13.02,
                             layers=40, hidden_size=5120, attention_heads=40, kv_heads=40, head_dim=128,
                             intermediate_size=13824, vocab_size=32000, checked=_D,
                             source="Hugging Face config.json of meta-llama/Llama-2-13b-hf"),
    "llama-2-70b": ModelSpec(spec="llama-2-70b", name="Llama 2 70B", params_b_total=68.98, params_b_active=68.98,
                             layers=80, hidden_size=8192, attention_heads=64, kv_heads=8, head_dim=128,
                             intermediate_size=28672, vocab_size=32000, checked=_D,
                             source="Hugging Face config.json of meta-llama/Llama-2-70b-hf"),
}

Mode = Literal["static", "concurrent"]


@dataclass(frozen=True)
class Published:
    """One published throughput figure and the setting it was measured in."""

    key: str
    source: str
    model: str  # EXTRA_SPECS or catalog model_specs key
    accelerator: str
    devices: int  # tensor-parallel group (Neuron: chips, two NeuronCores each)
    precision: str
    kv_precision: str
    mode: Mode  # static batch / fixed concurrency with continuous batching
    batch: int
    input_tokens: int
    output_tokens: int
    tokens_per_s: float  # output tokens per second of the whole group
    note: str = ""


_TRT05 = "TensorRT-LLM 0.5 performance table (H100 FP8, static batching; REFERENCE.md section 3)"
_TRT061 = "TensorRT-LLM 0.6.1 performance table, per GPU (REFERENCE.md section 3)"
_NIM = "NVIDIA NIM Llama-3.3-70B benchmark, 2xH100 FP8 TP2 (REFERENCE.md section 3)"
_NEURON_217 = ("AWS Neuron SDK 2.17.0 benchmark table, inf2.48xlarge TP24 (REFERENCE.md section 3; aws-neuron-sdk "
               "general/benchmarks/inf2/latency_data_decoder.csv @ 82ffe529)")
_NEURON_216 = ("AWS Neuron SDK 2.16.0 benchmark table, inf2.48xlarge TP24 (REFERENCE.md section 3; aws-neuron-sdk "
               "general/benchmarks/inf2/latency_data_decoder.csv @ 1351ee12)")
# Those tables count input plus output tokens in throughput and in latency per token (their page: "Throughput
# (tokens/second) counts both input and output tokens"; "Latency per Token counts both input and output tokens"):
# output tokens/s = published x output / (input + output).
_FP8_KV = "FP8 KV cache assumed"

PUBLISHED: tuple[Published, ...] = (
    Published("trt05-7b-b64-128-128", _TRT05, "llama-7b", "h100", 1, "fp8", "fp8", "static", 64, 128, 128, 9193,
              _FP8_KV),
    Published("trt05-7b-b64-128-2048", _TRT05, "llama-7b", "h100", 1, "fp8", "fp8", "static", 64, 128, 2048, 5367,
              _FP8_KV),
    Published("trt05-7b-b64-2048-128", _TRT05, "llama-7b", "h100", 1, "fp8", "fp8", "static", 64, 2048, 128, 2058,
              _FP8_KV),
    Published("trt05-70b-tp4-b64-128-128", _TRT05, "llama-2-70b", "h100", 4, "fp8", "fp8", "static", 64, 128, 128,
              3317, _FP8_KV + "; throughput of the TP4 group"),
    Published("trt05-70b-tp4-b64-2048-2048", _TRT05, "llama-2-70b", "h100", 4, "fp8", "fp8", "static", 64, 2048,
              2048, 1583, _FP8_KV + "; throughput of the TP4 group"),
    Published("trt061-h100-7b-b768-128-128", _TRT061, "llama-7b", "h100", 1, "fp8", "fp8", "static", 768, 128, 128,
              19694, _FP8_KV),
    Published("trt061-a100-7b-b384-128-128", _TRT061, "llama-7b", "a100-80gb", 1, "bf16", "bf16", "static", 384,
              128, 128, 5586, "FP16; A100 80GB assumed (384 x 256 tokens of MHA cache needs > 40 GB); 128/128 assumed"),
    Published("trt061-a100-7b-b60-128-2048", _TRT061, "llama-7b", "a100-80gb", 1, "bf16", "bf16", "static", 60, 128,
              2048, 1928, "FP16; A100 80GB assumed"),
    Published("nim-70b-tp2-c1", _NIM, "llama-3.3-70b", "h100", 2, "fp8", "fp8", "concurrent", 1, 5000, 500, 51.7,
              _FP8_KV),
    Published("nim-70b-tp2-c50", _NIM, "llama-3.3-70b", "h100", 2, "fp8", "fp8", "concurrent", 50, 5000, 500, 814,
              _FP8_KV),
    Published("nim-70b-tp2-c100", _NIM, "llama-3.3-70b", "h100", 2, "fp8", "fp8", "concurrent", 100, 5000, 500, 920,
              _FP8_KV + "; '100+ concurrent ~920'"),
    Published("neuron217-13b-tp24-b1-1024-1024", _NEURON_217, "llama-2-13b", "inferentia2", 12, "bf16", "bf16",
              "static", 1, 1024, 1024, 227.8 * 1024 / 2048,
              "Neuron 2.17.0; published 227.8 tok/s and 4.39 ms per input+output token = 113.9 output tok/s "
              "(about 8.8 ms per output token); 24 NeuronCores = 12 chips"),
    Published("neuron216-70b-tp24-b1-256-256", _NEURON_216, "llama-2-70b", "inferentia2", 12, "bf16", "bf16",
              "static", 1, 256, 256, 18.4 * 256 / 512,
              "Neuron 2.16.0; published 18.4 tok/s and 54.2 ms per input+output token = 9.2 output tok/s (about "
              "108 ms per output token; Neuron 2.18 measures 32.9 ms for this model and shape); 12 chips"),
)


def spec_for(cat: Catalog, key: str) -> ModelSpec:
    return EXTRA_SPECS[key] if key in EXTRA_SPECS else cat.model_spec(key)


def deployment(cat: Catalog, row: Published) -> Deployment:
    dev = Device.from_accelerator(cat.accelerator(row.accelerator))
    return Deployment(dev, row.devices, row.devices, None)


def predict(cat: Catalog, row: Published, c: Coefficients) -> float:
    """Predicted output tokens/s of the group in the published setting (see `Published.mode`)."""
    arch = Arch.from_spec(spec_for(cat, row.model))
    dep = deployment(cat, row)
    b, n_in, n_out = row.batch, row.input_tokens, row.output_tokens
    ctx = n_in + np.arange(n_out, dtype=float)  # context of each decode step
    steps = decode_step_seconds(arch, dep, c, row.precision, row.kv_precision, b, ctx)
    prefill = float(prefill_seconds(arch, dep, c, row.precision, row.kv_precision, b, n_in))
    if row.mode == "static":
        return float(b * n_out / (prefill + steps.sum()))
    # fixed concurrency, continuous batching: each request costs one prefill of its own plus n_out steps of a
    # batch of `b`; with b requests in flight, a step also carries b / n_out prefills on average.
    one_prefill = float(prefill_seconds(arch, dep, c, row.precision, row.kv_precision, 1, n_in))
    per_step = float(steps.mean()) + (b / n_out) * one_prefill if b > 1 else float(steps.mean())
    if b == 1:
        return float(n_out / (one_prefill + steps.sum()))
    return float(b / per_step)
