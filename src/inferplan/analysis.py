"""The `analyze` job: read, price, attribute; one JSON-able summary that every report renders."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .attribution import breakdown, span, totals
from .catalog import Catalog
from .pricing import Bill, price_workload
from .progress import phase
from .readers import ReadOptions, read_workload
from .runrate import run_rate, timeline
from .workload import Workload


def summarize(bill: Bill, catalog: Catalog, *, tags: Sequence[str] = ()) -> dict[str, Any]:
    """Totals and breakdowns of a priced workload, as plain data (the `--json` output).

    Dollars are full-precision floats (a sub-cent request must not round to 0 in JSON); only displays round.
    """
    tot = totals(bill)
    by_call = breakdown(bill, "call_type")
    by_model = breakdown(bill, "model")
    by_day = breakdown(bill, "day")
    wl = bill.workload
    out: dict[str, Any] = {
        "requests": tot.requests,
        "total_usd": tot.total_usd,
        "by_call_type": {r["key"]: r["total_usd"] for r in by_call},
        "by_model": {r["key"]: r["total_usd"] for r in by_model},
        "tokens": {
            "input": tot.tokens["input"],
            "output": tot.tokens["output"],
            "cache_read": tot.tokens["cache_read"],
            "cache_write": tot.tokens["cache_write_5m"] + tot.tokens["cache_write_1h"],
            "cache_write_5m": tot.tokens["cache_write_5m"],
            "cache_write_1h": tot.tokens["cache_write_1h"],
        },
        "usd_by_token_kind": dict(tot.usd),
        "token_kind_share": {k: round(v, 6) for k, v in tot.token_share().items()},
        "period": (period := dict(zip(("start", "end"), span(bill), strict=True))),
        "run_rate": (rate := run_rate(tot.total_usd, period["start"], period["end"])),
        "timeline": timeline(bill, rate["window_hours"]),
        "catalog_checked": catalog.checked.isoformat(),
        "catalog_age_days": catalog.age_days(),
        "breakdowns": {"call_type": _rows(by_call), "model": _rows(by_model), "day": _rows(by_day)},
        "prices": [
            {"model": p.model, "scope": p.scope, "region": p.region, "tier": p.tier,
             "input_usd_per_mtok": p.input_usd_per_mtok, "output_usd_per_mtok": p.output_usd_per_mtok,
             "cache_read_usd_per_mtok": p.cache_read_usd_per_mtok,
             "cache_write_5m_usd_per_mtok": p.cache_write_5m_usd_per_mtok,
             "cache_write_1h_usd_per_mtok": p.cache_write_1h_usd_per_mtok,
             "source": p.source, "checked": p.checked.isoformat()}
            for p in bill.prices.values()
        ],
        "skipped": dict(wl.skipped) if wl else {},
        "notes": [*(wl.notes if wl else []), *bill.notes],
        "sources": list(wl.sources) if wl else [],
    }
    for tag in tags:
        out["breakdowns"][f"tag:{tag}"] = _rows(breakdown(bill, f"tag:{tag}"))
    if (warning := catalog.staleness_warning()) is not None:
        out["notes"].append(warning)
    return out


def _rows(rows: list[dict]) -> list[dict]:
    keep = ("key", "requests", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_5m_tokens",
            "cache_write_1h_tokens", "input_usd", "output_usd", "cache_read_usd", "cache_write_5m_usd",
            "cache_write_1h_usd", "total_usd", "share")
    return [{k: r[k] for k in keep} for r in rows]


def analyze(paths: Sequence[str | Path], catalog: Catalog, fmt: str = "auto",
            options: ReadOptions | None = None, tags: Sequence[str] = (), levers: str | None = None,
            scenario: Path | None = None) -> dict[str, Any]:
    """Read usage, price it, and summarise: the whole `inferplan analyze` job as one call.

    With `levers` ("caching,batch" or "all"), also replay the workload under each lever and compounded
    (`inferplan.levers.evaluate`), under the summary's `levers` key.
    """
    phase(f"reading {len(paths)} input(s)")
    workload: Workload = read_workload(paths, catalog, fmt, options)
    phase("pricing every request")
    bill = price_workload(workload, catalog)
    summary = summarize(bill, catalog, tags=tags)
    if levers:
        from .levers import evaluate

        phase("replaying the levers")
        summary["levers"] = evaluate(workload, catalog, levers, scenario=scenario, baseline=bill)
    return summary
