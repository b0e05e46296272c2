"""Window-level fleet simulator: replicas, autoscaling, queueing and overflow, vectorised over candidates.

Each candidate is a fleet of identical replicas with a capacity in requests per window (`cap`) and a policy:
fixed (`fixed=True`: always `min_n` replicas) or target tracking (desired = ceil(observed load / (target x
cap)), clamped to [min_n, max_n]; observed load = the previous window's arrivals plus the queue; a scale-out
is paid from launch and serves after `boot_w` windows; a scale-in happens only after the load has stayed
below the fleet for `scale_in_w` windows and `cooldown_w` windows after the last one, down to the largest
desired count seen meanwhile). Demand above capacity either queues (FIFO, carried to the next window) or, in
overflow mode (a hybrid), goes elsewhere.

Latency is a fluid model: within a window the queue moves linearly between its start and end (draining to
zero when capacity exceeds arrivals), a request's wait is the queue ahead of it over the service rate, and
arrivals are spread evenly over the window. So wait percentiles and the share of requests whose wait breaks
the time-to-first-token budget come out per candidate. What it leaves out (the short queues that form below
capacity from arrival bursts inside a window) is measured against the request-level simulator in
`inferplan.fleet.des` and reported in docs/serving.md.

The kernel is compiled (numba) and loops over windows for all candidates: one month of 1-minute windows for
50 candidates runs in well under a second (bench/fleet.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from ..errors import ConfigError

__all__ = ["Policy", "FleetRun", "simulate", "WAIT_EDGES"]

# wait histogram: bin 0 is "no wait"; then log-spaced edges from 1 ms to ~28 hours
WAIT_EDGES = np.concatenate([[0.0], np.logspace(-3, 5, 81)])


@dataclass
class Policy:
    """Per-candidate fleet policy (arrays of length C, or scalars broadcast)."""

    cap: np.ndarray  # requests one replica serves per window
    min_n: np.ndarray
    max_n: np.ndarray
    fixed: np.ndarray  # bool
    target: np.ndarray  # target utilisation of the tracked metric (0, 1]
    boot_w: np.ndarray  # windows from launch to serving
    scale_in_w: np.ndarray  # windows the load must stay low before a scale-in
    cooldown_w: np.ndarray  # windows between scale-ins
    overflow: np.ndarray  # bool: demand above capacity leaves (hybrid) instead of queueing
    budget_s: np.ndarray  # queue wait allowed before the TTFT target is broken

    @classmethod
    def make(cls, n: int, **kw: object) -> Policy:
        defaults: dict[str, object] = dict(min_n=1, max_n=1_000_000, fixed=False, target=0.7, boot_w=0,
                                           scale_in_w=1, cooldown_w=0, overflow=False, budget_s=np.inf)
        defaults.update(kw)
        dtypes = dict(cap=np.float64, min_n=np.int64, max_n=np.int64, fixed=np.bool_, target=np.float64,
                      boot_w=np.int64, scale_in_w=np.int64, cooldown_w=np.int64, overflow=np.bool_,
                      budget_s=np.float64)
        vals = {k: np.broadcast_to(np.asarray(v, dtype=dtypes[k]), (n,)).copy() for k, v in defaults.items()}
        p = cls(**vals)  # type: ignore[arg-type]
        p.check()
        return p

    def check(self) -> None:
        if (self.cap <= 0).any() or not np.isfinite(self.cap).all():
            raise ConfigError("fleet: every replica capacity must be a positive number of requests per window")
        if (self.min_n < 0).any() or (self.max_n < self.min_n).any():
            raise ConfigError("fleet: need 0 <= min replicas <= max replicas")
        if ((self.target <= 0) | (self.target > 1)).any():
            raise ConfigError("fleet: target utilisation must be in (0, 1]")


@dataclass
class FleetRun:
    """What each candidate did in each window (arrays (C, W)) and its latency summary (arrays (C,))."""

    running: np.ndarray  # replicas serving
    paid: np.ndarray  # replicas billed (serving + booting)
    served: np.ndarray
    backlog: np.ndarray  # queue at the end of the window
    overflow: np.ndarray
    demand: np.ndarray  # (W,)
    window_s: int
    hist: np.ndarray  # (C, bins) requests per wait bin
    missed: np.ndarray  # (C,) requests whose wait exceeded the budget

    @property
    def slo_miss_share(self) -> np.ndarray:
        tot = self.demand.sum()
        return self.missed / tot if tot > 0 else np.zeros_like(self.missed)

    def wait_percentile(self, q: float) -> np.ndarray:
        """Queue wait (seconds) at percentile q (0-100) of requests, per candidate."""
        return _percentiles(self.hist, q / 100.0)

    def paid_replica_hours(self) -> np.ndarray:
        return self.paid.sum(axis=1) * self.window_s / 3600.0

    def utilization(self, cap: np.ndarray) -> np.ndarray:
        """Served work over paid capacity."""
        paid_cap = self.paid.sum(axis=1) * cap
        return np.divide(self.served.sum(axis=1), paid_cap, out=np.zeros(len(cap)), where=paid_cap > 0)


def _percentiles(hist: np.ndarray, q: float) -> np.ndarray:
    out = np.zeros(hist.shape[0])
    for c in range(hist.shape[0]):  # candidates, not requests
        h = hist[c]
        tot = h.sum()
        if tot <= 0:
            continue
        cdf = np.cumsum(h) / tot
        j = int(np.searchsorted(cdf, q - 1e-12))
        if j == 0:
            continue
        j = min(j, h.size - 1)
        lo, hi = WAIT_EDGES[j - 1] if j - 1 < WAIT_EDGES.size else WAIT_EDGES[-1], \
            WAIT_EDGES[j] if j < WAIT_EDGES.size else WAIT_EDGES[-1]
        prev = cdf[j - 1]
        frac = (q - prev) / (cdf[j] - prev) if cdf[j] > prev else 1.0
        out[c] = lo + (hi - lo) * min(max(frac, 0.0), 1.0)
    return out


@numba.njit(cache=True)
def _add_uniform(hist: np.ndarray, c: int, lo: float, hi: float, mass: float, edges: np.ndarray) -> None:
    """Spread `mass` requests uniformly over waits [lo, hi] into histogram bins (bin j covers edges[j-1..j])."""
    nb = edges.size
    if hi <= lo:
        j = 1
        while j < nb and edges[j] < lo:
            j += 1
        hist[c, min(j, nb)] += mass
        return
    width = hi - lo
    for j in range(1, nb + 1):
        a = edges[j - 1]
        b = edges[j] if j < nb else 1e300
        ov = min(b, hi) - max(a, lo)
        if ov > 0:
            hist[c, j] += mass * ov / width


@numba.njit(cache=True)
def _kernel(demand, cap, min_n, max_n, fixed, target, boot_w, scale_in_w, cooldown_w, overflow, budget_s,
            window_s, edges):  # noqa: ANN001, ANN202 - numba
    n_c = cap.size
    n_w = demand.size
    running = np.zeros((n_c, n_w), np.int64)
    paid = np.zeros((n_c, n_w), np.int64)
    served = np.zeros((n_c, n_w))
    backlog = np.zeros((n_c, n_w))
    over = np.zeros((n_c, n_w))
    hist = np.zeros((n_c, edges.size + 1))
    missed = np.zeros(n_c)
    for c in range(n_c):
        k = cap[c]
        per = target[c] * k
        if fixed[c]:
            n_run = min_n[c]
        else:
            n_run = int(np.ceil(demand[0] / per - 1e-9)) if n_w else 0
            n_run = min(max(n_run, min_n[c]), max_n[c])
        n_boot = 0
        pending = np.zeros(n_w + boot_w[c] + 1, np.int64)
        low_run = 0
        low_max = 0
        last_in = -(10**9)
        q = 0.0
        for w in range(n_w):
            if not fixed[c]:
                arrived = pending[w]
                n_run += arrived
                n_boot -= arrived
                obs = (demand[w - 1] if w > 0 else demand[0]) + q
                desired = int(np.ceil(obs / per - 1e-9))
                desired = min(max(desired, min_n[c]), max_n[c])
                if desired > n_run + n_boot:
                    launch = desired - n_run - n_boot
                    if boot_w[c] == 0:
                        n_run += launch
                    else:
                        pending[w + boot_w[c]] += launch
                        n_boot += launch
                if desired < n_run:
                    low_run += 1
                    low_max = max(low_max, desired)
                    if low_run >= scale_in_w[c] and w - last_in >= cooldown_w[c]:
                        n_run = max(low_max, min_n[c])
                        last_in = w
                        low_run = 0
                        low_max = 0
                else:
                    low_run = 0
                    low_max = 0
            running[c, w] = n_run
            paid[c, w] = n_run + n_boot
            capw = n_run * k
            d = demand[w]
            if overflow[c]:
                s = min(d, capw)
                served[c, w] = s
                over[c, w] = d - s
                hist[c, 0] += d
                continue
            s, q1 = _wait_step(hist, missed, c, q, d, capw, window_s, budget_s[c], edges)
            served[c, w] = s
            backlog[c, w] = q1
            q = q1
    return running, paid, served, backlog, over, hist, missed


@numba.njit(cache=True)
def _wait_step(hist, missed, c, q, d, capw, window_s, b, edges):  # noqa: ANN001, ANN202 - numba
    """One window of the fluid FIFO queue: serve, carry the rest, add arrivals' waits to the histogram."""
    total = q + d
    s = min(total, capw)
    q1 = total - s
    if d <= 0:
        return s, q1
    if capw <= 0:  # nobody serving: every arrival waits at least until capacity comes
        hist[c, edges.size] += d
        missed[c] += d
        return s, q1
    mu = capw / window_s
    if q1 > 0:  # queue from q to q1: waits uniform in [q/mu, q1/mu]
        lo, hi = q / mu, q1 / mu
        _add_uniform(hist, c, lo, hi, d, edges)
        if hi > b:
            missed[c] += d * (1.0 if lo >= b else (hi - b) / (hi - lo))
    elif q > 0:  # the queue drains within the window
        lam = d / window_s
        t0 = q / (mu - lam)  # seconds until empty (mu > lam here)
        f = min(1.0, t0 / window_s)
        hi = q / mu
        _add_uniform(hist, c, 0.0, hi, d * f, edges)
        hist[c, 0] += d * (1.0 - f)
        if hi > b:
            missed[c] += d * f * (hi - b) / hi
    else:
        hist[c, 0] += d
    return s, q1


