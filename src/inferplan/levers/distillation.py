"""Distillation (the guide's step 2, its hybrid): a small student serves the narrow, high-volume share of a call
type; the frontier model on Bedrock keeps the rest.

- Monthly: the student's serving cost on `share` of the call type's demand series (`compare`, self-hosted,
  idle included) plus the ongoing engineering of that option (`economics.tco`), against the call type's Bedrock
  spend after the workload levers times `share`.
- One-time: teacher outputs for `examples` of this call type's own requests (drawn from the logs, seeded),
  priced on the teacher model's **batch** tier by the one rate card (`inferplan.pricing`); fine-tuning
  GPU-hours = 6 x student parameters x training tokens x epochs / (the instance's peak bf16 FLOP/s x `mfu`),
  at the catalog's on-demand price of `train_instance`; and engineering weeks (the distillation pipeline and
  evals, plus the self-hosted option's set-up) at the loaded cost.
- Payback = one-time / monthly saving (none when the student does not save money).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field

from ..catalog import Catalog
from ..economics.tco import TcoOptions, engineering_terms
from ..errors import ConfigError, MissingPriceError
from . import price_table


class DistillationOptions(BaseModel):
    """The scenario's `model_levers: distillation:` section."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    call_type: str | None = Field(default=None, description="default: the largest call type with short answers")
    student: str = Field(default="llama-3.1-8b", description="open-weights model spec of the student")
    share: float = Field(default=0.8, gt=0, le=1, description="share of the call type the student serves (the "
                         "guide: the narrow, repetitive 80%)")
    examples: int = Field(default=10_000, ge=1, description="prompts sent to the teacher for training data")
    epochs: float = Field(default=3.0, gt=0)
    train_instance: str = "p4d.24xlarge"
    mfu: float = Field(default=0.35, gt=0, le=1, description="model FLOPs utilisation while fine-tuning")
    engineering_weeks: float = Field(default=4.0, ge=0, description="distillation pipeline and evals")
    seed: int = 0


def teacher_usd(table: pa.Table, catalog: Catalog, call_type: str, n: int, seed: int) -> tuple[float, dict[str, Any]]:
    """Teacher outputs for `n` of the call type's requests, re-run on Bedrock batch (no prompt cache in batch)."""
    rows = table.filter(pc.equal(table.column("call_type"), call_type))
    if rows.num_rows == 0:
        raise ConfigError(f"distillation: call type {call_type!r} is not in the traffic")
    idx = np.random.default_rng(seed).integers(0, rows.num_rows, n)
    sample = rows.take(pa.array(idx))
    tin = sum(pc.fill_null(sample.column(c), 0).to_numpy(zero_copy_only=False).astype(np.int64)
              for c in ("input_tokens", "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens"))
    zero = pa.array(np.zeros(n, np.int64))
    for c, v in (("input_tokens", pa.array(tin)), ("cache_read_tokens", zero), ("cache_write_5m_tokens", zero),
                 ("cache_write_1h_tokens", zero), ("tier", pa.array(["batch"] * n, pa.string()))):
        sample = sample.set_column(sample.schema.get_field_index(c), c, v.cast(sample.schema.field(c).type))
    model = rows.column("model")[0].as_py()
    try:
        usd, _ = price_table(sample, catalog)
    except MissingPriceError as exc:
        raise MissingPriceError(f"distillation prices the teacher's outputs on Bedrock batch: {exc}") from None
    out_tok = pc.sum(sample.column("output_tokens")).as_py() or 0
    return usd, {"teacher_model": model, "examples": n, "input_tokens": int(tin.sum()), "output_tokens": int(out_tok)}


