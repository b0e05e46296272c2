"""The `analyze` job: read, price, attribute; one JSON-able summary that every report renders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .attribution import breakdown, span, totals
from .catalog import Catalog
from .pricing import Bill, excluded_notes, parse_provisioned_units, price_workload, provisioned_costs
from .progress import phase
from .readers import ReadOptions, read_workload
from .runrate import run_rate, timeline, window_hours
from .scenario import section
from .workload import Workload


def summarize(bill: Bill, catalog: Catalog, *, tags: Sequence[str] = (),
              provisioned_units: Mapping[str, tuple[int, str | None]] | None = None) -> dict[str, Any]:
    """Totals and breakdowns of a priced workload, as plain data (the `--json` output).

    Dollars are full-precision floats (a sub-cent request must not round to 0 in JSON); only displays round.
    Requests not priced per token (provisioned throughput, models billed per image/second/speech) are kept out
    of the token dollars and counted under `not_token_priced`; with `provisioned_units` (model -> (units,
    term)) the provisioned ones are priced per model-unit hour over the window and added to `total_usd`.
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
        "catalog_checked": catalog.checked_of(bill.prices.values()).isoformat(),  # of the rows this bill used
        "catalog_age_days": catalog.age_days(rows=bill.prices.values()),
        "breakdowns": {"call_type": _rows(by_call), "model": _rows(by_model), "day": _rows(by_day)},
        "prices": [
            {"model": p.model, "scope": p.scope, "region": p.region, "tier": p.tier,
             "input_usd_per_mtok": p.input_usd_per_mtok, "output_usd_per_mtok": p.output_usd_per_mtok,
             "cache_read_usd_per_mtok": p.cache_read_usd_per_mtok,
             "cache_write_5m_usd_per_mtok": p.cache_write_5m_usd_per_mtok,
             "cache_write_1h_usd_per_mtok": p.cache_write_1h_usd_per_mtok,
             "source": p.source, "checked": p.checked.isoformat(),
             "effective_from": p.effective_from.isoformat() if p.effective_from else None,
             "effective_to": p.effective_to.isoformat() if p.effective_to else None}
            for p in dict.fromkeys(bill.prices.values())  # a row in force over several pricing periods: once
        ],
        "skipped": dict(wl.skipped) if wl else {},
        "notes": [*(wl.notes if wl else []), *bill.notes, *catalog.notes],
        "sources": list(wl.sources) if wl else [],
    }
    for tag in tags:
        out["breakdowns"][f"tag:{tag}"] = _rows(breakdown(bill, f"tag:{tag}"))
    if bill.excluded or provisioned_units:
        _not_token_priced(out, bill, catalog, provisioned_units or {})
    if (warning := catalog.staleness_warning(rows=bill.prices.values() or None)) is not None:
        out["notes"].append(warning)
    return out


def _not_token_priced(out: dict[str, Any], bill: Bill, catalog: Catalog,
                      units: Mapping[str, tuple[int, str | None]]) -> None:
    """Count (and, given model units, price) the requests kept out of token dollars; say so in the headline."""
    hours = window_hours(out["period"]["start"], out["period"]["end"])
    prov = provisioned_costs(bill.excluded, catalog, units, hours)
    other: dict[str, dict[str, Any]] = {}
    for (model, _s, _r, _t), (reason, n) in sorted(bill.excluded.items()):
        if reason != "provisioned":
            e = other.setdefault(model, {"requests": 0, "billing_unit": reason})
            e["requests"] += n
    other_n = sum(e["requests"] for e in other.values())
    headline = []
    if prov["unpriced_requests"]:
        headline.append(f"billed by the hour, not per token: {prov['unpriced_requests']:,} requests")
    for r in prov["priced"]:
        headline.append(f"provisioned throughput {r['model']}: ${r['usd']:,.2f} = {r['model_units']} model unit(s) x "
                        f"${r['usd_per_model_unit_hour']:g}/h x {r['hours']:g} h ({r['requests']:,} requests)")
    if other_n:
        headline.append(f"not token-priced: {other_n:,} requests")
    out["not_token_priced"] = {"requests": prov["requests"] + other_n, "provisioned": prov, "other": other,
                               "headline": headline}
    if prov["usd"]:
        out["token_usd"] = out["total_usd"]
        out["total_usd"] = out["total_usd"] + prov["usd"]
        out["run_rate"] = run_rate(out["total_usd"], out["period"]["start"], out["period"]["end"])
    stale = set(excluded_notes(bill.excluded))
    out["notes"] = [n for n in out["notes"] if n not in stale] + excluded_notes(
        {k: v for k, v in bill.excluded.items() if v[0] != "provisioned" or k[0] not in
         {r["model"] for r in prov["priced"]}})


def _rows(rows: list[dict]) -> list[dict]:
    keep = ("key", "requests", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_5m_tokens",
            "cache_write_1h_tokens", "input_usd", "output_usd", "cache_read_usd", "cache_write_5m_usd",
            "cache_write_1h_usd", "total_usd", "share")
    return [{k: r[k] for k in keep} for r in rows]


def analyze(paths: Sequence[str | Path], catalog: Catalog, fmt: str = "auto",
            options: ReadOptions | None = None, tags: Sequence[str] = (), levers: str | None = None,
            scenario: Path | None = None,
            provisioned_units: Mapping[str, tuple[int, str | None]] | None = None) -> dict[str, Any]:
    """Read usage, price it, and summarise: the whole `inferplan analyze` job as one call.

    With `levers` ("caching,batch" or "all"), also replay the workload under each lever and compounded
    (`inferplan.levers.evaluate`), under the summary's `levers` key.
    """
    phase(f"reading {len(paths)} input(s)")
    workload: Workload = read_workload(paths, catalog, fmt, options)
    phase("pricing every request")
    bill = price_workload(workload, catalog)
    units = dict(parse_provisioned_units(section(scenario, "provisioned_units")))
    units.update(provisioned_units or {})  # the command line wins over the scenario
    summary = summarize(bill, catalog, tags=tags, provisioned_units=units)
    if levers:
        from .levers import evaluate

        phase("replaying the levers")
        summary["levers"] = evaluate(workload, catalog, levers, scenario=scenario, baseline=bill)
    return summary
