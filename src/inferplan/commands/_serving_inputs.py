"""What `breakeven` and `plan` share with `compare`: its flags turned into a CompareSpec, and reading the input
(a usage workload, or a demand series for users whose invocation logging is off)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..catalog import Catalog
from ..readers import read_options

# The flags `compare`, `breakeven` and `plan` share, declared once (the reading ones live in _common).
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="auto, a usage format, or demand / cloudwatch / "
                                        "servegen-rates.")]
SelfHostOpt = Annotated[list[str] | None, typer.Option("--self-host", help="Open-weights model spec(s) to "
                                                       "self-host (default: the catalog's twins).")]
InstanceOpt = Annotated[list[str] | None, typer.Option(help="EC2 instance type(s) (default: from rightsize).")]
PrecisionOpt = Annotated[str | None, typer.Option(help="Weight precision: bf16, fp8, int8, int4.")]
PurchaseOpt = Annotated[str | None, typer.Option(
    help="on-demand, spot, savings-plan-1y, savings-plan-3y, reserved-1y or reserved-3y (Standard Reserved "
    "Instances, no upfront).")]
ReplicaRpsOpt = Annotated[float | None, typer.Option("--replica-rps", help="Requests/s one replica sustains "
                                                     "(your load test); overrides the throughput model.")]
SloTtftOpt = Annotated[float | None, typer.Option("--slo-ttft-ms", help="Time-to-first-token target.")]
SloTpotOpt = Annotated[float | None, typer.Option("--slo-tpot-ms", help="Time-per-output-token target.")]
ScaleOpt = Annotated[float | None, typer.Option(help="Scale the volume by this factor (same shape).")]
GrowthOpt = Annotated[float | None, typer.Option("--growth", help="Volume growth, percent per month.")]
WindowOpt = Annotated[int | None, typer.Option("--window", help="Window width in seconds (default 60).")]
CandidatesOpt = Annotated[int | None, typer.Option(help="Cheapest self-hosting candidates kept per model.")]
EngFteOpt = Annotated[float | None, typer.Option("--eng-fte", help="Ongoing share of an engineer for every "
                                                 "self-hosted and SageMaker option.")]
EngUsdOpt = Annotated[float | None, typer.Option("--eng-usd-per-year", help="Loaded cost of one engineer a year.")]


def split(values: list[str] | None) -> list[str]:
    return [x.strip() for v in (values or []) for x in v.split(",") if x.strip()]


def make_compare_spec(scenario: Path | None, **flags: Any) -> Any:
    from ..serving.spec import load_scenario, make_spec

    for k in ("self_host", "instance"):
        flags[k] = split(flags.get(k))
    return make_spec(load_scenario(scenario), scenario, cli=True, **flags)


def read_input(paths: list[Path], cat: Catalog, fmt: str, *, model: str | None, region: str, on_error: str,
               demand_ok: bool = True) -> tuple[Any, Any]:
    """(workload, None) for usage logs; (None, demand series) for a demand CSV, CloudWatch JSON or ServeGen.
    `demand_ok`: whether the command takes a demand series (its formats are then named in a format error)."""
    from ..demand.readers import FORMATS as DEMAND_FORMATS
    from ..demand.readers import read_demand, sniff
    from ..errors import UnknownFormatError
    from ..readers import expand_paths, read_workload

    files = expand_paths(paths)
    demand_fmt = fmt if fmt in DEMAND_FORMATS else None
    if fmt == "auto" and files and all(sniff(f) for f in files if not f.name.startswith("LICENSE")):
        demand_fmt = "auto"
    if demand_fmt is not None:
        return None, read_demand(files, cat, demand_fmt, model=model, region=region, on_error=on_error)
    try:
        return read_workload(paths, cat, fmt, read_options(model=model, region=region, on_error=on_error)), None
    except UnknownFormatError as exc:  # this command reads demand series too: say so
        if not demand_ok:
            raise
        raise UnknownFormatError(f"{exc} (usage logs), or {', '.join(DEMAND_FORMATS)} (a demand series)") from None


def instance_catalog(cat: Catalog, wl: Any, demand: Any, region: str | None) -> Catalog:
    """The catalog with instances priced in the traffic's region: the one region of the requests, else the one
    with most requests; a demand series (no region column) or `--region` when the data has none."""
    regions: list[tuple[str, int]] = []
    if wl is not None:
        counts = wl.table.group_by("region").aggregate(n=wl.table.count()).to_pyarrow().to_pylist()
        regions = sorted(((r["region"], r["n"]) for r in counts if r["region"]), key=lambda x: (-x[1], x[0]))
    pick = regions[0][0] if regions else (getattr(demand, "region", None) or region or "us-east-1")
    return cat.for_region(pick)


def chosen(spec: Any) -> list[str]:
    """Instances the team has already picked: none from the flags (`--instance` models an option, it does not
    say one runs); stated endpoints (`current:`) are added by the plan."""
    return []
