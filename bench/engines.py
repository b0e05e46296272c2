"""Benchmark: the same `analyze` summary on DuckDB and on Spark (local mode) from the same canonical Parquet.

Cases: the bundled Azure demo traces (converted to canonical Parquet by DuckDB) and N generated rows
(`bench/reprice_100m.py`'s generator, 10^6 by default). Each engine reads, validates, prices and summarises
(`inferplan.analysis.summarize`: totals, breakdowns, timeline, run-rate); the summaries must agree to the
cent. Spark's first run (JVM start, query compilation) is reported apart from a warm run.

    nice -n 10 .venv/bin/python bench/engines.py [--rows 1000000] [--master local[2]]

Prints JSON on its last line: per case, rows, duckdb_s, spark_first_s, spark_s and spark/duckdb.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "src" / "inferplan" / "data" / "demo" / "azure2023"
HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1:0"


def _cents(x):  # noqa: ANN001, ANN202 - any JSON-able value
    if isinstance(x, float):
        return round(x, 2)
    if isinstance(x, dict):
        return {k: _cents(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_cents(v) for v in x]
    return x


def analyze(path: Path, cat) -> tuple[float, dict]:  # noqa: ANN001 - the catalog
    from inferplan.analysis import summarize
    from inferplan.pricing import price_workload
    from inferplan.readers import read_workload

    t0 = time.perf_counter()
    summary = summarize(price_workload(read_workload([path], cat), cat), cat)
    return time.perf_counter() - t0, summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--master", default="local[2]")
    args = ap.parse_args()
    from inferplan import engine
    from inferplan.catalog import load_catalog
    from inferplan.readers import ReadOptions, read_workload
    from inferplan.readers.canonical import write
    from inferplan.workload import Defaults

    cat = load_catalog(warn_stale=False)
    results = {}
    with tempfile.TemporaryDirectory() as d:
        demo = Path(d) / "demo.parquet"
        write(read_workload(sorted(DEMO.glob("*.csv")), cat, "azure2023", ReadOptions(defaults=Defaults(model=HAIKU)))
              .table, demo)
        gen = Path(d) / f"generated_{args.rows}.parquet"
        subprocess.run([sys.executable, str(ROOT / "bench" / "reprice_100m.py"), "--rows", str(args.rows),
                        "--generate", str(gen)], check=True)
        from pyspark.sql import SparkSession

        session = (SparkSession.builder.master(args.master).config("spark.ui.enabled", "false")
                   .config("spark.sql.shuffle.partitions", "2").config("spark.sql.session.timeZone", "UTC")
                   .getOrCreate())
        session.sparkContext.setLogLevel("ERROR")
        engine.spark(session)
        for name, path in (("demo", demo), ("generated", gen)):
            duck_s, duck = min((analyze(path, cat) for _ in range(2)), key=lambda r: r[0])
            with engine.using("spark"):
                first_s, _ = analyze(path, cat)
                spark_s, spark = analyze(path, cat)
            duck.pop("sources"), spark.pop("sources")
            assert _cents(duck) == _cents(spark), f"{name}: the engines disagree"
            results[name] = {"rows": duck["requests"], "duckdb_s": round(duck_s, 2), "spark_first_s": round(first_s, 2),
                             "spark_s": round(spark_s, 2), "spark_over_duckdb": round(spark_s / duck_s, 1)}
        session.stop()
    print(json.dumps({"master": args.master, "cases": results}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
