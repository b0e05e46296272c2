"""Fit the per-kind overrides to published engine measurements, and predict those measurements.

- Neuron (`kinds["neuron"]`): decode step (weight and KV streaming, attention, per-layer and per-sequence floors) and
  prefill (GEMM and attention efficiency, floors) fitted to the Neuron SDK's Inferentia2 tables
  (`neuron_tables`), on TPOT and TTFT of the fit rows only.
- GPU serving engines (`kinds["gpu"]`): tensor-parallel collectives (all-reduce latency and achieved link
  bandwidth, NVLink and PCIe apart), the per-sequence cost of a decode step in an engine (scheduling, paged
  attention) and the engine's prefill efficiency, fitted to TensorRT-LLM 0.15's throughput table
  (`trtllm_tables`) on the fit rows only. The calibration rows (a lean PyTorch pass) are still predicted with the
  kernel-level top-level factors, without these overrides.

Both fits minimise the sum of squared log(predicted / measured) with Nelder-Mead over log-parameters.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..catalog import Catalog
from .arch import Arch
from .coefficients import Coefficients, KindCoefficients
from .hardware import Deployment, Device
from .memory import MemoryOptions, plan_memory
from .neuron_tables import ROWS as NEURON_ROWS
from .neuron_tables import NeuronRow
from .published import spec_for
from .serving import RequestMix, ServingOptions, replica_throughput
from .timing import decode_step_seconds, prefill_seconds
from .trtllm_tables import KV_FREE_FRACTION, MAX_BATCH, TrtRow
from .trtllm_tables import ROWS as TRT_ROWS

NEURON_DECODE_KEYS = ("bw_eff_weights", "bw_eff_kv", "compute_eff_attn_decode", "decode_s_per_layer",
                      "decode_s_fixed", "decode_s_per_seq_layer")
NEURON_PREFILL_KEYS = ("compute_eff_prefill", "compute_eff_prefill_attn", "prefill_s_per_layer", "prefill_s_fixed")
NEURON_START = {"bw_eff_weights": 0.5, "bw_eff_kv": 0.3, "compute_eff_attn_decode": 0.05, "decode_s_per_layer": 1e-4,
                "decode_s_fixed": 1e-3, "decode_s_per_seq_layer": 1e-5, "compute_eff_prefill": 0.3,
                "compute_eff_prefill_attn": 0.05, "prefill_s_per_layer": 3e-4, "prefill_s_fixed": 5e-3}
# Neuron's collectives at TP 24/32 are inside the fitted per-layer floor (every published row runs on all cores).
NEURON_FIXED = {"allreduce_latency_s": 0.0, "context_bucket": False}
GPU_ENGINE_KEYS = ("allreduce_latency_s", "link_eff", "decode_s_per_seq_layer", "compute_eff_prefill")
GPU_PCIE_KEYS = ("allreduce_latency_pcie_s", "link_eff_pcie")
GPU_START = {"allreduce_latency_s": 10e-6, "link_eff": 0.5, "decode_s_per_seq_layer": 1e-7, "compute_eff_prefill": 0.6,
             "allreduce_latency_pcie_s": 30e-6, "link_eff_pcie": 0.3}


def nelder_mead(f: Callable[[np.ndarray], float], x0: np.ndarray, step: float = 0.3, iters: int = 4000,
                tol: float = 1e-12) -> np.ndarray:
    """Minimise f from x0 (standard reflection/expansion/contraction/shrink)."""
    n = len(x0)
    simplex = np.vstack([x0] + [x0 + step * np.eye(n)[i] for i in range(n)])
    vals = np.array([f(x) for x in simplex])
    for _ in range(iters):
        order = np.argsort(vals)
        simplex, vals = simplex[order], vals[order]
        if abs(vals[-1] - vals[0]) < tol:
            break
        centroid = simplex[:-1].mean(axis=0)
        xr = centroid + (centroid - simplex[-1])
        fr = f(xr)
        if fr < vals[0]:
            xe = centroid + 2 * (centroid - simplex[-1])
            fe = f(xe)
            simplex[-1], vals[-1] = (xe, fe) if fe < fr else (xr, fr)
        elif fr < vals[-2]:
            simplex[-1], vals[-1] = xr, fr
        else:
            xc = centroid + 0.5 * (simplex[-1] - centroid)
            fc = f(xc)
            if fc < vals[-1]:
                simplex[-1], vals[-1] = xc, fc
            else:
                simplex[1:] = simplex[0] + 0.5 * (simplex[1:] - simplex[0])
                vals[1:] = [f(x) for x in simplex[1:]]
    return simplex[int(np.argmin(vals))]


def fit_log_params(loss_of: Callable[[dict[str, float]], float], keys: Sequence[str], start: dict[str, float],
                   iters: int = 1500) -> dict[str, float]:
    """Minimise `loss_of(values)` over positive values (efficiencies <= 1.2), three restarts."""
    def loss(x: np.ndarray) -> float:
        vals = dict(zip(keys, np.exp(x), strict=True))
        if any(vals[k] > 1.2 for k in keys if "eff" in k):
            return 1e9
        return loss_of(vals)

    best, best_loss = None, np.inf
    for jitter in (0.0, 0.7, -0.7):
        x = nelder_mead(loss, np.log([start[k] for k in keys]) + jitter, iters=iters)
        x = nelder_mead(loss, x, step=0.05, iters=iters // 2)
        if (lv := loss(x)) < best_loss:
            best, best_loss = x, lv
    assert best is not None
    return dict(zip(keys, (float(v) for v in np.exp(best)), strict=True))


def with_kind(c: Coefficients, kind: str, values: dict[str, float | bool]) -> Coefficients:
    old = c.kinds.get(kind, KindCoefficients()).model_dump()
    return c.model_copy(update={"kinds": {**c.kinds, kind: KindCoefficients(**{**old, **values})}})


# ---- Neuron -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NeuronPrediction:
    tpot_ms: float
    ttft_ms: float
    tokens_per_s: float


def neuron_deployment(cat: Catalog, row: NeuronRow) -> Deployment:
    return Deployment(Device.from_accelerator(cat.accelerator(row.accelerator)), row.chips, row.chips, None)


def predict_neuron(cat: Catalog, row: NeuronRow, c: Coefficients) -> NeuronPrediction:
    """A static batch as the Neuron tables run it: one prefill of the batch, then `output` decode steps."""
    arch = Arch.from_spec(spec_for(cat, row.model))
    dep = neuron_deployment(cat, row)
    precision = "int8" if row.weights == "int8" else "bf16"
    ctx = row.input_tokens + np.arange(row.output_tokens, dtype=float)
    steps = decode_step_seconds(arch, dep, c, precision, "bf16", row.batch, ctx, row.seq_len)
    prefill = float(prefill_seconds(arch, dep, c, precision, "bf16", row.batch, row.input_tokens))
    return NeuronPrediction(tpot_ms=float(steps.mean()) * 1e3, ttft_ms=prefill * 1e3,
                            tokens_per_s=row.batch * row.output_tokens / (prefill + float(steps.sum())))


def fit_neuron(cat: Catalog, base: Coefficients, rows: Sequence[NeuronRow] | None = None,
               iters: int = 1500) -> dict[str, float | bool]:
    """Neuron overrides fitted on the fit rows: decode factors on TPOT, then prefill factors on batch-1 TTFT."""
    fit_rows = [r for r in (rows if rows is not None else NEURON_ROWS) if not r.held_out]
    tpot = np.array([r.tpot_ms for r in fit_rows])

    def decode_loss(v: dict[str, float]) -> float:
        c = with_kind(base, "neuron", {**NEURON_FIXED, **v})
        pred = np.array([predict_neuron(cat, r, c).tpot_ms for r in fit_rows])
        return float(np.sum(np.log(pred / tpot) ** 2))

    dec = fit_log_params(decode_loss, NEURON_DECODE_KEYS, NEURON_START, iters)
    b1 = [r for r in fit_rows if r.batch == 1]  # batch>1 TTFT of these tables is not a batched prefill (docs)
    ttft = np.array([r.ttft_ms for r in b1])

    def prefill_loss(v: dict[str, float]) -> float:
        c = with_kind(base, "neuron", {**NEURON_FIXED, **dec, **v})
        pred = np.array([predict_neuron(cat, r, c).ttft_ms for r in b1])
        return float(np.sum(np.log(pred / ttft) ** 2))

    pre = fit_log_params(prefill_loss, NEURON_PREFILL_KEYS, NEURON_START, iters)
    return {**NEURON_FIXED, **dec, **pre}


# ---- GPU serving engines (TensorRT-LLM) ----------------------------------------------------------------------------
def trtllm_engine_settings(kv_max_requests: float, input_tokens: int, output_tokens: int) -> tuple[int, int]:
    """(max batch size, max tokens per step) `trtllm-bench build` picks for a dataset (TensorRT-LLM's rule in
    tensorrt_llm/bench/build/tuning.py): the requests whose whole KV cache fits, capped at 4096 and rounded up a
    little; tokens per step = that batch x (1 + input / output), capped at 32768, at least 2048."""
    raw_bs = min(kv_max_requests, MAX_BATCH)
    raw_tokens = min(raw_bs * (1 + input_tokens / output_tokens), 32768)
    if raw_bs < 256:
        bs = max(64, 32 * math.ceil(raw_bs / 32))
    elif raw_bs < 1024:
        bs = 128 * math.ceil(raw_bs / 128)
    else:
        bs = 256 * math.ceil(raw_bs / 256)
    if raw_tokens < 4096:
        tokens = max(2048, 256 * math.ceil(raw_tokens / 256))
    elif raw_tokens < 8192:
        tokens = 512 * math.ceil(raw_tokens / 512)
    else:
        tokens = 1024 * math.ceil(raw_tokens / 1024)
    return int(bs), int(tokens)


def trtllm_serving(cat: Catalog, row: TrtRow) -> tuple[Arch, Deployment, ServingOptions]:
    """The architecture, the group and the engine's serving options for one TensorRT-LLM row."""
    arch = Arch.from_spec(cat.model_spec(row.model))
    dep = Deployment(Device.from_accelerator(cat.accelerator(row.accelerator)), row.tp, row.tp, None)
    mem = plan_memory(arch, dep, row.precision, row.kv_precision, MemoryOptions(free_fraction=KV_FREE_FRACTION))
    bs, tokens = trtllm_engine_settings(mem.max_cached_tokens / (row.input_tokens + row.output_tokens),
                                        row.input_tokens, row.output_tokens)
    opts = ServingOptions(kv_precision=row.kv_precision, max_num_seqs=bs, admission="reserve",
                          memory=MemoryOptions(free_fraction=KV_FREE_FRACTION, prefill_chunk_tokens=tokens))
    return arch, dep, opts


