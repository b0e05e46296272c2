"""Plotly figures for the HTML report, each built from one part of a summary (None when there is nothing to draw).

Every figure is SVG (no WebGL trace types), so it prints and a headless browser can check that it drew.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import plotly.graph_objects as go

from .fmt import sum_rows, top_n, usd_short

PALETTE = ("#2f6fb0", "#e07b28", "#3a9a5b", "#c0392b", "#8e5ab5", "#7f6a4f", "#d16aa6", "#6c7a89", "#b5a22f",
           "#2bb0b0")
KIND_COLORS = {"input": "#2f6fb0", "output": "#e07b28", "cache_read": "#3a9a5b", "cache_write_5m": "#8e5ab5",
               "cache_write_1h": "#c0392b"}
KIND_LABELS = {"input": "input", "output": "output", "cache_read": "cache read", "cache_write_5m": "cache write 5m",
               "cache_write_1h": "cache write 1h"}
TOP = 8


def _layout(fig: go.Figure, *, height: int = 360, **kw: Any) -> go.Figure:
    kw.setdefault("margin", {"l": 60, "r": 20, "t": 30, "b": 50})
    kw.setdefault("legend", {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0})
    fig.update_layout(template="plotly_white", height=height, font={"size": 12}, hovermode="closest", **kw)
    return fig


def _top_keys(values: dict[str, float], n: int = TOP) -> list[str]:
    ordered = sorted(values, key=lambda k: -values[k])
    return ordered if len(ordered) <= n + 1 else ordered[:n]


def spend_over_time(spend: dict[str, Any]) -> go.Figure | None:
    """Stacked bars: dollars per time bucket, by call type (the top ones, then "other")."""
    tl = spend.get("timeline") or {}
    rows = tl.get("rows") or []
    starts = sorted({r["start"] for r in rows})
    if len(starts) < 2:
        return None
    per_ct: dict[str, float] = {}
    for r in rows:
        per_ct[r["call_type"]] = per_ct.get(r["call_type"], 0.0) + r["total_usd"]
    keep = _top_keys(per_ct)
    series: dict[str, dict[str, float]] = {}
    for r in rows:
        name = r["call_type"] if r["call_type"] in keep else "other"
        s = series.setdefault(name, {})
        s[r["start"]] = s.get(r["start"], 0.0) + r["total_usd"]
    x = [datetime.fromisoformat(s) for s in starts]
    fig = go.Figure()
    for i, name in enumerate([*keep, *(["other"] if "other" in series else [])]):
        fig.add_bar(name=name, x=x, y=[round(series[name].get(s, 0.0), 6) for s in starts],
                    marker_color=PALETTE[i % len(PALETTE)], hovertemplate="%{x}<br>%{y:$,.2f}<extra>" + name +
                    "</extra>")
    width = tl.get("bucket_s", 0)
    return _layout(fig, barmode="stack", bargap=0.05, yaxis_title=f"USD per {_width(width)}",
                   yaxis_tickprefix="$")


def _width(seconds: int) -> str:
    for s, name in ((7 * 86_400, "week"), (86_400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= s and seconds % s == 0:
            n = seconds // s
            return name if n == 1 else f"{n} {name}s"
    return f"{seconds} s"


def token_kinds(spend: dict[str, Any]) -> go.Figure | None:
    """Horizontal stacked bars: each call type's dollars by token kind (kinds with no dollars left out)."""
    rows = (spend.get("breakdowns") or {}).get("call_type") or []
    if not rows:
        return None
    shown = top_n(rows, TOP, sum_rows)
    kinds = [k for k in KIND_COLORS if any(r.get(f"{k}_usd") for r in shown)]
    if not kinds:
        return None
    shown = list(reversed(shown))  # most expensive on top
    fig = go.Figure()
    for k in kinds:
        fig.add_bar(name=KIND_LABELS[k], orientation="h", y=[str(r["key"]) for r in shown],
                    x=[r.get(f"{k}_usd", 0.0) for r in shown], marker_color=KIND_COLORS[k],
                    customdata=[r.get(f"{k}_tokens", 0) for r in shown],
                    hovertemplate="%{y}: %{x:$,.2f} (%{customdata:,} tokens)<extra>" + KIND_LABELS[k] + "</extra>")
    return _layout(fig, height=max(220, 60 + 34 * len(shown)), barmode="stack", xaxis_title="USD over the window",
                   xaxis_tickprefix="$", margin={"l": 140, "r": 20, "t": 30, "b": 50})


