"""`inferplan convert INPUT... --out FILE.parquet`: any supported format to canonical Parquet.

The way onto Spark (and the fastest input for DuckDB): the source formats' readers are DuckDB SQL, so convert
where the logs are readable by one machine (or per day, in parallel), then run `--engine spark analyze` on the
Parquet files. Models are resolved against the catalog and values validated while converting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..catalog import load_catalog
from ..errors import ConfigError
from ..readers import read_options, read_workload
from ..readers.canonical import write
from ..report import write_json
from ._common import (
    CallTypeKeyOpt,
    CatalogOpt,
    JsonOpt,
    ModelOpt,
    OnErrorOpt,
    RegionOpt,
    TierOpt,
    UsageFormatOpt,
    app,
    friendly,
    say,
)


@app.command()
@friendly
def convert(
    paths: Annotated[list[str], typer.Argument(help="Usage files or folders (any format `analyze` reads).")],
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Output file: .parquet (or .csv, .jsonl).")],
    format: UsageFormatOpt = "auto",
    model: ModelOpt = None,
    region: RegionOpt = "us-east-1",
    tier: TierOpt = "standard",
    on_error: OnErrorOpt = "raise",
    call_type_key: CallTypeKeyOpt = None,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write usage of any supported format as the canonical workload (what `--engine spark` reads)."""
    if out_path.suffix.lower() not in (".parquet", ".csv", ".jsonl", ".json"):
        raise ConfigError(f"--out {out_path}: write .parquet, .csv or .jsonl")
    cat = load_catalog(catalog)
    opts = read_options(model=model, region=region, tier=tier, on_error=on_error, call_type_key=call_type_key)
    wl = read_workload(paths, cat, format, opts)
    write(wl.table, out_path)
    rows = wl.count()
    if json_out:
        write_json({"out": str(out_path), "requests": rows, "skipped": wl.skipped, "notes": wl.notes}, "convert")
    else:
        say(f"wrote {rows:,} requests to {out_path}" + (f" (skipped: {wl.skipped})" if wl.skipped else ""))