def predict_trtllm(cat: Catalog, row: TrtRow, c: Coefficients) -> float:
    """Output tokens/s of the group: continuous batching at the engine's batch (all requests queued at once)."""
    arch, dep, opts = trtllm_serving(cat, row)
    perf = replica_throughput(arch, dep, row.precision,
                              RequestMix(input_tokens=row.input_tokens, output_tokens=row.output_tokens), None, opts, c)
    return perf.tokens_per_s if perf.feasible else float("nan")


def fit_gpu_engine(cat: Catalog, base: Coefficients, rows: Sequence[TrtRow] | None = None,
                   iters: int = 600) -> dict[str, float]:
    """GPU engine overrides on the fit rows: collectives and engine factors on the NVLink rows, then the PCIe
    collectives on the PCIe rows."""
    fit_rows = [r for r in (rows if rows is not None else TRT_ROWS) if not r.held_out]
    pcie = {r.key for r in fit_rows if Device.from_accelerator(cat.accelerator(r.accelerator)).pcie}

    def loss_on(sel: list[TrtRow], fixed: dict[str, float]) -> Callable[[dict[str, float]], float]:
        meas = np.array([r.tokens_per_s for r in sel])

        def loss(v: dict[str, float]) -> float:
            c = with_kind(base, "gpu", {**fixed, **v})
            pred = np.array([predict_trtllm(cat, r, c) for r in sel])
            return float(np.sum(np.log(pred / meas) ** 2)) if np.all(np.isfinite(pred)) else 1e9
        return loss

    nvlink = [r for r in fit_rows if r.key not in pcie]
    eng = fit_log_params(loss_on(nvlink, {}), GPU_ENGINE_KEYS, GPU_START, iters)
    pcie_rows = [r for r in fit_rows if r.key in pcie]
    if not pcie_rows:
        return eng
    return {**eng, **fit_log_params(loss_on(pcie_rows, eng), GPU_PCIE_KEYS, GPU_START, iters)}
