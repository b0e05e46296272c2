"""A Markdown summary fit for a pull-request comment: the headline table, then the top rows and findings.

GitHub-flavoured Markdown: pipes tables, no HTML. Every value that comes from the input (call types, model
ids, tags) is escaped, so a cell cannot break the table or inject markup.
"""

from __future__ import annotations

from typing import Any

from .fmt import pct, sum_rows, tokens, top_n, usd, usd_short
from .html import TITLES
from .view import (
    bedrock_today,
    breakeven_slices,
    current_option,
    evidence_text,
    headline,
    kind_of,
    month_factor,
    monthly_options,
    no_lever_saves,
    parts,
)


def cell(x: Any) -> str:
    """One table cell: pipes, markup and line breaks neutralised."""
    s = "" if x is None else str(x)
    for a, b in (("\\", "\\\\"), ("|", "\\|"), ("<", "&lt;"), (">", "&gt;"), ("`", "\\`"), ("*", "\\*"),
                 ("_", "\\_"), ("[", "\\["), ("]", "\\]")):
        s = s.replace(a, b)
    return " ".join(s.split())


def table(columns: list[str], rows: list[list[Any]], right: set[int] | None = None) -> list[str]:
    right = right or set()
    out = ["| " + " | ".join(cell(c) for c in columns) + " |",
           "|" + "|".join("---:" if i in right else "---" for i in range(len(columns))) + "|"]
    out += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return out


def _headline(summary: dict[str, Any], kind: str) -> list[str]:
    h = headline(summary, kind)
    rows: list[list[Any]] = []
    if h["monthly_usd"] is not None:
        basis = f" ({h['monthly_basis']})" if h["monthly_basis"] and h["usd_per_hour"] is None else ""
        rows.append(["projected month (730 h)", usd(h["monthly_usd"]) + basis])
    if h["usd_per_hour"] is not None:
        rows.append(["run-rate", f"{usd(h['usd_per_hour'])}/h ({usd(h['total_usd'])} over {h['window']}, "
                     f"{h['requests']:,} requests)"])
    rows += [["not in token dollars", line] for line in h["not_token_priced"]]
    if h["saving_monthly_usd"] is not None:
        share = f" ({pct(h['saving_share'])})" if h["saving_share"] is not None else ""
        rows.append(["saving available", f"{usd(h['saving_monthly_usd'])}/month{share}: {h['saving_basis']}"])
    if h["first"]:
        rows.append(["first thing to do", f"{h['first']['title']}: {h['first']['text']}"])
    out = table(["headline", ""], rows, {1}) if rows else []
    if h["caveat"]:
        out += ["", f"> {cell(h['caveat'])}"]
    return out


