"""`inferplan plan`: the main job, one command from logs to "do this first"."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..progress import progress
from ..report import write_files, write_json
from ._common import (
    DEMO_MODEL,
    DEMO_REGION,
    CatalogOpt,
    HtmlOpt,
    JsonOpt,
    MarkdownOpt,
    ModelOpt,
    OnErrorOpt,
    RegionOpt,
    UsageFormatOpt,
    app,
    demo_paths,
    friendly,
    out,
    say,
)
from ._serving_inputs import (
    CandidatesOpt,
    EngFteOpt,
    EngUsdOpt,
    GrowthOpt,
    InstanceOpt,
    PrecisionOpt,
    PurchaseOpt,
    ReplicaRpsOpt,
    SelfHostOpt,
    SloTpotOpt,
    SloTtftOpt,
    WindowOpt,
    instance_catalog,
)
from .breakeven import money, render_breakeven


def render_plan(s: dict[str, Any]) -> None:
    sp, lv = s["spend"], s["levers"]
    out.print(f"[bold]Spend[/bold]: {money(sp['monthly_usd'])}/month run-rate ({sp['requests']:,} requests over "
              f"{sp['hours']:,.1f} h, {money(sp['period_usd'])})")
    t = Table(title="Workload levers (monthly)", title_justify="left")
    for c in ("lever", "alone: saving", "alone: %", "compounded: after", "step saving"):
        t.add_column(c, justify="left" if c == "lever" else "right")
    m = sp["monthly_usd"] / lv["baseline_usd"] if lv["baseline_usd"] else 0.0
    steps = {st["after"]: st for st in lv["compounded"]["steps"]}
    for name in lv["levers"]:
        a = lv["alone"][name]
        st = steps.get(name, {})
        t.add_row(name, money(a["saving_usd"] * m), f"{a['saving_pct']:.1f}%", money(st.get("new_usd", 0) * m),
                  money(st.get("step_saving_usd", 0) * m))
    out.print(t)
    out.print(f"Levers compounded: {money(lv['monthly_baseline_usd'])} -> {money(lv['monthly_after_usd'])}/month "
              f"({lv['compounded']['saving_pct']:.1f}% saved)")
    f = Table(title="Findings, ranked by dollars a month", title_justify="left")
    for c in ("#", "finding", "call type", "$/month", "confidence", "evidence", "see"):
        f.add_column(c, justify="right" if c in ("#", "$/month") else "left", overflow="fold")
    for i, x in enumerate(s["findings"], 1):
        f.add_row(str(i), x["kind"], x["call_type"] or "-", money(x["monthly_saving_usd"]), x["confidence"],
                  x["evidence"].get("text", ""), x["command"])
    out.print(f if s["findings"] else "[green]No findings: nothing in this traffic calls for a change.[/green]")
    ml = s["model_levers"]
    q, d = ml.get("quantization"), ml.get("distillation")
    if q and q["after"] is None:
        out.print(f"Quantization ({q['model']}): {q['base']} {money(q['before_monthly_usd'])}/month self-hosted on "
                  f"this traffic; no lower precision costs less here. {q['caveat']}")
    elif q:
        out.print(f"Quantization ({q['model']}): {q['base']} {money(q['before_monthly_usd'])} -> {q['after']} "
                  f"{money(q['after_monthly_usd'])}/month self-hosted on this traffic. {q['caveat']}")
    if d and d.get("feasible"):
        pb = d["payback_months"]
        out.print(f"Distillation ({d['call_type']} -> {d['student']}, {d['share']:.0%} of it): saves "
                  f"{money(d['monthly_saving_usd'])}/month for {money(d['one_time']['total_usd'])} once; payback "
                  + ("never" if pb is None else f"{pb:.1f} months"))
    for sl, mc in zip(s["breakeven"], s["uncertainty"], strict=True):
        rows = sorted((r for r in sl["breakeven"] if r["scale"] is not None),
                      key=lambda r: r["monthly_bedrock_usd"])[:5]
        if rows:
            render_breakeven(rows, mc, f"Break-even for {sl['label']} (Bedrock after levers "
                             f"{money(sl['bedrock_after_levers_monthly_usd'])}/month; cheapest 5)")
    for ph in s["phases"]:
        out.print(f"[bold]Phase {ph['phase']}[/bold]: {ph['what']}")
        for it in ph["items"]:
            if ph["phase"] == 1:
                out.print(f"  - {it['kind']} on {it['call_type']}: {money(it['monthly_saving_usd'])}/month")
            elif it.get("option"):
                out.print(f"  - {it['slice']}: {it['stay_on']} ({it['option']} breaks even at "
                          f"{money(it['breakeven_monthly_bedrock_usd'])}/month of Bedrock; after levers "
                          f"{money(it['bedrock_after_levers_monthly_usd'])})")
            else:
                out.print(f"  - {it['slice']}: stay on {it['stay_on']} ({it['why']})")
    for n in s["notes"]:
        out.print(f"[dim]note: {n}[/dim]")


@app.command("plan")
@friendly
def plan_cmd(
    paths: Annotated[list[str], typer.Argument(help="Usage files or folders.")],
    format: UsageFormatOpt = "auto",
    model: ModelOpt = None,
    region: RegionOpt = "us-east-1",
    on_error: OnErrorOpt = "raise",
    self_host: SelfHostOpt = None,
    instance: InstanceOpt = None,
    precision: PrecisionOpt = None,
    purchase: PurchaseOpt = None,
    replica_rps: ReplicaRpsOpt = None,
    slo_ttft_ms: SloTtftOpt = None,
    slo_tpot_ms: SloTpotOpt = None,
    scale: Annotated[float | None, typer.Option(help="Scale the volume by this factor (same shape).")] = None,
    growth: GrowthOpt = None,
    window: WindowOpt = None,
    candidates: CandidatesOpt = None,
    eng_fte: EngFteOpt = None,
    eng_usd_per_year: EngUsdOpt = None,
    scenario: Annotated[Path | None, typer.Option(help="Scenario YAML (`levers:`, `compare:`, `economics:`, "
                                                  "`uncertainty:`, `current:`, `model_levers:`, `plan:`).")] = None,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
    html: HtmlOpt = None,
    markdown: MarkdownOpt = None,
) -> None:
    """Spend, levers, model levers, serving options, break-even with uncertainty, and what to do first."""
    from ..catalog import load_catalog
    from ..economics import load_tco
    from ..errors import InputError
    from ..planner import run
    from ._serving_inputs import chosen, make_compare_spec, read_input

    cat = load_catalog(catalog)
    spec = make_compare_spec(scenario, self_host=self_host, instance=instance, precision=precision,
                             purchase=purchase, replica_rps=replica_rps, slo_ttft_ms=slo_ttft_ms,
                             slo_tpot_ms=slo_tpot_ms, scale=scale, growth_pct_per_month=growth, window_s=window,
                             candidates=candidates)
    tco = load_tco(scenario, eng_fte=eng_fte, eng_usd_per_year=eng_usd_per_year, cli=True)
    charts: dict[str, Any] = {}
    with progress("reading, replaying the levers and simulating the serving options"):
        wl, demand = read_input(paths, cat, format, model=model, region=region, on_error=on_error,
                                demand_ok=False)
        if wl is None:
            raise InputError("plan needs per-request usage (logs, traces) to replay the levers on; for a demand "
                             "series use `inferplan breakeven` or `inferplan compare`")
        cat = instance_catalog(cat, wl, demand, region)  # instances priced in the traffic's region
        res = run(wl, cat, spec, scenario, tco, chosen=chosen(spec), cmd=" ".join(str(p) for p in paths),
                  charts=charts)
    emit_plan(res, json_out, cat, html=html, markdown=markdown, charts=charts)


def emit_plan(res: dict[str, Any], json_out: bool, cat: Any, *, html: Path | None = None,
              markdown: Path | None = None, charts: dict[str, Any] | None = None) -> None:
    """Print the plan (JSON or tables) and write the HTML/Markdown reports asked for."""
    if (warning := cat.staleness_warning()) is not None and warning not in res["notes"]:
        res["notes"].append(warning)
    if json_out:
        write_json(res, "plan")
    else:
        render_plan(res)
    write_files(res, "plan", html=html, markdown=markdown, say=say, charts=charts)


# The demo's self-hosting candidate for the Haiku-class traffic: the catalog has no open-weights twin of Claude, so
# the plan is asked about a Llama 3.1 8B replacement (a quality question the plan cannot answer: validate first).
DEMO_SELF_HOST = "llama-3.1-8b"


def demo_plan(cat: Any, charts: dict[str, Any] | None = None) -> dict[str, Any]:
    """`plan` on the bundled Azure 2023 traces, as `inferplan demo` runs it (`charts` as in `planner.run`)."""
    from ..economics import TcoOptions
    from ..planner import run
    from ..readers import ReadOptions, read_workload
    from ..serving.spec import CompareSpec
    from ..workload import Defaults

    wl = read_workload(demo_paths(), cat, "azure2023", ReadOptions(defaults=Defaults(model=DEMO_MODEL,
                                                                                       region=DEMO_REGION)))
    res = run(wl, cat, CompareSpec(self_host=[DEMO_SELF_HOST]), None, TcoOptions(), cmd="--demo-traces",
              charts=charts)
    res["notes"].append(f"demo: {DEMO_SELF_HOST} is the self-hosting candidate for {DEMO_MODEL}'s traffic "
                        "(no open-weights twin of Claude exists); whether it answers as well is for your evals")
    return res
