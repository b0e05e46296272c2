"""What every report shows, found in any command's summary: the parts, and the headline built from them.

Each command's summary holds some of the parts: `analyze` has the spend (and the levers with `--levers`),
`compare` the serving options, `breakeven` the cost curves, `plan` all of them under its own keys. Reports
ask `parts()` for what is there and leave out what is not, so any summary can be rendered.
"""

from __future__ import annotations

from typing import Any

from .fmt import usd, usd_short

PART_KEYS = ("spend", "levers", "cache_curve", "route_eval", "compare", "breakeven", "uncertainty", "findings",
             "model_levers")


def kind_of(summary: dict[str, Any], kind: str | None = None) -> str:
    return kind or summary.get("kind") or "analyze"


def parts(summary: dict[str, Any], kind: str | None = None) -> dict[str, Any]:
    """The summary's parts by name (absent parts are absent keys)."""
    k = kind_of(summary, kind)
    out: dict[str, Any] = {}
    if k in ("analyze", "demo"):
        out["spend"] = summary
        if summary.get("levers"):
            out["levers"] = summary["levers"]
    elif k == "cache-curve":
        out["cache_curve"] = summary
    elif k == "route-eval":
        out["route_eval"] = summary
    elif k == "compare":
        out["compare"] = summary
    elif k == "breakeven":
        out["breakeven"] = summary
        if summary.get("compare"):
            out["compare"] = summary["compare"]
        if summary.get("uncertainty"):
            out["uncertainty"] = summary["uncertainty"]
    else:  # plan, and any summary that nests the parts under their own keys
        for key in PART_KEYS:
            if summary.get(key):
                out[key] = summary[key]
        if isinstance(out.get("spend"), dict) and out["spend"].get("levers") and "levers" not in out:
            out["levers"] = out["spend"]["levers"]
    for key in ("cache_curve", "route_eval"):  # any summary may carry these beside its own
        if summary.get(key) and key not in out:
            out[key] = summary[key]
    return out


def month_factor(p: dict[str, Any]) -> float | None:
    """Multiply the window's dollars by this to get a 730-hour month (None when the window has no length)."""
    rr = (p.get("spend") or {}).get("run_rate") or {}
    return rr.get("month_factor")


def monthly_options(cmp: dict[str, Any]) -> list[dict[str, Any]]:
    """Serving options, feasible ones first, cheapest first."""
    opts = [o for o in cmp.get("options", []) if isinstance(o, dict)]
    return sorted(opts, key=lambda o: (not o.get("feasible", True), o.get("monthly_usd") is None,
                                       o.get("monthly_usd") or 0.0))


def current_option(cmp: dict[str, Any]) -> dict[str, Any] | None:
    """Bedrock on-demand: what the traffic costs today."""
    bedrock = [o for o in cmp.get("options", []) if o.get("kind") == "bedrock"]
    return next((o for o in bedrock if "on-demand" in str(o.get("name"))), bedrock[0] if bedrock else None)


def lever_first(lv: dict[str, Any], factor: float | None) -> dict[str, Any] | None:
    """The lever that saves most on its own, as the first thing to do."""
    alone = [(name, r) for name, r in lv.get("alone", {}).items() if (r.get("saving_usd") or 0) > 0]
    if not alone:
        return None
    name, r = max(alone, key=lambda x: x[1]["saving_usd"])
    monthly = r["saving_usd"] * factor if factor else None
    per = f"{usd_short(monthly)}/month" if monthly is not None else f"{usd(r['saving_usd'])} over the window"
    return {"title": f"adopt {name}", "text": f"saves {per} on its own ({r['saving_pct']:.1f}% of spend)",
            "monthly_saving_usd": monthly, "command": "inferplan analyze ... --levers all"}


