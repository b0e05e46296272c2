"""Benchmark: synthetic traffic, N requests (default 10 million) drawn with `inferplan.synth.generate`.

Times `generate(spec, rows=N)` with the `prefix` column built and without it (`with_prefix=False`), on the
traffic spec of examples/support_case_study.yaml (or `--spec FILE`, or `--spec builtin`: with caching), and,
as a baseline in the same process, numpy drawing N lognormal samples (the cheapest thing one column could
cost). Each is run `--repeat` times (default 3) in one process; the best run is reported and every run is
listed (the first also pays for fresh memory pages). Prints JSON on the last line.

    .venv/bin/python bench/synth.py [--rows N] [--seed S] [--spec scenario.yaml|builtin] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# `--spec builtin`: what the case study lacks: prompt caching (5m and 1h), partial reuse, many variants,
# tags that differ by call type
BUILTIN = {"days": 7, "call_types": {
    "rag": {"model": "us.anthropic.claude-haiku-4-5-20251001-v1:0", "per_hour": 600, "daily_profile": "business",
            "weekly_profile": "weekdays", "burstiness": 0.3,
            "input_tokens": {"dist": "lognormal", "mean": 6000, "cv": 0.5}, "output_tokens": 300,
            "prefix": [{"tokens": 2000}, {"tokens": 1500, "reuse": 0.5, "variants": 10},
                       {"tokens": 500, "reuse": 0.8, "variants": 5000}], "cache": "5m", "tags": {"team": "search"}},
    "agent": {"model": "global.anthropic.claude-sonnet-4-5-20250929-v1:0", "per_hour": 200, "input_tokens": 3000,
              "output_tokens": {"dist": "exponential", "mean": 200}, "prefix": {"tokens": 2000, "variants": 3},
              "cache": "1h", "tags": {"team": "agents", "env": "prod"}},
    "nightly": {"model": "amazon.nova-pro-v1:0", "per_day": 2000, "daily_profile": "nightly",
                "input_tokens": 1000, "output_tokens": {"dist": "exponential", "mean": 100}, "interactive": False},
}}


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, repeat: int) -> tuple[list[float], object]:
    """Wall seconds of each of `repeat` runs (the first in a process also pays for fresh memory pages)."""
    out, secs = None, []
    for _ in range(repeat):
        out = None
        t0 = time.perf_counter()
        out = fn()
        secs.append(time.perf_counter() - t0)
    return secs, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--spec", default=str(ROOT / "examples" / "support_case_study.yaml"),
                    help="scenario YAML with a `traffic:` section, or `builtin`")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n = args.rows

    from inferplan import synth

    spec = synth.load_traffic(BUILTIN if args.spec == "builtin" else args.spec)
    synth.generate(spec, seed=args.seed, rows=1000)  # warm up imports and caches

    rng = np.random.default_rng(args.seed)
    t_np, _ = timed(lambda: rng.lognormal(0.0, 0.5, n), args.repeat)
    t_plain, table = timed(lambda: synth.generate(spec, seed=args.seed, rows=n, with_prefix=False), args.repeat)
    assert table.num_rows == n
    del table
    t_prefix, table = timed(lambda: synth.generate(spec, seed=args.seed, rows=n), args.repeat)
    assert table.num_rows == n
    segments = len(table["prefix"].combine_chunks().flatten())
    mib = table.nbytes / 2**20
    del table
    best_np, best_plain, best_prefix = min(t_np), min(t_plain), min(t_prefix)
    res = {
        "spec": "builtin" if args.spec == "builtin" else Path(args.spec).name, "rows": n,
        "call_types": len(spec.call_types), "prefix_segments": segments, "table_mib": round(mib, 1),
        "seconds_with_prefix": round(best_prefix, 3), "seconds_without_prefix": round(best_plain, 3),
        "runs_with_prefix": [round(x, 3) for x in t_prefix], "runs_without_prefix": [round(x, 3) for x in t_plain],
        "rows_per_s_with_prefix": round(n / best_prefix), "rows_per_s_without_prefix": round(n / best_plain),
        "numpy_lognormal_seconds": round(best_np, 3),
        "ratio_with_prefix_to_numpy_lognormal": round(best_prefix / best_np, 1),
        "ratio_without_prefix_to_numpy_lognormal": round(best_plain / best_np, 1),
        "peak_rss_mib": round(rss_mib()),
    }
    print(json.dumps(res))


if __name__ == "__main__":
    main()
