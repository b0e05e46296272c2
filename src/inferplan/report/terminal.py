"""Terminal report: the spend summary and breakdowns as rich tables."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def usd(x: float) -> str:
    return f"${x:,.2f}" if abs(x) >= 0.01 or x == 0 else f"${x:,.6f}"


def _breakdown_table(title: str, rows: list[dict]) -> Table:
    t = Table(title=title, title_justify="left")
    for col, just in (("", "left"), ("requests", "right"), ("input tok", "right"), ("output tok", "right"),
                      ("cache read tok", "right"), ("cache write tok", "right"), ("input $", "right"),
                      ("output $", "right"), ("cache $", "right"), ("total $", "right"), ("share", "right")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in rows:
        t.add_row(
            str(r["key"]), f"{r['requests']:,}", f"{r['input_tokens']:,}", f"{r['output_tokens']:,}",
            f"{r['cache_read_tokens']:,}", f"{r['cache_write_5m_tokens'] + r['cache_write_1h_tokens']:,}",
            usd(r["input_usd"]), usd(r["output_usd"]),
            usd(r["cache_read_usd"] + r["cache_write_5m_usd"] + r["cache_write_1h_usd"]),
            usd(r["total_usd"]), f"{r['share']:.1%}",
        )
    return t


def render(summary: dict[str, Any], console: Console | None = None) -> None:
    c = console or Console()
    period = summary["period"]
    c.print(f"[bold]Inference spend[/bold]: {usd(summary['total_usd'])} over {summary['requests']:,} requests "
            f"({period['start']} to {period['end']})")
    share = summary["token_kind_share"]
    c.print("By token kind: " + ", ".join(
        f"{k.replace('_', ' ')} {usd(v)} ({share[k]:.1%})" for k, v in summary["usd_by_token_kind"].items()))
    for dim, rows in summary["breakdowns"].items():
        if dim == "day":
            if len(rows) <= 1:
                continue
            rows = sorted(rows, key=lambda r: str(r["key"]))  # a calendar reads in date order
        c.print(_breakdown_table(f"By {dim.replace('_', ' ')}", rows))
    c.print(f"Prices: catalog checked {summary['catalog_checked']}; rows used:")
    for p in summary["prices"]:
        c.print(f"  {p['model']} {p['scope']}/{p['region']}/{p['tier']}: in {p['input_usd_per_mtok']} "
                f"out {p['output_usd_per_mtok']} $/Mtok  [dim]({p['source'][:90]})[/dim]")
    for k, v in summary["skipped"].items():
        c.print(f"[yellow]skipped[/yellow] {v:,} record(s): {k}")
    for n in summary["notes"]:
        c.print(f"[dim]note:[/dim] {n}")
    if summary.get("levers"):
        from .levers import render_levers

        render_levers(summary["levers"], c)
