"""`inferplan breakeven`: the volume at which each self-hosted and SageMaker option costs what Bedrock does,
after the workload levers and with engineering time priced in, on this traffic's own shape."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..progress import progress
from ..report import write_files, write_json
from ..report.fmt import money
from ._common import CatalogOpt, HtmlOpt, JsonOpt, MarkdownOpt, ModelOpt, OnErrorOpt, RegionOpt, app, friendly, out, say
from ._serving_inputs import (
    CandidatesOpt,
    EngFteOpt,
    EngUsdOpt,
    FormatOpt,
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


def render_breakeven(rows: list[dict[str, Any]], mc: dict[str, Any] | None, title: str) -> None:
    by = {o["option"]: o for o in (mc or {}).get("options", [])}
    t = Table(title=title, title_justify="left")
    for c in ("option", "kind", "break-even (Bedrock $/month)", "x today", "P10 / P50 / P90", "P(beats today)",
              "P(beats, horizon)", "engineering $/month"):
        t.add_column(c, justify="left" if c in ("option", "kind") else "right")
    ranked = sorted(rows, key=lambda r: (r["monthly_bedrock_usd"] is None, r["monthly_bedrock_usd"] or 0))
    for r in ranked:
        m = by.get(r["option"], {})
        p = m.get("breakeven_monthly_bedrock_usd") or {}
        band = " / ".join(money(p.get(k)) for k in ("p10", "p50", "p90")) if p else "-"
        pb, ph = m.get("p_beats_bedrock"), m.get("p_beats_bedrock_horizon")
        t.add_row(r["option"], r["kind"], money(r["monthly_bedrock_usd"]) if r["scale"] is not None
                  else f"never ({(r.get('reason') or '')[:60]})",
                  "-" if r["scale"] is None else f"{r['scale']:.3g}", band, "-" if pb is None else f"{pb:.0%}",
                  "-" if ph is None else f"{ph:.0%}", money(r["engineering_monthly_usd"]))
    out.print(t)
    if mc:
        out.print(f"[dim]Monte Carlo: {mc['draws']:,} draws (seed {mc['seed']}) in {mc['seconds']:.2f} s; volume "
                  f"sigma {mc['volume_sigma']:.2f} ({mc['volume_sigma_basis']})[/dim]")


@app.command("breakeven")
@friendly
def breakeven_cmd(
    paths: Annotated[list[str], typer.Argument(help="Usage files or folders, or a demand series.")],
    format: FormatOpt = "auto",
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
    scale: Annotated[float | None, typer.Option(help="Today's volume as a factor of the traffic (same shape).")] = None,
    growth: GrowthOpt = None,
    window: WindowOpt = None,
    candidates: CandidatesOpt = None,
    eng_fte: EngFteOpt = None,
    eng_usd_per_year: EngUsdOpt = None,
    call_type: Annotated[str | None, typer.Option("--call-type", help="Solve for one call type only.")] = None,
    scenario: Annotated[Path | None, typer.Option(help="Scenario YAML (`compare:`, `levers:`, `economics:`, "
                                                  "`uncertainty:`, `plan:` sections).")] = None,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
    html: HtmlOpt = None,
    markdown: MarkdownOpt = None,
) -> None:
    """Break-even of self-hosting and SageMaker against Bedrock, engineering priced in, with its uncertainty."""
    from ..catalog import load_catalog
    from ..economics import load_tco
    from ..planner import run_breakeven
    from ._serving_inputs import make_compare_spec, read_input

    cat = load_catalog(catalog)
    spec = make_compare_spec(scenario, self_host=self_host, instance=instance, precision=precision,
                             purchase=purchase, replica_rps=replica_rps, slo_ttft_ms=slo_ttft_ms,
                             slo_tpot_ms=slo_tpot_ms, scale=scale, growth_pct_per_month=growth, window_s=window,
                             candidates=candidates)
    tco = load_tco(scenario, eng_fte=eng_fte, eng_usd_per_year=eng_usd_per_year, cli=True)
    with progress("reading, replaying the levers and solving the break-even"):
        wl, demand = read_input(paths, cat, format, model=model, region=region, on_error=on_error)
        cat = instance_catalog(cat, wl, demand, region)  # instances priced in the traffic's region
        res = run_breakeven(wl, demand, cat, spec, scenario, tco, call_type=call_type)
    if (warning := cat.staleness_warning()) is not None:
        res["notes"].append(warning)
    write_files(res, "breakeven", html=html, markdown=markdown, say=say)
    if json_out:
        write_json(res, "breakeven")
        return
    out.print(f"Bedrock after the workload levers: {money(res['bedrock_after_levers_monthly_usd'])}/month "
              f"({res['tokens_per_month']:,.0f} tokens/month) for {res['label']}")
    render_breakeven(res["breakeven"], res["uncertainty"], "Break-even (engineering included)")
    for n in res["notes"]:
        out.print(f"[dim]note: {n}[/dim]")
