"""The engine's fast paths against their portable twins, and (with pyspark) the same cases on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import ibis
import pyarrow as pa

from inferplan import engine
from inferplan.pricing import price_workload
from inferplan.readers import read_workload
from inferplan.workload import rollup
from tests.helpers import make_catalog, rows_table

# around the epoch, day and hour boundaries, the last microsecond of a day, a leap day, far future
EDGE_TIMES = [datetime(1970, 1, 1, tzinfo=UTC), datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
              datetime(2026, 1, 5, 23, 59, 59, 999_999, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC),
              datetime(2028, 2, 29, 12, 30, 0, 1, tzinfo=UTC), datetime(2099, 12, 31, 23, 0, tzinfo=UTC)]


def _epoch_table() -> ibis.Table:
    return ibis.memtable(pa.table({"ts": pa.array(EDGE_TIMES, pa.timestamp("us", tz="UTC"))}))


def test_epoch_us_fast_path_matches_portable_twin_and_python():
    t = _epoch_table()
    con = engine.connection()
    got = con.to_pyarrow(t.select(fast=engine.epoch_us(t.ts, "duckdb"), twin=engine.epoch_us_portable(t.ts),
                                  day=(engine.epoch_us(t.ts, "duckdb") // 86_400_000_000)))
    want = [(d - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) for d in EDGE_TIMES]
    assert got.column("fast").to_pylist() == want
    assert got.column("twin").to_pylist() == want
    assert got.column("day").to_pylist() == [w // 86_400_000_000 for w in want]  # floor, also before 1970


def test_epoch_us_ignores_the_session_time_zone():
    con = engine.connection()
    t = _epoch_table()
    before = con.to_pyarrow(t.select(a=engine.epoch_us(t.ts, "duckdb"), b=engine.epoch_us_portable(t.ts)))
    zone = con.raw_sql("SELECT current_setting('TimeZone')").fetchone()[0]
    con.raw_sql("SET TimeZone = 'America/New_York'")
    try:
        after = con.to_pyarrow(t.select(a=engine.epoch_us(t.ts, "duckdb"), b=engine.epoch_us_portable(t.ts)))
    finally:
        con.raw_sql(f"SET TimeZone = '{zone}'")
    assert before.equals(after)


def test_validation_rollup_kept_by_the_memo_equals_a_fresh_one(tmp_path):
    """The roll-up made on the table before model resolution, remapped and remembered, is what rolling up the
    resolved table computes (the memo's fast path against the plain scan)."""
    cat = make_catalog(tmp_path)
    t = rows_table([{"model": "tcl", "input_tokens": 2000, "output_tokens": 5, "call_type": "a"},
                    {"model": "us.test.claude-like-v1:0", "input_tokens": 10, "output_tokens": 1},
                    {"model": "tnl", "input_tokens": 3, "output_tokens": 2, "cache_read_tokens": 7}], cat)
    path = tmp_path / "w.parquet"
    t.to_parquet(path)
    wl = read_workload([path], cat)
    kept = rollup(wl.table, cat.lc_thresholds)
    engine.memo.enabled = False
    try:
        fresh = rollup(wl.table, cat.lc_thresholds)
        unmemoised = price_workload(wl, cat).base
    finally:
        engine.memo.enabled = True
    key = ["model", "scope", "region", "tier", "_lc_bucket"]
    cols = ["requests", "input_tokens", "cache_read_tokens", "output_tokens", "_min_count", "_null_count"]
    assert kept.select(key + cols).sort_by([(k, "ascending") for k in key]).to_pylist() == \
        fresh.select(key + cols).sort_by([(k, "ascending") for k in key]).to_pylist()
    assert abs(sum(unmemoised.column("total_usd").to_pylist())
               - sum(price_workload(wl, cat).base.column("total_usd").to_pylist())) < 1e-12
