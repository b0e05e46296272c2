"""Validation report of the throughput model: regenerates the generated sections of docs/perf.md.

    .venv/bin/python bench/perf_validation.py [--refit] [--peers-python /tmp/peers-venv/bin/python] [--no-doc]

- `--refit` refits the efficiency factors (inferplan.perf.fit) and rewrites src/inferplan/perf/_fitted.py.
- Calibration rows (H100, bf16): every row with its prediction and error, fit / held-out split, and a
  leave-one-model-out prediction; published rows (REFERENCE.md section 3) likewise.
- The same rows predicted by the offline peers llm-analysis and genz-llm, run in their own virtual environment
  (bench/requirements-peers.txt) through bench/_peers_runner.py.
- Continuous batching versus one request at a time (and versus static batching) for Llama 3.1 8B on
  g6e.xlarge, g5.xlarge and one H100 of p5.48xlarge, on the Azure 2023 conversation trace's request shape.
- `inferplan rightsize` for llama-3.1-8b and llama-3.3-70b.

Prints one JSON object (the medians) on the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _perf_tables as tables  # noqa: E402

from inferplan.catalog import Catalog, load_catalog
from inferplan.perf import RequestMix, Slo, default_coefficients, rightsize, static_batch_throughput
from inferplan.perf.arch import Arch
from inferplan.perf.coefficients import Coefficients
from inferplan.perf.expected import write_records
from inferplan.perf.fit import CALIBRATION_REL, h100, predict_rows, read_calibration, run_fit, shape_arch, write_fitted
from inferplan.perf.hardware import deployment_for_instance
from inferplan.perf.published import PUBLISHED, predict, spec_for
from inferplan.perf.serving import replica_throughput

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("INFERPLAN_SHARED_DATA", ROOT.parent / "shared" / "data"))
DOC = ROOT / "docs" / "perf.md"
DEFAULT_PEERS = "/tmp/peers-venv/bin/python"
# REFERENCE.md rows on one GPU (the single-GPU figure also counts the calibration and TensorRT-LLM 0.15 TP 1 rows).
SINGLE_GPU_PUBLISHED = {p.key for p in PUBLISHED if p.devices == 1}


def peer_cases(cat: Catalog, cal_rows: list) -> list[dict[str, Any]]:
    cases = []
    for i, r in enumerate(cal_rows):
        cases.append({"key": f"cal-{i}", "kind": r.phase, "arch": tables.arch_json(shape_arch(r.model)),
                      "device": tables.device_json(cat, "h100"), "tp": 1, "precision": "bf16", "kv_precision": "bf16",
                      "batch": r.batch, "input": r.context, "output": 1})
    for p in PUBLISHED:
        cases.append({"key": p.key, "kind": "static",
                      "arch": tables.arch_json(Arch.from_spec(spec_for(cat, p.model))),
                      "device": tables.device_json(cat, p.accelerator),
                      "tp": p.devices, "precision": p.precision, "kv_precision": p.kv_precision, "batch": p.batch,
                      "input": p.input_tokens, "output": p.output_tokens})
    return cases


def run_peers(python: str, cases: list[dict[str, Any]]) -> tuple[dict[str, Any], str | None]:
    """Peer predictions by case key, or an empty dict and the reason they could not run."""
    if not Path(python).exists():
        return {}, (f"peers not run: {python} does not exist (python3 -m venv /tmp/peers-venv && "
                    "/tmp/peers-venv/bin/pip install -r bench/requirements-peers.txt)")
    proc = subprocess.run([python, str(ROOT / "bench" / "_peers_runner.py")], input=json.dumps(cases),
                          capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        return {}, f"peers failed: {proc.stderr.strip().splitlines()[-1:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1]), None


def _err(pred: float | None, meas: float) -> float | None:
    return None if pred is None or not np.isfinite(pred) or pred <= 0 else pred / meas - 1.0


def calibration_table(cat: Catalog, c: Coefficients, lomo: np.ndarray | None, peers: dict) -> pd.DataFrame:
    rows = read_calibration(DATA / CALIBRATION_REL)
    pred = predict_rows(rows, c, h100(cat))
    recs = []
    for i, r in enumerate(rows):
        pr = peers.get(f"cal-{i}", {})
        recs.append({"model": r.model, "phase": r.phase, "batch": r.batch, "context": r.context,
                     "split": "held-out" if r.held_out else "fit", "measured_ms": r.seconds * 1e3,
                     "inferplan_ms": pred[i] * 1e3, "inferplan_err": _err(pred[i], r.seconds),
                     "lomo_err": None if lomo is None else _err(lomo[i], r.seconds),
                     "llm_analysis_err": _err(pr.get("llm-analysis"), r.seconds),
                     "genz_err": _err(pr.get("genz"), r.seconds)})
    return pd.DataFrame(recs)


def published_table(cat: Catalog, c: Coefficients, peers: dict) -> pd.DataFrame:
    recs = []
    for p in PUBLISHED:
        pred = predict(cat, p, c)
        pr = peers.get(p.key, {})
        recs.append({"row": p.key, "setting": f"{p.devices}x {p.accelerator} {p.precision}, {p.mode} batch {p.batch}, "
                                              f"{p.input_tokens}/{p.output_tokens}",
                     "measured_tok_s": p.tokens_per_s, "inferplan_tok_s": pred,
                     "inferplan_err": _err(pred, p.tokens_per_s),
                     "llm_analysis_tok_s": pr.get("llm-analysis"), "llm_analysis_err": _err(pr.get("llm-analysis"),
                                                                                            p.tokens_per_s),
                     "genz_tok_s": pr.get("genz"), "genz_err": _err(pr.get("genz"), p.tokens_per_s),
                     "note": p.note})
    return pd.DataFrame(recs)


def validation_records(cat: Catalog, cal: pd.DataFrame, pub: pd.DataFrame) -> list[dict[str, Any]]:
    """Held-out rows as expected-error records (inferplan.perf.expected): calibration decode/prefill rows as
    TPOT/TTFT on one H100, REFERENCE.md's published rows (none is fitted on) as throughput of their group."""
    out = []
    for r in cal[cal.split == "held-out"].itertuples():
        out.append({"key": f"cal-{r.model}-{r.phase}-b{r.batch}-c{r.context}", "accelerator": "h100", "kind": "gpu",
                    "tp": 1, "metric": "tpot" if r.phase == "decode" else "ttft", "err": float(r.inferplan_err),
                    "source": "H100 calibration (shared/data/calibration), held-out rows"})
    by_key = {p.key: p for p in PUBLISHED}
    for r in pub.itertuples():
        p = by_key[r.row]
        out.append({"key": p.key, "accelerator": p.accelerator, "kind": cat.accelerator(p.accelerator).kind,
                    "tp": p.devices, "metric": "tokens_per_s", "err": float(r.inferplan_err), "source": p.source})
    return out


