"""`inferplan perf` (what one replica serves) and `inferplan rightsize` (cheapest instance types for a model)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from ..catalog import Catalog, load_catalog
from ..errors import ConfigError
from ..perf import (
    OPTION_NAMES,
    Arch,
    RequestMix,
    ServingOptions,
    Slo,
    cost_table,
    decode_step_seconds,
    default_coefficients,
    deployment_for_accelerator,
    deployment_for_instance,
    perf_on,
    plan_memory,
    rightsize,
)
from ..perf.api import best_on_instance
from ..perf.arch import precision_bytes
from ..perf.expected import expected_error
from ..perf.serving import precision_reason
from ..report import write_json
from ._common import CatalogOpt, JsonOpt, app, friendly, out

DEFAULT_INPUT, DEFAULT_OUTPUT = 1024, 256
ModelOpt = Annotated[str, typer.Option("--model", "-m", help="Model spec key or Bedrock id (llama-3.1-8b).")]
PrecisionOpt = Annotated[str, typer.Option(help="Weight precision: bf16, fp16, fp8, int8, int4.")]
KvOpt = Annotated[str, typer.Option("--kv-precision", help="KV cache precision: bf16 or fp8.")]
InputOpt = Annotated[int | None, typer.Option("--input", help="Mean input tokens per request.")]
OutputOpt = Annotated[int | None, typer.Option("--output", help="Mean output tokens per request.")]
PrefixOpt = Annotated[float, typer.Option("--prefix-hit", help="Share of input tokens found in a prefix cache.")]
SeqsOpt = Annotated[int, typer.Option("--max-num-seqs", help="Scheduler cap on sequences in flight (vLLM default "
                                      "256; TensorRT-LLM: the engine's max batch size).")]
AdmissionOpt = Annotated[str, typer.Option(help="KV admission: paged (vLLM: current context) or reserve "
                                                "(TensorRT-LLM guaranteed-no-evict: input + output).")]


def _serving(kv_precision: str, max_num_seqs: int, admission: str) -> ServingOptions:
    if admission not in ("paged", "reserve"):
        raise ConfigError(f"--admission must be paged or reserve, not {admission!r}")
    if max_num_seqs < 1:
        raise ConfigError("--max-num-seqs must be at least 1")
    return ServingOptions(kv_precision=kv_precision, max_num_seqs=max_num_seqs, admission=admission)  # type: ignore[arg-type]


def _slo(ttft_ms: float | None, tpot_ms: float | None) -> Slo:
    """0 means no limit."""
    return Slo(ttft_ms=ttft_ms or None, tpot_ms=tpot_ms or None)


def _expected(cat: Catalog, where: str, tp: int) -> dict[str, Any] | None:
    """The model's validated throughput error there (inferplan.perf.expected_error), without the raw errors."""
    try:
        e = expected_error(where, tp, catalog=cat)
    except ConfigError:
        return None  # no measurements for this kind (CPUs): the output says nothing rather than guessing
    return {k: e[k] for k in ("median_abs_err", "p90_abs_err", "n", "basis", "validated")}


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}"
    return str(v)


def _batch_mode(cat: Catalog, spec_key: str, dep: Any, precision: str, kv: str, batch: int, context: int
                ) -> dict[str, Any]:
    """Decode step of a fixed batch and context (no request mix)."""
    spec = cat.model_spec(spec_key)
    arch = Arch.from_spec(spec)
    precision_bytes(precision)
    mem = plan_memory(arch, dep, precision, kv)
    res: dict[str, Any] = {"model": spec.spec, "deployment": dep.label, "precision": precision, "kv_precision": kv,
                           "tp": dep.tp, "replicas_per_instance": dep.replicas_per_instance, "batch": batch,
                           "context": context, "memory": mem.as_dict(), "max_batch": mem.max_batch(context)}
    reason = precision_reason(arch, dep, precision, spec.neuron_supported) or mem.infeasible_reason(context)
    if reason is None and batch > res["max_batch"]:
        reason = f"does not fit: batch {batch} exceeds the largest batch {res['max_batch']} at context {context}"
    res.update(feasible=reason is None, reason=reason)
    if reason:
        return res
    step = float(decode_step_seconds(arch, dep, default_coefficients(), precision, kv, batch, context))
    res.update(decode_step_ms=step * 1e3, tokens_per_s=batch / step,
               instance_tokens_per_s=batch / step * dep.replicas_per_instance)
    if dep.instance is not None:
        costs = cost_table(cat, dep.instance, res["instance_tokens_per_s"], 0.0)
        res["usd_per_mtok"] = {k: v["usd_per_mtok"] for k, v in costs.items()}
        res["usd_per_hour"] = {k: v["usd_per_hour"] for k, v in costs.items()}
    return res


