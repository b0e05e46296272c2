"""Fit the time model's efficiency factors to measurements, and write them to `_fitted.py`.

Data: `shared/data/calibration/h100_bf16_llama_shapes.csv` (one H100, bf16, lean torch forward pass, CUDA
graphs for decode, eager prefill). Method: nonlinear least squares on log(predicted / measured) (relative
error, so a 2 ms step counts as much as a 400 ms prefill), minimised with Nelder-Mead over log-parameters
(positivity for free). Decode factors first on the decode rows, then prefill factors on the prefill rows with the
decode ones fixed. A fixed grid of (batch, context) points is held out for every model and never used for
fitting; a leave-one-model-out fit is reported too.

The per-kind overrides (GPU serving engines, Neuron) are fitted afterwards on published tables (fit_published).

usage: python -m inferplan.perf.fit [CALIBRATION_CSV] [--write]
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from pprint import pformat

import numpy as np

from ..catalog import Catalog, load_catalog
from .arch import Arch
from .coefficients import Coefficients, KindCoefficients, default_coefficients
from .fit_published import fit_gpu_engine, fit_neuron, nelder_mead
from .hardware import Deployment, Device
from .neuron_tables import ROWS as NEURON_ROWS
from .neuron_tables import SOURCE as NEURON_SOURCE
from .timing import decode_step_seconds, prefill_seconds
from .trtllm_tables import ROWS as TRT_ROWS
from .trtllm_tables import SOURCE as TRT_SOURCE

CALIBRATION_REL = Path("calibration") / "h100_bf16_llama_shapes.csv"
# Shapes measured by shared/tools/calibrate_gpu.py: hidden, layers, heads, kv_heads, intermediate, vocab.
SHAPES: dict[str, tuple[int, int, int, int, int, int]] = {
    "llama-3.1-8b": (4096, 32, 32, 8, 14336, 128256),
    "llama-3.2-1b": (2048, 16, 32, 8, 8192, 128256),
    "llama-3.1-70b-1layer": (8192, 1, 64, 8, 28672, 128256),
}
# Held out of the fit for every model: interior and edge points of the measured grid (18 of 57 rows).
HOLDOUT: dict[str, set[tuple[int, int]]] = {
    "decode": {(4, 2048), (64, 2048), (256, 1024), (384, 512)},
    "prefill": {(1, 2048), (4, 2048)},
}
# Top-level collective values: the calibration is one GPU, so these only seed the fit of kinds.gpu (the
# published multi-GPU tables) and apply to kinds without their own (CPUs).
PRIORS = {
    "allreduce_latency_s": 10e-6,  # NCCL/custom all-reduce of a small message over NVLink: ~5-20 us
    "link_eff": 0.5,  # all-reduce bus bandwidth ~450 of NVLink's listed 900 GB/s (bidirectional) on H100
}
DECODE_KEYS = ("bw_eff_weights", "bw_eff_kv", "compute_eff_decode", "decode_s_per_layer", "decode_s_fixed")
PREFILL_KEYS = ("compute_eff_prefill", "compute_eff_prefill_attn", "eager_s_per_layer", "eager_s_fixed")
START = {"bw_eff_weights": 0.8, "bw_eff_kv": 0.8, "compute_eff_decode": 0.6, "decode_s_per_layer": 30e-6,
         "decode_s_fixed": 100e-6, "compute_eff_prefill": 0.6, "compute_eff_prefill_attn": 0.4,
         "eager_s_per_layer": 200e-6, "eager_s_fixed": 500e-6}


@dataclass(frozen=True)
class CalRow:
    model: str
    phase: str
    batch: int
    context: int
    seconds: float

    @property
    def held_out(self) -> bool:
        return (self.batch, self.context) in HOLDOUT[self.phase]


def shape_arch(name: str) -> Arch:
    h, n, nh, nkv, inter, vocab = SHAPES[name]
    return Arch(name=name, layers=n, hidden=h, heads=nh, kv_heads=nkv, head_dim=h // nh, intermediate=inter,
                vocab=vocab)


def read_calibration(path: Path) -> list[CalRow]:
    with path.open(newline="") as fh:
        return [CalRow(r["model"], r["phase"], int(r["batch"]), int(r["context"]), float(r["seconds"]))
                for r in csv.DictReader(fh)]


def h100(cat: Catalog) -> Deployment:
    return Deployment(Device.from_accelerator(cat.accelerator("h100")), 1, 1, None)


def predict_rows(rows: Sequence[CalRow], c: Coefficients, dep: Deployment) -> np.ndarray:
    """Predicted seconds of each calibration row (vectorised per model and phase), with the kernel-level factors:
    the calibration is a lean forward pass, not a serving engine, so the per-kind engine overrides do not apply."""
    c = c.model_copy(update={"kinds": {}})
    out = np.empty(len(rows))
    for (model, phase) in {(r.model, r.phase) for r in rows}:
        idx = np.array([i for i, r in enumerate(rows) if r.model == model and r.phase == phase])
        b = np.array([rows[i].batch for i in idx], dtype=float)
        ctx = np.array([rows[i].context for i in idx], dtype=float)
        arch = shape_arch(model)
        if phase == "decode":
            out[idx] = decode_step_seconds(arch, dep, c, "bf16", "bf16", b, ctx)
        else:
            out[idx] = prefill_seconds(arch, dep, c, "bf16", "bf16", b, ctx, eager=True)
    return out


def _coeffs(values: dict[str, float], extra: dict | None = None) -> Coefficients:
    return Coefficients.model_validate({**START, **PRIORS, **values, **(extra or {})})


def _fit_keys(rows: Sequence[CalRow], keys: Sequence[str], fixed: dict[str, float], dep: Deployment,
              ) -> dict[str, float]:
    meas = np.array([r.seconds for r in rows])

    def loss(x: np.ndarray) -> float:
        vals = dict(zip(keys, np.exp(x), strict=True))
        if any(vals[k] > 1.2 for k in keys if "eff" in k):
            return 1e9
        pred = predict_rows(rows, _coeffs({**fixed, **vals}), dep)
        return float(np.sum(np.log(pred / meas) ** 2))

    best, best_loss = None, np.inf
    for jitter in (0.0, 0.5, -0.5):  # restarts: the max() terms make the surface piecewise
        x0 = np.log([START[k] for k in keys]) + jitter
        x = nelder_mead(loss, x0)
        x = nelder_mead(loss, x, step=0.05)
        if (lv := loss(x)) < best_loss:
            best, best_loss = x, lv
    assert best is not None
    return dict(zip(keys, (float(v) for v in np.exp(best)), strict=True))


def fit_calibration(rows: Sequence[CalRow], dep: Deployment) -> dict[str, float]:
    dec = [r for r in rows if r.phase == "decode"]
    pre = [r for r in rows if r.phase == "prefill"]
    d = _fit_keys(dec, DECODE_KEYS, {}, dep)
    p = _fit_keys(pre, PREFILL_KEYS, d, dep)
    return {**d, **p}


@dataclass
class FitResult:
    coefficients: Coefficients
    rows: list[CalRow]
    predicted: np.ndarray  # with the shipped (hold-out) fit
    lomo_predicted: np.ndarray  # each model predicted by a fit on the other two

    def errors(self, which: str = "holdout") -> np.ndarray:
        meas = np.array([r.seconds for r in self.rows])
        pred = self.lomo_predicted if which == "lomo" else self.predicted
        return pred / meas - 1.0


def run_fit(data_dir: Path, cat: Catalog | None = None, published: bool = True) -> FitResult:
    """Calibration fit (kernel-level factors), then the per-kind overrides on the published tables' fit rows
    (`published=False` keeps the shipped overrides: for quick checks of the calibration fit)."""
    cat = cat or load_catalog(warn_stale=False)
    path = data_dir / CALIBRATION_REL
    rows = read_calibration(path)
    dep = h100(cat)
    fitted = fit_calibration([r for r in rows if not r.held_out], dep)
    base = _coeffs(fitted)
    if published:
        kinds = {"gpu": KindCoefficients(**fit_gpu_engine(cat, base)),
                 "neuron": KindCoefficients(**fit_neuron(cat, base))}
    else:
        kinds = default_coefficients().kinds
    prov = {
        "fitted_on": f"shared/data/{CALIBRATION_REL.as_posix()} ({sum(not r.held_out for r in rows)} rows; "
                     f"{sum(r.held_out for r in rows)} held out)",
        "fitted": date.today().isoformat(),
        "method": "least squares of log(pred/meas), Nelder-Mead, decode then prefill; see inferplan.perf.fit",
        "gpu": f"kinds.gpu (serving engines: collectives, per-sequence step cost, prefill) fitted on "
               f"{sum(not r.held_out for r in TRT_ROWS)} of {len(TRT_ROWS)} rows of {TRT_SOURCE}",
        "neuron": f"kinds.neuron fitted on {sum(not r.held_out for r in NEURON_ROWS)} of {len(NEURON_ROWS)} rows of "
                  f"{NEURON_SOURCE}",
        "cpu": "no measurements: CPUs use the GPU factors (unvalidated)",
    }
    coeffs = _coeffs(fitted, {"kinds": kinds, "provenance": prov})
    lomo = np.empty(len(rows))
    for m in SHAPES:
        f = fit_calibration([r for r in rows if r.model != m], dep)
        idx = [i for i, r in enumerate(rows) if r.model == m]
        lomo[idx] = predict_rows([rows[i] for i in idx], _coeffs(f), dep)
    return FitResult(coeffs, rows, predict_rows(rows, coeffs, dep), lomo)


def write_fitted(c: Coefficients, path: Path | None = None) -> Path:
    path = path or Path(__file__).with_name("_fitted.py")
    body = pformat(c.model_dump(mode="json", exclude_none=True), width=110, sort_dicts=False)
    path.write_text('"""Generated by `python -m inferplan.perf.fit --write`: do not edit by hand."""\n\n'
                    f"FITTED = {body}\n", encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    write = "--write" in args
    args = [a for a in args if a != "--write"]
    root = Path(__file__).resolve().parents[3]
    data = Path(args[0]).parent.parent if args else root.parent / "shared" / "data"
    res = run_fit(data)
    err = res.errors()
    held = np.array([r.held_out for r in res.rows])
    print(f"median |error|: fit rows {np.median(np.abs(err[~held])):.1%}, held-out {np.median(np.abs(err[held])):.1%}, "
          f"leave-one-model-out {np.median(np.abs(res.errors('lomo'))):.1%}")
    print(pformat(res.coefficients.model_dump(mode="json"), sort_dicts=False))
    if write:
        print(f"wrote {write_fitted(res.coefficients)}")


if __name__ == "__main__":
    main()
