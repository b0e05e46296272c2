"""Request-level discrete-event simulation: the check on the window-level fleet model.

Each replica has `slots` continuous-batching slots (the sequences in flight at the throughput model's
sustained point); a request takes the first free slot of the fleet in arrival order (FIFO, one shared queue)
and holds it for its own service time: the mean service time (slots / throughput) scaled by its output length
over the mean output (decode dominates a request's time in a slot). Its queue wait is slot start minus arrival.
Arrivals are the real timestamps of a trace. The window model sees only per-window counts and a fluid queue;
the difference between the two (short queues from bursts inside a window, long requests holding slots) is what
`check()` measures, and docs/serving.md reports it on the bundled traces.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from . import Policy, latency_on_timeline, simulate


@numba.njit(cache=True)
def fifo_waits(arrival: np.ndarray, service: np.ndarray, servers: int) -> np.ndarray:
    """Queue wait of each request (arrival order) in a FIFO queue with `servers` identical servers (a heap of
    the times each server frees up)."""
    n = arrival.size
    waits = np.zeros(n)
    if servers <= 0:
        waits[:] = np.inf
        return waits
    heap = np.zeros(servers)  # min-heap of free times
    for i in range(n):
        free = heap[0]
        start = arrival[i] if arrival[i] > free else free
        waits[i] = start - arrival[i]
        # replace the root with the new free time and sift down
        v = start + service[i]
        j = 0
        while True:
            left = 2 * j + 1
            if left >= servers:
                break
            right = left + 1
            c = right if right < servers and heap[right] < heap[left] else left
            if heap[c] < v:
                heap[j] = heap[c]
                j = c
            else:
                break
        heap[j] = v
    return waits


def summarize(waits: np.ndarray, budget_s: float) -> dict[str, float]:
    return {"slo_miss_share": float(np.mean(waits > budget_s)) if waits.size else 0.0,
            **{f"p{q}": float(np.percentile(waits, q)) if waits.size else 0.0 for q in (50, 95, 99)}}


def check(arrival_s: np.ndarray, output_tokens: np.ndarray, rps: float, slots: int, replicas: int,
          window_s: int, budget_s: float, latency_window_s: int = 10) -> dict[str, Any]:
    """The same fixed fleet through both simulators: queue-wait percentiles and TTFT-miss shares side by side.

    `window` is the window model on `window_s` counts alone; `window_fine` replays its replica timeline on
    arrivals counted in `latency_window_s` windows (what `compare` does when it has the requests)."""
    order = np.argsort(arrival_s, kind="stable")
    t = np.asarray(arrival_s, dtype=np.float64)[order]
    t = t - t[0]
    out = np.maximum(np.asarray(output_tokens, dtype=np.float64)[order], 1.0)
    mean_service = slots / rps
    service = mean_service * out / out.mean()
    waits = fifo_waits(t, service, int(replicas * slots))
    des = summarize(waits, budget_s)
    counts = np.bincount((t // window_s).astype(np.int64)).astype(np.float64)
    run = simulate(counts, Policy.make(1, cap=rps * window_s, min_n=replicas, max_n=replicas, fixed=True,
                                       budget_s=budget_s), window_s)
    win = {"slo_miss_share": float(run.slo_miss_share[0]),
           **{f"p{q}": float(run.wait_percentile(q)[0]) for q in (50, 95, 99)}}
    fine = np.bincount((t // latency_window_s).astype(np.int64),
                       minlength=counts.size * window_s // latency_window_s).astype(np.float64)
    hist, missed = latency_on_timeline(counts, run.running, window_s, fine, latency_window_s, np.array([rps]),
                                       np.array([budget_s]))
    run.hist, run.missed = hist, missed
    win_fine = {"slo_miss_share": float(run.slo_miss_share[0]),
                **{f"p{q}": float(run.wait_percentile(q)[0]) for q in (50, 95, 99)}}
    util = float(t.size / (t[-1] + mean_service) / (rps * replicas)) if t.size > 1 else 0.0
    return {"requests": int(t.size), "replicas": replicas, "slots_per_replica": slots, "replica_rps": rps,
            "utilization": util, "budget_s": budget_s, "window": win, "window_fine": win_fine, "des": des,
            "gap": {k: des[k] - win[k] for k in des}, "gap_fine": {k: des[k] - win_fine[k] for k in des}}
