"""`inferplan breakeven`: the volume at which each self-hosted and SageMaker option costs what Bedrock does,
after the workload levers and with engineering time priced in, on this traffic's own shape."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..cli import CatalogOpt, JsonOpt, app, friendly, out


def money(v: float | None) -> str:
    return "-" if v is None else f"${v:,.0f}" if abs(v) >= 100 else f"${v:,.2f}"


def render_breakeven(rows: list[dict[str, Any]], mc: dict[str, Any] | None, title: str) -> None:
    by = {o["option"]: o for o in (mc or {}).get("options", [])}
    t = Table(title=title, title_justify="left")
    for c in ("option", "kind", "break-even (Bedrock $/month)", "x today", "P10 / P50 / P90", "P(beats today)",
              "engineering $/month"):
        t.add_column(c, justify="left" if c in ("option", "kind") else "right")
    ranked = sorted(rows, key=lambda r: (r["monthly_bedrock_usd"] is None, r["monthly_bedrock_usd"] or 0))
    for r in ranked:
        m = by.get(r["option"], {})
        p = m.get("breakeven_monthly_bedrock_usd") or {}
        band = " / ".join(money(p.get(k)) for k in ("p10", "p50", "p90")) if p else "-"
        pb = m.get("p_beats_bedrock")
        t.add_row(r["option"], r["kind"], money(r["monthly_bedrock_usd"]) if r["scale"] is not None
                  else f"never ({(r.get('reason') or '')[:60]})",
                  "-" if r["scale"] is None else f"{r['scale']:.3g}", band, "-" if pb is None else f"{pb:.0%}",
                  money(r["engineering_monthly_usd"]))
    out.print(t)
    if mc:
        out.print(f"[dim]Monte Carlo: {mc['draws']:,} draws (seed {mc['seed']}) in {mc['seconds']:.2f} s; volume "
                  f"sigma {mc['volume_sigma']:.2f} ({mc['volume_sigma_basis']})[/dim]")


@app.command("breakeven")
@friendly
def breakeven_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Usage files or folders, or a demand series.")],
    format: Annotated[str, typer.Option("--format", "-f", help="auto, a usage format, or demand / cloudwatch / "
                                        "servegen-rates.")] = "auto",
    model: Annotated[str | None, typer.Option(help="Model for sources without one (id, profile or alias).")] = None,
    region: Annotated[str, typer.Option(help="AWS region for sources without one.")] = "us-east-1",
    on_error: Annotated[str, typer.Option("--on-error", help="raise or skip bad records.")] = "raise",
    self_host: Annotated[list[str] | None, typer.Option("--self-host", help="Open-weights model spec(s) to "
                                                        "self-host (default: the catalog's twins).")] = None,
    instance: Annotated[list[str] | None, typer.Option(help="EC2 instance type(s) (default: from rightsize).")] = None,
    precision: Annotated[str | None, typer.Option(help="Weight precision: bf16, fp8, int8, int4.")] = None,
    purchase: Annotated[str | None, typer.Option(help="on-demand, spot, savings-plan-1y or savings-plan-3y.")] = None,
    replica_rps: Annotated[float | None, typer.Option("--replica-rps", help="Requests/s one replica sustains "
                                                      "(your load test); overrides the throughput model.")] = None,
    slo_ttft_ms: Annotated[float | None, typer.Option("--slo-ttft-ms", help="Time-to-first-token target.")] = None,
    slo_tpot_ms: Annotated[float | None, typer.Option("--slo-tpot-ms", help="Time-per-output-token target.")] = None,
    scale: Annotated[float | None, typer.Option(help="Today's volume as a factor of the traffic (same shape).")] = None,
    growth: Annotated[float | None, typer.Option("--growth", help="Volume growth, percent per month.")] = None,
    window: Annotated[int | None, typer.Option("--window", help="Window width in seconds (default 60).")] = None,
    candidates: Annotated[int | None, typer.Option(help="Cheapest self-hosting candidates kept per model.")] = None,
    eng_fte: Annotated[float | None, typer.Option("--eng-fte", help="Ongoing share of an engineer for every "
                                                  "self-hosted and SageMaker option.")] = None,
    eng_usd_per_year: Annotated[float | None, typer.Option("--eng-usd-per-year", help="Loaded cost of one "
                                                           "engineer a year.")] = None,
    call_type: Annotated[str | None, typer.Option("--call-type", help="Solve for one call type only.")] = None,
    scenario: Annotated[Path | None, typer.Option(help="Scenario YAML (`compare:`, `levers:`, `economics:`, "
                                                  "`uncertainty:`, `plan:` sections).")] = None,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Break-even of self-hosting and SageMaker against Bedrock, engineering priced in, with its uncertainty."""
    from ..catalog import load_catalog
    from ..economics import load_tco
    from ..plan import run_breakeven
    from ._serving_inputs import make_compare_spec, read_input

    cat = load_catalog(catalog)
    spec = make_compare_spec(scenario, self_host=self_host, instance=instance, precision=precision,
                             purchase=purchase, replica_rps=replica_rps, slo_ttft_ms=slo_ttft_ms,
                             slo_tpot_ms=slo_tpot_ms, scale=scale, growth_pct_per_month=growth, window_s=window,
                             candidates=candidates)
    tco = load_tco(scenario, eng_fte=eng_fte, eng_usd_per_year=eng_usd_per_year)
    wl, demand = read_input(paths, cat, format, model=model, region=region, on_error=on_error)
    res = run_breakeven(wl, demand, cat, spec, scenario, tco, call_type=call_type)
    if (warning := cat.staleness_warning()) is not None:
        res["notes"].append(warning)
    if json_out:
        sys.stdout.write(json.dumps(res, default=str) + "\n")
        return
    out.print(f"Bedrock after the workload levers: {money(res['bedrock_after_levers_monthly_usd'])}/month "
              f"({res['tokens_per_month']:,.0f} tokens/month) for {res['label']}")
    render_breakeven(res["breakeven"], res["uncertainty"], "Break-even (engineering included)")
    for n in res["notes"]:
        out.print(f"[dim]note: {n}[/dim]")
