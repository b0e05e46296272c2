"""Self-hosting candidates and what one instance of each serves on this traffic's request shape.

Capacity comes from the throughput model (`inferplan.perf`: the sustained point of continuous batching under
the TPOT/TTFT target, best tensor-parallel degree on the instance), or from the user: `replica_rps` (a load
test: requests per second one instance sustains), or prefill/decode tokens per second (then one request costs
new-input/prefill + output/decode seconds of an instance). Candidates, when not named, are the catalog's
open-weights twins of the Bedrock models in the traffic (`model_specs.bedrock_model`, `bedrock_models.
open_weights`) on the cheapest instance types `rightsize` finds for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..catalog import Catalog
from ..catalog.schema import ModelSpec
from ..demand import DemandSeries
from ..errors import ConfigError
from ..perf import RequestMix, Slo, rightsize
from ..perf.api import best_on_instance
from .spec import CompareSpec

# Models up to this size (billions of parameters) also get CPU (Graviton) candidates, the cheapest per token and the
# cheapest per hour: a CPU instance costs more per token at full use but far less per hour, which wins on light
# traffic.
SMALL_MODEL_B = 4.0


@dataclass
class Capacity:
    """One self-hosting candidate: a model at a precision on an instance type, and what one instance serves."""

    spec: str
    instance: str
    precision: str
    groups: np.ndarray  # indices of the demand groups it serves
    feasible: bool
    reason: str | None = None
    rps: float = 0.0  # requests per second one instance sustains
    slots: int = 1  # sequences in flight per instance at that point (continuous batching)
    base_ttft_ms: float | None = None  # TTFT with no queue
    tp: int | None = None
    replicas_per_instance: int = 1
    source: str = "throughput model"
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.spec} {self.precision} on {self.instance}"

    @property
    def service_s(self) -> float:
        """Mean seconds a request holds a slot: slots / throughput (Little's law at the sustained point)."""
        return self.slots / self.rps if self.rps > 0 else float("inf")


def mix_of(demand: DemandSeries, groups: np.ndarray) -> RequestMix:
    req = float(demand.requests[groups].sum())
    if req <= 0:
        raise ConfigError("the traffic to self-host has no requests")
    tin = float(demand.input_total[groups].sum())
    pre = float(demand.input_tokens[groups].sum())
    out = float(demand.output_tokens[groups].sum())
    return RequestMix(input_tokens=max(tin / req, 1.0), output_tokens=max(out / req, 1.0),
                      prefix_hit=min(max(1.0 - pre / tin, 0.0), 1.0) if tin > 0 else 0.0)


def capacity_of(cat: Catalog, spec: ModelSpec, instance: str, precision: str, mix: RequestMix, slo: Slo,
                groups: np.ndarray, cs: CompareSpec) -> Capacity:
    """What one instance of `instance` serves for `mix` under `slo` (or the user's figures)."""
    inst = cat.ec2(instance)
    base = dict(spec=spec.spec, instance=instance, precision=precision, groups=groups)
    if cs.replica_rps is not None:
        return Capacity(**base, feasible=True, rps=cs.replica_rps,  # type: ignore[arg-type]
                        slots=max(1, int(round(cs.replica_rps * _user_service_s(mix, cs)))),
                        source="--replica-rps", notes=["capacity from --replica-rps (your load test); queue "
                                                       "waits are measured against the whole TTFT target"])
    if cs.prefill_tokens_per_s is not None or cs.decode_tokens_per_s is not None:
        if cs.prefill_tokens_per_s is None or cs.decode_tokens_per_s is None:
            raise ConfigError("give both prefill_tokens_per_s and decode_tokens_per_s in the scenario, or neither")
        per_req = mix.new_input_tokens / cs.prefill_tokens_per_s + mix.output_tokens / cs.decode_tokens_per_s
        return Capacity(**base, feasible=True, rps=1.0 / per_req,  # type: ignore[arg-type]
                        slots=max(1, int(round(_user_service_s(mix, cs) / per_req))),
                        source="scenario tokens/s", notes=["capacity from the scenario's prefill/decode tokens/s"])
    perf = best_on_instance(cat, spec, inst, precision, mix, slo)
    if not perf.feasible:
        return Capacity(**base, feasible=False, reason=perf.reason)  # type: ignore[arg-type]
    return Capacity(**base, feasible=True, rps=perf.instance_requests_per_s,  # type: ignore[arg-type]
                    slots=perf.batch * perf.replicas_per_instance, base_ttft_ms=perf.ttft_ms, tp=perf.tp,
                    replicas_per_instance=perf.replicas_per_instance)


def _user_service_s(mix: RequestMix, cs: CompareSpec) -> float:
    """A request's time in a slot when the user gave throughput only: output tokens at the TPOT target."""
    return mix.output_tokens * cs.slo_tpot_ms / 1000.0


def self_host_models(cat: Catalog, demand: DemandSeries, cs: CompareSpec) -> tuple[list[tuple[ModelSpec, np.ndarray]],
                                                                                     list[str]]:
    """Which open-weights model would serve which groups, and notes on the traffic no model can take."""
    n = len(demand.groups)
    if cs.self_host:
        return [(cat.model_spec(s), np.arange(n)) for s in cs.self_host], []
    twins: dict[str, str] = {}
    for spec in cat.model_specs.values():
        if spec.bedrock_model:
            twins.setdefault(spec.bedrock_model, spec.spec)
    for m in cat.bedrock_models.values():
        if m.open_weights:
            twins[m.model] = m.open_weights
    out: list[tuple[ModelSpec, np.ndarray]] = []
    notes: list[str] = []
    models = demand.model
    for model in dict.fromkeys(models):
        idx = np.array([i for i, m in enumerate(models) if m == model], np.int64)
        if model in twins and twins[model] in cat.model_specs:
            out.append((cat.model_specs[twins[model]], idx))
        else:
            notes.append(f"{model}: no open-weights twin in the catalog, so its traffic stays on Bedrock in every "
                         "self-hosted option; pass --self-host SPEC (e.g. llama-3.3-70b) to cost a replacement")
    return out, notes


def candidates(cat: Catalog, demand: DemandSeries, cs: CompareSpec) -> tuple[list[Capacity], list[str]]:
    """Self-hosting candidates (feasible first), with notes on what was left out."""
    slo = Slo(ttft_ms=cs.slo_ttft_ms, tpot_ms=cs.slo_tpot_ms)
    models, notes = self_host_models(cat, demand, cs)
    out: list[Capacity] = []
    for spec, groups in models:
        mix = mix_of(demand, groups)
        if cs.instance:
            names = list(cs.instance)
        elif cs.replica_rps is not None:
            raise ConfigError("--replica-rps is what one replica of one instance type serves: pass --instance too")
        else:
            # a wider pool than kept: rightsize ranks at full use, compare keeps the cheapest on this traffic
            ranked = rightsize(cat, spec, mix, slo, cs.precision, cs.purchase, top=max(3 * cs.candidates, 8))
            names = [r["instance"] for r in ranked.ranked]
            if spec.params_b_total <= SMALL_MODEL_B:  # Graviton for small models: cheap when traffic is light
                cpu = [r["instance"] for r in [*ranked.ranked, *ranked.rejected] if "usd_per_mtok" in r
                       and cat.accelerators.get(r["accelerator"]) is not None
                       and cat.accelerators[r["accelerator"]].kind == "cpu"]
                if cpu:  # the cheapest per token at full use and the cheapest per hour
                    by_hour = min(cpu, key=lambda i: cat.ec2(i).on_demand_usd_per_hour)
                    names += [c for c in dict.fromkeys([cpu[0], by_hour]) if c not in names]
            if not names:
                why = "; ".join(f"{r['instance']}: {r['reason']}" for r in ranked.rejected[:3])
                notes.append(f"{spec.spec} ({cs.precision}): no instance type serves it within TTFT "
                             f"{cs.slo_ttft_ms:g} ms / TPOT {cs.slo_tpot_ms:g} ms ({why})")
        for name in names:
            out.append(capacity_of(cat, spec, name, cs.precision, mix, slo, groups, cs))
    return out, notes