@app.command("perf")
@friendly
def perf_cmd(
    model: ModelOpt,
    instance: Annotated[str | None, typer.Option(help="EC2 instance type (g6e.xlarge, p5.48xlarge).")] = None,
    accelerator: Annotated[str | None, typer.Option(help="Accelerator key (h100, a10g, inferentia2).")] = None,
    count: Annotated[int, typer.Option(help="Accelerators in the replica (with --accelerator).")] = 1,
    tp: Annotated[int | None, typer.Option(help="Tensor-parallel degree on the instance (default: best).")] = None,
    precision: PrecisionOpt = "bf16",
    kv_precision: KvOpt = "bf16",
    batch: Annotated[int | None, typer.Option(help="Sequences in flight (with --context).")] = None,
    context: Annotated[int | None, typer.Option(help="Cached tokens per sequence (with --batch).")] = None,
    input_tokens: InputOpt = None,
    output_tokens: OutputOpt = None,
    prefix_hit: PrefixOpt = 0.0,
    ttft_ms: Annotated[float | None, typer.Option("--ttft-ms", help="Time-to-first-token target.")] = None,
    tpot_ms: Annotated[float | None, typer.Option("--tpot-ms", help="Time-per-output-token target.")] = None,
    max_num_seqs: SeqsOpt = 256,
    admission: AdmissionOpt = "paged",
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """What one replica of a model serves: memory, step times, throughput, cost per million tokens."""
    if (instance is None) == (accelerator is None):
        raise ConfigError("give exactly one of --instance or --accelerator")
    if (batch is None) != (context is None):
        raise ConfigError("--batch and --context go together")
    if batch is not None and (input_tokens is not None or output_tokens is not None):
        raise ConfigError("use either --batch/--context or --input/--output, not both")
    cat = load_catalog(catalog)
    inst = cat.ec2(instance) if instance else None
    if accelerator:
        dep = deployment_for_accelerator(cat, accelerator, count)
    elif inst is not None and (tp is not None or batch is not None):
        dep = deployment_for_instance(cat, inst, tp)  # a fixed batch runs on the whole instance unless --tp
    else:
        dep = None  # best tensor-parallel degree on the instance
    if batch is not None and context is not None:
        assert dep is not None
        res = _batch_mode(cat, model, dep, precision, kv_precision, batch, context)
    else:
        mix = RequestMix(input_tokens=input_tokens or DEFAULT_INPUT, output_tokens=output_tokens or DEFAULT_OUTPUT,
                         prefix_hit=prefix_hit)
        spec = cat.model_spec(model)
        precision_bytes(precision)
        opts = _serving(kv_precision, max_num_seqs, admission)
        slo = _slo(ttft_ms, tpot_ms)
        if dep is None:
            assert inst is not None
            perf = best_on_instance(cat, spec, inst, precision, mix, slo, opts)
        else:
            perf = perf_on(cat, spec, dep, precision, mix, slo, opts)
        res = {"model": spec.spec, "mix": mix.model_dump(exclude={"output_samples"}), "slo": slo.model_dump(),
               **perf.as_dict()}
        if inst is not None and perf.feasible:
            costs = cost_table(cat, inst, perf.instance_tokens_per_s, perf.instance_requests_per_s)
            res["usd_per_mtok"] = {k: v["usd_per_mtok"] for k, v in costs.items()}
            res["usd_per_mreq"] = {k: v["usd_per_mreq"] for k, v in costs.items()}
            res["usd_per_hour"] = {k: v["usd_per_hour"] for k, v in costs.items()}
        if perf.feasible:
            res["expected_error"] = _expected(cat, inst.instance if inst else dep.device.key, perf.tp)
    if json_out:
        write_json(res, "perf")
        return
    t = Table(title=f"{res['model']} on {res['deployment']} ({res['precision']})", title_justify="left",
              show_header=False)
    t.add_column("what")
    t.add_column("value")
    for k, v in res.items():
        if k in ("model", "deployment", "precision"):
            continue
        if isinstance(v, dict):
            v = ", ".join(f"{kk}={_fmt(vv)}" for kk, vv in v.items())
        t.add_row(k, _fmt(v))
    out.print(t)


@app.command("rightsize")
@friendly
def rightsize_cmd(
    model: ModelOpt,
    ttft_ms: Annotated[float, typer.Option("--ttft-ms", help="Time-to-first-token target (0: none).")] = 2000.0,
    tpot_ms: Annotated[float, typer.Option("--tpot-ms", help="Time-per-output-token target (0: none).")] = 50.0,
    input_tokens: InputOpt = None,
    output_tokens: OutputOpt = None,
    prefix_hit: PrefixOpt = 0.0,
    precision: PrecisionOpt = "bf16",
    kv_precision: KvOpt = "bf16",
    purchase: Annotated[str, typer.Option(help=f"Rank by this price: {', '.join(OPTION_NAMES)}.")] = "on-demand",
    top: Annotated[int, typer.Option(help="How many instance types to rank.")] = 5,
    max_num_seqs: SeqsOpt = 256,
    admission: AdmissionOpt = "paged",
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Cheapest instance types for a model under a latency target, ranked by $ per million output tokens."""
    cat = load_catalog(catalog)
    spec = cat.model_spec(model)
    precision_bytes(precision)
    mix = RequestMix(input_tokens=input_tokens or DEFAULT_INPUT, output_tokens=output_tokens or DEFAULT_OUTPUT,
                     prefix_hit=prefix_hit)
    res = rightsize(cat, spec, mix, _slo(ttft_ms, tpot_ms), precision, purchase, top,
                    opts=_serving(kv_precision, max_num_seqs, admission))
    if json_out:
        write_json(res.as_dict(), "rightsize")
        return
    render_rightsizing(res.as_dict())


def render_rightsizing(d: dict[str, Any]) -> None:
    slo = d["slo"]
    title = (f"{d['model']} ({d['precision']}), {d['mix']['input_tokens']:g} in / {d['mix']['output_tokens']:g} out, "
             f"TTFT <= {slo['ttft_ms'] or '-'} ms, TPOT <= {slo['tpot_ms'] or '-'} ms; ranked by {d['ranked_by']}")
    t = Table(title=title, title_justify="left")
    for col in ("#", "instance", "devices", "tp x replicas", "batch", "TTFT ms", "TPOT ms", "tok/s",
                *[f"$/Mtok {o}" for o in OPTION_NAMES]):
        t.add_column(col, justify="right" if col not in ("instance", "devices") else "left")
    for i, r in enumerate(d["ranked"], start=1):
        t.add_row(str(i), r["instance"], f"{r['count']}x {r['accelerator']}", f"{r['tp']} x {r['replicas']}",
                  str(r["batch"]), f"{r['ttft_ms']:.0f}", f"{r['tpot_ms']:.1f}", f"{r['tokens_per_s']:,.0f}",
                  *[_fmt(r["usd_per_mtok"][o]) for o in OPTION_NAMES])
    out.print(t)
    rj = Table(title="rejected", title_justify="left")
    rj.add_column("instance")
    rj.add_column("reason")
    for r in d["rejected"]:
        rj.add_row(r["instance"], r["reason"])
    out.print(rj)
