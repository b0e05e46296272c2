"""Architecture arithmetic: parameters, bytes and FLOPs of a decoder-only transformer from its ModelSpec.

Everything is derived from the shape (layers, hidden size, heads, KV heads, head dim, intermediate size,
vocabulary, experts), not from the marketed parameter count, so that the time model reads exactly the weights a
forward pass reads. The marketed `params_b_total` is used only for memory (it includes the input embedding).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..catalog.schema import ModelSpec
from ..errors import ConfigError

# Quantised checkpoints (ModelOpt FP8, vLLM FP8, AWQ/GPTQ int4, ...) keep the input embedding and the vocabulary
# head in 16-bit: only the transformer layers' matmuls are quantised.
VOCAB_BYTES = 2.0
# Bytes per stored value for each precision. int4 carries one fp16 scale and one fp16 zero point per group of
# 128 weights (AWQ/GPTQ default): 0.5 + 4/128 bytes per weight.
PRECISION_BYTES: dict[str, float] = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5 + 4 / 128}
PRECISIONS = tuple(PRECISION_BYTES)


def precision_bytes(precision: str) -> float:
    try:
        return PRECISION_BYTES[precision.lower()]
    except KeyError:
        raise ConfigError(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}") from None


@dataclass(frozen=True)
class Arch:
    """The counts of one model that the memory and time models need (per full model, before any split)."""

    name: str
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    intermediate: int
    vocab: int
    experts: int = 1
    experts_active: int = 1
    params_total: float = 0.0  # marketed parameter count (memory); 0 means derive from the shape

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> Arch:
        return cls(name=spec.spec, layers=spec.layers, hidden=spec.hidden_size, heads=spec.attention_heads,
                   kv_heads=spec.kv_heads, head_dim=spec.head_dim, intermediate=spec.intermediate_size,
                   vocab=spec.vocab_size, experts=spec.experts, experts_active=spec.experts_active,
                   params_total=spec.params_b_total * 1e9)

    # ---- parameters -----------------------------------------------------------------------------------
    @property
    def attn_params(self) -> int:
        """q, k, v and output projections of one layer."""
        return self.hidden * (self.heads + 2 * self.kv_heads) * self.head_dim + self.heads * self.head_dim * self.hidden

    @property
    def expert_params(self) -> int:
        """Gate, up and down projections of one (SwiGLU) expert."""
        return 3 * self.hidden * self.intermediate

    @property
    def head_params(self) -> int:
        """The vocabulary projection (read once per step; the input embedding is a row lookup)."""
        return self.vocab * self.hidden

    @property
    def layer_params_total(self) -> int:
        return self.attn_params + self.experts * self.expert_params

    @property
    def memory_params(self) -> float:
        """Parameters held in memory: the marketed count when known (embeddings included)."""
        derived = self.layers * self.layer_params_total + 2 * self.head_params
        return self.params_total if self.params_total > 0 else float(derived)

    @property
    def vocab_matrices(self) -> int:
        """Vocabulary-sized matrices held in memory: 2 (embedding and head), or 1 when the marketed parameter
        count shows them tied."""
        if self.params_total <= 0:
            return 2
        two = self.layers * self.layer_params_total + 2 * self.head_params
        return 2 if abs(self.params_total - two) <= abs(self.params_total - (two - self.head_params)) else 1

    def weight_bytes(self, precision: str) -> float:
        """Bytes of weights held in memory at a weight precision (vocabulary matrices at 16-bit at most)."""
        pb = precision_bytes(precision)
        vocab = self.vocab_matrices * self.head_params
        return (self.memory_params - vocab) * pb + vocab * max(pb, VOCAB_BYTES)

    def experts_touched(self, batch: np.ndarray | float) -> np.ndarray:
        """Expected distinct experts one MoE layer reads for `batch` tokens routed uniformly, k per token."""
        b = np.asarray(batch, dtype=float)
        if self.experts == 1:
            return np.ones_like(b)
        e, k = self.experts, self.experts_active
        return e * (1.0 - (1.0 - k / e) ** b)

    def weight_params_read(self, batch: np.ndarray | float) -> np.ndarray:
        """Matmul weights one forward step reads for `batch` tokens (all layers plus the vocabulary head)."""
        touched = self.experts_touched(batch)
        return self.layers * (self.attn_params + touched * self.expert_params) + self.head_params

    @property
    def active_params_per_token(self) -> int:
        """Matmul parameters one token multiplies through, vocabulary head excluded."""
        return self.layers * (self.attn_params + self.experts_active * self.expert_params)

    # ---- KV cache ---------------------------------------------------------------------------------------
    def kv_values_per_token(self) -> int:
        """K and V values cached per token over all layers."""
        return 2 * self.layers * self.kv_heads * self.head_dim

    # ---- FLOPs ------------------------------------------------------------------------------------------
    def attn_flops(self, query_tokens: np.ndarray | float, context: np.ndarray | float) -> np.ndarray:
        """QK^T and AV FLOPs for `query_tokens` each attending over `context` keys, all layers."""
        return 4.0 * np.asarray(query_tokens, dtype=float) * np.asarray(context, dtype=float) \
            * self.heads * self.head_dim * self.layers
