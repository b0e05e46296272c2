"""`inferplan prices update --aws-price-list FILE... [--litellm FILE] [--out CATALOG.yaml]`.

Reads AWS Price List offer files (or the index files that point to them) and LiteLLM's price map, keeps the
rows the catalog uses, writes them to the user catalog file (default: the user's inferplan config folder, read
by every command after the packaged data), and prints what changed. Never touches the packaged data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..catalog import load_catalog, user_catalog_path
from ..catalog.pricelist import Update, plan_rows, read_litellm, read_price_list, write_catalog
from ..errors import ConfigError
from ..report import write_json
from ._common import CatalogOpt, JsonOpt, friendly, out, prices_app, say


@prices_app.command("update")
@friendly
def prices_update(
    aws_price_list: Annotated[list[Path] | None, typer.Option(
        "--aws-price-list", help="AWS Price List offer file (AmazonBedrock, AmazonEC2, AmazonSageMaker) or an "
        "index.json / region_index.json in a local mirror; repeat for several.")] = None,
    litellm: Annotated[Path | None, typer.Option(help="LiteLLM's model_prices_and_context_window.json.")] = None,
    region: Annotated[list[str] | None, typer.Option(help="Only these regions (repeat); default: all.")] = None,
    out_file: Annotated[Path | None, typer.Option(
        "--out", help="Catalog file to write (default: $INFERPLAN_CONFIG_DIR/catalog.yaml or "
        "~/.config/inferplan/catalog.yaml).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the diff, write nothing.")] = False,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Refresh prices from AWS Price List files and LiteLLM's price map into your catalog file, with a diff."""
    if not aws_price_list and litellm is None:
        raise ConfigError("nothing to read: give --aws-price-list FILE (repeatable) and/or --litellm FILE")
    cat = load_catalog(catalog, warn_stale=False)
    up = Update()
    if litellm is not None:
        read_litellm(litellm, cat, up)
    if aws_price_list:  # after LiteLLM: AWS's own figures win for the same field
        read_price_list(aws_price_list, cat, regions=set(region) if region else None, up=up)
    rows, diff = plan_rows(up, cat)
    target = out_file or user_catalog_path()
    if not dry_run and rows:
        # what is written must load and validate before it replaces the user's file
        write_catalog(target, rows, check=lambda p: load_catalog(p, warn_stale=False, user_config=False))
    result: dict[str, Any] = {
        "written": None if dry_run or not rows else str(target),
        "files": [{"path": s.path, "offer": s.offer, "publication": s.publication, "products_read": s.products_read,
                   "products_kept": s.products_kept, "terms_read": s.terms_read, "rows": s.rows,
                   "skipped": s.skipped} for s in up.stats],
        "rows": {t: len(r) for t, r in rows.items()},
        "changed": diff,
        "reserved": up.reserved,
        "notes": up.notes,
    }
    if json_out:
        write_json(result, "prices-update")
        return
    t = Table(title="files read", title_justify="left")
    for h in ("file", "offer", "published", "products", "kept", "rows"):
        t.add_column(h, justify="right" if h in ("products", "kept", "rows") else "left")
    for f in result["files"]:
        t.add_row("/".join(Path(f["path"]).parts[-3:]), f["offer"], f["publication"],
                  f"{f['products_read']:,}", f"{f['products_kept']:,}", f"{f['rows']:,}")
    out.print(t)
    d = Table(title=f"changed: {len(diff)} field(s)", title_justify="left",
              caption="in force from: the new price's first day (the Price List term's effectiveDate); the old row "
              "is kept until then, so older usage reprices at the old price")
    for h in ("model or instance", "region", "scope/tier or plan", "field", "old", "new", "percent", "in force from"):
        d.add_column(h, justify="right" if h in ("old", "new", "percent") else "left")
    for c in diff:
        st = c.get("plan") or "/".join(x for x in (c["scope"], c["tier"]) if x)
        pct = "new" if c["old"] is None else f"{c['percent']:+.2f}%" if c["percent"] is not None else ""
        d.add_row(c["item"], c["region"], st, c["field"], "" if c["old"] is None else f"{c['old']:g}",
                  f"{c['new']:g}", pct, c.get("effective_from") or "")
    out.print(d)
    for n in up.notes:
        say(f"note: {n}")
    say(f"wrote {result['written']}" if result["written"] else "nothing written (--dry-run or no rows kept)")
