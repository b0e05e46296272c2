"""Command line: builds the app (`inferplan analyze | demo | prices ...` here, the other commands from the
modules of `inferplan.commands`) and runs it.

The only place that turns library errors into messages and exit codes (`commands._common.friendly`): a user
sees one clear line, never a traceback (set INFERPLAN_DEBUG=1 to see one).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from .analysis import analyze as run_analysis
from .catalog import Catalog, load_catalog
from .commands import load_all
from .commands._common import (
    DEMO_MODEL,
    DEMO_REGION,
    CallTypeKeyOpt,
    CatalogOpt,
    ExplainOpt,
    HtmlOpt,
    JsonOpt,
    MarkdownOpt,
    ModelOpt,
    OnErrorOpt,
    RegionOpt,
    TierOpt,
    UsageFormatOpt,
    app,
    demo_paths,
    err,
    friendly,
    out,
    prices_app,
    say,
)
from .errors import InferplanError, UnknownItemError
from .pricing import parse_provisioned_units
from .progress import progress
from .readers import FORMATS, ReadOptions, read_options
from .regions import check_region
from .report import terminal, write_files, write_json
from .workload import Defaults

# the names command modules and tests used to take from here
__all__ = ["DEMO_MODEL", "DEMO_REGION", "CatalogOpt", "ExplainOpt", "HtmlOpt", "JsonOpt", "MarkdownOpt", "app",
           "demo_paths", "err", "friendly", "main", "out", "prices_app", "read_options", "say"]


def _emit(summary: dict[str, Any], as_json: bool, kind: str = "analyze", *, html: Path | None = None,
          markdown: Path | None = None, explain: bool = False) -> None:
    """Print the summary (JSON or tables) and write the HTML/Markdown reports asked for."""
    if as_json:
        write_json(summary, kind)
    else:
        terminal.render(summary, out, explain=explain)
    write_files(summary, kind, html=html, markdown=markdown, say=say)


@app.command()
@friendly
def analyze(
    paths: Annotated[list[str], typer.Argument(help="Usage files or folders.")],
    format: UsageFormatOpt = "auto",
    model: ModelOpt = None,
    region: RegionOpt = "us-east-1",
    tier: TierOpt = "standard",
    on_error: OnErrorOpt = "raise",
    tag: Annotated[list[str] | None, typer.Option("--by-tag", help="Also break down by this tag key.")] = None,
    call_type_key: CallTypeKeyOpt = None,
    levers: Annotated[str | None, typer.Option(help="Comma-separated levers to evaluate "
                                               "(caching,batch,routing,trim) or all.")] = None,
    scenario: Annotated[Path | None, typer.Option(help="Scenario YAML with lever options.")] = None,
    provisioned_units: Annotated[list[str] | None, typer.Option(
        "--provisioned-units", help="Price provisioned-throughput requests from model units: MODEL=N or "
        "MODEL=N:TERM (units x catalog $/model-unit hour x hours in the window).")] = None,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
    html: HtmlOpt = None,
    markdown: MarkdownOpt = None,
    explain: ExplainOpt = False,
) -> None:
    """Price usage exactly and show where the money went (and what each lever would save)."""
    cat = load_catalog(catalog)
    opts = read_options(model=model, region=region, tier=tier, on_error=on_error, call_type_key=call_type_key)
    with progress("reading usage"):
        summary = run_analysis(paths, cat, format, opts, tags=tag or (), levers=levers, scenario=scenario,
                               provisioned_units=parse_provisioned_units(provisioned_units))
    _emit(summary, json_out, html=html, markdown=markdown, explain=explain)


@app.command()
@friendly
def demo(json_out: JsonOpt = False,
         plan: Annotated[bool, typer.Option("--plan/--no-plan", help="Also run `plan` on the traces.")] = True,
         html: HtmlOpt = None, markdown: MarkdownOpt = None, explain: ExplainOpt = False) -> None:
    """Analyze the bundled Azure 2023 traces (code and conversation), priced on a documented default model, then
    plan them (`inferplan plan`, self-hosting candidate DEMO_SELF_HOST); `--json` puts the plan under `plan`."""
    cat = load_catalog()
    opts = ReadOptions(defaults=Defaults(model=DEMO_MODEL, region=DEMO_REGION))
    with progress("reading the demo traces"):
        summary = run_analysis(demo_paths(), cat, "azure2023", opts)
    source = f"demo: Azure LLM inference trace 2023 (CC-BY-4.0, Splitwise ISCA'24), priced as {DEMO_MODEL} in " \
        f"{DEMO_REGION}"
    summary["notes"].append(source)
    if not plan:
        _emit(summary, json_out, html=html, markdown=markdown, explain=explain)
        return
    from .commands.plan import demo_plan, render_plan

    charts: dict[str, Any] = {}
    with progress("planning the demo traces"):
        planned = demo_plan(cat, charts)
    planned["notes"].insert(0, source)
    if json_out:
        write_json({**summary, "plan": planned}, "analyze")
    else:
        terminal.render(summary, out, explain=explain)
        render_plan(planned)
    write_files(planned, "plan", html=html, markdown=markdown, say=say, charts=charts)  # the plan holds the spend


@prices_app.command("list")
@friendly
def prices_list(
    service: Annotated[str, typer.Option(help="bedrock, ec2 or sagemaker.")] = "bedrock",
    model: Annotated[str | None, typer.Option(help="Bedrock model: id, alias or profile, or part of an id.")] = None,
    region: Annotated[str | None, typer.Option(help="Only rows for this region (Bedrock rows for any region "
                                               "too).")] = None,
    tier: Annotated[str | None, typer.Option(help="Bedrock tier: standard, batch, flex or priority.")] = None,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List catalog rows for one service, optionally for one model, region or tier."""
    from .report.prices import filter_rows, render_list

    if region is not None:
        check_region(region)
    cat = load_catalog(catalog)
    rows = filter_rows(cat, service, _service_rows(cat, service), model=model, region=region, tier=tier)
    if json_out:
        write_json({"service": service, "catalog_checked": cat.checked.isoformat(),
                    "filters": {"model": model, "region": region, "tier": tier}, "rows": rows}, "prices-list")
        return
    render_list(service, rows, cat.checked.isoformat(), out)


