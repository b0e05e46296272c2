"""Terminal tables for the workload levers, the cache curve and the routing evaluation."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from .fmt import usd as _usd


def evidence_lines(name: str, ev: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if name == "caching":
        for g in ev.get("groups", []):
            ttl = f", TTL {g['ttl_s']} s" if g.get("ttl_s") else ""
            lines.append(f"{g['call_type']} on {g['model']}: {g['placement']}{ttl}; "
                         f"{g['read_fraction']:.1%} of input read from cache, input "
                         f"{_usd(g['input_usd_before'])} -> {_usd(g['input_usd_after'])}"
                         + (f" ({g['why']})" if g.get("why") else ""))
        for b in ev.get("breakers", []):
            lines.append(f"cache breaker: {b['call_type']} segment {b['position']} changes on "
                         f"{b['distinct_share']:.0%} of requests ahead of repeating segments; moving it to the end "
                         f"would save {_usd(b.get('saving_if_moved_to_end', 0.0))}")
    elif name == "batch":
        for c in ev.get("call_types", []):
            if c["qualifies"]:
                extra = f"; no batch price for {', '.join(c['no_batch_price'])}" if c.get("no_batch_price") else ""
                lines.append(f"{c['call_type']}: moved {c['requests_moved']:,} requests ({c['why']}){extra}")
            else:
                lines.append(f"{c['call_type']}: stays real-time ({c['why']})")
    elif name == "routing":
        for r in ev.get("rules", []):
            esc = f", {r['escalated']:,} escalated" if r["mode"] == "cascade" else ""
            lines.append(f"{r['call_type']}: {r['mode']} to {r['small_model']}, {r['to_small']:,} of "
                         f"{r['requests']:,} requests{esc}")
    elif name == "trim":
        for c in ev.get("call_types", []):
            lines.append(f"{c['call_type']}: input {c['input_tokens_before']:,} -> {c['input_tokens_after']:,} tokens")
    lines += [f"note: {n}" for n in ev.get("notes", [])]
    return lines


def render_levers(lv: dict[str, Any], console: Console | None = None, month_factor: float | None = None) -> None:
    """Each lever alone, then compounded step by step (adoption order); with `month_factor` (730 hours over the
    window's hours), also the saving per month."""
    c = console or Console()
    base = lv["baseline_usd"]
    t = Table(title=f"Workload levers on {_usd(base)} of spend", title_justify="left")
    cols = [("lever", "left"), ("new cost", "right"), ("saving", "right"), ("saving %", "right")]
    if month_factor:
        cols.insert(3, ("saving / month", "right"))
    for col, just in cols:
        t.add_column(col, justify=just)  # type: ignore[arg-type]

    def monthly(r: dict[str, Any]) -> list[str]:
        return [_usd(r["saving_usd"] * month_factor)] if month_factor else []

    for name, r in lv["alone"].items():
        t.add_row(f"{name} alone", _usd(r["new_usd"]), _usd(r["saving_usd"]), *monthly(r), f"{r['saving_pct']:.1f}%")
    for s in lv["compounded"]["steps"]:
        t.add_row(f"+ {s['after']} (compounded)", _usd(s["new_usd"]), _usd(s["saving_usd"]), *monthly(s),
                  f"{s['saving_pct']:.1f}%  (step {_usd(s['step_saving_usd'])}, {s['share_of_saving']:.0%} of it)")
    c.print(t)
    c.print(f"[dim]adoption order {' -> '.join(lv['adoption_order'])}; each compounded step is replayed in the "
            f"order {' -> '.join(lv['execution_order'])} (a cache replay sees the final stream)[/dim]")
    for name, r in lv["alone"].items():
        for line in evidence_lines(name, r.get("evidence", {})):
            c.print(f"  [bold]{name}[/bold]: {line}", highlight=False)
    for n in lv.get("notes") or []:  # options naming what the traffic lacks; requests kept out of token dollars
        c.print(f"[yellow]note:[/yellow] {n}", highlight=False)


def render_cache_curve(res: dict[str, Any], console: Console | None = None) -> None:
    c = console or Console()
    ttl = "no expiry" if res["ttl_s"] is None else f"TTL {res['ttl_s']:g} s"
    t = Table(title=f"Self-hosted prefix cache, {ttl}: {res['requests']:,} requests, "
              f"{res['input_tokens']:,} input tokens", title_justify="left")
    t.add_column("capacity (tokens)", justify="right")
    t.add_column("input tokens from cache", justify="right")
    for p in res["points"]:
        cap = "unlimited" if p["capacity_tokens"] is None else f"{p['capacity_tokens']:,}"
        t.add_row(cap, f"{p['hit_token_fraction']:.2%}")
    c.print(t)
    for b in res.get("breakers", []):
        c.print(f"cache breaker: {b['call_type']} segment {b['position']} is new on {b['distinct_share']:.0%} of "
                f"requests ahead of repeating segments; moving it to the end would serve "
                f"{b['hit_tokens_gained_if_moved']:,.0f} more tokens from cache", highlight=False)
    for n in res.get("notes", []):
        c.print(f"[dim]note:[/dim] {n}")


def render_route_eval(r: dict[str, Any], console: Console | None = None) -> None:
    c = console or Console()
    t = Table(title=f"Routing {r['small']['model']} / {r['large']['model']} on {r['test']:,} held-out requests "
              f"(target {r['target']:.0%} of the large model = {r['target_accuracy']:.1%} accuracy)",
              title_justify="left")
    for col in ("policy", "accuracy", "to small model", "USD per 1,000 requests"):
        t.add_column(col, justify="left" if col == "policy" else "right")
    t.add_row("always large", f"{r['always_large_accuracy']:.1%}", "0%", _usd(r["always_large_usd"]))
    t.add_row("always small", f"{r['small_accuracy']:.1%}", "100%", _usd(r["always_small_usd"]))
    t.add_row("random router at target", f"{r['random_accuracy_at_target']:.1%}",
              f"{r['random_share_small_at_target']:.0%}", _usd(r["random_usd_at_target"]))
    t.add_row("trained router at target", f"{r['router_accuracy_at_target']:.1%}",
              f"{r['router_share_small_at_target']:.0%}", _usd(r["router_usd_at_target"]))
    t.add_row("perfect router at target", f"{r['perfect_accuracy_at_target']:.1%}",
              f"{r['perfect_share_small_at_target']:.0%}", _usd(r["perfect_usd_at_target"]))
    cas = r["cascade"]
    t.add_row(f"cascade (validator recall {cas['validator_recall']:.0%}, fpr {cas['validator_fpr']:.0%})",
              f"{cas['accuracy']:.1%}", f"100% ({cas['escalation_rate']:.0%} escalated)", _usd(cas["usd_per_1k"]))
    c.print(t)
    c.print(f"[dim]tokens estimated from text: {r['tokens']['input_per_request_mean']:.0f} input (chars/"
            f"{r['tokens']['chars_per_token']:g}), {r['tokens']['output_per_request']} output per request; "
            f"split seed {r['seed']}, trained on {r['train']:,}[/dim]")