@numba.njit(cache=True)
def _latency_kernel(demand, running, cap, budget_s, window_s, edges):  # noqa: ANN001, ANN202 - numba
    n_c, n_w = running.shape
    hist = np.zeros((n_c, edges.size + 1))
    missed = np.zeros(n_c)
    for c in range(n_c):
        q = 0.0
        for w in range(n_w):
            _, q = _wait_step(hist, missed, c, q, demand[w], running[c, w] * cap[c], window_s, budget_s[c], edges)
    return hist, missed


def latency_on_timeline(demand: np.ndarray, running: np.ndarray, window_s: int, fine: np.ndarray,
                        fine_window_s: int, cap_per_s: np.ndarray, budget_s: np.ndarray) -> tuple[np.ndarray,
                                                                                                np.ndarray]:
    """Queue waits of a replica timeline (C, W) replayed on a finer arrival series (Wf windows of
    `fine_window_s`): bursts inside a cost window queue here. Returns (histogram, missed requests) per candidate."""
    ratio = window_s // fine_window_s
    n_f = fine.size
    run_f = np.repeat(running, ratio, axis=1)[:, :n_f]
    if run_f.shape[1] < n_f:
        run_f = np.pad(run_f, ((0, 0), (0, n_f - run_f.shape[1])), mode="edge")
    return _latency_kernel(np.ascontiguousarray(fine, dtype=np.float64), np.ascontiguousarray(run_f),
                           np.asarray(cap_per_s, dtype=np.float64) * fine_window_s,
                           np.asarray(budget_s, dtype=np.float64), float(fine_window_s), WAIT_EDGES)


def simulate(demand: np.ndarray, policy: Policy, window_s: int) -> FleetRun:
    """Run every candidate of `policy` over one demand series (requests per window, shape (W,))."""
    d = np.ascontiguousarray(np.asarray(demand, dtype=np.float64))
    if d.ndim != 1:
        raise ConfigError("fleet: demand must be one series of requests per window")
    if (d < 0).any() or not np.isfinite(d).all():
        raise ConfigError("fleet: demand must be finite and non-negative")
    p = policy
    running, paid, served, backlog, over, hist, missed = _kernel(
        d, p.cap, p.min_n, p.max_n, p.fixed, p.target, p.boot_w, p.scale_in_w, p.cooldown_w, p.overflow,
        p.budget_s, float(window_s), WAIT_EDGES)
    return FleetRun(running=running, paid=paid, served=served, backlog=backlog, overflow=over, demand=d,
                    window_s=window_s, hist=hist, missed=missed)
