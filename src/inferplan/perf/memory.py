"""Memory of one replica: weights, KV cache, activations, runtime reserve, and the largest batch that fits.

Per device of a tensor-parallel group: weights split evenly over `tp` devices; KV heads split over `tp`
(a group wider than the KV heads replicates them, as vLLM and TensorRT-LLM do); activations sized for one
prefill chunk. A fraction of device memory is held back for the runtime (CUDA context, allocator slack,
NCCL buffers), as serving engines do (vLLM's `gpu_memory_utilization` defaults to 0.9).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from .arch import Arch, precision_bytes
from .hardware import GIB, Deployment


class MemoryOptions(BaseModel):
    """Assumptions about memory use, with their defaults' reasons."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    usable_fraction: float = Field(default=0.9, gt=0, le=1,
                                   description="share of device memory the engine may use (vLLM default 0.9)")
    prefill_chunk_tokens: int = Field(default=2048, gt=0,
                                      description="tokens per prefill chunk (vLLM max_num_batched_tokens)")
    logits_sequences: int = Field(default=256, gt=0, description="sequences whose fp32 logits live at once")
    free_fraction: float | None = Field(default=None, gt=0, le=1,
                                        description="KV cache = this share of the memory left after weights and "
                                                    "activations (TensorRT-LLM's kv_cache_free_gpu_mem_fraction); "
                                                    "None: usable_fraction of the device instead")


@dataclass(frozen=True)
class MemoryPlan:
    """Bytes per device, and how many cached tokens fit beside the weights."""

    device_bytes: float
    usable_bytes: float
    weights_bytes: float
    activation_bytes: float
    kv_bytes_per_token: float
    tp: int
    free_fraction: float | None = None

    @property
    def kv_budget_bytes(self) -> float:
        if self.free_fraction is not None:
            return max(0.0, self.free_fraction * (self.device_bytes - self.weights_bytes - self.activation_bytes))
        return max(0.0, self.usable_bytes - self.weights_bytes - self.activation_bytes)

    @property
    def weights_fit(self) -> bool:
        return self.weights_bytes + self.activation_bytes <= self.usable_bytes

    @property
    def max_cached_tokens(self) -> int:
        """KV cache capacity in tokens, over all sequences of the replica."""
        return int(self.kv_budget_bytes // self.kv_bytes_per_token)

    def max_batch(self, context: float) -> int:
        """Concurrent sequences of `context` tokens each whose KV cache fits."""
        if context <= 0:
            return 0
        return int(self.max_cached_tokens // math.ceil(context))

    def infeasible_reason(self, context: float | None = None) -> str | None:
        """Why nothing runs (weights do not fit, or not one sequence of `context` tokens), or None."""
        per = f"on each of {self.tp} devices" if self.tp > 1 else "on the device"
        if not self.weights_fit:
            return (f"does not fit: weights {self.weights_bytes / GIB:.1f} GiB + activations "
                    f"{self.activation_bytes / GIB:.1f} GiB exceed {self.usable_bytes / GIB:.1f} GiB usable "
                    f"{per} ({self.device_bytes / GIB:.0f} GiB)")
        if context is not None and self.max_batch(context) < 1:
            need = self.kv_bytes_per_token * context
            return (f"does not fit: one sequence of {int(context)} tokens needs {need / GIB:.2f} GiB of KV cache, "
                    f"{self.kv_budget_bytes / GIB:.2f} GiB left {per} after weights")
        return None

    def as_dict(self) -> dict[str, float | int]:
        return {"device_gib": self.device_bytes / GIB, "usable_gib": self.usable_bytes / GIB,
                "weights_gib": self.weights_bytes / GIB, "activation_gib": self.activation_bytes / GIB,
                "kv_budget_gib": self.kv_budget_bytes / GIB, "kv_bytes_per_token": self.kv_bytes_per_token,
                "max_cached_tokens": self.max_cached_tokens, "tp": self.tp}


def heads_per_device(heads: int, tp: int, cores: int = 1) -> int:
    """Heads one device holds when `heads` are sharded over tp x cores shards: a shard holds at least one (KV
    heads are replicated when there are fewer than shards; attention heads are padded to a multiple)."""
    return math.ceil(heads / (tp * cores)) * cores


def kv_bytes_per_token(arch: Arch, kv_precision: str, tp: int = 1, cores: int = 1) -> float:
    """KV cache bytes per cached token on one device of a `tp` group (of `cores` shards each)."""
    return 2 * arch.layers * heads_per_device(arch.kv_heads, tp, cores) * arch.head_dim * precision_bytes(kv_precision)


def activation_bytes(arch: Arch, tp: int, opts: MemoryOptions) -> float:
    """Peak activations of one prefill chunk plus fp32 logits (16-bit activations)."""
    per_token = (4 * arch.hidden
                 + (2 * arch.experts_active * arch.intermediate + (arch.heads + 2 * arch.kv_heads) * arch.head_dim)
                 / tp) * 2
    logits = opts.logits_sequences * arch.vocab * 4 / tp
    return opts.prefill_chunk_tokens * per_token + logits


def plan_memory(arch: Arch, dep: Deployment, precision: str, kv_precision: str = "bf16",
                opts: MemoryOptions | None = None) -> MemoryPlan:
    """Memory of one replica of `arch` on `dep` at a weight precision and a KV precision."""
    o = opts or MemoryOptions()
    return MemoryPlan(
        device_bytes=dep.device.memory_bytes,
        usable_bytes=dep.device.memory_bytes * o.usable_fraction,
        weights_bytes=arch.weight_bytes(precision) / dep.tp,
        activation_bytes=activation_bytes(arch, dep.tp, o),
        kv_bytes_per_token=kv_bytes_per_token(arch, kv_precision, dep.tp, dep.device.cores),
        tp=dep.tp,
        free_fraction=o.free_fraction,
    )