def _service_rows(cat: Catalog, service: str) -> list[dict[str, Any]]:
    if service == "bedrock":
        return [
            {"model": p.model, "scope": p.scope, "region": p.region, "tier": p.tier,
             "input": p.input_usd_per_mtok, "output": p.output_usd_per_mtok,
             "cache_read": p.cache_read_usd_per_mtok, "cache_write_5m": p.cache_write_5m_usd_per_mtok,
             "cache_write_1h": p.cache_write_1h_usd_per_mtok, "effective_from": p.effective_from,
             "effective_to": p.effective_to, "checked": p.checked, "source": p.source}
            for p in sorted(cat.bedrock_prices, key=lambda p: (p.model, p.scope, p.region, p.tier,
                                                               p.effective_from or date.min))
        ]
    if service == "ec2":
        return [
            {"instance": i.instance, "region": i.region, "accelerator": i.accelerator, "count": i.accelerator_count,
             "acc_mem_gib": i.accelerator_memory_gib, "vcpu": i.vcpu, "on_demand_usd_h": i.on_demand_usd_per_hour,
             "spot_usd_h": i.spot_usd_per_hour, "checked": i.checked, "source": i.source}
            for i in cat.ec2_instances.values()
        ]
    if service == "sagemaker":
        return [
            {"instance": i.instance, "ec2": i.ec2_instance, "usd_h": i.usd_per_hour, "region": i.region,
             "checked": i.checked, "source": i.source}
            for i in cat.sagemaker_instances.values()
        ]
    raise InferplanError(f"--service must be bedrock, ec2 or sagemaker, not {service!r}")


@prices_app.command("show")
@friendly
def prices_show(
    ident: Annotated[str, typer.Argument(metavar="ID", help="Model id or alias, instance type or accelerator.")],
    region: Annotated[str | None, typer.Option(help="For an instance type: that region's row (an error names "
                                               "what to add when the catalog has none).")] = None,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Everything the catalog knows about one model, instance type or accelerator, with sources."""
    cat = load_catalog(catalog)
    found: dict[str, Any] = {}
    for table, key in (("ec2_instances", "ec2_instance"), ("sagemaker_instances", "sagemaker_instance")):
        rows = [r for r in cat.rows(table) if r.instance == ident]  # type: ignore[attr-defined]
        if not rows:
            continue
        row = (cat.ec2_in if table == "ec2_instances" else cat.sagemaker_in)(ident, region) if region else \
            (cat.ec2_instances if table == "ec2_instances" else cat.sagemaker_instances)[ident]
        found[key] = row.model_dump(mode="json")
        found[f"{key}_regions"] = sorted({r.region for r in rows})  # type: ignore[attr-defined]
        dated = [r for r in rows if r.window() != "always" and (region is None or r.region == region)]  # type: ignore[attr-defined]
        if dated:  # the row in force today above; every window of its prices here (what past periods cost)
            price = "on_demand_usd_per_hour" if table == "ec2_instances" else "usd_per_hour"
            found[f"{key}_history"] = [
                {"region": r.region, "effective_from": _iso(r.effective_from), "effective_to": _iso(r.effective_to),  # type: ignore[attr-defined]
                 price: getattr(r, price), "source": r.source}
                for r in sorted(rows, key=lambda r: (r.region, r.effective_from or date.min))  # type: ignore[attr-defined]
                if region is None or r.region == region]  # type: ignore[attr-defined]
    if ident.lower() in cat.accelerators:
        found["accelerator"] = cat.accelerators[ident.lower()].model_dump(mode="json")
    if ident.lower() in cat.model_specs:
        found["model_spec"] = cat.model_specs[ident.lower()].model_dump(mode="json")
    if not found:
        resolved = cat.resolve_model(ident)  # raises with the closest ids
        found["bedrock_model"] = cat.bedrock_models[resolved.model].model_dump(mode="json")
        found["resolved_scope"] = resolved.scope
        found["bedrock_prices"] = [p.model_dump(mode="json") for p in cat.bedrock_prices
                                   if p.model == resolved.model]
    if not found:
        raise UnknownItemError(f"nothing in the catalog is called {ident!r}")
    if cat.notes:
        found["catalog_notes"] = list(cat.notes)
    if json_out:
        write_json({"id": ident, **found}, "prices-show")
    else:
        from .report.prices import render_show

        render_show(ident, found, out)


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d is not None else None


@app.command()
def formats() -> None:
    """List the input formats `--format` accepts."""
    for name, mod in FORMATS.items():
        first_paragraph = " ".join((mod.__doc__ or "").strip().split("\n\n")[0].split())
        out.print(f"[bold]{name}[/bold]: {first_paragraph}")


# every module of `inferplan.commands` registers its commands now, after the ones above (the order of --help)
load_all()


def main() -> None:
    app(prog_name="inferplan")


if __name__ == "__main__":
    main()
