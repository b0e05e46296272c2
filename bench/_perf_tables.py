"""Neuron and multi-GPU validation tables for bench/perf_validation.py: every row with its split, the prediction,
the peers' predictions, and the summaries (fit and held-out medians per accelerator and tensor-parallel size)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from inferplan.catalog import Catalog
from inferplan.perf.arch import Arch
from inferplan.perf.coefficients import Coefficients
from inferplan.perf.fit_published import predict_neuron, predict_trtllm, trtllm_serving
from inferplan.perf.neuron_tables import ROWS as NEURON_ROWS
from inferplan.perf.neuron_tables import SOURCE as NEURON_SOURCE
from inferplan.perf.published import spec_for
from inferplan.perf.serving import RequestMix, replica_throughput
from inferplan.perf.trtllm_tables import ROWS as TRT_ROWS
from inferplan.perf.trtllm_tables import SOURCE as TRT_SOURCE


def _err(pred: float | None, meas: float) -> float | None:
    return None if pred is None or not np.isfinite(pred) or pred <= 0 else pred / meas - 1.0


def arch_json(a: Arch) -> dict[str, Any]:
    return {"name": a.name, "layers": a.layers, "hidden": a.hidden, "heads": a.heads, "kv_heads": a.kv_heads,
            "head_dim": a.head_dim, "intermediate": a.intermediate, "vocab": a.vocab}


def device_json(cat: Catalog, key: str) -> dict[str, Any]:
    a = cat.accelerator(key)
    return {"key": key, "memory_gb": a.memory_gib, "bandwidth_gbps": a.memory_bandwidth_gbps,
            "bf16_tflops": a.bf16_tflops or a.fp16_tflops, "fp8_tflops": a.fp8_tflops, "link_gbps": a.interconnect_gbps}


def trt_batch(cat: Catalog, c: Coefficients) -> dict[str, int]:
    """The batch inferplan's engine model runs each TensorRT-LLM row at (given to the peers as a static batch)."""
    out = {}
    for r in TRT_ROWS:
        arch, dep, opts = trtllm_serving(cat, r)
        p = replica_throughput(arch, dep, r.precision, RequestMix(input_tokens=r.input_tokens,
                                                                  output_tokens=r.output_tokens), None, opts, c)
        out[r.key] = p.batch
    return out


def peer_cases(cat: Catalog, c: Coefficients) -> list[dict[str, Any]]:
    """Neuron rows as a decode step at the mean context (TPOT) and a prefill (TTFT); TensorRT-LLM rows as a static
    batch at the batch inferplan's engine model runs (neither peer models continuous batching)."""
    cases = []
    for r in NEURON_ROWS:
        base = {"arch": arch_json(Arch.from_spec(spec_for(cat, r.model))), "device": device_json(cat, r.accelerator),
                "tp": r.chips, "precision": "int8" if r.weights == "int8" else "bf16", "kv_precision": "bf16",
                "batch": r.batch, "output": 1}
        cases.append({**base, "key": f"{r.key}-tpot", "kind": "decode",
                      "input": int(r.input_tokens + r.output_tokens / 2)})
        cases.append({**base, "key": f"{r.key}-ttft", "kind": "prefill", "input": r.input_tokens})
    batches = trt_batch(cat, c)
    for r in TRT_ROWS:
        if batches[r.key] < 1:
            continue
        cases.append({"key": r.key, "kind": "static", "arch": arch_json(Arch.from_spec(cat.model_spec(r.model))),
                      "device": device_json(cat, r.accelerator), "tp": r.tp, "precision": r.precision,
                      "kv_precision": r.kv_precision, "batch": batches[r.key], "input": r.input_tokens,
                      "output": r.output_tokens})
    return cases


def _ms(v: float | None) -> float | None:
    return None if v is None else v * 1e3


