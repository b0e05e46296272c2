"""Sustainable throughput of one replica for a request mix under a latency target.

Continuous batching (vLLM, TensorRT-LLM in-flight batching), steady state with `B` sequences in flight:

- every step decodes one token for each of the B sequences, whose mean context is input + output / 2;
- a request lives `output` steps, so each step also admits B / output new prompts on average; their prefill
  rides on the step (chunked prefill) and costs its FLOPs only (the step reads the weights anyway);
- step time T(B) = decode_step(B, input + output/2) + (B / output) x prefill_marginal(input);
  throughput = B / T(B) output tokens/s; TPOT = T(B); TTFT = prefill of one prompt alone + one step (a slot is
  free on arrival: no queueing, which the fleet model adds).

B runs from 1 to the largest batch whose KV cache fits (paged: mean occupancy input + output/2 tokens per
sequence; reserve: input + output), capped by the scheduler's `max_num_seqs` (ServingOptions); the sustained point
is the B with the most throughput that meets the target.
One request at a time is B = 1 without overlap: prefill, then `output` steps. Static batching (for comparison)
waits for the longest output of each batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from .arch import Arch
from .coefficients import Coefficients, default_coefficients
from .hardware import Deployment
from .memory import MemoryOptions, MemoryPlan, plan_memory
from .timing import decode_step_seconds, prefill_marginal_seconds, prefill_seconds


class RequestMix(BaseModel):
    """Mean request shape (tokens), with optional samples for batch-shape effects (static batching)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input_tokens: float = Field(gt=0)
    output_tokens: float = Field(ge=1)
    prefix_hit: float = Field(default=0.0, ge=0, le=1, description="share of input tokens found in a prefix cache")
    output_samples: tuple[float, ...] | None = Field(default=None, description="output lengths, for static batching")

    @classmethod
    def from_arrays(cls, input_tokens: np.ndarray, output_tokens: np.ndarray, prefix_hit: float = 0.0) -> RequestMix:
        """From per-request token counts (e.g. a trace): the means, and the output lengths as samples."""
        out = np.asarray(output_tokens, dtype=float)
        return cls(input_tokens=float(np.mean(input_tokens)), output_tokens=max(1.0, float(out.mean())),
                   prefix_hit=prefix_hit, output_samples=tuple(np.maximum(out, 1.0).tolist()))

    @classmethod
    def from_workload(cls, workload: Any, use_cache_reads: bool = True) -> RequestMix:
        """Mean shape of a canonical workload (a `Workload` or its Ibis table), computed in the engine.

        Input counts every input bucket (plain, cache read, cache writes); with `use_cache_reads` the share of
        input read from a prompt cache becomes the prefix-cache hit rate of a self-hosted replica."""
        from ..errors import InputError

        t = getattr(workload, "table", workload)
        cached = t.cache_read_tokens.sum()
        total = (t.input_tokens + t.cache_read_tokens + t.cache_write_5m_tokens + t.cache_write_1h_tokens).sum()
        df = t.aggregate(n=t.count(), total_in=total, cached=cached, total_out=t.output_tokens.sum()).execute()
        n, total_in, hit_tokens, total_out = (float(df[c].iloc[0] or 0) for c in ("n", "total_in", "cached",
                                                                                   "total_out"))
        if n == 0 or total_in == 0:
            raise InputError("the workload has no requests with input tokens: no request mix to size for")
        return cls(input_tokens=total_in / n, output_tokens=max(1.0, total_out / n),
                   prefix_hit=min(1.0, hit_tokens / total_in) if use_cache_reads else 0.0)

    @property
    def new_input_tokens(self) -> float:
        return self.input_tokens * (1.0 - self.prefix_hit)

    @property
    def cached_input_tokens(self) -> float:
        return self.input_tokens * self.prefix_hit

    @property
    def mean_context(self) -> float:
        return self.input_tokens + self.output_tokens / 2.0

    @property
    def max_context(self) -> float:
        return self.input_tokens + self.output_tokens


