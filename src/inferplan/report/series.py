"""Arrays the HTML charts draw that a `--json` summary does not carry in full: `series` beside a summary.

`compare`'s summary keeps a 24-point replica timeline per option; the demand-against-replicas chart wants the
series itself. `compare_series()` takes them from a CompareResult, cut to at most `max_points` equal slices
(the mean of each), so a month of minutes stays a small page.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _slices(values: np.ndarray, n: int) -> list[float]:
    parts = np.array_split(np.asarray(values, dtype=np.float64), n)
    return [round(float(p.mean()), 4) for p in parts]


def compare_series(result: Any, max_points: int = 720) -> dict[str, Any]:
    """{start, window_s, requests: [...], replicas: {option name: [...]}} on one time axis."""
    d = result.demand
    req = np.asarray(d.requests, dtype=np.float64)
    req = req.sum(axis=0) if req.ndim == 2 else req
    n = int(req.size)
    if n == 0:
        return {}
    points = min(max_points, n)
    width = d.window_s * n / points  # seconds per slice (slices differ by at most one window)
    replicas = {o.name: _slices(o.replica_timeline, points) for o in result.options
                if o.feasible and o.replica_timeline is not None and np.size(o.replica_timeline) == n}
    return {"start": int(d.start), "window_s": d.window_s, "slice_s": round(width, 3),
            "requests": _slices(req, points), "replicas": replicas}