def _med(s: pd.Series) -> float | None:
    s = s.dropna()
    return None if s.empty else float(np.median(np.abs(s)))


def continuous_batching(cat: Catalog) -> pd.DataFrame:
    """Continuous batching vs one at a time vs static batching, Llama 3.1 8B, Azure conv request shape."""
    trace = pd.read_csv(DATA / "traces" / "azure2023" / "AzureLLMInferenceTrace_conv.csv")
    mix = RequestMix.from_arrays(trace["ContextTokens"].to_numpy(), trace["GeneratedTokens"].to_numpy())
    spec = cat.model_spec("llama-3.1-8b")
    arch = Arch.from_spec(spec)
    recs = []
    for inst in ("g6e.xlarge", "g5.xlarge", "p5.48xlarge"):
        dep = deployment_for_instance(cat, inst, tp=1)  # one GPU's share on p5.48xlarge
        free = replica_throughput(arch, dep, "bf16", mix)
        slo = replica_throughput(arch, dep, "bf16", mix, Slo(tpot_ms=50))
        static = static_batch_throughput(arch, dep, "bf16", mix, free.batch) if free.feasible else None
        recs.append({"instance": inst + (" (1 of 8 GPUs)" if inst.startswith("p5") else ""),
                     "one_at_a_time_tok_s": free.single.get("tokens_per_s"), "max_batch": free.max_batch,
                     "continuous_tok_s": free.tokens_per_s, "continuous_vs_one": free.ratio_vs_single,
                     "static_tok_s": static, "continuous_vs_static": (free.tokens_per_s / static) if static else None,
                     "batch_at_tpot50": slo.batch, "continuous_tpot50_tok_s": slo.tokens_per_s,
                     "tpot50_vs_one": slo.ratio_vs_single})
    df = pd.DataFrame(recs)
    df.attrs["mix"] = (f"Azure 2023 conversation trace: {len(trace):,} requests, mean input {mix.input_tokens:.0f}, "
                       f"mean output {mix.output_tokens:.0f} tokens")
    return df


