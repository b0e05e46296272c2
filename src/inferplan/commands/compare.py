"""`inferplan compare`: which serving option for this traffic, every option costed over its own time series."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..progress import progress
from ..report import write_json
from ..report.fmt import money
from ._common import CatalogOpt, HtmlOpt, JsonOpt, MarkdownOpt, ModelOpt, OnErrorOpt, RegionOpt, app, friendly, out, say
from ._serving_inputs import (
    CandidatesOpt,
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
    make_compare_spec,
    read_input,
)

BLOCKS = " ▁▂▃▄▅▆▇█"


def spark(values: list[float] | None) -> str:
    """A replica timeline as a one-line sparkline."""
    if not values:
        return ""
    top = max(values) or 1.0
    return "".join(BLOCKS[min(len(BLOCKS) - 1, int(round(v / top * (len(BLOCKS) - 1))))] for v in values)


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.0%}" if v >= 0.01 or v == 0 else f"{v:.2%}"


def render(summary: dict[str, Any]) -> None:
    d = summary["demand"]
    title = (f"Serving options for {d['requests']:,.0f} requests over {d['hours']:,.1f} h "
             f"({d['windows']} windows of {d['window_s']} s, peak/mean {d['peak_to_mean']:.2f}); monthly = 730 h")
    t = Table(title=title, title_justify="left")
    for col in ("option", "billing unit", "$/month", "idle", "util.", "$/Mtok", "SLO miss", "replicas",
                "biggest lever"):
        t.add_column(col, justify="right" if col in ("$/month", "idle", "util.", "$/Mtok", "SLO miss") else "left")
    feasible = sorted((o for o in summary["options"] if o["feasible"]), key=lambda o: o["monthly_usd"] or 0.0)
    for o in feasible:
        r = o["replicas"]
        reps = "-" if r is None else f"{r['min']:g}/{r['mean']:.1f}/{r['max']:g}"
        t.add_row(o["name"], o["billing_unit"], money(o["monthly_usd"]), _pct(o["idle_share"]),
                  _pct(o["utilization"]), money(o["usd_per_mtok"]), _pct(o["slo_miss_share"]), reps,
                  o["lever"] or "")
    out.print(t)
    h = summary.get("hybrid")
    if h:
        out.print(f"Hybrid at its optimal base: {h['base_replicas']} x {h['candidate']}: {money(h['monthly_usd'])}"
                  f"/month ({money(h['self_host_monthly_usd'])} self-hosted + {money(h['bedrock_monthly_usd'])} "
                  f"Bedrock), {h['overflow_share']:.1%} of requests overflow to Bedrock")
    timelines = [o for o in feasible if o.get("timeline")]
    if timelines:
        tl = Table(title="replica timelines (paid replicas, start to end)", title_justify="left")
        tl.add_column("option")
        tl.add_column("timeline")
        tl.add_column("max", justify="right")
        for o in timelines:
            tl.add_row(o["name"], spark(o["timeline"]), f"{max(o['timeline']):g}")
        out.print(tl)
    infeasible = [o for o in summary["options"] if not o["feasible"]]
    if infeasible:
        rj = Table(title="not feasible or not priced", title_justify="left")
        rj.add_column("option")
        rj.add_column("why")
        for o in infeasible:
            rj.add_row(o["name"], o["reason"] or "")
        out.print(rj)
    for n in summary.get("notes", []):
        out.print(f"[dim]note: {n}[/dim]")


@app.command("compare")
@friendly
def compare_cmd(
    paths: Annotated[list[str], typer.Argument(help="Usage files or folders, or a demand series (demand CSV, "
                                                "CloudWatch get-metric-data JSON, ServeGen rates).")],
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
    scale: Annotated[float | None, typer.Option(help="Scale the volume by this factor (same shape).")] = None,
    growth: GrowthOpt = None,
    shift_deferrable: Annotated[bool | None, typer.Option("--shift-deferrable/--no-shift-deferrable",
                                                          help="Move deferrable work into valleys (24 h).")] = None,
    window: WindowOpt = None,
    candidates: CandidatesOpt = None,
    scenario: Annotated[Path | None, typer.Option(help="Scenario YAML; its `compare:` section sets any option "
                                                  "(provisioned MU capacity, reserved tier, defaults).")] = None,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
    html: HtmlOpt = None,
    markdown: MarkdownOpt = None,
) -> None:
    """Cost every serving option (Bedrock, SageMaker, EC2, hybrid) over this traffic's time series."""
    from ..catalog import load_catalog
    from ..serving import compare, compare_demand

    cat = load_catalog(catalog)
    spec = make_compare_spec(scenario, self_host=self_host, instance=instance, precision=precision,
                             purchase=purchase, replica_rps=replica_rps, slo_ttft_ms=slo_ttft_ms,
                             slo_tpot_ms=slo_tpot_ms, scale=scale, growth_pct_per_month=growth,
                             shift_deferrable=shift_deferrable, window_s=window, candidates=candidates)
    with progress("reading and simulating the serving options"):
        wl, demand = read_input(paths, cat, format, model=model, region=region, on_error=on_error)
        cat = instance_catalog(cat, wl, demand, region)  # instances priced in the traffic's region
        if demand is not None:
            if window is not None and window != demand.window_s:
                demand.notes.append(f"--window {window} ignored: the series' own window is {demand.window_s} s")
            result = compare_demand(demand, cat, spec)
        else:
            result = compare(wl, cat, spec)
    summary = result.summary()
    if (warning := cat.staleness_warning()) is not None:
        summary["notes"].append(warning)
    if json_out:
        write_json(summary, "compare")
    else:
        render(summary)
    if html is not None or markdown is not None:
        from ..report import write_files
        from ..report.series import compare_series

        write_files(summary, "compare", html=html, markdown=markdown, say=say,
                    charts={"series": compare_series(result)})
