"""Benchmark: the break-even Monte Carlo, 10,000 draws (default) over 20 options on a 25-point cost curve.

Times `inferplan.economics.simulate` against a numpy floor measured in the same run: the unavoidable part, one
log-log interpolation of every option's curve at every (draw, grid point) plus the first-crossing search, on
arrays of the same shape. Target: 10,000 draws under 2 s (the issue) and simulate / floor small. Prints JSON on
the last line.

    .venv/bin/python bench/montecarlo.py [--draws N] [--options K]
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np

from inferplan.catalog import load_catalog
from inferplan.economics import OptionCost, TcoOptions, UncertaintyOptions, simulate, solve


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--options", type=int, default=20)
    a = ap.parse_args()
    cat = load_catalog(warn_stale=False)
    prices = np.linspace(1.0, 12.0, a.options)

    def cost_at(s: float) -> list[OptionCost]:
        return [OptionCost(f"ec2 {i}", "ec2", max(1, math.ceil(s * 10 / 3)) * p * 730, 10_974.0,
                           instance="g6e.xlarge") for i, p in enumerate(prices)]

    bk = solve(cost_at, 10_000.0, 1e9, scales=np.geomspace(0.01, 1000, 25))
    errs = {k: (np.array([-0.07, 0.27, 0.12, 0.07, -0.07, 0.16]), "bench") for k in bk.infra}
    opts = UncertaintyOptions(draws=a.draws)
    simulate(bk, TcoOptions(), cat, opts, errors=errs)  # warm-up
    t = time.perf_counter()
    res = simulate(bk, TcoOptions(), cat, opts, errors=errs)
    mc_s = time.perf_counter() - t

    rng = np.random.default_rng(0)
    t = time.perf_counter()
    ls = np.log(bk.scales)
    for name, infra in bk.infra.items():
        need = 1.0 + rng.choice(errs[name][0], a.draws)
        x = np.log(need[:, None] * bk.scales[None, :])
        y = np.exp(np.interp(x, ls, np.log(infra))) + 10_974.0 - 10_000.0 * bk.scales[None, :]
        (y <= 0).argmax(axis=1)
    floor_s = time.perf_counter() - t
    print(json.dumps({"draws": a.draws, "options": a.options, "grid": int(bk.scales.size),
                      "simulate_s": round(mc_s, 4), "floor_s": round(floor_s, 4),
                      "ratio": round(mc_s / floor_s, 2), "reported_s": res["seconds"],
                      "under_2s": mc_s < 2.0}))


if __name__ == "__main__":
    main()
