"""`inferplan synth SCENARIO.yaml --out FILE.parquet`: draw synthetic traffic from a scenario's `traffic:`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import ConfigError
from ..report import write_json
from ..synth import generate, load_traffic
from ._common import CatalogOpt, JsonOpt, app, friendly, out


@app.command()
@friendly
def synth(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML with a `traffic:` section.")],
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Output file: .parquet, .csv or .jsonl.")],
    rows: Annotated[int | None, typer.Option(help="Draw exactly this many requests (else Poisson).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same traffic).")] = 0,
    days: Annotated[float | None, typer.Option(help="Override the spec's number of days.")] = None,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Generate synthetic requests in the canonical shape, ready for `inferplan analyze`."""
    from ..catalog import load_catalog
    from ..errors import UnknownModelError

    if rows is not None and rows < 0:
        raise ConfigError("--rows must be non-negative")
    spec = load_traffic(scenario)
    cat = load_catalog(catalog, warn_stale=False)
    for name, ct in spec.call_types.items():  # traffic no command could price is refused before it is drawn
        try:
            cat.resolve_model(ct.model)
        except UnknownModelError as exc:
            raise UnknownModelError(f"{scenario}: call type {name!r}: model: {exc}") from None
    table = generate(spec, seed=seed, rows=rows, days=days)
    suffix = out_path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(table.rename_columns(["model" if c == "model_id" else c for c in table.column_names]),
                       out_path)
    elif suffix in (".csv", ".jsonl", ".json"):
        import ibis

        from ..readers.canonical import write

        t = ibis.memtable(table.rename_columns(["model" if c == "model_id" else c for c in table.column_names]))
        write(t, out_path)
    else:
        raise ConfigError(f"{out_path}: write .parquet, .csv or .jsonl")
    info = {"rows": table.num_rows, "out": str(out_path), "seed": seed, "call_types": list(spec.call_types)}
    if json_out:
        write_json(info, "synth")
    else:
        out.print(f"wrote {table.num_rows:,} requests ({', '.join(spec.call_types)}) to {out_path}")
