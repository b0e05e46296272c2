"""Benchmark: the cost of prices in force on a date (issue 12).

Generates N canonical rows over 30 days (bench/pricing.py's generator), then in this process prices them with the
packaged catalog (no dated row: one pricing period) and with a catalog where each of the four models changes
price on three days inside the month (four periods), and times both ways of pricing: the bill (read, validate,
roll up, price, totals; then the per-request cost column summed in the engine) and the in-memory rate card the
levers use (`pricing.request_costs` on an Arrow table of the first 1M rows). Prints one JSON line: seconds of
each, the ratios dated / undated, and that the roll-up and per-request totals agree.
Usage: nice -n 10 python bench/prices_dated.py [--rows N] [--repeat K]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pricing import generate  # noqa: E402

from inferplan.attribution import totals  # noqa: E402
from inferplan.catalog import load_catalog  # noqa: E402
from inferplan.pricing import price_workload, request_costs  # noqa: E402
from inferplan.readers import read_workload  # noqa: E402

CHANGES = ("2026-10-08", "2026-10-15", "2026-10-22")
KEYS = [("anthropic.claude-sonnet-4-5-20250929-v1:0", "us"), ("anthropic.claude-haiku-4-5-20251001-v1:0", "global"),
        ("amazon.nova-pro-v1:0", "in-region"), ("meta.llama3-3-70b-instruct-v1:0", "in-region")]


def dated_file(path: Path) -> Path:
    """Each model's standard row +5% input on each change day (from the packaged row in force before)."""
    cat = load_catalog(warn_stale=False)
    rows = []
    for model, scope in KEYS:
        p = cat.price(model, scope, "us-east-1", "standard")
        for i, day in enumerate(CHANGES, start=1):  # one file: each row's window explicit (no overlap)
            end = {"effective_to": CHANGES[i]} if i < len(CHANGES) else {}
            rows.append({"model": model, "scope": scope, "region": p.region, "tier": "standard",
                         "effective_from": day, **end,
                         "input_usd_per_mtok": round(p.input_usd_per_mtok * 1.05 ** i, 10),
                         "source": "bench: +5% input", "checked": day})
    path.write_text(yaml.safe_dump({"bedrock_prices": rows}))
    return path


def bill(path: Path, cat) -> tuple[float, float, float, float]:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    b = price_workload(read_workload([path], cat), cat)
    tot = totals(b).total_usd
    t1 = time.perf_counter()
    per_request = float(b.table.total_usd.sum().execute())
    return t1 - t0, time.perf_counter() - t1, tot, per_request


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=3_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "workload.parquet"
        generate(path, args.rows)
        cats = {"undated": load_catalog(warn_stale=False),
                "dated": load_catalog(dated_file(Path(d) / "dated.yaml"), warn_stale=False)}
        assert len(cats["dated"].price_periods) == len(CHANGES)
        mem = read_workload([path], cats["undated"]).to_pyarrow().slice(0, 1_000_000)  # the same rows for both
        out: dict[str, dict[str, float]] = {}
        for name, cat in cats.items():
            runs = [bill(path, cat) for _ in range(args.repeat)]
            rc = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                usd = float(request_costs(mem, cat).total.sum())
                rc.append(time.perf_counter() - t0)
            out[name] = {"bill_s": min(r[0] for r in runs), "per_request_s": min(r[1] for r in runs),
                         "total_usd": runs[0][2], "per_request_total_usd": runs[0][3],
                         "rate_card_1m_s": min(rc), "rate_card_1m_usd": usd}
            assert abs(runs[0][2] - runs[0][3]) < 0.005, f"{name}: roll-up and per-request totals disagree"
    u, dd = out["undated"], out["dated"]
    result = {"rows": args.rows, "periods_dated": len(CHANGES) + 1,
              **{f"{k}_{n}": round(v, 3) for n, r in out.items() for k, v in r.items()},
              "bill_ratio": round(dd["bill_s"] / u["bill_s"], 3),
              "per_request_ratio": round(dd["per_request_s"] / u["per_request_s"], 3),
              "rate_card_ratio": round(dd["rate_card_1m_s"] / u["rate_card_1m_s"], 3)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