class Slo(BaseModel):
    """Latency target: time to first token and time per output token, in milliseconds (None: no limit)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ttft_ms: float | None = Field(default=None, gt=0)
    tpot_ms: float | None = Field(default=None, gt=0)


class ServingOptions(BaseModel):
    """How the engine schedules: the serving point is the best batch up to its cap, not the largest that fits.

    `max_num_seqs` is the scheduler's cap on sequences in flight (vLLM's `--max-num-seqs`, default 256;
    TensorRT-LLM's engine max batch size). `admission` is how the scheduler counts KV cache: `paged` (vLLM: a
    sequence holds its current context, on average input + output/2 tokens, and is preempted if the cache runs out)
    or `reserve` (TensorRT-LLM's guaranteed-no-evict: a sequence is admitted only when its whole input + output
    fits)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kv_precision: str = "bf16"
    max_num_seqs: int = Field(default=256, gt=0, description="scheduler cap on sequences in flight")
    admission: Literal["paged", "reserve"] = "paged"
    memory: MemoryOptions = Field(default_factory=MemoryOptions)


@dataclass
class ReplicaPerf:
    """What one replica serves for a mix under a target, or why it cannot."""

    deployment: str
    precision: str
    tp: int
    replicas_per_instance: int
    feasible: bool
    reason: str | None
    memory: MemoryPlan
    max_batch: int = 0
    batch: int = 0
    decode_step_ms: float | None = None
    prefill_ms: float | None = None
    ttft_ms: float | None = None
    tpot_ms: float | None = None
    tokens_per_s: float = 0.0  # output tokens/s of one replica, continuous batching at `batch`
    requests_per_s: float = 0.0
    single: dict[str, float] = field(default_factory=dict)  # one request at a time
    ratio_vs_single: float | None = None

    @property
    def instance_tokens_per_s(self) -> float:
        return self.tokens_per_s * self.replicas_per_instance

    @property
    def instance_requests_per_s(self) -> float:
        return self.requests_per_s * self.replicas_per_instance

    def as_dict(self) -> dict[str, Any]:
        return {
            "deployment": self.deployment, "precision": self.precision, "tp": self.tp,
            "replicas_per_instance": self.replicas_per_instance, "feasible": self.feasible, "reason": self.reason,
            "memory": self.memory.as_dict(), "max_batch": self.max_batch, "batch": self.batch,
            "decode_step_ms": self.decode_step_ms, "prefill_ms": self.prefill_ms, "ttft_ms": self.ttft_ms,
            "tpot_ms": self.tpot_ms, "tokens_per_s": self.tokens_per_s, "requests_per_s": self.requests_per_s,
            "instance_tokens_per_s": self.instance_tokens_per_s, "one_at_a_time": self.single,
            "continuous_vs_one_at_a_time": self.ratio_vs_single,
        }


def precision_reason(arch: Arch, dep: Deployment, precision: str, neuron_supported: bool = True) -> str | None:
    """Why a precision or an architecture cannot run on a device kind, or None."""
    dev = dep.device
    if dev.kind == "neuron" and not neuron_supported:
        return f"unsupported: {arch.name} is not supported by the Neuron SDK (catalog model_specs.neuron_supported)"
    if dev.peak_flops(precision) is None or dev.bf16_flops is None:
        return f"unsupported: {dev.key} has no {precision} support in the catalog"
    return None


