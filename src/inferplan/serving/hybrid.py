"""Hybrid base sizing: k self-hosted replicas paid every hour, everything above their capacity to Bedrock.

Cost over the series with base k: k x (price per replica over the series) + sum over windows of the Bedrock
cost of the requests above k x capacity. Replica k serves the slice of load between (k-1) and k capacities, so
it saves sum_w u_w x clip(d_w - (k-1) cap, 0, cap), where u_w is Bedrock's cost per request in window w. That
saving only falls as k grows (each window's slice shrinks), so the optimum is the number of replicas whose
saving exceeds their cost: on the load-duration curve, a replica pays while the share of time the load
exceeds it, times what Bedrock charges for a full replica's worth of tokens, is larger than the replica's
price. `optimal_base` computes that with sorted loads and prefix sums; `cost_curve` is the brute force.
"""

from __future__ import annotations

import numpy as np


def marginal_savings(demand: np.ndarray, unit_usd: np.ndarray, cap: float, k_max: int) -> np.ndarray:
    """Bedrock dollars replica k (1..k_max) takes off the bill over the series."""
    d = np.asarray(demand, dtype=np.float64)
    u = np.asarray(unit_usd, dtype=np.float64)
    order = np.argsort(d)
    ds, us = d[order], u[order]
    # suffix sums over sorted loads: sum of u and of u*d for loads above a point
    su = np.concatenate([np.cumsum(us[::-1])[::-1], [0.0]])
    sud = np.concatenate([np.cumsum((us * ds)[::-1])[::-1], [0.0]])
    a = np.arange(k_max, dtype=np.float64) * cap  # lower edge of replica k's slice
    i_a = np.searchsorted(ds, a, side="right")  # first load > a
    i_b = np.searchsorted(ds, a + cap, side="right")  # first load > a + cap
    full = su[i_b] * cap  # windows above the slice: a full replica's worth
    part = (sud[i_a] - sud[i_b]) - a * (su[i_a] - su[i_b])  # windows inside the slice: d - a
    return full + part


def optimal_base(demand: np.ndarray, unit_usd: np.ndarray, cap: float, replica_usd: float) -> int:
    """The base k that minimises replicas + Bedrock overflow (see the module docstring)."""
    d = np.asarray(demand, dtype=np.float64)
    if d.size == 0 or cap <= 0 or d.max() <= 0:
        return 0
    k_max = int(np.ceil(d.max() / cap))
    s = marginal_savings(d, unit_usd, cap, k_max)
    return int(np.count_nonzero(s > replica_usd))


def cost_curve(demand: np.ndarray, unit_usd: np.ndarray, cap: float, replica_usd: float, ks: np.ndarray
               ) -> np.ndarray:
    """Brute force: total cost over the series for each base k in `ks`."""
    d = np.asarray(demand, dtype=np.float64)[None, :]
    k = np.asarray(ks, dtype=np.float64)[:, None]
    over = np.maximum(0.0, d - k * cap)
    return k[:, 0] * replica_usd + (over * np.asarray(unit_usd)[None, :]).sum(axis=1)


def exceedance(demand: np.ndarray, cap: float, k_max: int) -> np.ndarray:
    """Share of windows in which the load exceeds k replicas' capacity, k = 1..k_max (the load-duration curve)."""
    d = np.sort(np.asarray(demand, dtype=np.float64))
    edges = np.arange(1, k_max + 1) * cap
    return 1.0 - np.searchsorted(d, edges, side="right") / max(d.size, 1)