def finetune(catalog: Catalog, student: str, tokens: float, opts: DistillationOptions) -> dict[str, Any]:
    spec = catalog.model_spec(student)
    inst = catalog.ec2(opts.train_instance)
    if not inst.accelerator:
        raise ConfigError(f"distillation: {opts.train_instance} has no accelerator to fine-tune on")
    acc = catalog.accelerator(inst.accelerator)
    peak = (acc.bf16_tflops or acc.fp16_tflops or 0.0) * 1e12 * inst.accelerator_count
    if peak <= 0:
        raise ConfigError(f"distillation: the catalog has no bf16/fp16 peak for {inst.accelerator}")
    flops = 6.0 * spec.params_b_active * 1e9 * tokens * opts.epochs
    hours = flops / (peak * opts.mfu) / 3600.0
    return {"train_instance": inst.instance, "train_tokens": round(tokens), "epochs": opts.epochs, "mfu": opts.mfu,
            "instance_hours": round(hours, 3), "usd": round(hours * inst.on_demand_usd_per_hour, 2),
            "usd_per_hour": inst.on_demand_usd_per_hour}


def evaluate(table: pa.Table, demand: Any, catalog: Catalog, cs: Any, tco: TcoOptions, call_type: str,
             bedrock_after_monthly: float, opts: DistillationOptions | None = None) -> dict[str, Any]:
    """Student serving cost, one-time cost and payback for one call type (see the module docstring)."""
    from ..serving.compare import compare_demand

    o = opts or DistillationOptions()
    groups = np.flatnonzero([g.call_type == call_type for g in demand.groups])
    if groups.size == 0:
        raise ConfigError(f"distillation: call type {call_type!r} is not in the demand series")
    slice_ = demand.select(groups).scaled(o.share)
    res = compare_demand(slice_, catalog, cs.model_copy(update={"self_host": [o.student], "instance": [],
                                                                  "scale": 1.0, "bedrock_tiers": []}))
    serving = [x for x in res.options if x.kind in ("ec2", "sagemaker-realtime") and x.feasible
               and x.monthly_usd is not None]
    out: dict[str, Any] = {"call_type": call_type, "student": o.student, "share": o.share,
                           "bedrock_after_levers_monthly_usd": round(bedrock_after_monthly, 2)}
    if not serving:
        out.update(feasible=False, reason="; ".join(x.reason or "" for x in res.options if not x.feasible)[:300]
                   or "no self-hosted option for the student", monthly_saving_usd=0.0, payback_months=None)
        return out
    best = min(serving, key=lambda x: x.monthly_usd)
    instance = next((w for w in best.name.replace("(", " ").replace(")", " ").split()
                     if w in catalog.ec2_instances or w in catalog.sagemaker_instances), None)
    terms = engineering_terms(best.kind, instance, tco)
    ongoing = terms["fte"] * tco.usd_per_year / 12 + terms["oncall_usd_per_week"] * 52 / 12
    teacher, tev = teacher_usd(table, catalog, call_type, o.examples, o.seed)
    ft = finetune(catalog, o.student, tev["input_tokens"] + tev["output_tokens"], o)
    eng_weeks = o.engineering_weeks + terms["one_time_weeks"]
    eng_usd = eng_weeks * tco.usd_per_year / 52
    one_time = teacher + ft["usd"] + eng_usd
    monthly_student = best.monthly_usd + ongoing
    saving = o.share * bedrock_after_monthly - monthly_student
    out.update(feasible=True, option=best.name, kind=best.kind,
               student_serving_monthly_usd=round(best.monthly_usd, 2),
               student_engineering_monthly_usd=round(ongoing, 2),
               replaces_bedrock_monthly_usd=round(o.share * bedrock_after_monthly, 2),
               monthly_saving_usd=round(saving, 2),
               one_time={"teacher_outputs_usd": round(teacher, 2), "teacher": tev, "fine_tune": ft,
                         "engineering_weeks": eng_weeks, "engineering_usd": round(eng_usd, 2),
                         "total_usd": round(one_time, 2)},
               payback_months=round(one_time / saving, 2) if saving > 0 else None,
               caveat="the student only matches the teacher on the narrow task it was trained on: measure quality "
                      "on held-out traffic before routing to it")
    return out
