"""Efficiency factors of the time model, and where each came from.

The fitted factors are written by `python -m inferplan.perf.fit` (or `bench/perf_validation.py --refit`) into
`_fitted.py` beside this file, from the H100 calibration measurements; they are never typed in. Two groups are
priors, named as such, because no measurement here constrains them: tensor-parallel collective cost (the
calibration is one GPU) and the scale that carries the fitted GPU factors to CPUs.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field


class Coefficients(BaseModel):
    """Everything the time model needs besides the hardware specs and the architecture."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # decode (one step of `batch` sequences), fitted on the calibration decode rows
    bw_eff_weights: float = Field(gt=0, le=1.2, description="achieved / peak bandwidth reading weights")
    bw_eff_kv: float = Field(gt=0, le=1.2, description="achieved / peak bandwidth reading the KV cache")
    compute_eff_decode: float = Field(gt=0, le=1.2, description="achieved / peak dense FLOPs in decode GEMMs")
    decode_s_per_layer: float = Field(ge=0, description="fixed time per layer per step (kernel floor)")
    decode_s_fixed: float = Field(ge=0, description="fixed time per step (head, sampling, graph launch)")
    # prefill, fitted on the calibration prefill rows
    compute_eff_prefill: float = Field(gt=0, le=1.2, description="achieved / peak FLOPs in prefill GEMMs")
    compute_eff_prefill_attn: float = Field(gt=0, le=1.2, description="achieved / peak FLOPs in prefill attention")
    eager_s_per_layer: float = Field(ge=0, description="host launch time per layer of an eager (ungraphed) pass")
    eager_s_fixed: float = Field(ge=0, description="host launch time per eager pass")
    # priors (not fitted: no multi-device measurements); validated only through the published TP rows
    allreduce_latency_s: float = Field(ge=0, description="fixed latency of one all-reduce across devices")
    link_eff: float = Field(gt=0, le=1, description="achieved / listed interconnect bandwidth in all-reduce")
    # per accelerator kind: multiplier on the bandwidth and compute efficiencies above
    kind_eff: dict[str, float] = Field(default_factory=lambda: {"gpu": 1.0})
    kind_s_per_layer: dict[str, float] = Field(default_factory=dict,
                                               description="per-layer step floor by kind, overriding the fitted one")
    provenance: dict[str, str] = Field(default_factory=dict)

    def eff_scale(self, kind: str) -> float:
        return self.kind_eff.get(kind, 1.0)

    def s_per_layer(self, kind: str) -> float:
        return self.kind_s_per_layer.get(kind, self.decode_s_per_layer)


@lru_cache(maxsize=1)
def default_coefficients() -> Coefficients:
    """The coefficients shipped with the package (fitted by `inferplan.perf.fit`)."""
    from ._fitted import FITTED

    return Coefficients.model_validate(FITTED)