def render(summary: dict[str, Any], kind: str | None = None, *, top: int = 5) -> str:
    """The Markdown text for one summary."""
    k = kind_of(summary, kind)
    p = parts(summary, k)
    lines = [f"### inferplan: {TITLES.get(k, k)}", "", *_headline(summary, k)]
    factor = month_factor(p)
    if "findings" in p:
        lines += ["", f"**Top findings** ({len(p['findings'])} in all)", ""]
        for i, f in enumerate(p["findings"][:top], 1):
            where = " / ".join(str(x) for x in (f.get("call_type"), f.get("model")) if x)
            cmd = f" `{f['command']}`" if f.get("command") and "`" not in f["command"] else ""
            lines.append(f"{i}. **{cell(f.get('kind'))}**" + (f" ({cell(where)})" if where else "")
                         + f": {usd_short(f.get('monthly_saving_usd'))}/month. {cell(evidence_text(f.get('evidence')))}"
                         + cmd)
    if "spend" in p:
        sp = p["spend"]
        rows = top_n((sp.get("breakdowns") or {}).get("call_type") or [], top, sum_rows)
        if rows:
            lines += ["", "**Spend by call type**", ""]
            lines += table(["call type", "requests", "input tok", "output tok", "USD", "share", "USD/month"],
                           [[r["key"], f"{r['requests']:,}", tokens(r["input_tokens"]), tokens(r["output_tokens"]),
                             usd(r["total_usd"]), pct(r["share"]),
                             usd(r["total_usd"] * factor) if factor else "n/a"] for r in rows], {1, 2, 3, 4, 5, 6})
    if "levers" in p:
        lv = p["levers"]
        f = factor or 1.0
        unit = "USD/month" if factor else "USD (window)"
        steps = {s["after"]: s for s in (lv.get("compounded") or {}).get("steps", [])}
        if no_lever_saves(lv):
            lines += ["", f"**Workload levers**: none of {', '.join(lv['levers'])} saves anything on this traffic."]
        else:
            lines += ["", f"**Workload levers** (alone, and compounded in the order {' → '.join(lv['levers'])})",
                      ""]
            lines += table(["lever", f"saving alone, {unit}", "alone %", f"cost after compounding, {unit}"],
                           [[n, usd(r["saving_usd"] * f), f"{r['saving_pct']:.1f}%",
                             usd(steps[n]["new_usd"] * f) if n in steps else ""] for n, r in lv["alone"].items()],
                           {1, 2, 3})
    if "compare" in p:
        opts = monthly_options(p["compare"])[:top]
        cur = current_option(p["compare"])
        if opts:
            lines += ["", "**Serving options** (cheapest first)", ""]
            lines += table(["option", "kind", "USD/month", "vs Bedrock", "utilisation", "feasible"],
                           [[o.get("name"), o.get("kind"), usd(o.get("monthly_usd")),
                             _vs(o, cur), pct(o.get("utilization")),
                             "yes" if o.get("feasible", True) else f"no: {o.get('reason') or ''}"] for o in opts],
                           {2, 3, 4})
    for sl, unc in breakeven_slices(p):
        be = sorted(sl.get("breakeven") or [], key=lambda b: (b.get("monthly_bedrock_usd") is None,
                                                              b.get("monthly_bedrock_usd") or 0.0))
        if not be:
            continue
        mc = {o.get("option"): o for o in (unc or {}).get("options") or []}
        label = sl.get("label") or "all traffic"
        lines += ["", f"**Break-even, {cell(label)}** (Bedrock-equivalent monthly spend where each option costs "
                  f"the same, engineering included; Bedrock today {usd(bedrock_today(sl))}/month)", ""]
        shown = be[:top]
        lines += table(["option", "break-even, USD/month", "P10 – P90", "x today", "tokens/month"],
                       [[b.get("option"), usd(b.get("monthly_bedrock_usd")) if b.get("monthly_bedrock_usd")
                         is not None else f"never ({b.get('reason') or 'in the range searched'})",
                         _band(mc.get(b.get("option"))), "" if b.get("scale") is None else f"{b['scale']:.3g}",
                         tokens(b.get("tokens_per_month"))] for b in shown], {1, 2, 3, 4})
        if len(be) > len(shown):
            lines += ["", f"_{len(be) - len(shown)} more option(s) in the JSON._"]
    lines += ["", "_inferplan: monthly figures are 730 hours; every price comes from the catalog with its source._", ""]
    return "\n".join(lines)


def _band(mc: dict[str, Any] | None) -> str:
    b = (mc or {}).get("breakeven_monthly_bedrock_usd") or {}
    hi = b.get("p90")
    return "" if b.get("p10") is None else f"{usd_short(b['p10'])} – {'never' if hi is None else usd_short(hi)}"


def _vs(o: dict[str, Any], cur: dict[str, Any] | None) -> str:
    if not cur or o is cur or o.get("monthly_usd") is None or not cur.get("monthly_usd"):
        return ""
    change = o["monthly_usd"] / cur["monthly_usd"] - 1
    return ("+" if change > 0 else "") + pct(change, 0)