def levers_alone(lv: dict[str, Any], factor: float | None) -> go.Figure | None:
    """Each lever's saving on its own, per month (or over the window when no month can be projected)."""
    alone = lv.get("alone") or {}
    if not alone:
        return None
    f = factor or 1.0
    names = list(alone)
    fig = go.Figure(go.Bar(orientation="h", y=names[::-1], x=[alone[n]["saving_usd"] * f for n in names[::-1]],
                           marker_color=PALETTE[0], text=[f"{alone[n]['saving_pct']:.1f}%" for n in names[::-1]],
                           textposition="outside", cliponaxis=False,
                           hovertemplate="%{y}: saves %{x:$,.0f}<extra>alone</extra>", name="alone"))
    unit = "USD per month" if factor else "USD over the window"
    return _layout(fig, height=max(200, 60 + 40 * len(names)), xaxis_title=f"saving alone, {unit}",
                   xaxis_tickprefix="$", showlegend=False, margin={"l": 90, "r": 60, "t": 20, "b": 50})


def levers_waterfall(lv: dict[str, Any], factor: float | None) -> go.Figure | None:
    """Baseline, then each lever compounded in adoption order, then what is left."""
    steps = (lv.get("compounded") or {}).get("steps") or []
    if not steps:
        return None
    f = factor or 1.0
    base = lv["baseline_usd"] * f
    noise = 1e-9 * max(abs(lv["baseline_usd"]), 1.0)  # float rounding of a repriced counterfactual, not a saving
    step = [0.0 if abs(s["step_saving_usd"]) <= noise else s["step_saving_usd"] * f for s in steps]
    x = ["today", *[f"+ {s['after']}" for s in steps], "after all"]
    y = [base, *[-v for v in step], 0]
    after = base - sum(step)
    text = [usd_short(base), *[usd_short(-v) if v else "$0" for v in step], usd_short(after)]
    fig = go.Figure(go.Waterfall(x=x, y=y, measure=["absolute", *["relative"] * len(steps), "total"], text=text,
                                 connector={"line": {"color": "#999"}},
                                 increasing={"marker": {"color": PALETTE[3]}},
                                 decreasing={"marker": {"color": PALETTE[2]}},
                                 totals={"marker": {"color": PALETTE[0]}},
                                 textposition="outside", cliponaxis=False,
                                 hovertemplate="%{x}: %{y:$,.0f}<extra></extra>"))
    unit = "USD per month" if factor else "USD over the window"
    return _layout(fig, yaxis_title=unit, yaxis_tickprefix="$", showlegend=False,
                   yaxis_range=[0, base * 1.12])