def _pct(v: Any) -> str:
    return "" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{v:+.1%}"


def _num(v: Any, nd: int = 1) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return ""
    return f"{v:,.{nd}f}"


def md_table(df: pd.DataFrame, fmt: dict[str, Any]) -> str:
    cols = list(fmt)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join(fmt[c](r) for c in cols) + " |")
    return "\n".join(lines)


def rightsize_md(cat: Catalog, model: str) -> str:
    mix = RequestMix(input_tokens=1024, output_tokens=256)
    r = rightsize(cat, cat.model_spec(model), mix, Slo(ttft_ms=2000, tpot_ms=50)).as_dict()
    opts = ("on-demand", "spot", "savings-plan-1y", "savings-plan-3y")
    head = (f"`inferplan rightsize --model {model}` (defaults: 1,024 in / 256 out, TTFT <= 2000 ms, TPOT <= 50 ms, "
            "bf16, ranked by on-demand $ per million output tokens at full use)\n\n")
    lines = ["| # | instance | devices | tp x replicas | batch | TTFT ms | TPOT ms | tok/s | " +
             " | ".join(f"$/Mtok {o}" for o in opts) + " |", "|" + "---|" * (8 + len(opts))]
    for i, x in enumerate(r["ranked"], 1):
        lines.append(f"| {i} | {x['instance']} | {x['count']}x {x['accelerator']} | {x['tp']} x {x['replicas']} | "
                     f"{x['batch']} | {x['ttft_ms']:.0f} | {x['tpot_ms']:.1f} | {x['tokens_per_s']:,.0f} | " +
                     " | ".join(_num(x["usd_per_mtok"][o], 3) or "n/a" for o in opts) + " |")
    rej = ["", "| rejected | reason |", "|---|---|"] + [f"| {x['instance']} | {x['reason']} |" for x in r["rejected"]]
    return head + "\n".join(lines + rej)


