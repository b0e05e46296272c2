"""Terminal report: the run-rate, the spend summary and breakdowns as rich tables.

Tables show the top rows and one "other" row for the rest; rows and columns that are all zeros are left out;
a calendar longer than a month rolls up to weeks. `--explain` adds every price used with its source.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from rich.console import Console
from rich.table import Table

from .fmt import price_window, sum_rows, top_n, usd

TOP = 10
MAX_DAYS = 31
# (header, row field); a column that is zero on every row is left out (requests, total and share stay)
_COLUMNS: list[tuple[str, str]] = [
    ("requests", "requests"), ("input tok", "input_tokens"), ("output tok", "output_tokens"),
    ("cache read tok", "cache_read_tokens"), ("cache write tok", "_cache_write_tokens"), ("input $", "input_usd"),
    ("output $", "output_usd"), ("cache $", "_cache_usd"), ("total $", "total_usd"), ("share", "share"),
]


def _derived(r: dict[str, Any]) -> dict[str, Any]:
    return {**r, "_cache_write_tokens": r.get("cache_write_5m_tokens", 0) + r.get("cache_write_1h_tokens", 0),
            "_cache_usd": r.get("cache_read_usd", 0.0) + r.get("cache_write_5m_usd", 0.0)
            + r.get("cache_write_1h_usd", 0.0)}


def _cell(col: str, v: Any) -> str:
    if col == "share":
        return f"{v:.1%}"
    if col.endswith("_usd"):
        return usd(v)
    return f"{v:,}"


def _breakdown_table(title: str, rows: list[dict]) -> Table:
    rows = [_derived(r) for r in rows]
    cols = [(h, c) for h, c in _COLUMNS if c in ("requests", "total_usd", "share") or any(r.get(c) for r in rows)]
    t = Table(title=title, title_justify="left")
    t.add_column("")
    for h, _ in cols:
        t.add_column(h, justify="right")
    for r in rows:
        t.add_row(str(r["key"]), *[_cell(c, r.get(c, 0)) for _, c in cols])
    return t


def weekly(rows: list[dict]) -> list[dict]:
    """Daily breakdown rows summed into ISO weeks (key: the Monday), in date order."""
    weeks: dict[str, list[dict]] = {}
    for r in rows:
        d = date.fromisoformat(str(r["key"]))
        monday = (d - timedelta(days=d.weekday())).isoformat()
        weeks.setdefault(monday, []).append(r)
    out = []
    for monday in sorted(weeks):
        s = sum_rows(weeks[monday])
        s["key"] = f"week of {monday}"
        out.append(s)
    return out


def render_run_rate(summary: dict[str, Any], c: Console) -> None:
    rr = summary.get("run_rate") or {}
    if rr.get("monthly_usd") is None:
        if rr.get("caveat"):
            c.print(f"[yellow]Run-rate:[/yellow] {rr['caveat']}")
        return
    c.print(f"[bold]Run-rate[/bold]: {usd(rr['usd_per_hour'])}/hour over {rr['window']}, so "
            f"[bold]{usd(rr['monthly_usd'])}[/bold] a month (730 hours)")
    if rr.get("caveat"):
        c.print(f"  [yellow]caveat:[/yellow] {rr['caveat']}", highlight=False)


def render_prices(summary: dict[str, Any], c: Console, explain: bool) -> None:
    prices = summary.get("prices") or []
    if not explain:
        c.print(f"Prices: {len(prices)} catalog row(s), catalog checked {summary['catalog_checked']} "
                "([dim]--explain shows each price with its source[/dim])")
        for p in prices:
            when = "" if price_window(p) == "always" else f" (in force {price_window(p)})"
            c.print(f"  {p['model']} {p['scope']}/{p['region']}/{p['tier']}: in {p['input_usd_per_mtok']} "
                    f"out {p['output_usd_per_mtok']} $/Mtok{when}", highlight=False)
        return
    t = Table(title=f"Prices used (USD per million tokens; catalog checked {summary['catalog_checked']})",
              title_justify="left", show_lines=True)
    kinds = [("input", "input_usd_per_mtok"), ("output", "output_usd_per_mtok"),
             ("cache read", "cache_read_usd_per_mtok"), ("cache write 5m", "cache_write_5m_usd_per_mtok"),
             ("cache write 1h", "cache_write_1h_usd_per_mtok")]
    kinds = [(h, k) for h, k in kinds if any(p.get(k) is not None for p in prices)]
    t.add_column("model / scope / region / tier")
    for h, _ in kinds:
        t.add_column(h, justify="right")
    dated = any(price_window(p) != "always" for p in prices)
    if dated:
        t.add_column("in force")
    t.add_column("checked")
    t.add_column("source", overflow="fold")
    for p in prices:
        t.add_row(f"{p['model']}\n{p['scope']} / {p['region']} / {p['tier']}",
                  *[("" if p.get(k) is None else f"{p[k]:g}") for _, k in kinds],
                  *([price_window(p)] if dated else []), str(p.get("checked", "")), str(p.get("source", "")))
    c.print(t)


def render(summary: dict[str, Any], console: Console | None = None, *, explain: bool = False,
           top: int = TOP) -> None:
    c = console or Console()
    period = summary["period"]
    if not summary["requests"]:
        skipped = sum((summary.get("skipped") or {}).values())
        c.print("[bold]Inference spend[/bold]: no requests in the input "
                + (f"(all {skipped:,} records skipped as bad: see below)" if skipped else "(the files hold no records)")
                + ": nothing to price")
    else:
        c.print(f"[bold]Inference spend[/bold]: {usd(summary['total_usd'])} over {summary['requests']:,} requests"
                + (f" ({period['start']} to {period['end']})" if period.get("start") else " (no timestamps)"))
    for line in (summary.get("not_token_priced") or {}).get("headline", []):
        c.print(f"  [yellow]{line}[/yellow]", highlight=False)
    render_run_rate(summary, c)
    share = summary["token_kind_share"]
    kinds = [(k, v) for k, v in summary["usd_by_token_kind"].items() if v]
    if kinds:
        c.print("By token kind: " + ", ".join(f"{k.replace('_', ' ')} {usd(v)} ({share[k]:.1%})" for k, v in kinds))
    for dim, rows in summary["breakdowns"].items():
        if dim == "day":
            if len(rows) <= 1:
                continue
            rows = sorted(rows, key=lambda r: str(r["key"]))  # a calendar reads in date order
            title = "By day"
            if len(rows) > MAX_DAYS:
                rows, title = weekly(rows), f"By week ({len(rows)} days)"
            rows = [r for r in rows if r.get("requests") or r.get("total_usd")]
            c.print(_breakdown_table(title, rows))
            continue
        shown = top_n(rows, top, sum_rows)
        title = f"By {dim.replace('_', ' ')}" + (f" (top {top} of {len(rows)})" if len(shown) < len(rows) else "")
        c.print(_breakdown_table(title, shown))
    render_prices(summary, c, explain)
    for k, v in summary["skipped"].items():
        c.print(f"[yellow]skipped[/yellow] {v:,} record(s): {k}")
    for n in summary["notes"]:
        c.print(f"[dim]note:[/dim] {n}")
    if summary.get("levers"):
        from .levers import render_levers

        render_levers(summary["levers"], c, month_factor=(summary.get("run_rate") or {}).get("month_factor"))