def replica_throughput(arch: Arch, dep: Deployment, precision: str, mix: RequestMix, slo: Slo | None = None,
                       opts: ServingOptions | None = None, coeffs: Coefficients | None = None,
                       neuron_supported: bool = True) -> ReplicaPerf:
    """Sustainable throughput of one replica with continuous batching, and one request at a time."""
    o = opts or ServingOptions()
    c = coeffs or default_coefficients()
    s = slo or Slo()
    mem = plan_memory(arch, dep, precision, o.kv_precision, o.memory)
    base = dict(deployment=dep.label, precision=precision, tp=dep.tp,
                replicas_per_instance=dep.replicas_per_instance, memory=mem)
    reason = precision_reason(arch, dep, precision, neuron_supported) or mem.infeasible_reason(mix.max_context)
    if reason:
        return ReplicaPerf(feasible=False, reason=reason, **base)  # type: ignore[arg-type]
    kvp = o.kv_precision
    occupancy = mix.mean_context if o.admission == "paged" else mix.max_context
    max_batch = min(mem.max_batch(occupancy), o.max_num_seqs)
    b = np.arange(1, max_batch + 1, dtype=float)
    step = decode_step_seconds(arch, dep, c, precision, kvp, b, mix.mean_context)
    marginal = float(prefill_marginal_seconds(arch, dep, c, precision, kvp, mix.new_input_tokens,
                                              mix.cached_input_tokens))
    alone = float(prefill_seconds(arch, dep, c, precision, kvp, 1, mix.new_input_tokens, mix.cached_input_tokens))
    period = step + b / mix.output_tokens * marginal
    tps = b / period
    ttft = alone + step
    ok = np.ones_like(b, dtype=bool)
    if s.tpot_ms is not None:
        ok &= period * 1e3 <= s.tpot_ms
    if s.ttft_ms is not None:
        ok &= ttft * 1e3 <= s.ttft_ms
    single_time = alone + mix.output_tokens * step[0]
    single = {"tokens_per_s": mix.output_tokens / single_time, "ttft_ms": alone * 1e3, "tpot_ms": step[0] * 1e3,
              "requests_per_s": 1.0 / single_time}
    base.update(max_batch=max_batch, prefill_ms=alone * 1e3, single=single)
    if not ok.any():
        parts = []
        if s.tpot_ms is not None and period[0] * 1e3 > s.tpot_ms:
            parts.append(f"TPOT {period[0] * 1e3:.1f} ms > {s.tpot_ms:g} ms")
        if s.ttft_ms is not None and ttft[0] * 1e3 > s.ttft_ms:
            parts.append(f"TTFT {ttft[0] * 1e3:.0f} ms > {s.ttft_ms:g} ms")
        return ReplicaPerf(feasible=False, reason="misses the target even one request at a time: " + ", ".join(parts),
                           **base)  # type: ignore[arg-type]
    i = int(np.argmax(np.where(ok, tps, -1.0)))  # best throughput among batches meeting the target
    return ReplicaPerf(
        feasible=True, reason=None, batch=int(b[i]), decode_step_ms=float(step[i] * 1e3), ttft_ms=float(ttft[i] * 1e3),
        tpot_ms=float(period[i] * 1e3), tokens_per_s=float(tps[i]), requests_per_s=float(tps[i] / mix.output_tokens),
        ratio_vs_single=float(tps[i] / single["tokens_per_s"]), **base)  # type: ignore[arg-type]


def expected_max(samples: np.ndarray, batch: int) -> float:
    """E[max of `batch` independent draws] from an empirical distribution (exact, vectorised)."""
    v = np.sort(np.asarray(samples, dtype=float))
    n = len(v)
    cdf = np.arange(1, n + 1) / n
    prev = np.arange(0, n) / n
    return float(np.sum(v * (cdf**batch - prev**batch)))


def static_batch_throughput(arch: Arch, dep: Deployment, precision: str, mix: RequestMix, batch: int,
                            opts: ServingOptions | None = None, coeffs: Coefficients | None = None) -> float:
    """Output tokens/s with static batching: each batch prefills together and decodes until its longest
    request ends (finished slots idle). Needs `mix.output_samples` for the longest-output expectation."""
    o = opts or ServingOptions()
    c = coeffs or default_coefficients()
    samples = np.asarray(mix.output_samples if mix.output_samples else [mix.output_tokens])
    longest = expected_max(samples, batch)
    steps = np.arange(int(np.ceil(longest)), dtype=float)
    step = decode_step_seconds(arch, dep, c, precision, o.kv_precision, batch, mix.input_tokens + steps)
    prefill = float(prefill_seconds(arch, dep, c, precision, o.kv_precision, batch, mix.new_input_tokens,
                                    mix.cached_input_tokens))
    return float(batch * samples.mean() / (prefill + step.sum()))
