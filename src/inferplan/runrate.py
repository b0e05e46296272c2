"""Run-rate and spend over time: what the window's bill means per month, and how it moved within the window.

A log covers some window (an hour of a trace, a month of invocation logs). People decide on monthly money, so
every summary states the window's length, the hourly run-rate, and the month it projects: 730 hours (AWS's
convention for a month of an always-on resource: 8,760 hours / 12). A window shorter than a week has not seen
a weekly cycle, shorter than a day not even a daily one: the projection says so.
"""

from __future__ import annotations

from datetime import UTC, datetime

import ibis
import pyarrow.compute as pc

from .pricing import Bill
from .workload import base_dims, window_dim

HOURS_PER_MONTH = 730
WINDOW_S = 60  # the window is counted in whole minutes (compare's default demand window)
# Candidate bucket widths for the spend-over-time series, in seconds: the smallest that keeps at most
# MAX_BUCKETS points is used (an hour of logs by the minute, a month by the 6 hours, a year by the week).
BUCKETS_S = (60, 300, 900, 3_600, 6 * 3_600, 86_400, 7 * 86_400, 28 * 86_400)
MAX_BUCKETS = 200


def window_hours(start: str | None, end: str | None) -> float:
    """Hours of whole minutes from the first request's minute to the last one's, inclusive (0 with no requests).

    This is how `compare`'s demand series counts its 1-minute windows, so `analyze`, `compare` and `plan`
    project the same month from the same traffic (an hour-long trace is 60 minutes, not first-to-last 58.5).
    """
    if not start or not end:
        return 0.0
    first = int(datetime.fromisoformat(start).timestamp() // WINDOW_S)
    last = int(datetime.fromisoformat(end).timestamp() // WINDOW_S)
    return max(0, last - first + 1) * WINDOW_S / 3600


def caveat(hours: float) -> str | None:
    """Why a projection from this window may mislead, or None when the window covers a month."""
    if hours <= 0:
        return "no requests with a timestamp: no run-rate can be projected"
    if hours < 24:
        return (f"projected from {_span(hours)} of traffic: no daily cycle seen, so the month may be far off "
                "(nights and weekends usually cost less)")
    if hours < 7 * 24:
        return f"projected from {_span(hours)}: no full weekly cycle seen (weekends usually differ)"
    if hours < 28 * 24:
        return f"projected from {_span(hours)}: less than a month, so month-end and monthly jobs may be missing"
    return None


def _span(hours: float) -> str:
    if hours < 2:
        return f"{hours * 60:.0f} minutes"
    if hours < 48:
        return f"{hours:.1f} hours"
    return f"{hours / 24:.1f} days"


def run_rate(total_usd: float, start: str | None, end: str | None) -> dict:
    """The window, the hourly run-rate and the 730-hour month it projects (None where it cannot)."""
    hours = window_hours(start, end)
    per_hour = total_usd / hours if hours > 0 else None
    return {
        "window_hours": round(hours, 6),
        "window": _span(hours) if hours > 0 else "0 minutes",
        "usd_per_hour": None if per_hour is None else round(per_hour, 6),
        "hours_per_month": HOURS_PER_MONTH,
        "monthly_usd": None if per_hour is None else round(per_hour * HOURS_PER_MONTH, 2),
        "month_factor": None if hours <= 0 else round(HOURS_PER_MONTH / hours, 9),
        "caveat": caveat(hours),
    }


def bucket_seconds(hours: float) -> int:
    """The narrowest bucket in BUCKETS_S that shows `hours` in at most MAX_BUCKETS points."""
    for b in BUCKETS_S:
        if hours * 3600 / b <= MAX_BUCKETS:
            return b
    return BUCKETS_S[-1]


def timeline(bill: Bill, hours: float) -> dict:
    """Spend per time bucket and call type, in time order, exact (a priced roll-up).

    Daily buckets reuse the call-type/day roll-up made while reading; any other width costs one more scan.
    """
    width = bucket_seconds(hours)
    name = "day" if width == 86_400 else f"_bucket_{width}"

    def dims(t: ibis.Table) -> dict[str, ibis.Value]:
        return {"call_type": t.call_type, name: window_dim(t, width)}

    priced = bill.priced_by(("call_type", name), base_dims if name == "day" else dims)
    g = priced.group_by([name, "call_type"]).aggregate([("requests", "sum"), ("total_usd", "sum")])
    g = g.filter(pc.is_valid(g.column(name))).sort_by([(name, "ascending"), ("call_type", "ascending")])
    cols = [g.column(c).to_pylist() for c in (name, "call_type", "requests_sum", "total_usd_sum")]
    rows = [{"start": datetime.fromtimestamp(int(b) * width, tz=UTC).isoformat(), "call_type": ct,
             "requests": int(n), "total_usd": round(float(usd or 0.0), 6)}
            for b, ct, n, usd in zip(*cols, strict=True)]
    return {"bucket_s": width, "rows": rows}
