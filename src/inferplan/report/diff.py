"""`inferplan diff BEFORE.json AFTER.json`: what changed in monthly cost between two runs, and why.

Like Infracost's comment on an infrastructure change: the monthly total before and after, then each line that
moved (a call type, a serving option), with the change explained. A call type's monthly change splits exactly
into a volume effect (requests per month, at the old cost per request) and a per-request effect (at the new
volume), and the per-request effect into each token kind's tokens per request (at the old rate) and its rate
(a price, model or tier change, at the new tokens):

    r1*u1 - r0*u0 = (r1 - r0)*u0 + r1*(u1 - u0),   u = sum over kinds of t_k * p_k,
    t1*p1 - t0*p0 = (t1 - t0)*p0 + t1*(p1 - p0).

Monthly figures are each run's own 730-hour projection, so a week of logs compares with a month of logs.
Besides the spend and the serving options, a `breakeven` or `plan` run's break-even points (per option, with
its engineering and today's cost), the workload levers' monthly saving (alone and compounded) and a plan's
findings are lines too, so a change of engineering cost or of one lever shows where it moved. Two runs of
different commands are refused: their monthly figures mean different things.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InputError
from .fmt import price_window, signed_usd, tokens, usd
from .view import bedrock_today, breakeven_slices, month_factor, parts

KINDS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")
LABEL = {"input": "input", "output": "output", "cache_read": "cache read", "cache_write_5m": "cache write (5m)",
         "cache_write_1h": "cache write (1h)"}
EPS = 0.005  # half a cent: changes smaller than this are not lines


def load(path: Path) -> dict[str, Any]:
    """A stamped inferplan --json output, validated against the schema."""
    import json

    from .schema import validate

    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    try:  # the whole file (pretty-printed, or one line), else its last line (notes printed before the JSON)
        obj = json.loads(text)
    except ValueError:
        try:
            obj = json.loads(text.splitlines()[-1])
        except (ValueError, IndexError) as exc:
            raise InputError(f"{path}: not JSON ({exc}); write it with `inferplan ... --json > {path}`") from None
    if not isinstance(obj, dict) or "schema_version" not in obj:
        raise InputError(f"{path}: no schema_version: not an inferplan --json output (re-run the command with "
                         "--json)")
    validate(obj, str(path))
    return obj


def _monthly_spend(summary: dict[str, Any]) -> tuple[float | None, dict[str, dict[str, Any]], float | None]:
    """(monthly total, per call type {requests, tokens by kind, usd by kind, total} per month, month factor)."""
    p = parts(summary)
    spend = p.get("spend")
    if not spend:
        return None, {}, None
    f = month_factor(p)
    lines: dict[str, dict[str, Any]] = {}
    for r in (spend.get("breakdowns") or {}).get("call_type") or []:
        m = f or 0.0
        lines[str(r["key"])] = {"requests": r["requests"] * m, "total": r["total_usd"] * m,
                                "tokens": {k: r[f"{k}_tokens"] * m for k in KINDS},
                                "usd": {k: r[f"{k}_usd"] * m for k in KINDS}}
    return (spend.get("run_rate") or {}).get("monthly_usd"), lines, f


def effects(b: dict[str, Any] | None, a: dict[str, Any] | None, min_usd: float = EPS) -> list[dict[str, Any]]:
    """A call type's monthly change as effects that add up to it exactly: [{what, usd}] (those under `min_usd`
    left out)."""
    if b is None:
        return [{"what": f"new: {a['requests']:,.0f} requests a month", "usd": a["total"]}] if a else []
    if a is None:
        return [{"what": f"gone: was {b['requests']:,.0f} requests a month", "usd": -b["total"]}]
    out = []
    r0, r1 = b["requests"], a["requests"]
    u0 = b["total"] / r0 if r0 else 0.0
    change = f"{r1 / r0 - 1:+.1%}" if r0 else "new"
    out.append({"what": f"requests {r0:,.0f} → {r1:,.0f} a month ({change})", "usd": (r1 - r0) * u0})
    for k in KINDS:
        t0 = b["tokens"][k] / r0 if r0 else 0.0
        t1 = a["tokens"][k] / r1 if r1 else 0.0
        p0 = b["usd"][k] / b["tokens"][k] if b["tokens"][k] else None
        p1 = a["usd"][k] / a["tokens"][k] if a["tokens"][k] else None
        old_rate = p0 if p0 is not None else (p1 or 0.0)  # a kind new to the call type: priced at its new rate
        out.append({"what": f"{LABEL[k]} tokens per request {tokens(t0)} → {tokens(t1)}",
                    "usd": r1 * (t1 - t0) * old_rate})
        if p0 is not None and p1 is not None:
            out.append({"what": f"{LABEL[k]} rate ${p0 * 1e6:,.4g} → ${p1 * 1e6:,.4g} per Mtok (price, model or tier "
                                "mix)", "usd": r1 * t1 * (p1 - p0)})
    return [e for e in out if abs(e["usd"]) >= min_usd and e["usd"] != 0]


def _price_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    def rows(s: dict[str, Any]) -> dict[tuple, dict[str, Any]]:
        """Price rows by key and window (a key has one row per window it was in force over)."""
        spend = parts(s).get("spend") or {}
        return {(p["model"], p["scope"], p["region"], p["tier"], price_window(p)): p
                for p in spend.get("prices") or []}

    def name(k: tuple) -> str:
        return f"{k[0]} {k[1]}/{k[2]}/{k[3]}" + ("" if k[4] == "always" else f" ({k[4]})")

    rb, ra = rows(before), rows(after)
    out = []
    for key in sorted(set(rb) & set(ra)):
        for field in ("input_usd_per_mtok", "output_usd_per_mtok", "cache_read_usd_per_mtok",
                      "cache_write_5m_usd_per_mtok", "cache_write_1h_usd_per_mtok"):
            x, y = rb[key].get(field), ra[key].get(field)
            if x != y:
                out.append(f"price {name(key)} {field.removesuffix('_usd_per_mtok')}: {x} → {y} $/Mtok")
    out += [f"now priced: {name(k)}" for k in sorted(set(ra) - set(rb))]
    out += [f"no longer used: {name(k)}" for k in sorted(set(rb) - set(ra))]
    return out


def _options(summary: dict[str, Any]) -> dict[str, float | None]:
    cmp = parts(summary).get("compare") or {}
    return {o["name"]: o.get("monthly_usd") for o in cmp.get("options") or [] if o.get("feasible", True)}


# commands whose outputs diff against each other (the same monthly figure: today's spend); any other pair
# must be one command
_SAME = {"plan": "analyze"}


def _breakevens(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each break-even point by line key: {at (Bedrock $/month, None: never), engineering, today}."""
    out: dict[str, dict[str, Any]] = {}
    for be, _ in breakeven_slices(parts(summary)):
        label = be.get("label")
        pre = "" if label in (None, "all traffic") else f"{label}: "
        today = be.get("today") or {}
        out[f"break-even {pre}against Bedrock"] = {"at": bedrock_today(be), "bedrock": True}
        for r in be.get("breakeven") or []:
            out[f"break-even {pre}{r['option']}"] = {
                "at": r.get("monthly_bedrock_usd") if r.get("scale") is not None else None,
                "engineering": r.get("engineering_monthly_usd"), "today": today.get(r["option"]),
                "reason": r.get("reason")}
    return out


