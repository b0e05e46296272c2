"""One self-contained HTML file from any command's summary: Plotly inlined, no network, opens from disk, prints.

The page is a Jinja2 template (`templates/report.html.j2`) filled with sections; each section is built from
one part of the summary (`view.parts`) and left out when the summary has no data for it, never drawn empty.
Figures travel as JSON inside the page and Plotly (the copy bundled in the `plotly` package) draws them as SVG.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from jinja2 import Environment, PackageLoader, select_autoescape

from .. import __version__
from . import charts
from .fmt import pct, price_window, sum_rows, tokens, top_n, usd, usd_short
from .view import (
    bedrock_today,
    breakeven_slices,
    evidence_text,
    headline,
    kind_of,
    month_factor,
    monthly_options,
    no_lever_saves,
    parts,
)

TITLES = {"analyze": "Inference spend", "demo": "Inference spend", "compare": "Serving options",
          "breakeven": "Break-even", "plan": "Inference plan", "cache-curve": "Prefix cache curve",
          "route-eval": "Routing evaluation"}


COMPARE_ROWS = 15  # feasible serving options listed, cheapest first; the rest are in --json
BREAKEVEN_ROWS = 10  # break-evens listed per slice, soonest first


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    numeric: list[bool] = field(default_factory=list)
    caption: str | None = None
    wide: bool = False


@dataclass
class Section:
    id: str
    title: str
    lead: str = ""
    charts: list[tuple[str, str]] = field(default_factory=list)  # (element id, figure JSON)
    tables: list[Table] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _fig_json(fig: go.Figure) -> str:
    """Figure JSON safe inside a <script> element (no `</script>` can close it early)."""
    text = pio.to_json(fig, validate=False, engine="json")
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class _Builder:
    def __init__(self) -> None:
        self.sections: list[Section] = []
        self._n = 0

    def section(self, sid: str, title: str, lead: str = "") -> Section:
        s = Section(sid, title, lead)
        self.sections.append(s)
        return s

    def chart(self, s: Section, fig: go.Figure | None) -> None:
        if fig is not None:
            self._n += 1
            s.charts.append((f"chart-{self._n}", _fig_json(fig)))


def _headline(b: _Builder, summary: dict[str, Any], kind: str) -> None:
    h = headline(summary, kind)
    cards = []
    if h["usd_per_hour"] is not None:
        cards.append({"label": "run-rate", "value": f"{usd(h['usd_per_hour'])}/h",
                      "sub": f"{usd(h['total_usd'])} over {h['window']}, {h['requests']:,} requests"})
    if h["monthly_usd"] is not None:
        cards.append({"label": "projected month (730 h)", "value": usd_short(h["monthly_usd"]),
                      "sub": "at this window's run-rate" if h["usd_per_hour"] is not None
                      else h["monthly_basis"] or ""})
    if h["saving_monthly_usd"] is not None:
        share = f" ({pct(h['saving_share'])})" if h["saving_share"] is not None else ""
        cards.append({"label": "saving available", "value": f"{usd_short(h['saving_monthly_usd'])}/month{share}",
                      "sub": h["saving_basis"] or ""})
    elif "spend" in parts(summary, kind):
        cards.append({"label": "saving available", "value": "not evaluated",
                      "sub": "run with --levers all (or inferplan plan)"})
    if h["first"]:
        cards.append({"label": "first thing to do", "value": h["first"]["title"], "sub": h["first"]["text"],
                      "wide": True})
    cards += [{"label": "not in token dollars", "value": line.split(":")[0], "sub": line, "wide": True}
              for line in h["not_token_priced"]]
    if not cards:
        return
    s = b.section("headline", "Headline")
    s.items = cards
    if h["caveat"]:
        s.notes.append(h["caveat"])


def _when(iso: str | None) -> str:
    if not iso:
        return "?"
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _spend(b: _Builder, spend: dict[str, Any]) -> None:
    fig = charts.spend_over_time(spend)
    if fig is not None:
        tl = spend["timeline"]
        s = b.section("spend-over-time", "Spend over time by call type",
                      f"{usd(spend['total_usd'])} from {_when(spend['period']['start'])} to "
                      f"{_when(spend['period']['end'])}, per {charts._width(tl['bucket_s'])}.")
        b.chart(s, fig)
    rows = (spend.get("breakdowns") or {}).get("call_type") or []
    fig = charts.token_kinds(spend)
    if fig is None and not rows:
        return
    s = b.section("token-kinds", "Token kinds", "Where each call type's dollars go: input, output, cache reads "
                  "and writes (buckets are disjoint, as Bedrock bills them).")
    b.chart(s, fig)
    tok = spend.get("tokens") or {}
    kinds = [(k, tok.get("cache_write_5m" if k == "cache_write_5m" else k, 0), spend["usd_by_token_kind"].get(k, 0.0))
             for k in charts.KIND_COLORS]
    kinds = [(k, t, d) for k, t, d in kinds if t or d]
    s.tables.append(Table(["token kind", "tokens", "USD", "share of USD"],
                          [[charts.KIND_LABELS[k], tokens(t), usd(d), pct(spend["token_kind_share"].get(k))]
                           for k, t, d in kinds], [False, True, True, True]))
    for dim, label in (("call_type", "call type"), ("model", "model")):
        rs = top_n((spend.get("breakdowns") or {}).get(dim) or [], 10, sum_rows)
        if len(rs) > 1 or dim == "call_type":
            s.tables.append(Table([label, "requests", "input tok", "output tok", "USD", "share"],
                                  [[str(r["key"]), f"{r['requests']:,}", tokens(r["input_tokens"]),
                                    tokens(r["output_tokens"]), usd(r["total_usd"]), pct(r["share"])] for r in rs],
                                  [False, True, True, True, True, True], caption=f"by {label}"))


def _levers(b: _Builder, lv: dict[str, Any], factor: float | None) -> None:
    unit = "a month (730 h)" if factor else "the window"
    from .levers import evidence_lines

    if no_lever_saves(lv):
        s = b.section("levers", "Workload levers: alone and compounded",
                      f"No workload lever ({', '.join(lv.get('adoption_order', []))}) saves anything on this traffic; "
                      "why, lever by lever:")
        for name, r in lv.get("alone", {}).items():
            s.notes += [f"{name}: {line}" for line in evidence_lines(name, r.get("evidence", {}))] or \
                [f"{name}: nothing to change"]
        s.notes += [str(n) for n in lv.get("notes") or []]
        return
    s = b.section("levers", "Workload levers: alone and compounded",
                  f"Each lever replayed on this traffic on its own, then compounded in adoption order "
                  f"({' → '.join(lv.get('adoption_order', []))}); dollars per {unit}.")
    b.chart(s, charts.levers_alone(lv, factor))
    b.chart(s, charts.levers_waterfall(lv, factor))
    f = factor or 1.0
    noise = 1e-9 * max(abs(lv.get("baseline_usd") or 0.0), 1.0)  # float rounding of a repriced counterfactual

    def saved(x: float) -> str:
        return usd(0.0 if abs(x) <= noise else x * f)

    rows = [[f"{n} alone", usd(r["new_usd"] * f), saved(r["saving_usd"]), f"{r['saving_pct']:.1f}%"]
            for n, r in lv.get("alone", {}).items()]
    rows += [[f"+ {st['after']} (compounded)", usd(st["new_usd"] * f), saved(st["saving_usd"]),
              f"{st['saving_pct']:.1f}%"] for st in (lv.get("compounded") or {}).get("steps", [])]
    s.tables.append(Table(["lever", "new cost", "saving", "saving %"], rows, [False, True, True, True]))
    for name, r in lv.get("alone", {}).items():
        s.notes += [f"{name}: {line}" for line in evidence_lines(name, r.get("evidence", {}))]
    s.notes += [str(n) for n in lv.get("notes") or []]


def _cache_curve(b: _Builder, cc: dict[str, Any]) -> None:
    fig = charts.cache_curve(cc)
    if fig is None:
        return
    s = b.section("cache-curve", "Prefix cache curve",
                  f"Share of {tokens(cc.get('input_tokens'))} input tokens a self-hosted prefix cache (LRU) serves "
                  f"on {cc.get('requests', 0):,} requests, by its capacity.")
    b.chart(s, fig)
    s.notes += [f"cache breaker: {x['call_type']} segment {x['position']} is new on {x['distinct_share']:.0%} of "
                f"requests ahead of repeating segments" for x in cc.get("breakers", [])]


def _routing(b: _Builder, re: dict[str, Any]) -> None:
    fig = charts.routing_curve(re)
    if fig is None:
        return
    s = b.section("routing", "Routing: cost against quality",
                  f"{re['small']['model']} / {re['large']['model']} on {re['test']:,} held-out requests with real "
                  f"outcomes; target {re['target']:.0%} of the large model's accuracy.")
    b.chart(s, fig)


def _compare(b: _Builder, cmp: dict[str, Any], series: dict[str, Any] | None) -> None:
    opts = monthly_options(cmp)
    if not opts:
        return
    leading = [o for o in opts if o.get("feasible", True) and (o.get("replicas") or {}).get("max")][:3]
    fig = charts.demand_replicas(series or {}, leading) if leading else None
    if fig is not None:
        s = b.section("demand-replicas", "Demand against replicas",
                      "Requests per window and the replicas the three cheapest self-hosted options run to serve "
                      "them (each line is what that option pays for, window by window).")
        b.chart(s, fig)
    s = b.section("comparison", "Serving options compared",
                  "Every option costed over this traffic's own time series, scaled to a 730-hour month "
                  "(infrastructure only: engineering time is in the break-even).")
    rows = []
    feasible = [o for o in opts if o.get("feasible", True)]
    for o in feasible[:COMPARE_ROWS]:
        reps = o.get("replicas") or {}
        rows.append([str(o.get("name")), str(o.get("kind", "")), usd(o.get("monthly_usd")),
                     pct(o.get("utilization")), pct(o.get("idle_share")), pct(o.get("slo_miss_share")),
                     f"{_num(reps.get('min'))} / {_num(reps.get('mean'))} / {_num(reps.get('max'))}" if reps else "",
                     usd(o.get("usd_per_mtok"))])
    s.tables.append(Table(["option", "kind", "USD/month", "utilisation", "idle", "SLO misses",
                           "replicas min / mean / max", "USD/Mtok"], rows,
                          [False, False, True, True, True, True, True, True], wide=True,
                          caption=f"the {COMPARE_ROWS} cheapest of {len(feasible)} feasible options (all in --json)"
                          if len(feasible) > COMPARE_ROWS else None))
    no = [o for o in opts if not o.get("feasible", True)]
    if no:
        s.tables.append(Table(["option", "why not"], [[str(o.get("name")), _short(o.get("reason"))] for o in no],
                              [False, False], caption="not feasible or not priced", wide=True))
    hy = cmp.get("hybrid")
    if isinstance(hy, dict) and hy.get("monthly_usd") is not None:
        s.notes.append(f"hybrid: {hy.get('base_replicas')} committed replica(s) plus overflow to Bedrock costs "
                       f"{usd(hy['monthly_usd'])}/month ({usd(hy.get('self_host_monthly_usd'))} self-hosted, "
                       f"{usd(hy.get('bedrock_monthly_usd'))} Bedrock; {pct(hy.get('overflow_share'))} overflow)")


def _num(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:g}" if x == int(x) else f"{x:.1f}"
    return "" if x is None else str(x)


def _short(text: Any, limit: int = 220) -> str:
    """A long reason cut at a sentence or clause end (the full text is in --json)."""
    s = "" if text is None else str(text)
    if len(s) <= limit:
        return s
    cut = max(s.rfind(sep, 0, limit) for sep in (". ", "; ", " ("))
    return (s[:cut] if cut > 40 else s[:limit]).rstrip() + " …"


def _breakeven(b: _Builder, be: dict[str, Any], unc: dict[str, Any] | None, sid: str = "cost-volume") -> None:
    fig = charts.cost_volume(be, unc)
    sampled = {o["option"]: o for o in (unc or {}).get("options") or []}
    rows = []
    for x in sorted(be.get("breakeven") or [], key=lambda x: (x.get("monthly_bedrock_usd") is None,
                                                              x.get("monthly_bedrock_usd") or 0)):
        mc = sampled.get(x.get("option"), {})
        band = mc.get("breakeven_monthly_bedrock_usd") or {}
        rows.append([str(x.get("option")), usd(x.get("monthly_bedrock_usd")) if x.get("monthly_bedrock_usd")
                     is not None else "never", tokens(x.get("tokens_per_month")),
                     _band(band) if band.get("p10") is not None
                     else "", pct(mc.get("p_beats_bedrock")) if mc else "",
                     _short(x.get("reason") or x.get("note") or "", 160)])
    if fig is None and not rows:
        return
    today = bedrock_today(be)
    label = be.get("label")
    title = "Cost against volume" + (f": {label}" if label and label != "all traffic" else "")
    s = b.section(sid, title,
                  "Monthly cost of the options that break even soonest, engineering time included, as "
                  + (f"{label} " if label and label != "all traffic" else "this traffic ")
                  + "scales with the same shape; where a line crosses Bedrock's is its break-even"
                  + (f" (Bedrock today: {usd_short(today)}/month" + (" after the levers)." if be.get("levers") or
                     "bedrock_after_levers_monthly_usd" in be else ").") if today else "."))
    b.chart(s, fig)
    if rows:
        s.tables.append(Table(["option", "break-even, Bedrock USD/month", "tokens/month", "P10 – P90",
                               "P(beats Bedrock today)", "note"], rows[:BREAKEVEN_ROWS],
                              [False, True, True, True, True, False], wide=True,
                              caption=f"the {BREAKEVEN_ROWS} soonest of {len(rows)} options (all in --json)"
                              if len(rows) > BREAKEVEN_ROWS else None))


def _band(band: dict[str, Any]) -> str:
    """P10 – P90 of a break-even; a missing P90 is "never": over 10% of the draws never break even in range."""
    hi = band.get("p90")
    return f"{usd_short(band.get('p10'))} – {'never' if hi is None else usd_short(hi)}"


def _model_levers(b: _Builder, ml: dict[str, Any]) -> None:
    q, d = ml.get("quantization"), ml.get("distillation")
    if not q and not d:
        return
    s = b.section("model-levers", "Model levers: quantization and distillation",
                  "What a lower weight precision or a distilled student would cost self-hosted on this traffic "
                  "(quality is for your evals).")
    if q:
        s.tables.append(Table(["precision", "weights GiB", "instance", "USD/month", "utilisation", "smallest fit"],
                              [[str(r.get("precision")), _num(r.get("weights_gib")), str(r.get("instance") or ""),
                                usd(r.get("monthly_usd")), pct(r.get("utilization")),
                                str((r.get("smallest_fit") or {}).get("instance") or "")]
                               for r in q.get("precisions") or []],
                              [False, True, False, True, True, False],
                              caption=f"{q.get('model')}: {q.get('base')} → {q.get('after')}" if q.get("after")
                              else f"{q.get('model')}: {q.get('base')}; no lower precision costs less here"))
        if q.get("caveat"):
            s.notes.append(str(q["caveat"]))
    if d:
        if d.get("feasible"):
            pb = d.get("payback_months")
            s.notes.append(f"distillation: {d.get('call_type')} → {d.get('student')} ({pct(d.get('share'), 0)} of "
                           f"it) saves {usd_short(d.get('monthly_saving_usd'))}/month for "
                           f"{usd_short((d.get('one_time') or {}).get('total_usd'))} once; payback "
                           + ("never" if pb is None else f"{pb:.1f} months"))
        else:
            s.notes.append(f"distillation ({d.get('call_type')}): {_short(d.get('reason') or 'not feasible')}")


def _phases(b: _Builder, phases: list[dict[str, Any]]) -> None:
    two = next((p for p in phases if p.get("phase") == 2), None)
    rows = []
    for it in (two or {}).get("items") or []:
        band = it.get("breakeven_p10_p50_p90") or {}
        rows.append([str(it.get("slice")), str(it.get("stay_on")), str(it.get("option") or ""),
                     usd_short(it.get("bedrock_after_levers_monthly_usd")),
                     usd_short(it.get("breakeven_monthly_bedrock_usd")) if it.get("option") else "",
                     _band(band) if band.get("p10") is not None
                     else "", pct(it.get("p_beats_bedrock"), 0) if it.get("p_beats_bedrock") is not None else "",
                     f"{it['peak_to_mean']:.2f}" + (" (steadiest)" if it.get("steadiest") else "")
                     if it.get("peak_to_mean") is not None else "", _short(it.get("why") or "", 120)])
    if not rows:
        return
    s = b.section("phases", "Serving option per slice",
                  "The guide's order: the levers first, then for each slice of traffic the option that breaks even "
                  "soonest, against its Bedrock spend after the levers (self-host only above the break-even).")
    s.tables.append(Table(["slice", "stay on", "option", "Bedrock/month after levers", "break-even", "P10 – P90",
                           "P(beats)", "peak/mean", "why"], rows,
                          [False, False, False, True, True, True, True, True, False], wide=True))


def _findings(b: _Builder, findings: list[dict[str, Any]]) -> None:
    if not findings:
        return
    s = b.section("findings", "Findings, ranked by monthly saving",
                  "What to change, in the guide's order of adoption, each with the evidence from this traffic.")
    for i, f in enumerate(findings, 1):
        s.items.append({"rank": i, "kind": f.get("kind"), "where": " / ".join(str(x) for x in (f.get("call_type"),
                                                                                               f.get("model")) if x),
                        "saving": usd_short(f.get("monthly_saving_usd")), "confidence": f.get("confidence"),
                        "evidence": evidence_text(f.get("evidence")), "command": f.get("command")})


def _provenance(b: _Builder, spend: dict[str, Any]) -> None:
    prices = spend.get("prices") or []
    if not prices and not spend.get("notes") and not spend.get("skipped"):
        return
    s = b.section("provenance", "Prices and notes",
                  f"Every price used, with its source; catalog checked {spend.get('catalog_checked')}.")
    if prices:
        s.tables.append(Table(["model", "scope/region/tier", "input", "output", "cache read", "cache write 5m",
                               "in force", "source", "checked"],
                              [[p["model"], f"{p['scope']}/{p['region']}/{p['tier']}",
                                _rate(p.get("input_usd_per_mtok")), _rate(p.get("output_usd_per_mtok")),
                                _rate(p.get("cache_read_usd_per_mtok")), _rate(p.get("cache_write_5m_usd_per_mtok")),
                                price_window(p), p.get("source", ""), p.get("checked", "")] for p in prices],
                              [False, False, True, True, True, True, False, False, False],
                              caption="USD per million tokens"))
    s.notes += [f"skipped {v:,} record(s): {k}" for k, v in (spend.get("skipped") or {}).items()]
    s.notes += list(spend.get("notes") or [])


def _rate(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def sections(summary: dict[str, Any], kind: str | None = None) -> list[Section]:
    """The report's sections, in reading order, only those the summary has data for."""
    k = kind_of(summary, kind)
    p = parts(summary, k)
    b = _Builder()
    _headline(b, summary, k)
    if "spend" in p:
        _spend(b, p["spend"])
    if "levers" in p:
        _levers(b, p["levers"], month_factor(p))
    if "cache_curve" in p:
        _cache_curve(b, p["cache_curve"])
    if "route_eval" in p:
        _routing(b, p["route_eval"])
    if "compare" in p:
        _compare(b, p["compare"], summary.get("series") or p["compare"].get("series"))
    if "model_levers" in p:
        _model_levers(b, p["model_levers"])
    for i, (be, unc) in enumerate(breakeven_slices(p)):
        _breakeven(b, be, unc, "cost-volume" if i == 0 else f"cost-volume-{i}")
    if summary.get("phases"):
        _phases(b, summary["phases"])
    if "findings" in p:
        _findings(b, p["findings"])
    if "spend" in p:
        _provenance(b, p["spend"])
    return b.sections


@cache
def _env() -> Environment:
    return Environment(loader=PackageLoader("inferplan.report", "templates"), autoescape=select_autoescape(["j2"]),
                       trim_blocks=True, lstrip_blocks=True)


@cache
def plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def render(summary: dict[str, Any], kind: str | None = None, *, title: str | None = None) -> str:
    """The whole HTML page for one summary."""
    k = kind_of(summary, kind)
    secs = sections(summary, k)
    return _env().get_template("report.html.j2").render(
        title=title or TITLES.get(k, "inferplan report"), kind=k, sections=secs, plotly_js=plotly_js(),
        version=__version__, schema_version=summary.get("schema_version"),
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), has_charts=any(s.charts for s in secs))


def write(path: Any, summary: dict[str, Any], kind: str | None = None) -> None:
    from pathlib import Path

    Path(path).write_text(render(summary, kind), encoding="utf-8")


__all__ = ["render", "write", "sections", "Section", "Table", "json"]