def cache_curve(cc: dict[str, Any]) -> go.Figure | None:
    """Share of input tokens a self-hosted prefix cache serves, against its capacity."""
    pts = cc.get("points") or []
    finite = sorted((p for p in pts if p.get("capacity_tokens")), key=lambda p: p["capacity_tokens"])
    unlimited = next((p for p in pts if p.get("capacity_tokens") is None), None)
    if not finite and unlimited is None:
        return None
    fig = go.Figure()
    if finite:
        fig.add_scatter(x=[p["capacity_tokens"] for p in finite], y=[p["hit_token_fraction"] for p in finite],
                        mode="lines+markers", name="LRU cache", line_color=PALETTE[0],
                        hovertemplate="%{x:,.3s} tokens: %{y:.1%}<extra></extra>")
    if unlimited is not None:
        if finite:
            fig.add_hline(y=unlimited["hit_token_fraction"], line_dash="dash", line_color=PALETTE[1],
                          annotation_text=f"unlimited: {unlimited['hit_token_fraction']:.1%}")
        else:
            fig.add_bar(x=["unlimited capacity"], y=[unlimited["hit_token_fraction"]], name="unlimited",
                        marker_color=PALETTE[1], hovertemplate="%{y:.1%}<extra></extra>")
    ttl = "no expiry" if cc.get("ttl_s") is None else f"TTL {cc['ttl_s']:g} s"
    return _layout(fig, xaxis_type="log" if finite else None, xaxis_title=f"cache capacity, tokens ({ttl})",
                   yaxis_title="input tokens served from cache", yaxis_tickformat=".0%", yaxis_range=[0, 1],
                   showlegend=False)


def routing_curve(re: dict[str, Any]) -> go.Figure | None:
    """Accuracy against cost per 1,000 requests: trained router, random split, and the fixed policies."""
    curve = re.get("curve") or []
    if not curve:
        return None
    fig = go.Figure()
    fig.add_scatter(x=[c["usd_per_1k"] for c in curve], y=[c["accuracy"] for c in curve], mode="lines",
                    name="trained router", line_color=PALETTE[0],
                    customdata=[c["share_small"] for c in curve],
                    hovertemplate="%{x:$,.3f} per 1k: %{y:.1%} (%{customdata:.0%} to small)<extra></extra>")
    fig.add_scatter(x=[c["random_usd_per_1k"] for c in curve], y=[c["random_accuracy"] for c in curve],
                    mode="lines", name="random split", line={"color": PALETTE[7], "dash": "dot"})
    points = [("always small", re.get("always_small_usd"), re.get("small_accuracy")),
              ("always large", re.get("always_large_usd"), re.get("always_large_accuracy")),
              ("router at target", re.get("router_usd_at_target"), re.get("router_accuracy_at_target")),
              ("perfect router", re.get("perfect_usd_at_target"), re.get("perfect_accuracy_at_target"))]
    cas = re.get("cascade") or {}
    if cas:
        points.append(("cascade", cas.get("usd_per_1k"), cas.get("accuracy")))
    points = [p for p in points if p[1] is not None and p[2] is not None]
    fig.add_scatter(x=[p[1] for p in points], y=[p[2] for p in points], mode="markers+text", name="policies",
                    text=[p[0] for p in points], textposition="top center", marker={"size": 9, "color": PALETTE[1]},
                    hovertemplate="%{text}: %{x:$,.3f} per 1k, %{y:.1%}<extra></extra>")
    if re.get("target_accuracy") is not None:
        fig.add_hline(y=re["target_accuracy"], line_dash="dash", line_color=PALETTE[3],
                      annotation_text=f"target {re['target_accuracy']:.1%}")
    return _layout(fig, xaxis_title="USD per 1,000 requests", xaxis_tickprefix="$", yaxis_title="accuracy",
                   yaxis_tickformat=".0%")


def demand_replicas(series: dict[str, Any], leading: list[dict[str, Any]]) -> go.Figure | None:
    """Requests per window (left axis) against each leading option's replicas (right axis), on one time axis
    (`series` from `report.series.compare_series`)."""
    req = series.get("requests") or []
    reps = series.get("replicas") or {}
    lines = [(o["name"], reps[o["name"]]) for o in leading if reps.get(o["name"])]
    if len(req) < 2:
        return None
    step = series.get("slice_s") or series.get("window_s") or 60
    x = [datetime.fromtimestamp(series.get("start", 0) + i * step, tz=UTC) for i in range(len(req))]
    top = max((max(r) for _, r in lines), default=1.0)
    fig = go.Figure()
    fig.add_scatter(x=x, y=req, name=f"requests per {_width(int(series.get('window_s') or 60))}", mode="lines",
                    line={"color": "#999", "width": 1}, fill="tozeroy", fillcolor="rgba(150,150,150,0.25)")
    for i, (name, r) in enumerate(lines):
        fig.add_scatter(x=x, y=r, name=name, mode="lines", yaxis="y2",
                        line={"shape": "hv", "color": PALETTE[i % len(PALETTE)], "width": 2})
    return _layout(fig, height=380, yaxis_title="requests per window", yaxis_rangemode="tozero",
                   legend={"orientation": "h", "y": -0.25},
                   yaxis2={"title": "replicas", "overlaying": "y", "side": "right", "range": [0, top * 1.15],
                           **({"dtick": 1} if top <= 12 else {})},
                   margin={"l": 60, "r": 60, "t": 20, "b": 40})