def neuron_table(cat: Catalog, c: Coefficients, peers: dict) -> pd.DataFrame:
    recs = []
    for r in NEURON_ROWS:
        p = predict_neuron(cat, r, c)
        pt, pf = peers.get(f"{r.key}-tpot", {}), peers.get(f"{r.key}-ttft", {})
        recs.append({"row": r.key, "instance": r.instance, "accelerator": r.accelerator, "chips": r.chips,
                     "model": r.name, "batch": r.batch, "input": r.input_tokens, "output": r.output_tokens,
                     "release": r.release, "weights": r.weights, "split": "held-out" if r.held_out else "fit",
                     "tpot_ms": r.tpot_ms, "pred_tpot_ms": p.tpot_ms, "tpot_err": _err(p.tpot_ms, r.tpot_ms),
                     "ttft_ms": r.ttft_ms, "pred_ttft_ms": p.ttft_ms, "ttft_err": _err(p.ttft_ms, r.ttft_ms),
                     "tok_s": r.tokens_per_s, "pred_tok_s": p.tokens_per_s,
                     "la_tpot_err": _err(_ms(pt.get("llm-analysis")), r.tpot_ms),
                     "genz_tpot_err": _err(_ms(pt.get("genz")), r.tpot_ms),
                     "la_ttft_err": _err(_ms(pf.get("llm-analysis")), r.ttft_ms),
                     "genz_ttft_err": _err(_ms(pf.get("genz")), r.ttft_ms)})
    return pd.DataFrame(recs)


def trt_table(cat: Catalog, c: Coefficients, peers: dict) -> pd.DataFrame:
    recs = []
    batches = trt_batch(cat, c)
    for r in TRT_ROWS:
        pred = predict_trtllm(cat, r, c)
        pr = peers.get(r.key, {})
        recs.append({"row": r.key, "model": r.model, "accelerator": r.accelerator, "precision": r.precision,
                     "tp": r.tp, "input": r.input_tokens, "output": r.output_tokens, "batch": batches[r.key],
                     "split": "held-out" if r.held_out else "fit", "tok_s": r.tokens_per_s, "pred_tok_s": pred,
                     "err": _err(pred, r.tokens_per_s), "la_err": _err(pr.get("llm-analysis"), r.tokens_per_s),
                     "genz_err": _err(pr.get("genz"), r.tokens_per_s)})
    return pd.DataFrame(recs)


def med(s: pd.Series) -> float | None:
    s = pd.to_numeric(s, errors="coerce").dropna()
    return None if s.empty else float(np.median(np.abs(s)))


def p90(s: pd.Series) -> float | None:
    s = pd.to_numeric(s, errors="coerce").dropna()
    return None if s.empty else float(np.quantile(np.abs(s), 0.9))


def records(cat: Catalog, neuron: pd.DataFrame, trt: pd.DataFrame) -> list[dict[str, Any]]:
    """Held-out rows as expected-error records. Neuron throughput error is taken from TPOT (steady-state
    throughput is batch / TPOT; the tables' own throughput column is not always consistent with their TPOT)."""
    out = []
    for r in neuron[neuron.split == "held-out"].itertuples():
        kind = cat.accelerator(r.accelerator).kind
        base = {"accelerator": r.accelerator, "kind": kind, "tp": int(r.chips), "source": NEURON_SOURCE}
        out.append({**base, "key": r.row, "metric": "tpot", "err": float(r.tpot_err)})
        out.append({**base, "key": r.row, "metric": "ttft", "err": float(r.ttft_err)})
        out.append({**base, "key": r.row, "metric": "tokens_per_s", "err": float(r.tpot_ms / r.pred_tpot_ms - 1)})
    for r in trt[(trt.split == "held-out") & trt.err.notna()].itertuples():
        out.append({"key": r.row, "accelerator": r.accelerator, "kind": cat.accelerator(r.accelerator).kind,
                    "tp": int(r.tp), "metric": "tokens_per_s", "err": float(r.err), "source": TRT_SOURCE})
    return out


def _pct(v: Any) -> str:
    return "" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{v:+.1%}"


def _apct(v: Any) -> str:
    return "" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{v:.1%}"


def _num(v: Any, nd: int = 1) -> str:
    return "" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{v:,.{nd}f}"


def neuron_summary_md(df: pd.DataFrame) -> str:
    lines = ["| rows | n | TPOT median abs err | TPOT p90 | llm-analysis TPOT | genz TPOT | TTFT median abs err | "
             "llm-analysis TTFT | genz TTFT |", "|---|---|---|---|---|---|---|---|---|"]
    groups = [
        ("Inferentia2 fit rows", (df.accelerator == "inferentia2") & (df.split == "fit")),
        ("Inferentia2 held-out", (df.accelerator == "inferentia2") & (df.split == "held-out")),
        ("... held-out models (Llama-3-8B, Llama-3-70B, Mistral-7B)",
         (df.accelerator == "inferentia2") & df.model.isin(["Llama-3-8B", "Llama-3-70B", "Mistral-7B-Instruct-v0.2"])),
        ("... held-out shapes of fit models", (df.accelerator == "inferentia2") & (df.split == "held-out")
         & ~df.model.isin(["Llama-3-8B", "Llama-3-70B", "Mistral-7B-Instruct-v0.2"])),
        ("... batch 1 (held-out)", (df.accelerator == "inferentia2") & (df.split == "held-out") & (df.batch == 1)),
        ("... batch 4-8 (held-out)", (df.accelerator == "inferentia2") & (df.split == "held-out") & (df.batch > 1)),
        ("Trainium (trn1.32xlarge, all held out)", df.accelerator == "trainium1"),
    ]
    for name, sel in groups:
        g = df[sel]
        b1 = g[g.batch == 1]
        lines.append(f"| {name} | {len(g)} | {_apct(med(g.tpot_err))} | {_apct(p90(g.tpot_err))} | "
                     f"{_apct(med(g.la_tpot_err))} | {_apct(med(g.genz_tpot_err))} | {_apct(med(b1.ttft_err))} "
                     f"(batch 1, n={len(b1)}) | {_apct(med(b1.la_ttft_err))} | {_apct(med(b1.genz_ttft_err))} |")
    return "\n".join(lines)


