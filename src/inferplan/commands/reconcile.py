"""`inferplan reconcile --logs LOGS --cur CUR`: where inferplan's repricing of the logs and the bill differ."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ..catalog import load_catalog
from ..readers import read_options, read_workload
from ..readers.cur import read_cur
from ..reconcile import reconcile as run_reconcile
from ..report import write_json
from ._common import CatalogOpt, JsonOpt, ModelOpt, OnErrorOpt, RegionOpt, app, friendly, out


@app.command()
@friendly
def reconcile(
    logs: Annotated[list[str], typer.Option("--logs", help="Usage logs (files or folders; repeatable).")],
    cur: Annotated[list[str], typer.Option("--cur", help="CUR 2.0 export(s), CSV or Parquet (repeatable).")],
    format: Annotated[str, typer.Option("--format", "-f", help="Format of the logs: auto or a name.")] = "auto",
    model: ModelOpt = None,
    region: RegionOpt = "us-east-1",
    on_error: OnErrorOpt = "raise",
    tolerance: Annotated[float, typer.Option(help="Dollar difference per key that counts as a match.")] = 0.005,
    top: Annotated[int, typer.Option(help="How many differing keys to show.")] = 20,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Compare the logs, repriced at catalog prices, with the bill per day, model and token kind."""
    cat = load_catalog(catalog)
    wl = read_workload(logs, cat, format, read_options(model=model, region=region, on_error=on_error))
    bill = read_cur(list(cur), cat, on_error=on_error)
    rec = run_reconcile(wl, bill, cat, tolerance_usd=tolerance)
    summary = rec.summary(top)
    summary["notes"] = [*wl.notes, *summary["notes"]]
    summary["skipped"] = {**wl.skipped, **bill.skipped}
    if json_out:
        write_json(summary, "reconcile")
        return
    out.print(f"logs repriced: ${summary['logs_usd']:,.2f}   bill: ${summary['bill_usd']:,.2f}   "
              f"difference (bill - logs): ${summary['difference_usd']:,.2f}")
    if summary["unreconciled"]:
        out.print(f"bill lines not reconciled (listed in the notes): ${summary['unreconciled_usd']:,.2f} in "
                  f"{len(summary['unreconciled'])} usage type(s)")
    out.print(f"{summary['keys_differing']} of {summary['keys']} day/model/scope/region/tier/token-kind keys differ "
              f"by more than ${tolerance}")
    if summary["differences"]:
        t = Table(title="largest differences", title_justify="left")
        for c in ("day", "model", "scope", "region", "tier", "token_kind", "logs_tokens", "bill_tokens",
                  "logs_usd", "bill_usd", "diff_usd"):
            t.add_column(c)
        for r in summary["differences"]:
            t.add_row(*[f"{r[c]:,.2f}" if isinstance(r[c], float) else f"{r[c]:,}" if isinstance(r[c], int)
                        else str(r[c]) for c in ("day", "model", "scope", "region", "tier", "token_kind",
                                                 "logs_tokens", "bill_tokens", "logs_usd", "bill_usd", "diff_usd")])
        out.print(t)
    for n in summary["notes"]:
        out.print(f"note: {n}")
    for k, v in summary["skipped"].items():
        out.print(f"skipped: {k}: {v:,}")