def headline(summary: dict[str, Any], kind: str | None = None) -> dict[str, Any]:
    """Run-rate, projected month, saving available and the first thing to do, from whatever parts exist.

    Values are None where the summary cannot say (no lever evaluated, a window with no length).
    """
    p = parts(summary, kind)
    h: dict[str, Any] = {"usd_per_hour": None, "monthly_usd": None, "window": None, "caveat": None,
                         "total_usd": None, "requests": None, "saving_monthly_usd": None, "saving_share": None,
                         "saving_basis": None, "first": None, "not_token_priced": []}
    spend = p.get("spend")
    if spend:
        rr = spend.get("run_rate") or {}
        h.update(usd_per_hour=rr.get("usd_per_hour"), monthly_usd=rr.get("monthly_usd"), window=rr.get("window"),
                 caveat=rr.get("caveat"), total_usd=spend.get("total_usd"), requests=spend.get("requests"))
        h["not_token_priced"] = list((spend.get("not_token_priced") or {}).get("headline", []))
    cmp = p.get("compare")
    if cmp and h["monthly_usd"] is None:
        cur = current_option(cmp)
        if cur:
            h["monthly_usd"] = cur.get("monthly_usd")
        d = cmp.get("demand") or {}
        if d.get("hours"):
            h["window"] = f"{d['hours']:.1f} hours" if d["hours"] < 48 else f"{d['hours'] / 24:.1f} days"
    factor = month_factor(p)
    lv = p.get("levers")
    if lv and factor:
        comp = lv.get("compounded", {})
        h.update(saving_monthly_usd=(comp.get("saving_usd") or 0.0) * factor,
                 saving_share=(comp.get("saving_pct") or 0.0) / 100, saving_basis="workload levers compounded")
    findings = p.get("findings")
    if findings:
        f = findings[0]
        total = sum(max(0.0, x.get("monthly_saving_usd") or 0.0) for x in findings)
        if h["saving_monthly_usd"] is None or total > h["saving_monthly_usd"]:
            h.update(saving_monthly_usd=total, saving_basis=f"{len(findings)} finding(s), added up",
                     saving_share=(total / h["monthly_usd"]) if h["monthly_usd"] else None)
        where = " / ".join(str(x) for x in (f.get("call_type"), f.get("model")) if x)
        h["first"] = {"title": f"{f.get('kind')}" + (f" ({where})" if where else ""),
                      "text": _evidence_text(f.get("evidence")),
                      "monthly_saving_usd": f.get("monthly_saving_usd"), "command": f.get("command")}
    elif lv:
        h["first"] = lever_first(lv, factor)
    if cmp and h["first"] is None:
        cur = current_option(cmp)
        best = next((o for o in monthly_options(cmp) if o.get("feasible", True)), None)
        if cur and best and best is not cur and (best.get("monthly_usd") or 0) < (cur.get("monthly_usd") or 0):
            saving = cur["monthly_usd"] - best["monthly_usd"]
            h["first"] = {"title": f"serve on {best['name']}", "text": f"{usd_short(best['monthly_usd'])}/month "
                          f"against {usd_short(cur['monthly_usd'])} on Bedrock on-demand (infrastructure only; "
                          "check the break-even with engineering time)", "monthly_saving_usd": saving,
                          "command": "inferplan breakeven ..."}
            if h["saving_monthly_usd"] is None:
                h.update(saving_monthly_usd=saving, saving_basis="cheapest feasible serving option, "
                         "infrastructure only",
                         saving_share=saving / cur["monthly_usd"] if cur["monthly_usd"] else None)
    return h


def _evidence_text(ev: Any) -> str:
    if ev is None:
        return ""
    if isinstance(ev, str):
        return ev
    if isinstance(ev, list):
        return "; ".join(_evidence_text(e) for e in ev)
    if isinstance(ev, dict):
        return "; ".join(f"{k.replace('_', ' ')}: {_scalar(v)}" for k, v in ev.items())
    return str(ev)


def _scalar(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.4g}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    if isinstance(v, dict | list):
        return _evidence_text(v)
    return str(v)


evidence_text = _evidence_text