def neuron_rows_md(df: pd.DataFrame) -> str:
    lines = ["| row | split | release | weights | TPOT ms | inferplan | err | llm-analysis err | genz err | TTFT ms | "
             "inferplan | err |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in df.itertuples():
        lines.append(f"| {r.row} | {r.split} | {r.release} | {r.weights} | {_num(r.tpot_ms, 2)} | "
                     f"{_num(r.pred_tpot_ms, 2)} | {_pct(r.tpot_err)} | {_pct(r.la_tpot_err)} | "
                     f"{_pct(r.genz_tpot_err)} | "
                     f"{_num(r.ttft_ms)} | {_num(r.pred_ttft_ms)} | {_pct(r.ttft_err)} |")
    return "\n".join(lines)


def trt_summary_md(df: pd.DataFrame) -> str:
    lines = ["| rows | n | inferplan median abs err | p90 | median signed | llm-analysis | genz |",
             "|---|---|---|---|---|---|---|"]

    def row(name: str, g: pd.DataFrame) -> str:
        signed = pd.to_numeric(g.err, errors="coerce").dropna()
        return (f"| {name} | {len(g)} | {_apct(med(g.err))} | {_apct(p90(g.err))} | "
                f"{_pct(float(np.median(signed)) if len(signed) else None)} | {_apct(med(g.la_err))} | "
                f"{_apct(med(g.genz_err))} |")

    multi, single = df[df.tp > 1], df[df.tp == 1]
    lines.append(row("multi-GPU fit rows", multi[multi.split == "fit"]))
    lines.append(row("**multi-GPU held-out**", multi[multi.split == "held-out"]))
    for tp in (2, 4, 8):
        lines.append(row(f"... held-out TP {tp}", multi[(multi.split == "held-out") & (multi.tp == tp)]))
    for acc in ("h100", "a100-80gb", "l40s"):
        lines.append(row(f"... held-out {acc}", multi[(multi.split == "held-out") & (multi.accelerator == acc)]))
    lines.append(row("... held-out Mixtral 8x7B (MoE)", multi[(multi.split == "held-out")
                                                              & (multi.model == "mixtral-8x7b")]))
    lines.append(row("**single-GPU (TP 1), all held out**", single))
    lines.append(row("... TP 1 except Llama 3.1 70B on one H100", single[single.model != "llama-3.1-70b"]))
    return "\n".join(lines)


def trt_groups_md(df: pd.DataFrame) -> str:
    lines = ["| model | GPU | precision | TP | split | n | median signed err | median abs err |",
             "|---|---|---|---|---|---|---|---|"]
    for (m, a, p, tp, s), g in df.groupby(["model", "accelerator", "precision", "tp", "split"], sort=True):
        e = pd.to_numeric(g.err, errors="coerce").dropna()
        lines.append(f"| {m} | {a} | {p} | {tp} | {s} | {len(g)} | {_pct(float(np.median(e)) if len(e) else None)} "
                     f"| {_apct(med(g.err))} |")
    return "\n".join(lines)


def trt_rows_md(df: pd.DataFrame) -> str:
    lines = ["| row | split | batch | measured tok/s | inferplan | err | llm-analysis err | genz err |",
             "|---|---|---|---|---|---|---|---|"]
    for r in df.itertuples():
        lines.append(f"| {r.row} | {r.split} | {r.batch} | {_num(r.tok_s)} | {_num(r.pred_tok_s)} | {_pct(r.err)} | "
                     f"{_pct(r.la_err)} | {_pct(r.genz_err)} |")
    return "\n".join(lines)
