"""Benchmark: the Bedrock invocation-log reader on generated gzipped logs, against DuckDB's own read_json.

Generates `--size` MB of gzipped invocation logs (synthetic traffic written by `inferplan.writers`, with
input bodies whose text compresses like prose, so that `prefix` is derived; the first `--base` MB are
written, the rest are copies of those files), then, each in a fresh child process (peak RSS from ru_maxrss):
  1. inferplan: `read_workload` (Bedrock reader: read_json -> extraction -> Parquet; finalize) and a pass that
     sums tokens over every row;
  2. DuckDB alone: `read_json` over the same files, every column, written to Parquet (same sink).
Prints records/s, peak RSS of each and the time ratio; JSON on the last line.
Usage: python bench/readers.py [--size MB] [--dir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

SPEC = {"start": "2026-01-05T00:00:00Z", "days": 7, "call_types": {
    "rag-answer": {"model": "us.anthropic.claude-haiku-4-5-20251001-v1:0", "per_hour": 600,
                   "daily_profile": "business", "input_tokens": {"dist": "lognormal", "mean": 1200, "cv": 0.5},
                   "output_tokens": {"dist": "lognormal", "mean": 200, "cv": 0.8},
                   "prefix": [{"tokens": 300}, {"tokens": 200, "reuse": 0.5, "variants": 20}], "cache": "5m",
                   "tags": {"team": "search"}},
    "triage": {"model": "amazon.nova-pro-v1:0", "per_hour": 300, "input_tokens": 400, "output_tokens": 30},
}}


def generate(out: Path, size_mb: float, base_mb: float) -> tuple[int, int, int]:
    """Synthetic traffic written as logs with bodies until `base_mb`, then those files copied (new names) until
    `size_mb`: the reader sees `size_mb` of distinct files without hours spent writing them."""
    from inferplan import synth, writers

    out.mkdir(parents=True, exist_ok=True)
    total, rows, chunk, seed = 0, 0, 20_000, 0
    base: list[Path] = []
    while total < min(size_mb, base_mb) * 1e6:
        t = synth.generate(SPEC, seed=seed, rows=chunk, days=7)
        files = writers.write_bedrock_logs(t, out / f"part{seed}", bodies=True)
        base += files
        total += sum(f.stat().st_size for f in files)
        rows += t.num_rows
        seed += 1
    base_rows, copies = rows, 0
    while total < size_mb * 1e6:
        copies += 1
        for f in base:
            dest = out / f"copy{copies}" / f.relative_to(out)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dest)
            total += f.stat().st_size
        rows += base_rows
    return rows, total, copies


def _inferplan(path: str, q: mp.Queue) -> None:
    from inferplan.catalog import load_catalog
    from inferplan.readers import read_workload

    cat = load_catalog(warn_stale=False)
    t0 = time.perf_counter()
    w = read_workload([path], cat, "bedrock-logs")
    t = w.table
    agg = t.aggregate(n=t.count(), i=t.input_tokens.sum(), o=t.output_tokens.sum(),
                      p=t.prefix.length().sum()).to_pyarrow().to_pylist()[0]
    q.put({"seconds": time.perf_counter() - t0, "rows": agg["n"], "segments": agg["p"],
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def _duckdb(path: str, q: mp.Queue) -> None:
    import duckdb

    con = duckdb.connect()
    out = tempfile.mktemp(suffix=".parquet")
    t0 = time.perf_counter()
    con.execute(f"COPY (SELECT * FROM read_json('{path}/**/*.json.gz', format='newline_delimited', "
                "maximum_object_size=268435456)) TO '" + out + "' (FORMAT PARQUET)")
    n = con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()[0]
    q.put({"seconds": time.perf_counter() - t0, "rows": n,
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})
    Path(out).unlink(missing_ok=True)


def run_child(fn, path: str) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=fn, args=(path, q))
    p.start()
    res = q.get()
    p.join()
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=float, default=2000, help="MB of gzipped logs to generate (default 2000)")
    ap.add_argument("--base", type=float, default=100, help="MB actually generated; the rest are copies")
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    d = args.dir or Path(tempfile.mkdtemp(prefix="inferplan-bench-"))
    t0 = time.perf_counter()
    rows, size, copies = generate(d, args.size, args.base)
    gen_s = time.perf_counter() - t0
    print(f"generated {rows:,} records, {size / 1e6:,.0f} MB gzipped ({copies} copies of the first "
          f"{args.base:,.0f} MB), in {gen_s:,.0f} s", file=sys.stderr)
    ours = run_child(_inferplan, str(d))
    base = run_child(_duckdb, str(d))
    result = {
        "records": rows, "gz_mb": round(size / 1e6, 1), "copies": copies,
        "inferplan_s": round(ours["seconds"], 2), "inferplan_records_per_s": round(rows / ours["seconds"]),
        "inferplan_peak_rss_mb": round(ours["peak_rss_mb"]), "inferplan_rows": ours["rows"],
        "prefix_segments": ours["segments"],
        "duckdb_read_json_s": round(base["seconds"], 2), "duckdb_records_per_s": round(rows / base["seconds"]),
        "duckdb_peak_rss_mb": round(base["peak_rss_mb"]),
        "ratio_to_duckdb": round(ours["seconds"] / base["seconds"], 2),
    }
    print(f"inferplan: {result['inferplan_records_per_s']:,} records/s, peak RSS {result['inferplan_peak_rss_mb']:,}"
          f" MB; DuckDB read_json: {result['duckdb_records_per_s']:,} records/s, peak RSS "
          f"{result['duckdb_peak_rss_mb']:,} MB; ratio {result['ratio_to_duckdb']}", file=sys.stderr)
    if not args.keep and args.dir is None:
        shutil.rmtree(d, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
