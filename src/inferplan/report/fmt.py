"""Number formats shared by the terminal, HTML and Markdown reports, and top-N tables with an "other" row."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any


def usd(x: float | None) -> str:
    """Dollars: cents above a cent; below a cent three significant digits ($0.000123, $0.00000240), so a
    sub-cent amount never reads as $0.00 or $0.000000 (JSON keeps the full float; only display rounds).
    "n/a" for None."""
    if x is None:
        return "n/a"
    sign = "-" if x < 0 else ""
    a = abs(x)
    if a >= 0.01 or x == 0 or not math.isfinite(a):
        return f"{sign}${a:,.2f}"
    if a < 1e-12:
        return f"{sign}<$0.000000000001"
    return f"{sign}${a:.{2 - math.floor(math.log10(a))}f}"


def usd_short(x: float | None) -> str:
    """Dollars rounded for a headline: $51.1k, $1.23M, $640."""
    if x is None:
        return "n/a"
    a = abs(x)
    sign = "-" if x < 0 else ""
    if a >= 1e6:
        return f"{sign}${a / 1e6:,.2f}M"
    if a >= 1e4:
        return f"{sign}${a / 1e3:,.1f}k"
    if a >= 100:
        return f"{sign}${a:,.0f}"
    return usd(x)


def money(x: float | None) -> str:
    """Dollars in a terminal table: whole dollars from $100 up, cents below; "-" for None. A sub-cent amount
    reads as `usd()` does ($0.000123), never $0.00."""
    if x is None:
        return "-"
    return ("-" if x < 0 else "") + f"${abs(x):,.0f}" if abs(x) >= 100 else usd(x)


def signed_usd(x: float) -> str:
    """A change in dollars, with its sign: +$12.00, -$3.50."""
    return ("+" if x > 0 else "") + usd(x)


def tokens(n: float | None) -> str:
    if n is None:
        return "n/a"
    a = abs(n)
    if a >= 1e9:
        return f"{n / 1e9:,.2f}B"
    if a >= 1e6:
        return f"{n / 1e6:,.2f}M"
    if a >= 1e4:
        return f"{n / 1e3:,.1f}k"
    return f"{n:,.0f}"


def pct(x: float | None, digits: int = 1) -> str:
    """A share (0..1) as a percentage."""
    return "n/a" if x is None else f"{x:.{digits}%}"


def top_n(rows: Sequence[dict[str, Any]], n: int, combine: Callable[[list[dict[str, Any]]], dict[str, Any]],
          key: str = "total_usd") -> list[dict[str, Any]]:
    """The `n` largest rows by `key` (as given, most expensive first), then one "other" row for the rest.

    `combine` builds the "other" row from the rows it stands for (it should sum what is summable). Rows
    whose every number is zero are left out: they say nothing.
    """
    kept = [r for r in rows if any(isinstance(v, int | float) and v for k, v in r.items() if k != "key")]
    kept = sorted(kept, key=lambda r: -(r.get(key) or 0.0))
    if len(kept) <= n + 1:  # an "other" row standing for one row is just that row
        return kept
    head, rest = kept[:n], kept[n:]
    other = combine(rest)
    other["key"] = f"other ({len(rest)})"
    return [*head, other]


def sum_rows(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum every numeric column of breakdown rows (shares add up too)."""
    out: dict[str, Any] = {}
    for r in rows:
        for k, v in r.items():
            if isinstance(v, int | float) and not isinstance(v, bool):
                out[k] = out.get(k, 0) + v
    return out


def price_window(p: dict) -> str:
    """A price row's window of UTC days from its `effective_from` / `effective_to` (exclusive): `always`,
    `from 2026-06-01`, `until 2026-05-31`, `2026-01-01 .. 2026-05-31`."""
    from datetime import date, timedelta

    start, end = p.get("effective_from"), p.get("effective_to")
    if not start and not end:
        return "always"
    last = (date.fromisoformat(str(end)) - timedelta(days=1)).isoformat() if end else None
    if not end:
        return f"from {start}"
    return f"until {last}" if not start else f"{start} .. {last}"
