"""Efficiency factors of the time model, and where each came from.

The fitted factors are written by `python -m inferplan.perf.fit` (or `bench/perf_validation.py --refit`) into
`_fitted.py` beside this file, from measurements; they are never typed in. The top-level factors are fitted to the
H100 calibration (one GPU) and, for the tensor-parallel collectives, to published multi-GPU throughput tables;
`kinds` holds per accelerator kind overrides fitted on that kind's own measurements (Neuron: the Neuron SDK's
published benchmark tables). A kind without overrides (CPUs) runs on the GPU factors: unvalidated.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field


class KindCoefficients(BaseModel):
    """Overrides for one accelerator kind (None: use the top-level factor)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bw_eff_weights: float | None = Field(default=None, gt=0, le=1.2)
    bw_eff_kv: float | None = Field(default=None, gt=0, le=1.2)
    compute_eff_decode: float | None = Field(default=None, gt=0, le=1.2)
    compute_eff_attn_decode: float | None = Field(default=None, gt=0, le=1.2)
    decode_s_per_layer: float | None = Field(default=None, ge=0)
    decode_s_fixed: float | None = Field(default=None, ge=0)
    decode_s_per_seq_layer: float | None = Field(default=None, ge=0)
    compute_eff_prefill: float | None = Field(default=None, gt=0, le=1.2)
    compute_eff_prefill_attn: float | None = Field(default=None, gt=0, le=1.2)
    prefill_s_per_layer: float | None = Field(default=None, ge=0)
    prefill_s_fixed: float | None = Field(default=None, ge=0)
    allreduce_latency_s: float | None = Field(default=None, ge=0)
    link_eff: float | None = Field(default=None, gt=0, le=1)
    allreduce_latency_pcie_s: float | None = Field(default=None, ge=0)
    link_eff_pcie: float | None = Field(default=None, gt=0, le=1)
    context_bucket: bool | None = None


class Coefficients(BaseModel):
    """Everything the time model needs besides the hardware specs and the architecture."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # decode (one step of `batch` sequences), fitted on the calibration decode rows
    bw_eff_weights: float = Field(gt=0, le=1.2, description="achieved / peak bandwidth reading weights")
    bw_eff_kv: float = Field(gt=0, le=1.2, description="achieved / peak bandwidth reading the KV cache")
    compute_eff_decode: float = Field(gt=0, le=1.2, description="achieved / peak dense FLOPs in decode GEMMs")
    compute_eff_attn_decode: float | None = Field(default=None, gt=0, le=1.2,
                                                  description="decode attention FLOPs (None: compute_eff_decode)")
    decode_s_per_layer: float = Field(ge=0, description="fixed time per layer per step (kernel floor)")
    decode_s_fixed: float = Field(ge=0, description="fixed time per step (head, sampling, graph launch)")
    decode_s_per_seq_layer: float = Field(default=0.0, ge=0,
                                          description="time per layer per sequence in the step (batch scaling)")
    # prefill, fitted on the calibration prefill rows
    compute_eff_prefill: float = Field(gt=0, le=1.2, description="achieved / peak FLOPs in prefill GEMMs")
    compute_eff_prefill_attn: float = Field(gt=0, le=1.2, description="achieved / peak FLOPs in prefill attention")
    prefill_s_per_layer: float | None = Field(default=None, ge=0,
                                              description="floor per layer of a prefill (None: the decode one)")
    prefill_s_fixed: float | None = Field(default=None, ge=0,
                                          description="floor per prefill pass (None: the decode one)")
    eager_s_per_layer: float = Field(ge=0, description="host launch time per layer of an eager (ungraphed) pass")
    eager_s_fixed: float = Field(ge=0, description="host launch time per eager pass")
    # tensor-parallel collectives (two all-reduces per layer), fitted on published multi-GPU tables
    allreduce_latency_s: float = Field(ge=0, description="fixed latency of one all-reduce across devices")
    link_eff: float = Field(gt=0, le=1, description="achieved / listed interconnect bandwidth in all-reduce")
    allreduce_latency_pcie_s: float | None = Field(default=None, ge=0,
                                                   description="all-reduce latency over PCIe (None: the NVLink one)")
    link_eff_pcie: float | None = Field(default=None, gt=0, le=1,
                                        description="achieved / listed PCIe bandwidth in all-reduce (None: link_eff)")
    context_bucket: bool = Field(default=False, description="attention runs over power-of-two context buckets "
                                                            "(compiled graphs: Neuron)")
    kinds: dict[str, KindCoefficients] = Field(default_factory=dict, description="per accelerator kind overrides")
    provenance: dict[str, str] = Field(default_factory=dict)

    def for_kind(self, kind: str) -> Coefficients:
        """The factors that apply on one accelerator kind (its overrides over the top-level ones)."""
        over = self.kinds.get(kind)
        if over is None:
            return self
        return _merged(self, kind)

    def collective(self, pcie: bool) -> tuple[float, float]:
        """(all-reduce latency s, achieved share of the listed link bandwidth) over PCIe or NVLink."""
        lat, eff = self.allreduce_latency_s, self.link_eff
        if pcie:
            lat = lat if self.allreduce_latency_pcie_s is None else self.allreduce_latency_pcie_s
            eff = eff if self.link_eff_pcie is None else self.link_eff_pcie
        return lat, eff

    @property
    def attn_eff(self) -> float:
        return self.compute_eff_attn_decode or self.compute_eff_decode

    @property
    def prefill_floor(self) -> tuple[float, float]:
        """(seconds per layer, seconds per pass) of a prefill."""
        per_layer = self.decode_s_per_layer if self.prefill_s_per_layer is None else self.prefill_s_per_layer
        fixed = self.decode_s_fixed if self.prefill_s_fixed is None else self.prefill_s_fixed
        return per_layer, fixed


def _merged(c: Coefficients, kind: str) -> Coefficients:
    over = {k: v for k, v in c.kinds[kind].model_dump().items() if v is not None}
    return c.model_copy(update={**over, "kinds": {}})


@lru_cache(maxsize=1)
def default_coefficients() -> Coefficients:
    """The coefficients shipped with the package (fitted by `inferplan.perf.fit`)."""
    from ._fitted import FITTED

    return Coefficients.model_validate(FITTED)
