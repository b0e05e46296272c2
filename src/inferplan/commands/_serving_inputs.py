"""What `breakeven` and `plan` share with `compare`: its flags turned into a CompareSpec, and reading the input
(a usage workload, or a demand series for users whose invocation logging is off)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..catalog import Catalog
from ..cli import read_options


def split(values: list[str] | None) -> list[str]:
    return [x.strip() for v in (values or []) for x in v.split(",") if x.strip()]


def make_compare_spec(scenario: Path | None, **flags: Any) -> Any:
    from ..serving.spec import load_scenario, make_spec

    for k in ("self_host", "instance"):
        flags[k] = split(flags.get(k))
    return make_spec(load_scenario(scenario), **flags)


def read_input(paths: list[Path], cat: Catalog, fmt: str, *, model: str | None, region: str, on_error: str
               ) -> tuple[Any, Any]:
    """(workload, None) for usage logs; (None, demand series) for a demand CSV, CloudWatch JSON or ServeGen."""
    from ..demand.readers import FORMATS as DEMAND_FORMATS
    from ..demand.readers import read_demand, sniff
    from ..readers import expand_paths, read_workload

    files = expand_paths(paths)
    demand_fmt = fmt if fmt in DEMAND_FORMATS else None
    if fmt == "auto" and files and all(sniff(f) for f in files if not f.name.startswith("LICENSE")):
        demand_fmt = "auto"
    if demand_fmt is not None:
        return None, read_demand(files, cat, demand_fmt, model=model, region=region, on_error=on_error)
    return read_workload(paths, cat, fmt, read_options(model=model, region=region, on_error=on_error)), None


def chosen(spec: Any) -> list[str]:
    """Instances the team has already picked: none from the flags (`--instance` models an option, it does not
    say one runs); stated endpoints (`current:`) are added by the plan."""
    return []
