"""Benchmark: `inferplan.levers.evaluate` (every lever alone, then compounded) on a canonical workload file.

Reads the workload and prices the bill as `inferplan analyze` does, then times `evaluate(...)` alone (the
`--levers` part of `analyze`). Prints JSON on the last line: seconds of `evaluate`, peak RSS of the process
(MiB) and the headline figures, so two runs can be checked to agree.

    .venv/bin/inferplan synth examples/support_case_study.yaml --out /tmp/case.parquet
    .venv/bin/python bench/levers_evaluate.py /tmp/case.parquet [--scenario examples/support_case_study.yaml]
                                              [--levers all] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--scenario", default="examples/support_case_study.yaml")
    ap.add_argument("--levers", default="all")
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()

    from inferplan.catalog import load_catalog
    from inferplan.levers import evaluate
    from inferplan.pricing import price_workload
    from inferplan.readers import read_workload

    catalog = load_catalog(warn_stale=False)
    t0 = time.perf_counter()
    workload = read_workload([a.path], catalog, "auto", None)
    bill = price_workload(workload, catalog)
    rows = int(workload.table.count().to_pyarrow().as_py())
    read_s = time.perf_counter() - t0
    rss_before = rss_mib()
    times = []
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        res = evaluate(workload, catalog, a.levers, scenario=Path(a.scenario), baseline=bill)
        times.append(time.perf_counter() - t0)
    print(json.dumps({
        "bench": "levers_evaluate", "path": a.path, "levers": a.levers, "requests": rows,
        "read_and_price_s": round(read_s, 3), "evaluate_s": [round(x, 3) for x in times],
        "evaluate_best_s": round(min(times), 3), "rss_before_evaluate_mib": round(rss_before, 1),
        "peak_rss_mib": round(rss_mib(), 1),
        "baseline_usd": res["baseline_usd"], "compounded_usd": res["compounded"]["new_usd"],
        "alone_usd": {k: v["new_usd"] for k, v in res["alone"].items()},
    }))


if __name__ == "__main__":
    main()
