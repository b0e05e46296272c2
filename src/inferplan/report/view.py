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


def breakeven_slices(p: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """(break-even, its Monte Carlo) per slice: one for `breakeven`, one per slice of traffic for `plan`."""
    be = p.get("breakeven")
    if isinstance(be, dict):
        return [(be, p.get("uncertainty") if isinstance(p.get("uncertainty"), dict) else None)]
    unc = {u.get("label"): u for u in p.get("uncertainty") or [] if isinstance(u, dict)}
    return [(s, unc.get(s.get("label"))) for s in be or [] if isinstance(s, dict)]


def bedrock_today(be: dict[str, Any]) -> float | None:
    """A break-even slice's Bedrock spend per month today (after the levers, when they were replayed)."""
    v = be.get("bedrock_after_levers_monthly_usd")
    return be.get("bedrock_monthly_usd") if v is None else v


def cheapest_today(be: dict[str, Any]) -> tuple[str, float] | None:
    """The option that costs least at today's volume, engineering included."""
    today = {k: v for k, v in (be.get("today") or {}).items() if v is not None}
    return min(today.items(), key=lambda kv: kv[1]) if today else None


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


def no_lever_saves(lv: dict[str, Any]) -> bool:
    """True when no lever saves a cent in a million (the counterfactual repriced to the same dollars, up to float
    rounding): the report says so instead of drawing bars of $0.0000000003."""
    base = abs(lv.get("baseline_usd") or 0.0)
    return all(abs(r.get("saving_usd") or 0.0) <= 1e-9 * max(base, 1.0) for r in (lv.get("alone") or {}).values())


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
                         "saving_basis": None, "first": None, "not_token_priced": [], "monthly_basis": None}
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
            h.update(monthly_usd=cur.get("monthly_usd"), monthly_basis="Bedrock on-demand")
        d = cmp.get("demand") or {}
        if d.get("hours"):
            h["window"] = f"{d['hours']:.1f} hours" if d["hours"] < 48 else f"{d['hours'] / 24:.1f} days"
    slices = breakeven_slices(p)
    if slices and h["monthly_usd"] is None:
        be = slices[0][0]
        h.update(monthly_usd=bedrock_today(be), monthly_basis="Bedrock after the workload levers"
                 if be.get("levers") else "Bedrock, as the series prices it")
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
        where = f.get("call_type") or f.get("model")
        h["first"] = {"title": str(f.get("kind") or "").replace("-", " ") + (f": {where}" if where else ""),
                      "text": _evidence_text(f.get("evidence")),
                      "monthly_saving_usd": f.get("monthly_saving_usd"), "command": f.get("command")}
    elif lv:
        h["first"] = lever_first(lv, factor)
    if slices and h["first"] is None:
        be, unc = slices[0]
        best, bed = cheapest_today(be), bedrock_today(be)
        if best and bed and best[1] < bed:
            mc = next((o for o in (unc or {}).get("options") or [] if o.get("option") == best[0]), {})
            beats = f"; beats Bedrock in {mc['p_beats_bedrock']:.0%} of the Monte Carlo draws" \
                if mc.get("p_beats_bedrock") is not None else ""
            h["first"] = {"title": f"serve on {best[0]}", "text": f"{usd_short(best[1])}/month with engineering "
                          f"against {usd_short(bed)} on Bedrock{beats}", "monthly_saving_usd": bed - best[1],
                          "command": None}
            if h["saving_monthly_usd"] is None:
                h.update(saving_monthly_usd=bed - best[1], saving_share=(bed - best[1]) / bed,
                         saving_basis="cheapest option at today's volume, engineering included")
        elif bed:
            found = sorted((r for r in be.get("breakeven") or [] if r.get("monthly_bedrock_usd") is not None),
                           key=lambda r: r["monthly_bedrock_usd"])
            soonest = (f"the soonest break-even is {found[0]['option']} at {usd_short(found[0]['monthly_bedrock_usd'])}"
                       f"/month of Bedrock ({found[0]['scale']:.3g} x today's volume)" if found
                       else "no option breaks even in the range searched")
            h["first"] = {"title": "stay on Bedrock", "text": f"{usd_short(bed)}/month today; {soonest}",
                          "monthly_saving_usd": 0.0, "command": None}
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
    if isinstance(ev, dict) and isinstance(ev.get("text"), str):  # the finding's own sentence says it best
        return ev["text"]
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