def _breakeven_lines(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    bb, ba = _breakevens(before), _breakevens(after)
    lines = []
    for key in sorted(set(bb) | set(ba)):
        b, a = bb.get(key), ba.get(key)
        if b is None or a is None:
            lines.append({"key": key, "kind": "break-even", "before_usd": (b or {}).get("at"),
                          "after_usd": (a or {}).get("at"), "change_usd": 0.0,
                          "why": ["new option" if b is None else "no longer offered"]})
            continue
        if b.get("bedrock"):
            if b["at"] is not None and a["at"] is not None and abs(a["at"] - b["at"]) >= EPS:
                lines.append({"key": key, "kind": "break-even", "before_usd": b["at"], "after_usd": a["at"],
                              "change_usd": round(a["at"] - b["at"], 2),
                              "why": ["Bedrock's spend a month today after the levers: what each option's "
                                      "break-even is measured against"]})
            continue
        why = []
        for field, what in (("engineering", "engineering"), ("today", "its cost at today's volume")):
            x, y = b.get(field), a.get(field)
            if x is not None and y is not None and abs(y - x) >= EPS:
                why.append(f"{what} {usd(x)} → {usd(y)} a month ({signed_usd(y - x)})")
        x, y = b["at"], a["at"]
        if x is None and y is None and not why:
            continue
        if x is not None and y is not None and abs(y - x) < EPS and not why:
            continue
        if (x is None) != (y is None):
            why.append("now breaks even in the range searched" if x is None else
                       f"no longer breaks even: {a.get('reason') or 'not in the range searched'}")
        lines.append({"key": key, "kind": "break-even", "before_usd": x, "after_usd": y,
                      "change_usd": round((y or 0.0) - (x or 0.0), 2) if x is not None and y is not None else 0.0,
                      "why": ["break-even point (Bedrock $/month)", *why]})
    return lines


def _lever_savings(summary: dict[str, Any]) -> dict[str, float]:
    """Monthly saving of each lever alone and of all compounded (empty without levers or a month): a plan's own
    month (its demand series' factor and volume), else the spend's run-rate month."""
    p = parts(summary)
    lv = p.get("levers")
    if not lv:
        return {}
    f = month_factor(p)
    if lv.get("monthly_baseline_usd") is not None and lv.get("baseline_usd"):
        f = lv["monthly_baseline_usd"] / lv["baseline_usd"]  # the plan's month, as its monthly_saving_usd
    if not f:
        return {}
    out = {f"lever {name} alone": float(r.get("saving_usd") or 0.0) * f for name, r in (lv.get("alone") or {}).items()}
    if lv.get("monthly_saving_usd") is not None:
        out["levers compounded"] = float(lv["monthly_saving_usd"])
    elif lv.get("compounded"):
        out["levers compounded"] = float(lv["compounded"].get("saving_usd") or 0.0) * f
    return out


def _findings(summary: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for f in parts(summary).get("findings") or []:
        if isinstance(f, dict) and f.get("monthly_saving_usd") is not None:
            key = f"finding {f.get('kind')}" + (f" ({f['call_type']})" if f.get("call_type") else "")
            out[key] = out.get(key, 0.0) + float(f["monthly_saving_usd"])
    return out


def _saving_lines(b: dict[str, float], a: dict[str, float], what: str) -> list[dict[str, Any]]:
    lines = []
    for key in sorted(set(b) | set(a)):
        x, y = b.get(key), a.get(key)
        if x is not None and y is not None and abs(y - x) < EPS:
            continue
        lines.append({"key": key, "kind": "saving", "before_usd": None if x is None else round(x, 2),
                      "after_usd": None if y is None else round(y, 2),
                      "change_usd": round((y or 0.0) - (x or 0.0), 2),
                      "why": [what if x is not None and y is not None else "new" if x is None else "gone"]})
    return lines


def check_kinds(before: dict[str, Any], after: dict[str, Any], before_name: str, after_name: str) -> None:
    """Refuse two runs of different commands: a compare's monthly figure (the cheapest option) and a plan's
    (today's spend) are not the same quantity, and a diff of them would explain nothing."""
    kb, ka = (_SAME.get(str(x.get("kind")), x.get("kind")) for x in (before, after))
    if kb != ka:
        raise InputError(f"{before_name} is a `{before.get('kind')}` output and {after_name} a `{after.get('kind')}` "
                         "one: diff compares two runs of one command (re-run the same command on both inputs)")


def diff(before: dict[str, Any], after: dict[str, Any], before_name: str = "before",
         after_name: str = "after") -> dict[str, Any]:
    """The change in monthly cost between two summaries, line by line, with its reasons."""
    check_kinds(before, after, before_name, after_name)
    mb, lb, fb = _monthly_spend(before)
    ma, la, fa = _monthly_spend(after)
    lines: list[dict[str, Any]] = []
    why: list[str] = []
    for key in sorted(set(lb) | set(la)):
        b, a = lb.get(key), la.get(key)
        x, y = (b or {}).get("total", 0.0), (a or {}).get("total", 0.0)
        if abs(y - x) < EPS and b is not None and a is not None:
            continue
        eff = effects(b, a)
        lines.append({"key": f"call type {key}", "kind": "cost", "before_usd": round(x, 2) if b else None,
                      "after_usd": round(y, 2) if a else None, "change_usd": round(y - x, 2),
                      "effects": [{"what": e["what"], "usd": round(e["usd"], 6)} for e in eff],
                      "why": [f"{e['what']}: {signed_usd(e['usd'])}" for e in eff]})
    ob, oa = _options(before), _options(after)
    for name in sorted(set(ob) | set(oa)):
        x, y = ob.get(name), oa.get(name)
        if x is not None and y is not None and abs(y - x) < EPS:
            continue
        lines.append({"key": f"option {name}", "kind": "cost", "before_usd": x, "after_usd": y,
                      "change_usd": round((y or 0.0) - (x or 0.0), 2),
                      "why": ["new option" if x is None else "no longer feasible or offered" if y is None else
                              "same option over the new traffic's series"]})
    lines.sort(key=lambda ln: -abs(ln["change_usd"]))  # dollars a month first, then savings, then break-evens
    savings = _saving_lines(_lever_savings(before), _lever_savings(after), "monthly saving")
    savings += _saving_lines(_findings(before), _findings(after), "monthly saving of the finding")
    lines += sorted(savings, key=lambda ln: -abs(ln["change_usd"]))
    lines += sorted(_breakeven_lines(before, after), key=lambda ln: (not ln["key"].endswith("against Bedrock"),
                                                                      -abs(ln["change_usd"])))
    if mb is None and ob:  # a compare: the monthly figure is the cheapest feasible option's
        mb = min((v for v in ob.values() if v is not None), default=None)
    if ma is None and oa:
        ma = min((v for v in oa.values() if v is not None), default=None)
    if mb is None and ma is None:  # a breakeven: Bedrock's monthly spend today (after the levers)
        sb, sa = breakeven_slices(parts(before)), breakeven_slices(parts(after))
        if len(sb) == 1 and len(sa) == 1:
            mb, ma = bedrock_today(sb[0][0]), bedrock_today(sa[0][0])
            why.append("the monthly figure is Bedrock's spend today (after the levers); each break-even line is "
                       "the Bedrock spend a month at which that option starts to cost less")
    why += _price_changes(before, after)
    for name, f in ((before_name, fb), (after_name, fa)):
        rr = (parts(before if name == before_name else after).get("spend") or {}).get("run_rate") or {}
        if rr.get("caveat"):
            why.append(f"{name}: {rr['caveat']}")
        elif f is None and (parts(before if name == before_name else after).get("spend")):
            why.append(f"{name}: the window has no length, so no month is projected")
    for label, s in ((before_name, before), (after_name, after)):
        if (saved := _lever_savings(s).get("levers compounded")) is not None:
            why.append(f"{label}: the workload levers compounded would save {usd(saved)}/month")
    change = None if mb is None or ma is None else round(ma - mb, 2)
    return {
        "before": {"file": before_name, "kind": before.get("kind"), "monthly_usd": mb},
        "after": {"file": after_name, "kind": after.get("kind"), "monthly_usd": ma},
        "monthly": {"before_usd": mb, "after_usd": ma, "change_usd": change,
                    "change_pct": None if change is None or not mb else round(100 * change / mb, 4)},
        "lines": lines,
        "why": why,
    }


def _sign(ln: dict[str, Any]) -> str:
    """+ a new line, - a gone one, ~ a changed one; a break-even that appears or goes is a change ("never")."""
    if ln.get("kind") == "break-even" and ln.get("why", [""])[0] not in ("new option", "no longer offered"):
        return "~"
    return "+" if ln["before_usd"] is None else "-" if ln["after_usd"] is None else "~"


def _amount(ln: dict[str, Any], v: float | None) -> str:
    """A line's figure: a break-even that is not reached is "never", never $0.00 (which reads as "always")."""
    if v is None:
        return "never" if ln.get("kind") == "break-even" else usd(0.0)
    return usd(v)


def render_terminal(d: dict[str, Any], console: Any) -> None:
    m = d["monthly"]
    head = f"Monthly cost (730 h): {usd(m['before_usd'])} → {usd(m['after_usd'])}"
    if m["change_usd"] is not None:
        head += f"  ({signed_usd(m['change_usd'])}" + (f", {m['change_pct']:+.1f}%)" if m["change_pct"] is not None
                                                       else ")")
    console.print(f"[bold]{head}[/bold]", highlight=False)
    if not d["lines"]:
        console.print("no line changed by a cent or more")
    for ln in d["lines"]:
        console.print(f" {_sign(ln)} {ln['key']}: {_amount(ln, ln['before_usd'])} → {_amount(ln, ln['after_usd'])}  "
                      f"[bold]{signed_usd(ln['change_usd'])}[/bold]", highlight=False)
        for w in ln.get("why", []):
            console.print(f"     {w}", highlight=False)
    for w in d["why"]:
        console.print(f"[dim]note:[/dim] {w}", highlight=False)


def render_markdown(d: dict[str, Any]) -> str:
    from .markdown import cell, table

    m = d["monthly"]
    change = "" if m["change_usd"] is None else f" ({signed_usd(m['change_usd'])}" + (
        f", {m['change_pct']:+.1f}%)" if m["change_pct"] is not None else ")")
    out = [f"### inferplan diff: monthly cost {usd(m['before_usd'])} → {usd(m['after_usd'])}{change}", ""]
    if d["lines"]:
        out += table(["", "before /month", "after /month", "change", "why"],
                     [[_sign(ln).replace("-", "−"), _amount(ln, ln["before_usd"]), _amount(ln, ln["after_usd"]),
                       signed_usd(ln["change_usd"]),
                       f"{ln['key']}: " + "; ".join(ln.get("why", []))] for ln in d["lines"][:15]], {1, 2, 3})
    else:
        out.append("No line changed by a cent or more.")
    if d["why"]:
        out += ["", *[f"- {cell(w)}" for w in d["why"]]]
    return "\n".join([*out, ""])
