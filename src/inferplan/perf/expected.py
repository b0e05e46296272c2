"""The throughput model's validated error, as data: how far its predictions were from measurements it did not see.

`bench/perf_validation.py` writes every validation row's signed relative error (predicted / measured - 1) into
`data/validated_errors.csv` beside this file: held-out rows only (rows a factor was fitted on never count), per
accelerator, tensor-parallel size (devices of the replica: GPUs, or Neuron chips) and metric. `expected_error`
aggregates them for one instance or accelerator, so `compare` can print the error beside a prediction and a Monte
Carlo can draw a multiplicative error from `errors` (bootstrap) or from the median and p90.

Where the exact (accelerator, tp) was never measured, the nearest measured group is used and `basis` says which
(same accelerator at other tp, then the same kind of accelerator); `validated` is True only for an exact match.
A kind with no measurement at all (Graviton CPUs) is an error, never a made-up figure.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..catalog import Catalog, load_catalog
from ..errors import ConfigError

Metric = Literal["tokens_per_s", "tpot", "ttft"]
METRICS: tuple[str, ...] = ("tokens_per_s", "tpot", "ttft")


KEYS = ("key", "accelerator", "kind", "tp", "metric", "err", "source")
DATA = Path(__file__).with_name("data") / "validated_errors.csv"


@lru_cache(maxsize=1)
def records() -> tuple[dict[str, Any], ...]:
    """The held-out validation errors written by bench/perf_validation.py (data, not code)."""
    with DATA.open(newline="", encoding="utf-8") as f:
        return tuple({**r, "tp": int(r["tp"]), "err": float(r["err"])} for r in csv.DictReader(f))


def resolve_accelerator(cat: Catalog, name: str) -> tuple[str, str]:
    """(accelerator key, kind) for an EC2 instance type, a SageMaker ml.* type, an instance family (`inf2`,
    `p5`), an accelerator key (`h100`) or a kind (`gpu`, `neuron`: the key is then '*')."""
    n = name.strip()
    if n in ("gpu", "neuron", "cpu"):
        return "*", n
    accs = cat.accelerators
    if n in accs:
        return n, accs[n].kind
    inst = cat.ec2_instances.get(n)
    if inst is None and n in cat.sagemaker_instances:
        sm = cat.sagemaker_instances[n]
        inst = cat.ec2_instances.get(sm.ec2_instance) if sm.ec2_instance else None
    if inst is None:
        fam = {i.accelerator for i in cat.ec2_instances.values() if i.family == n and i.accelerator}
        if len(fam) == 1:
            key = fam.pop()
            return key, accs[key].kind
        raise ConfigError(f"{name!r} is not an instance type, instance family, accelerator or accelerator kind in "
                          "the catalog (e.g. inf2.48xlarge, inf2, inferentia2, h100, gpu)")
    if not inst.accelerator:
        raise ConfigError(f"instance {inst.instance!r} has no accelerator in the catalog: the throughput model does "
                          "not predict it")
    return inst.accelerator, accs[inst.accelerator].kind


def _stats(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    err = np.array([r["err"] for r in rows], dtype=float)
    a = np.abs(err)
    return {"median_abs_err": float(np.median(a)), "p90_abs_err": float(np.quantile(a, 0.9)), "n": len(rows),
            "bias": float(np.median(err)), "errors": tuple(float(e) for e in err),
            "source": "; ".join(sorted({r["source"] for r in rows}))}


def expected_error(instance_or_family: str, tp: int = 1, metric: str = "tokens_per_s", *,
                   catalog: Catalog | None = None) -> dict[str, Any]:
    """Validated error of the throughput model for `metric` on an instance (or family, accelerator, kind) at
    tensor-parallel size `tp` (devices per replica: GPUs, or Neuron chips; an inf2.48xlarge replica over all
    12 chips is tp=12).

    Returns {median_abs_err, p90_abs_err, n, source, bias (median signed error: > 0 means the model predicts
    more than was measured, for tpot/ttft a longer time), errors (every signed error, to bootstrap from),
    accelerator, kind, tp, metric, basis, validated}. Errors are relative: predicted / measured - 1.
    """
    if metric not in METRICS:
        raise ConfigError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)}")
    if tp < 1:
        raise ConfigError("tp must be at least 1")
    cat = catalog or load_catalog(warn_stale=False)
    acc, kind = resolve_accelerator(cat, instance_or_family)
    recs = [r for r in records() if r["metric"] == metric]
    same_acc: Callable[[dict[str, Any]], bool] = lambda r: r["accelerator"] == acc  # noqa: E731
    same_kind: Callable[[dict[str, Any]], bool] = lambda r: r["kind"] == kind  # noqa: E731
    tiers: list[tuple[str, Callable[[dict[str, Any]], bool]]] = []
    if acc != "*":
        tiers += [(f"measured: {acc} at tp {tp}", lambda r: same_acc(r) and r["tp"] == tp),
                  (f"{acc} at other tensor-parallel sizes (none measured at tp {tp})", same_acc)]
    tiers += [(f"other {kind} accelerators at tp {tp} ({acc} not measured there)",
               lambda r: same_kind(r) and r["tp"] == tp),
              (f"all {kind} measurements ({acc} at tp {tp} not measured)", same_kind)]
    for i, (basis, pick) in enumerate(tiers):
        rows = [r for r in recs if pick(r)]
        if rows:
            return {**_stats(rows), "accelerator": acc, "kind": kind, "tp": tp, "metric": metric, "basis": basis,
                    "validated": acc != "*" and i == 0}
    raise ConfigError(f"no {metric} validation data for {instance_or_family} ({kind}): the throughput model is "
                      "unvalidated there (see docs/perf.md, 'Where it is weak')")


def write_records(rows: Sequence[dict[str, Any]], path: Any = None) -> Path:
    """Write `data/validated_errors.csv` (called by bench/perf_validation.py; never edited by hand)."""
    for r in rows:
        if set(r) != set(KEYS) or r["metric"] not in METRICS:
            raise ValueError(f"bad validation record {r}")
    p = Path(path) if path else DATA
    with p.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=KEYS, lineterminator="\n")
        w.writeheader()
        w.writerows({k: (repr(r[k]) if k == "err" else r[k]) for k in KEYS}
                    for r in sorted(rows, key=lambda r: (r["accelerator"], r["tp"], r["key"])))
    records.cache_clear()
    return p
