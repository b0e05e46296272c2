"""Fleet simulator speed: one month of 1-minute windows x 50 candidate deployments.

Demand: the ServeGen m-large rate series (../shared/data/traces/servegen, 600-second windows over 14 days)
interpolated to 1-minute windows and repeated to 30 days (43,200 windows). Candidates: 50 replica capacities
with target-tracking autoscaling (5-minute boot, 15-minute scale-in lookback, 5-minute cooldown) and the fluid
queue-wait model. The floor is one vectorised numpy pass of max(0, demand - capacity) over all candidates (the
least any window-level simulator must do), measured in the same run. Prints JSON on its last line.

    .venv/bin/python bench/fleet.py [--candidates 50] [--days 30] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from inferplan.fleet import Policy, simulate

ROOT = Path(__file__).resolve().parents[1]
SERVEGEN = ROOT.parent / "shared" / "data" / "traces" / "servegen" / "aggregate_rate_m-large.csv"


def demand_per_minute(days: int) -> np.ndarray:
    raw = np.loadtxt(SERVEGEN, delimiter=",", skiprows=1, usecols=(0, 1))
    ts, rps = raw[:, 0], raw[:, 1]
    minutes = np.arange(0, ts[-1] + 600, 60.0)
    per_min = np.interp(minutes, ts, rps) * 60.0
    n = days * 24 * 60
    return np.resize(per_min, n)


def timed(fn, repeat: int) -> list[float]:  # noqa: ANN001
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--candidates", type=int, default=50)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    d = demand_per_minute(args.days)
    c = args.candidates
    caps = np.geomspace(200.0, 20000.0, c)  # requests per minute one replica serves
    policy = Policy.make(c, cap=caps, min_n=1, target=0.7, boot_w=5, scale_in_w=15, cooldown_w=5, budget_s=1.8)
    simulate(d[:100], policy, 60)  # compile (cached on disk after the first run)
    t_sim = timed(lambda: simulate(d, policy, 60), args.repeat)
    run = simulate(d, policy, 60)
    t_floor = timed(lambda: np.maximum(0.0, d[None, :] - caps[:, None]).sum(axis=1), args.repeat)
    best, floor = min(t_sim), min(t_floor)
    res = {"windows": int(d.size), "candidates": c, "candidate_windows": int(d.size * c),
           "seconds": round(best, 4), "runs": [round(x, 4) for x in t_sim],
           "numpy_floor_seconds": round(floor, 5), "ratio_to_numpy_floor": round(best / floor, 1),
           "under_1s": best < 1.0, "mean_replicas_first_last": [round(float(run.paid[0].mean()), 1),
                                                                  round(float(run.paid[-1].mean()), 1)]}
    print(json.dumps(res))


if __name__ == "__main__":
    main()
