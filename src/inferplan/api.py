"""The Python API for notebooks: `inferplan.analyze(...)`, `inferplan.compare(...)` and `inferplan.plan(...)`.

Each returns a `Report`: `.summary` is exactly the command's `--json` data, `.to_html()` and `.to_markdown()` the
same reports as `--html` and `--markdown`. In a notebook a Report shows itself as its Markdown summary.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .catalog import Catalog, load_catalog
from .report import stamp

PathLike = str | Path


@dataclass
class Report:
    """One command's result: the summary (plain JSON data) and its renderings."""

    summary: dict[str, Any]
    kind: str
    charts: dict[str, Any] = field(default_factory=dict, repr=False)  # optional arrays the HTML charts use

    def to_html(self, path: PathLike | None = None) -> str:
        """The self-contained HTML report (written to `path` too, when given)."""
        from .report import html

        text = html.render({**self.summary, **self.charts}, self.kind)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_markdown(self, path: PathLike | None = None) -> str:
        """The pull-request summary (written to `path` too, when given)."""
        from .report import markdown

        text = markdown.render(self.summary, self.kind)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_json(self) -> str:
        return json.dumps(self.summary, default=str)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def _catalog(catalog: Catalog | PathLike | None) -> Catalog:
    return catalog if isinstance(catalog, Catalog) else load_catalog(None if catalog is None else Path(catalog))


def _paths(paths: PathLike | Sequence[PathLike]) -> list[str | Path]:
    """Local paths as `Path`s; `s3://` URLs kept as they are (a `Path` would fold their `//`)."""
    given = [paths] if isinstance(paths, str | Path) else list(paths)
    return [p if str(p).startswith("s3://") else Path(p) for p in given]


def analyze(paths: PathLike | Sequence[PathLike], *, model: str | None = None, region: str = "us-east-1",
            tier: str = "standard", format: str = "auto", on_error: str = "raise", levers: str | None = None,
            scenario: PathLike | None = None, tags: Sequence[str] = (), call_type_key: str | None = None,
            catalog: Catalog | PathLike | None = None) -> Report:
    """`inferplan analyze`: read usage, price it exactly, break it down, and (with `levers`) replay the levers."""
    from .analysis import analyze as run
    from .readers import read_options

    opts = read_options(model=model, region=region, tier=tier, on_error=on_error, call_type_key=call_type_key)
    summary = run(_paths(paths), _catalog(catalog), format, opts, tags=tags, levers=levers,
                  scenario=None if scenario is None else Path(scenario))
    return Report(stamp(summary, "analyze"), "analyze")


def compare(paths: PathLike | Sequence[PathLike], *, model: str | None = None, region: str = "us-east-1",
            format: str = "auto", on_error: str = "raise", scenario: PathLike | None = None,
            catalog: Catalog | PathLike | None = None, **options: Any) -> Report:
    """`inferplan compare`: every serving option costed over this traffic's own time series.

    `options` are `compare`'s flags by their CompareSpec names: `self_host=["llama-3.1-8b"]`, `instance=[...]`,
    `precision`, `purchase`, `replica_rps`, `slo_ttft_ms`, `slo_tpot_ms`, `scale`, `window_s`, `candidates`.
    """
    from .readers import read_options, read_workload
    from .report.series import compare_series
    from .serving import compare as run
    from .serving.spec import load_scenario, make_spec

    cat = _catalog(catalog)
    spec = make_spec(load_scenario(None if scenario is None else Path(scenario)), scenario, **options)
    wl = read_workload(_paths(paths), cat, format, read_options(model=model, region=region, on_error=on_error))
    result = run(wl, cat, spec)
    return Report(stamp(result.summary(), "compare"), "compare", {"series": compare_series(result)})


def plan(paths: PathLike | Sequence[PathLike], *, model: str | None = None, region: str = "us-east-1",
         format: str = "auto", on_error: str = "raise", scenario: PathLike | None = None,
         eng_fte: float | None = None, eng_usd_per_year: float | None = None,
         catalog: Catalog | PathLike | None = None, **options: Any) -> Report:
    """`inferplan plan`: spend, the levers, the serving options, the break-even with its uncertainty, and what to
    do first. `options` are `compare`'s, by their CompareSpec names (see `compare`)."""
    from .economics import load_tco
    from .planner import run
    from .readers import read_options, read_workload
    from .serving.spec import load_scenario, make_spec

    cat = _catalog(catalog)
    scen = None if scenario is None else Path(scenario)
    spec = make_spec(load_scenario(scen), scen, **options)
    tco = load_tco(scen, eng_fte=eng_fte, eng_usd_per_year=eng_usd_per_year)
    wl = read_workload(_paths(paths), cat, format, read_options(model=model, region=region, on_error=on_error))
    charts: dict[str, Any] = {}
    summary = run(wl, cat, spec, scen, tco, cmd=" ".join(str(p) for p in _paths(paths)), charts=charts)
    if (warning := cat.staleness_warning()) is not None:
        summary["notes"].append(warning)
    return Report(stamp(summary, "plan"), "plan", charts)
