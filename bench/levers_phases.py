"""Benchmark: where `analyze --levers all`'s lever time goes, step by step, in one process.

Times each step `levers.evaluate` names (the lever table, each lever alone, each compounded sequence) by
recording when each `phase()` starts (the progress hook every step already calls), on a canonical file and a
scenario, e.g. the ones `bench/levers_evaluate.py --keep` leaves in its work folder:

    .venv/bin/python bench/levers_evaluate.py --keep    # its JSON's `kept` names the folder, say K
    .venv/bin/python bench/levers_phases.py K/requests.parquet K/scenario.yaml

Prints a line per step and JSON on its last line: `steps` {name: seconds}, `total_s`, `peak_rss_mib`, and the
compounded dollars (which must equal `levers_evaluate.py`'s)."""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import inferplan.levers as levers
from inferplan.catalog import load_catalog
from inferplan.pricing import price_workload
from inferplan.readers import read_workload


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("scenario")
    args = ap.parse_args()
    marks: list[tuple[str, float]] = []
    levers.phase = lambda desc, **_: marks.append((desc, time.perf_counter()))  # type: ignore[assignment]
    t0 = time.perf_counter()
    cat = load_catalog(warn_stale=False)
    wl = read_workload([args.path], cat, "auto")
    bill = price_workload(wl, cat)
    marks.append(("lever table", time.perf_counter()))
    res = levers.evaluate(wl, cat, "all", Path(args.scenario), baseline=bill)
    marks.append(("end", time.perf_counter()))
    steps = {d: round(b - a, 3) for (d, a), (_, b) in zip(marks, marks[1:], strict=False)}
    for d, s in steps.items():
        print(f"{d:50s} {s:7.2f} s")
    print(json.dumps({"bench": "levers_phases", "path": args.path, "read_s": round(marks[0][1] - t0, 3),
                      "steps": steps, "total_s": round(marks[-1][1] - t0, 3),
                      "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                      "compounded_usd": res["compounded"]["new_usd"]}))


if __name__ == "__main__":
    main()
