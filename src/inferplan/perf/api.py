"""The small API other modules (fleet, economics, advisor) use: names in, ReplicaPerf and prices out."""

from __future__ import annotations

from ..catalog import Catalog, load_catalog
from ..catalog.schema import Ec2Instance, ModelSpec
from .arch import Arch
from .coefficients import Coefficients
from .cost import cost_table
from .hardware import Deployment, deployment_for_instance, tp_options
from .serving import ReplicaPerf, RequestMix, ServingOptions, Slo
from .serving import replica_throughput as _replica_throughput


def _spec(cat: Catalog, spec: ModelSpec | str) -> ModelSpec:
    return spec if isinstance(spec, ModelSpec) else cat.model_spec(spec)


def _instance(cat: Catalog, instance: Ec2Instance | str) -> Ec2Instance:
    return instance if isinstance(instance, Ec2Instance) else cat.ec2(instance)


def perf_on(cat: Catalog, spec: ModelSpec, dep: Deployment, precision: str, mix: RequestMix, slo: Slo | None,
            opts: ServingOptions | None = None, coeffs: Coefficients | None = None) -> ReplicaPerf:
    return _replica_throughput(Arch.from_spec(spec), dep, precision, mix, slo, opts, coeffs,
                               neuron_supported=spec.neuron_supported)


def best_on_instance(cat: Catalog, spec: ModelSpec, inst: Ec2Instance, precision: str, mix: RequestMix,
                     slo: Slo | None, opts: ServingOptions | None = None, coeffs: Coefficients | None = None,
                     tp: int | None = None) -> ReplicaPerf:
    """The tensor-parallel degree that serves the most tokens per instance (or `tp`), and its performance.
    When none is feasible, the reason of the widest group (the most memory) is returned."""
    degrees = [tp] if tp is not None else tp_options(inst.accelerator_count)
    perfs = [perf_on(cat, spec, deployment_for_instance(cat, inst, t), precision, mix, slo, opts, coeffs)
             for t in degrees]
    ok = [p for p in perfs if p.feasible]
    if ok:
        return max(ok, key=lambda p: p.instance_tokens_per_s)
    return perfs[-1]


def replica_throughput(spec: ModelSpec | str, instance: Ec2Instance | str, precision: str = "bf16",
                       mix: RequestMix | None = None, slo: Slo | None = None, *, catalog: Catalog | None = None,
                       tp: int | None = None, opts: ServingOptions | None = None,
                       coeffs: Coefficients | None = None) -> ReplicaPerf:
    """What one replica of `spec` serves on `instance` (best tensor-parallel degree unless `tp` is given).

    `mix` defaults to 1,024 input and 256 output tokens per request.
    """
    cat = catalog or load_catalog(warn_stale=False)
    m = mix or RequestMix(input_tokens=1024, output_tokens=256)
    return best_on_instance(cat, _spec(cat, spec), _instance(cat, instance), precision, m, slo, opts, coeffs, tp)


def usd_per_mtok(perf: ReplicaPerf, instance: Ec2Instance | str, *, catalog: Catalog | None = None,
                 ) -> dict[str, dict[str, float | None]]:
    """Per purchase option: $/hour, $ per million output tokens and per million requests at full use of the
    instance (all its replicas)."""
    cat = catalog or load_catalog(warn_stale=False)
    inst = _instance(cat, instance)
    return cost_table(cat, inst, perf.instance_tokens_per_s, perf.instance_requests_per_s)
