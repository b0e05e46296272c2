"""Time of one decode step and of one prefill, as a sum of per-operator rooflines plus fixed overheads.

A forward pass runs its operators one after another, so the step time is the sum over operator groups of each
group's roofline, not one roofline over the whole pass:

- GEMMs (all projections and the vocabulary head): max(weight bytes / achieved bandwidth,
  GEMM FLOPs / achieved peak). Weights are read once per step whatever the batch.
- attention: max(KV bytes / achieved bandwidth, attention FLOPs / achieved peak). Each sequence reads its own
  KV cache, so this grows with batch x context.
- a fixed floor per layer and per step (kernel launch and tail latency: what a batch-1 step of a tiny model
  costs beyond its bytes), and tensor-parallel all-reduces (two per layer).

Prefill is the same with many tokens per sequence: GEMMs become compute-bound, attention is causal over the new
tokens plus any cached prefix. An eager (not graph-captured) pass also cannot run faster than the host issues
kernels: `eager=True` adds that floor, which the calibration's eager prefill rows show for small models.

All functions take numpy arrays (or scalars) for batch and lengths and broadcast: no Python loop over requests.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from .arch import VOCAB_BYTES, Arch, precision_bytes
from .coefficients import Coefficients
from .hardware import Deployment
from .memory import heads_per_device, kv_bytes_per_token

Array = np.ndarray


def _peak(dep: Deployment, precision: str, c: Coefficients) -> tuple[float, float]:
    """Achievable-peak basis: (GEMM peak at the precision, 16-bit peak for attention), per device."""
    dev = dep.device
    gemm = dev.peak_flops(precision)
    bf16 = dev.bf16_flops
    if gemm is None or bf16 is None:
        raise ConfigError(f"{dev.key} has no {precision} throughput in the catalog")
    return gemm, bf16


def bucketed(context: Array | float, cap: Array | float | None = None) -> Array:
    """Context a compiled graph attends over: the next power of two (at least 128), at most `cap` (the compiled
    sequence length)."""
    ctx = np.maximum(np.asarray(context, dtype=float), 1.0)
    out = np.maximum(128.0, 2.0 ** np.ceil(np.log2(ctx)))
    return out if cap is None else np.minimum(out, np.maximum(np.asarray(cap, dtype=float), ctx))


def _weight_read_bytes(arch: Arch, tokens: Array, precision: str) -> Array:
    """Matmul weight bytes one step reads: the layers at the weight precision, the vocabulary head at 16-bit at
    most (quantised checkpoints keep it unquantised; its GEMM runs at the 16-bit peak)."""
    pb = precision_bytes(precision)
    layers = arch.weight_params_read(tokens) - arch.head_params
    return layers * pb + arch.head_params * max(pb, VOCAB_BYTES)


def attended_context(c: Coefficients, context: Array | float, cap: Array | float | None = None) -> Array:
    ctx = np.asarray(context, dtype=float)
    return bucketed(ctx, cap) if c.context_bucket else ctx


def allreduce_seconds(dep: Deployment, tokens: Array | float, arch: Arch, c: Coefficients) -> Array:
    """Two all-reduces per layer of the hidden state of `tokens` tokens (16-bit), over `tp` devices: a latency
    and a ring transfer of 2(tp-1)/tp of the payload at the achieved share of the listed link bandwidth."""
    c = c.for_kind(dep.device.kind)
    tp = dep.tp
    t = np.asarray(tokens, dtype=float)
    if tp <= 1:
        return np.zeros_like(t)
    payload = t * arch.hidden * 2.0
    link = dep.device.link_Bps
    latency, eff = c.collective(dep.device.pcie)
    transfer = 0.0 if link is None else 2.0 * (tp - 1) / tp * payload / (link * eff)
    return 2 * arch.layers * (latency + transfer)


def decode_parts(arch: Arch, dep: Deployment, c: Coefficients, precision: str, kv_precision: str,
                 batch: Array | float, context: Array | float, max_context: Array | float | None = None,
                 ) -> dict[str, Array]:
    """Components of one decode step for `batch` sequences each holding `context` cached tokens (seconds).
    `max_context` is the compiled sequence length where attention is bucketed (Neuron)."""
    c = c.for_kind(dep.device.kind)
    b = np.asarray(batch, dtype=float)
    ctx = attended_context(c, context, max_context)
    tp, cores = dep.tp, dep.device.cores
    bw = dep.device.bandwidth_Bps
    gemm_peak, bf16_peak = _peak(dep, precision, c)
    w_bytes = _weight_read_bytes(arch, b, precision) / tp
    kv_bytes = b * ctx * kv_bytes_per_token(arch, kv_precision, tp, cores)
    attn_flops = 4.0 * b * ctx * heads_per_device(arch.heads, tp, cores) * arch.head_dim * arch.layers
    t_w = w_bytes / (bw * c.bw_eff_weights)
    t_gemm_c = 2.0 * b * (arch.active_params_per_token / gemm_peak + arch.head_params / bf16_peak) / tp \
        / c.compute_eff_decode
    t_kv = kv_bytes / (bw * c.bw_eff_kv)
    t_attn_c = attn_flops / (bf16_peak * c.attn_eff)
    return {
        "gemm": np.maximum(t_w, t_gemm_c),
        "attention": np.maximum(t_kv, t_attn_c),
        "fixed": np.full_like(b * ctx, arch.layers * c.decode_s_per_layer + c.decode_s_fixed)
        + b * arch.layers * c.decode_s_per_seq_layer,
        "comm": allreduce_seconds(dep, b, arch, c),
        "compute_bound": t_gemm_c > t_w,
    }


def decode_step_seconds(arch: Arch, dep: Deployment, c: Coefficients, precision: str, kv_precision: str,
                        batch: Array | float, context: Array | float,
                        max_context: Array | float | None = None) -> Array:
    p = decode_parts(arch, dep, c, precision, kv_precision, batch, context, max_context)
    return p["gemm"] + p["attention"] + p["fixed"] + p["comm"]


def _attn_prefill_flops(arch: Arch, dep: Deployment, n: Array, p: Array) -> Array:
    """Causal attention FLOPs of `n` new tokens after `p` cached ones, on one device."""
    heads = heads_per_device(arch.heads, dep.tp, dep.device.cores)
    return 4.0 * heads * arch.head_dim * arch.layers * (n * p + n * n / 2.0)


def prefill_seconds(arch: Arch, dep: Deployment, c: Coefficients, precision: str, kv_precision: str,
                    batch: Array | float, tokens: Array | float, cached: Array | float = 0.0,
                    eager: bool = False) -> Array:
    """One prefill pass of `batch` prompts of `tokens` new tokens each, after `cached` prefix tokens."""
    c = c.for_kind(dep.device.kind)
    b = np.asarray(batch, dtype=float)
    n = np.asarray(tokens, dtype=float)
    p = np.asarray(cached, dtype=float)
    tp = dep.tp
    bw = dep.device.bandwidth_Bps
    gemm_peak, bf16_peak = _peak(dep, precision, c)
    total = b * n
    w_bytes = _weight_read_bytes(arch, np.maximum(total, 1.0), precision) / tp
    gemm_s = (2.0 * total * arch.active_params_per_token / gemm_peak + 2.0 * b * arch.head_params / bf16_peak) / tp
    t_gemm = np.maximum(w_bytes / (bw * c.bw_eff_weights), gemm_s / c.compute_eff_prefill)
    t_attn = b * _attn_prefill_flops(arch, dep, n, p) / (bf16_peak * c.compute_eff_prefill_attn)
    t_prefix = b * p * kv_bytes_per_token(arch, kv_precision, tp, dep.device.cores) / (bw * c.bw_eff_kv)
    per_layer, per_pass = c.prefill_floor
    fixed = arch.layers * per_layer + per_pass
    t_gpu = t_gemm + t_attn + t_prefix + fixed + allreduce_seconds(dep, total, arch, c)
    if eager:
        return np.maximum(t_gpu, arch.layers * c.eager_s_per_layer + c.eager_s_fixed)
    return t_gpu


def prefill_marginal_seconds(arch: Arch, dep: Deployment, c: Coefficients, precision: str, kv_precision: str,
                             tokens: Array | float, cached: Array | float = 0.0) -> Array:
    """Extra time one prompt adds to a running batch (chunked prefill riding on decode steps): its FLOPs and
    prefix reads only, since the weights are read by the step anyway and the fixed floor is paid by the step."""
    c = c.for_kind(dep.device.kind)
    n = np.asarray(tokens, dtype=float)
    p = np.asarray(cached, dtype=float)
    gemm_peak, bf16_peak = _peak(dep, precision, c)
    gemm = 2.0 * n * arch.active_params_per_token / dep.tp / (gemm_peak * c.compute_eff_prefill)
    attn = _attn_prefill_flops(arch, dep, n, p) / (bf16_peak * c.compute_eff_prefill_attn)
    prefix = p * kv_bytes_per_token(arch, kv_precision, dep.tp, dep.device.cores) / (
        dep.device.bandwidth_Bps * c.bw_eff_kv)
    return gemm + attn + prefix + allreduce_seconds(dep, n, arch, c)