def leading_breakevens(be: dict[str, Any], n: int = 4) -> list[dict[str, Any]]:
    """The options that break even at the lowest volume (those that never do left out)."""
    found = [b for b in be.get("breakeven") or [] if b.get("monthly_bedrock_usd") is not None]
    return sorted(found, key=lambda b: b["monthly_bedrock_usd"])[:n]


def bands(unc: dict[str, Any] | None) -> dict[str, tuple[float, float]]:
    """Option -> (P10, P90) of its break-even in Bedrock-equivalent USD per month, from the Monte Carlo."""
    out = {}
    for o in (unc or {}).get("options") or []:
        b = o.get("breakeven_monthly_bedrock_usd") or {}
        if b.get("p10") is not None and b.get("p90") is not None:
            out[o["option"]] = (float(b["p10"]), float(b["p90"]))
    return out


def cost_volume(be: dict[str, Any], unc: dict[str, Any] | None) -> go.Figure | None:
    """Monthly cost (infrastructure and engineering) of the leading options against volume, Bedrock's line, each
    one's break-even and, where sampled, its P10-P90 band."""
    curve = [c for c in be.get("curve") or [] if c.get("bedrock_usd")]
    lead = leading_breakevens(be)
    if len(curve) < 2 or not lead:
        return None
    x = [c["bedrock_usd"] for c in curve]
    fig = go.Figure()
    fig.add_scatter(x=x, y=x, name="Bedrock (after the levers)", mode="lines", line={"color": "#222", "width": 2.5})
    band = bands(unc)
    for i, b in enumerate(lead):
        name, color = b["option"], PALETTE[i % len(PALETTE)]
        fig.add_scatter(x=x, y=[c.get(name) for c in curve], name=name, mode="lines", line={"color": color},
                        connectgaps=False)
        fig.add_scatter(x=[b["monthly_bedrock_usd"]], y=[b["monthly_bedrock_usd"]], mode="markers",
                        marker={"color": color, "size": 10, "symbol": "diamond"}, showlegend=False,
                        hovertemplate=f"break-even {usd_short(b['monthly_bedrock_usd'])}/month<extra>{name}</extra>")
        if name in band:
            lo, hi = band[name]
            fig.add_vrect(x0=lo, x1=hi, fillcolor=color, opacity=0.12, line_width=0)
    if band:
        fig.add_annotation(text="shaded: break-even P10-P90 (Monte Carlo)", xref="paper", yref="paper", x=0, y=1,
                           showarrow=False, xanchor="left", yanchor="bottom", font={"size": 11, "color": "#555"})
    now = be.get("bedrock_after_levers_monthly_usd") or be.get("bedrock_monthly_usd")
    if now:
        fig.add_vline(x=now, line_dash="dot", line_color="#888", annotation_text="today",
                      annotation_position="bottom right")
    return _layout(fig, height=420, xaxis_title="Bedrock-equivalent spend, USD per month (log)",
                   yaxis_title="total cost, USD per month (log)", xaxis_tickprefix="$", yaxis_tickprefix="$",
                   xaxis_type="log", yaxis_type="log", legend={"orientation": "h", "y": -0.22},
                   margin={"l": 70, "r": 20, "t": 30, "b": 40})