def replace_section(text: str, name: str, body: str) -> str:
    pat = re.compile(rf"(<!-- BEGIN {name} -->\n).*?(<!-- END {name} -->)", re.S)
    if not pat.search(text):
        raise SystemExit(f"docs/perf.md has no <!-- BEGIN {name} --> ... <!-- END {name} --> markers")
    return pat.sub(lambda m: m.group(1) + body.rstrip() + "\n" + m.group(2), text)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--refit", action="store_true")
    ap.add_argument("--peers-python", default=os.environ.get("INFERPLAN_PEERS_PYTHON", DEFAULT_PEERS))
    ap.add_argument("--no-doc", action="store_true")
    args = ap.parse_args()
    cat = load_catalog(warn_stale=False)
    fit = run_fit(DATA, cat, published=args.refit)  # the published-table fits take minutes: only with --refit
    if args.refit:
        print(f"wrote {write_fitted(fit.coefficients)}", file=sys.stderr)
    c = fit.coefficients if args.refit else default_coefficients()
    rows = read_calibration(DATA / CALIBRATION_REL)
    peers, peers_note = run_peers(args.peers_python, peer_cases(cat, rows) + tables.peer_cases(cat, c))
    cal = calibration_table(cat, c, fit.lomo_predicted, peers)
    pub = published_table(cat, c, peers)
    neu = tables.neuron_table(cat, c, peers)
    trt = tables.trt_table(cat, c, peers)
    held = cal[cal.split == "held-out"]
    inf2_held = neu[(neu.accelerator == "inferentia2") & (neu.split == "held-out")]
    multi_held = trt[(trt.tp > 1) & (trt.split == "held-out")]
    single = pd.concat([held.inferplan_err, pub[pub.row.isin(SINGLE_GPU_PUBLISHED)].inferplan_err,
                        trt[trt.tp == 1].err])
    summary = {
        "calibration_heldout_median_abs_err": _med(held.inferplan_err),
        "calibration_fit_median_abs_err": _med(cal[cal.split == "fit"].inferplan_err),
        "calibration_lomo_median_abs_err": _med(cal.lomo_err),
        "calibration_heldout_llm_analysis": _med(held.llm_analysis_err),
        "calibration_heldout_genz": _med(held.genz_err),
        "published_median_abs_err": _med(pub.inferplan_err),
        "published_llm_analysis": _med(pub.llm_analysis_err),
        "published_genz": _med(pub.genz_err),
        "inferentia2_heldout_tpot_median_abs_err": _med(inf2_held.tpot_err),
        "inferentia2_heldout_tpot_llm_analysis": _med(inf2_held.la_tpot_err),
        "inferentia2_heldout_tpot_genz": _med(inf2_held.genz_tpot_err),
        "inferentia2_heldout_ttft_b1_median_abs_err": _med(inf2_held[inf2_held.batch == 1].ttft_err),
        "trainium_tpot_median_abs_err": _med(neu[neu.accelerator == "trainium1"].tpot_err),
        "multi_gpu_heldout_median_abs_err": _med(multi_held.err),
        "multi_gpu_heldout_llm_analysis": _med(multi_held.la_err),
        "multi_gpu_heldout_genz": _med(multi_held.genz_err),
        "single_gpu_median_abs_err": _med(single),
        "single_gpu_trt015_tp1_median_abs_err": _med(trt[trt.tp == 1].err),
        "peers_note": peers_note,
    }
    cb = continuous_batching(cat)
    if not args.no_doc:
        write_records(validation_records(cat, cal, pub) + tables.records(cat, neu, trt))
        cal_md = md_table(cal, {
            "model": lambda r: r.model, "phase": lambda r: r.phase, "batch": lambda r: str(r.batch),
            "context": lambda r: str(r.context), "split": lambda r: r.split,
            "measured ms": lambda r: _num(r.measured_ms, 3), "inferplan ms": lambda r: _num(r.inferplan_ms, 3),
            "inferplan err": lambda r: _pct(r.inferplan_err), "leave-one-model-out err": lambda r: _pct(r.lomo_err),
            "llm-analysis err": lambda r: _pct(r.llm_analysis_err), "genz err": lambda r: _pct(r.genz_err)})
        pub_md = md_table(pub, {
            "row": lambda r: r.row, "setting": lambda r: r.setting, "measured tok/s": lambda r: _num(r.measured_tok_s),
            "inferplan": lambda r: _num(r.inferplan_tok_s), "err": lambda r: _pct(r.inferplan_err),
            "llm-analysis": lambda r: _num(r.llm_analysis_tok_s), "err ": lambda r: _pct(r.llm_analysis_err),
            "genz": lambda r: _num(r.genz_tok_s), "err  ": lambda r: _pct(r.genz_err), "note": lambda r: r.note})
        med = summary
        med_md = "\n".join([
            "| rows | inferplan | llm-analysis | genz |", "|---|---|---|---|",
            f"| calibration held-out ({len(held)}) | {_pct(med['calibration_heldout_median_abs_err'])} | "
            f"{_pct(med['calibration_heldout_llm_analysis'])} | {_pct(med['calibration_heldout_genz'])} |",
            f"| calibration fit rows ({int((cal.split == 'fit').sum())}) | "
            f"{_pct(med['calibration_fit_median_abs_err'])} | | |",
            f"| calibration, leave-one-model-out ({len(cal)}) | {_pct(med['calibration_lomo_median_abs_err'])} | "
            f"{_pct(_med(cal.llm_analysis_err))} | {_pct(_med(cal.genz_err))} |",
            f"| REFERENCE.md published rows ({len(pub)}) | {_pct(med['published_median_abs_err'])} | "
            f"{_pct(med['published_llm_analysis'])} | {_pct(med['published_genz'])} |",
            f"| **Inferentia2 TPOT, held-out ({len(inf2_held)})** | "
            f"{_pct(med['inferentia2_heldout_tpot_median_abs_err'])} | "
            f"{_pct(med['inferentia2_heldout_tpot_llm_analysis'])} | {_pct(med['inferentia2_heldout_tpot_genz'])} |",
            f"| Inferentia2 TTFT, held-out batch 1 ({int((inf2_held.batch == 1).sum())}) | "
            f"{_pct(med['inferentia2_heldout_ttft_b1_median_abs_err'])} | | |",
            f"| Trainium TPOT, all held out ({int((neu.accelerator == 'trainium1').sum())}) | "
            f"{_pct(med['trainium_tpot_median_abs_err'])} | "
            f"{_pct(_med(neu[neu.accelerator == 'trainium1'].la_tpot_err))} | "
            f"{_pct(_med(neu[neu.accelerator == 'trainium1'].genz_tpot_err))} |",
            f"| **multi-GPU throughput, held-out ({len(multi_held)})** | "
            f"{_pct(med['multi_gpu_heldout_median_abs_err'])} | {_pct(med['multi_gpu_heldout_llm_analysis'])} | "
            f"{_pct(med['multi_gpu_heldout_genz'])} |",
            f"| **single-GPU rows: calibration held-out + REFERENCE single-GPU + TensorRT-LLM 0.15 TP 1 "
            f"({len(single.dropna())})** | {_pct(med['single_gpu_median_abs_err'])} | | |",
            f"| ... TensorRT-LLM 0.15 TP 1 ({int((trt.tp == 1).sum())}) | "
            f"{_pct(med['single_gpu_trt015_tp1_median_abs_err'])} | {_pct(_med(trt[trt.tp == 1].la_err))} | "
            f"{_pct(_med(trt[trt.tp == 1].genz_err))} |",
        ]) + ("\n\n" + peers_note if peers_note else "")
        med_md = med_md.replace("| +", "| ")  # medians of absolute errors carry no sign
        cb_md = cb.attrs["mix"] + "\n\n" + md_table(cb, {
            "instance": lambda r: r.instance, "one at a time tok/s": lambda r: _num(r.one_at_a_time_tok_s),
            "max batch": lambda r: str(r.max_batch), "continuous tok/s": lambda r: _num(r.continuous_tok_s),
            "continuous / one": lambda r: _num(r.continuous_vs_one) + "x",
            "static (same batch) tok/s": lambda r: _num(r.static_tok_s),
            "continuous / static": lambda r: _num(r.continuous_vs_static, 2) + "x",
            "batch at TPOT <= 50 ms": lambda r: str(r.batch_at_tpot50),
            "continuous at TPOT <= 50 ms, tok/s": lambda r: _num(r.continuous_tpot50_tok_s),
            "that / one": lambda r: _num(r.tpot50_vs_one) + "x"})
        coeff_md = "```json\n" + json.dumps(c.model_dump(mode="json"), indent=1) + "\n```"
        text = DOC.read_text(encoding="utf-8")
        for name, body in (("medians", med_md), ("calibration", cal_md), ("published", pub_md), ("cb", cb_md),
                           ("neuron-summary", tables.neuron_summary_md(neu)),
                           ("neuron-rows", tables.neuron_rows_md(neu)),
                           ("multigpu-summary", tables.trt_summary_md(trt)),
                           ("multigpu-groups", tables.trt_groups_md(trt)),
                           ("multigpu-rows", tables.trt_rows_md(trt)),
                           ("rightsize-8b", rightsize_md(cat, "llama-3.1-8b")),
                           ("rightsize-70b", rightsize_md(cat, "llama-3.3-70b")), ("coefficients", coeff_md)):
            text = replace_section(text, name, body)
        DOC.write_text(text, encoding="utf-8")
    summary["continuous_vs_one"] = {r.instance: r.continuous_vs_one for r in cb.itertuples()}
    summary["continuous_vs_static"] = {r.instance: r.continuous_vs_static for r in cb.itertuples()}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
