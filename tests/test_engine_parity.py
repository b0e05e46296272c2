"""The engine's fast paths against their portable twins, and (with pyspark) the same cases on both engines."""

from __future__ import annotations

import os
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from inferplan import engine, synth
from inferplan.analysis import summarize
from inferplan.attribution import breakdown, totals
from inferplan.catalog import load_catalog
from inferplan.demand import from_workload
from inferplan.errors import InputError, SchemaError
from inferplan.pricing import price_workload
from inferplan.readers import ReadOptions, read_workload
from inferplan.readers.canonical import write
from inferplan.workload import Defaults, base_dims, hour_dim, rollup, rollup_by
from tests.conftest import shared_data_dir
from tests.helpers import make_catalog, rows_table
from tests.s3_standin import ENV as S3_ENV

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


def test_a_file_read_again_after_it_changed_is_not_answered_from_the_memo(tmp_path):
    cat = make_catalog(tmp_path)
    path = tmp_path / "w.parquet"
    seen = []
    for n in (1, 3):
        rows_table([{"model": "tcl", "input_tokens": 100, "output_tokens": 10, "call_type": "a"}] * n, cat
                   ).to_parquet(path)
        bill = price_workload(read_workload([path], cat), cat)
        seen.append((totals(bill).requests, [r["requests"] for r in breakdown(bill, "day")],
                     [r["requests"] for r in breakdown(bill, "hour")]))
    assert seen == [(1, [1], [1]), (3, [3], [3])]


def test_per_request_costs_one_join_matches_the_two_join_twin(tmp_path):
    """Bill.table's fast path (the table before resolution joined once to prices keyed by logged id) against
    its portable twin (the resolved table joined to prices by model and scope): the same rows and dollars,
    including a long-context request and a region with its own price row."""
    from inferplan import pricing

    cat = make_catalog(tmp_path)
    ids = ["tcl", "us.test.claude-like-v1:0", "tnl", "test.claude-like-v1:0"]
    n = 24
    t = pa.table({"ts": pa.array([datetime(2026, 1, 1, i % 24, tzinfo=UTC) for i in range(n)],
                                 pa.timestamp("us", tz="UTC")),
                  "request_id": [f"r{i:02d}" for i in range(n)], "model": [ids[i % 4] for i in range(n)],
                  "region": ["eu-west-1" if i % 5 == 0 else "us-east-1" for i in range(n)],
                  "input_tokens": pa.array([5000 if i == 4 else 10 * i + 1 for i in range(n)], pa.int64()),
                  "cache_read_tokens": pa.array([0] * n, pa.int64()),
                  "output_tokens": pa.array([i for i in range(n)], pa.int64())})
    path = tmp_path / "w.parquet"
    pq.write_table(t, path)
    wl = read_workload([path], cat)
    bill = price_workload(wl, cat)
    fast = pricing.per_request_costs(wl.table, bill.prices).order_by("request_id").to_pyarrow()
    assert engine.rewrites.find(("resolved", wl.table.op()))[2]["scope"] is None  # the fast path applies
    engine.rewrites.enabled = False
    try:
        twin = pricing.per_request_costs(wl.table, bill.prices).order_by("request_id").to_pyarrow()
    finally:
        engine.rewrites.enabled = True
    assert fast.column_names == twin.column_names
    assert fast.to_pylist() == twin.to_pylist()
    assert sum(fast.column("long_context").to_pylist()) == 1
    assert abs(sum(fast.column("total_usd").to_pylist()) - totals(bill).total_usd) < 1e-12


def test_rollup_by_logged_id_matches_the_plain_rollup(tmp_path):
    """`rollup_by`'s fast path (group the table before resolution by logged id, remap) against its portable twin
    (roll up the resolved table), for dimensions that can take it and one that needs resolved models."""
    cat = make_catalog(tmp_path)
    rows = [{"model": m, "input_tokens": 10 * i + 1, "output_tokens": i, "call_type": ct,
             "cache_read_tokens": i % 3, "ts": datetime(2026, 1, 1, i % 24, tzinfo=UTC) + timedelta(days=i % 3)}
            for i, (m, ct) in enumerate([("tcl", "a"), ("us.test.claude-like-v1:0", "a"), ("tnl", "b"),
                                         ("test.claude-like-v1:0", "b"), ("tcl", "c"), ("tnl", "a")] * 4)]
    rows.append({"model": "tcl", "input_tokens": 5000, "output_tokens": 1, "call_type": "a"})  # long context
    path = tmp_path / "w.parquet"
    rows_table(rows, cat).to_parquet(path)
    wl = read_workload([path], cat)
    cases = {"call type and day": base_dims, "hour": lambda t: {"hour": hour_dim(t)},
             "model (needs resolved ids)": lambda t: {"m": t.model.upper()}}
    for name, dims in cases.items():
        fast = rollup_by(wl.table, cat.lc_thresholds, dims)
        engine.rewrites.enabled = engine.memo.enabled = False
        try:
            twin = rollup(wl.table, cat.lc_thresholds, dims(wl.table))
        finally:
            engine.rewrites.enabled = engine.memo.enabled = True
        cols = [c for c in twin.column_names if c in fast.column_names]
        assert fast.select(cols).to_pylist() == twin.select(cols).to_pylist(), name
        assert fast.num_rows > 1


# ---- the same cases on DuckDB and Spark ------------------------------------------------------------------------

DEMO = Path(__file__).resolve().parents[1] / "src" / "inferplan" / "data" / "demo" / "azure2023"
HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
SYNTH = {"start": "2026-01-05T00:00:00Z", "days": 2, "call_types": {
    "rag": {"model": HAIKU, "per_hour": 40, "input_tokens": 6000, "output_tokens": {"dist": "lognormal", "mean": 300},
            "prefix": {"tokens": 4500}, "cache": "5m", "tags": {"team": "search"}},
    "agent": {"model": "global.anthropic.claude-sonnet-4-5-20250929-v1:0", "per_hour": 15, "input_tokens": 3000,
              "output_tokens": 200, "prefix": {"tokens": 2000, "variants": 3}, "cache": "1h",
              "tags": {"team": "agents"}},
    "triage": {"model": "amazon.nova-pro-v1:0", "per_hour": 30, "tier": "flex", "input_tokens": 800,
               "output_tokens": 50},
    "long": {"model": "anthropic.claude-sonnet-4-5-20250929-v1:0", "per_hour": 2, "input_tokens": 250_000,
             "output_tokens": 500},
}}


@pytest.fixture(autouse=True)
def _back_to_duckdb():
    yield
    engine.use("duckdb")


@pytest.fixture(scope="module")
def spark_engine():
    """One SparkSession for the module, tuned for tests: 2 cores, 2 shuffle partitions, no UI, UTC."""
    if not os.environ.get("CI"):  # CI installs Java and pyspark (make test): there a missing one fails
        pytest.importorskip("pyspark")
        if shutil.which("java") is None:
            pytest.skip("no java: `make test` installs openjdk-17-jre-headless")
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # Python workers (the S3 data source) in this venv
    session = (SparkSession.builder.master("local[2]").appName("inferplan-parity")
               .config("spark.sql.shuffle.partitions", "2").config("spark.ui.enabled", "false")
               .config("spark.default.parallelism", "2").config("spark.driver.memory", "1g")
               .config("spark.sql.session.timeZone", "UTC").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true"))
    for k, v in S3_ENV.items():  # the Python workers' credentials for the loopback S3 (their own boto3 chain)
        session = session.config(f"spark.executorEnv.{k}", v)
    session = session.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    engine.spark(session)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(warn_stale=False)


@pytest.fixture(scope="module")
def parquets(tmp_path_factory, catalog):
    """The cases as canonical Parquet, converted on DuckDB (the way onto Spark): the bundled demo traces, the
    shared Mooncake (prefix segments) and BurstGPT (model mix) traces, and a generated workload."""
    d = tmp_path_factory.mktemp("parity")
    out = {}
    haiku = ReadOptions(defaults=Defaults(model=HAIKU))
    cases = {"demo": ([DEMO / f"AzureLLMInferenceTrace_{s}.csv" for s in ("code", "conv")], "azure2023", haiku),
             "mooncake": ([shared_data_dir() / "traces" / "mooncake" / "conversation_trace.jsonl"], "mooncake",
                          haiku)}
    for name, (paths, fmt, opts) in cases.items():
        if all(p.exists() for p in paths):
            write(read_workload(paths, catalog, fmt, opts).table, d / f"{name}.parquet")
            out[name] = d / f"{name}.parquet"
    traffic = synth.generate(SYNTH, seed=5)
    pq.write_table(traffic.rename_columns(["model" if c == "model_id" else c for c in traffic.column_names]),
                   d / "synth.parquet")
    out["synth"] = d / "synth.parquet"
    return out


def _cents(x):
    """Dollars to the cent, recursively (the parity the suite asks for); counts stay exact."""
    if isinstance(x, float):
        return round(x, 2)
    if isinstance(x, dict):
        return {k: _cents(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_cents(v) for v in x]
    return x


def _on(name: str, path: Path, catalog, **kw) -> dict:
    with engine.using(name):
        wl = read_workload([path], catalog)
        bill = price_workload(wl, catalog)
        summary = summarize(bill, catalog, tags=kw.get("tags", ()))
        summary["breakdowns"]["hour"] = breakdown(bill, "hour")
        summary["per_request_total"] = float(bill.table.total_usd.sum().to_pyarrow().as_py() or 0.0)
        series = from_workload(wl, 60, bill=bill, prefix_cache="cache-reads", latency_window_s=10)
        summary["demand"] = {"groups": [str(g) for g in series.groups], "start": series.start,
                             **{k: getattr(series, k).round(6).tolist() for k in
                                ("requests", "fine_requests", "input_tokens", "output_tokens", "bedrock_usd")}}
    summary.pop("sources")
    return summary


@pytest.mark.parametrize("case", ["demo", "mooncake", "synth"])
def test_same_summary_on_both_engines(spark_engine, parquets, catalog, case):
    if case not in parquets:
        pytest.skip(f"{case}: data not here")
    tags = ("team",) if case == "synth" else ()
    duck, spark = _on("duckdb", parquets[case], catalog, tags=tags), _on("spark", parquets[case], catalog, tags=tags)
    assert duck["requests"] > 0 and duck["total_usd"] > 0
    assert _cents(spark) == _cents(duck)
    assert abs(spark["total_usd"] - duck["total_usd"]) < 1e-6
    assert abs(duck["per_request_total"] - duck["total_usd"]) < 0.005


def test_spark_reads_only_canonical_parquet(spark_engine, catalog):
    with engine.using("spark"), pytest.raises(InputError, match="inferplan convert"):
        read_workload([DEMO / "AzureLLMInferenceTrace_code.csv"], catalog, "azure2023",
                      ReadOptions(defaults=Defaults(model=HAIKU)))


def test_bad_rows_skipped_and_counted_alike(spark_engine, tmp_path, catalog):
    t = pa.table({"ts": pa.array([datetime(2026, 1, 5, i, tzinfo=UTC) for i in range(4)], pa.timestamp("us", tz="UTC")),
                  "model": [HAIKU] * 4, "input_tokens": pa.array([10, -1, 30, None], pa.int64()),
                  "output_tokens": pa.array([1, 2, -3, 4], pa.int64())})
    path = tmp_path / "bad.parquet"
    pq.write_table(t, path)
    got = {}
    for name in ("duckdb", "spark"):
        with engine.using(name):
            with pytest.raises(SchemaError, match="input_tokens is null|input_tokens is negative"):
                read_workload([path], catalog)
            wl = read_workload([path], catalog, options=ReadOptions(on_error="skip"))
            got[name] = (wl.skipped, totals(price_workload(wl, catalog)))
    assert got["spark"] == got["duckdb"]
    assert got["duckdb"][0] == {"input_tokens is null": 1, "input_tokens is negative": 1,
                                "output_tokens is negative": 1}
    assert got["duckdb"][1].requests == 1



def _differing_parquets(root: Path) -> list[Path]:
    """Three canonical Parquet files written at different times: required columns only; with cache reads and a
    call type; with the 5-minute writes under their old name (int32 input counts too)."""
    ts, i64 = pa.timestamp("us", tz="UTC"), pa.int64()
    files = {
        "a.parquet": pa.table({"ts": pa.array([datetime(2026, 1, 5, 1, tzinfo=UTC)], ts), "model": [HAIKU],
                               "input_tokens": pa.array([1000], i64), "output_tokens": pa.array([100], i64)}),
        "b.parquet": pa.table({"ts": pa.array([datetime(2026, 1, 5, 2, tzinfo=UTC)], ts), "model": [HAIKU],
                               "input_tokens": pa.array([1000], i64), "output_tokens": pa.array([100], i64),
                               "cache_read_tokens": pa.array([5000], pa.int64()), "call_type": ["rag"]}),
        "c.parquet": pa.table({"ts": pa.array([datetime(2026, 1, 5, 3, tzinfo=UTC)], ts), "model": [HAIKU],
                               "input_tokens": pa.array([1000], pa.int32()), "output_tokens": pa.array([100], i64),
                               "cache_write_tokens": pa.array([3000], pa.int64())}),
    }
    for name, t in files.items():
        pq.write_table(t, root / name)
    return [root / n for n in files]


def test_files_with_different_columns_alike_on_both_engines(spark_engine, tmp_path, catalog):
    """No column is lost because the first file lacks it: reads, writes under the old name, call types."""
    paths = _differing_parquets(tmp_path)
    got = {}
    for name in ("duckdb", "spark"):
        with engine.using(name):
            wl = read_workload(paths, catalog)
            rows = sorted(wl.table.select("ts", "cache_read_tokens", "cache_write_5m_tokens", "call_type")
                          .to_pyarrow().to_pylist(), key=lambda r: r["ts"])
            got[name] = ([(r["cache_read_tokens"], r["cache_write_5m_tokens"], r["call_type"]) for r in rows],
                         round(totals(price_workload(wl, catalog)).total_usd, 9),
                         any("'cache_write_tokens', read as" in n for n in wl.notes))
    assert got["duckdb"][0] == [(0, 0, "untagged"), (5000, 0, "rag"), (0, 3000, "untagged")]
    assert got["duckdb"][2]
    assert got["spark"] == got["duckdb"]

def test_cli_convert_then_analyze_on_spark(spark_engine, tmp_path, catalog):
    """`inferplan convert` (the console script, --json) writes canonical Parquet; `--engine spark analyze` on
    it gives the DuckDB answer."""
    import json
    import subprocess
    import sys

    from typer.testing import CliRunner

    from inferplan.cli import app, main  # noqa: F401 - main registers the command modules
    from inferplan.commands import load_all

    load_all()
    exe = Path(sys.executable).parent / "inferplan"
    out = tmp_path / "demo.parquet"
    res = subprocess.run([str(exe), "convert", *map(str, sorted(DEMO.glob("*.csv"))), "--format", "azure2023",
                          "--model", HAIKU, "--out", str(out), "--json"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["requests"] == 28_185 and out.exists()
    runs = {}
    for name in ("duckdb", "spark"):
        r = CliRunner().invoke(app, ["--engine", name, "analyze", str(out), "--json"])
        assert r.exit_code == 0, r.output
        runs[name] = json.loads(r.stdout.strip().splitlines()[-1])
    assert engine.name() == "spark"  # the option chose it for the process; the next command chooses again
    r = CliRunner().invoke(app, ["--engine", "pandas", "analyze", str(out)])
    assert r.exit_code != 0 and "--engine must be one of duckdb, spark" in r.output
    assert _cents(runs["spark"]) == _cents(runs["duckdb"]) and runs["duckdb"]["requests"] == 28_185


def test_every_request_and_the_levers_alike(spark_engine, parquets, catalog):
    """The whole workload fetched from Spark (its Arrow export: `tags` stays a map, `prefix` a list) equals
    DuckDB's, and the levers, which replay it in memory, give the same answer to the cent."""
    from inferplan.levers import evaluate

    got = {}
    for name in ("duckdb", "spark"):
        with engine.using(name):
            wl = read_workload([parquets["synth"]], catalog)
            rows = wl.to_pyarrow().sort_by("request_id")
            got[name] = (rows, evaluate(wl, catalog, "all", baseline=price_workload(wl, catalog)))
    assert got["spark"][0].schema == got["duckdb"][0].schema
    assert got["spark"][0].equals(got["duckdb"][0])
    assert got["duckdb"][1]["levers"] and _cents(got["spark"][1]) == _cents(got["duckdb"][1])


def test_spark_master_from_spark_config_else_local_two(spark_engine, tmp_path):
    """Without --spark-master, Spark's own configuration (spark-defaults.conf) decides; with none, local[2]."""
    import subprocess
    import sys

    code = "from inferplan import engine; print(engine.spark_session().sparkContext.master)"
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "spark-defaults.conf").write_text("spark.master local[1]\n")
    env = {k: v for k, v in os.environ.items() if k not in ("INFERPLAN_SPARK_MASTER", "SPARK_CONF_DIR", "MASTER")}
    got = []
    for extra in ({}, {"SPARK_CONF_DIR": str(conf)}):
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                             env={**env, **extra})
        assert res.returncode == 0, res.stderr[-2000:]
        got.append(res.stdout.strip().splitlines()[-1])
    assert got == ["local[2]", "local[1]"]


def test_dated_prices_alike(spark_engine, parquets, catalog, tmp_path):
    """Prices in force on a date (a Haiku `us.` price change at 2026-01-06 00:00 UTC, inside the generated two
    days) bill the same on both engines: the period CASE compiles alike; day one keeps the old price."""
    import yaml

    row = catalog.price("anthropic.claude-haiku-4-5-20251001-v1:0", "us", "us-east-1", "standard")
    over = tmp_path / "dated.yaml"
    over.write_text(yaml.safe_dump({"bedrock_prices": [
        {"model": row.model, "scope": "us", "region": row.region, "tier": "standard", "effective_from": "2026-01-06",
         "input_usd_per_mtok": row.input_usd_per_mtok * 1.2, "source": "test: +20% input", "checked": "2026-01-06"}]}))
    dated = load_catalog(over, warn_stale=False)
    duck, spark = _on("duckdb", parquets["synth"], dated), _on("spark", parquets["synth"], dated)
    assert _cents(spark) == _cents(duck)
    assert abs(duck["per_request_total"] - duck["total_usd"]) < 0.005
    flat = _on("duckdb", parquets["synth"], catalog)
    days = {r["key"]: r["total_usd"] for r in duck["breakdowns"]["day"]}
    flat_days = {r["key"]: r["total_usd"] for r in flat["breakdowns"]["day"]}
    assert days["2026-01-05"] == pytest.approx(flat_days["2026-01-05"], abs=1e-9)  # before the change
    assert days["2026-01-06"] > flat_days["2026-01-06"] + 0.01  # after it


def test_s3_parquet_prefix_on_spark_without_s3a(spark_engine, parquets, catalog, s3):
    """pyspark from PyPI has no S3A connector (hadoop-aws): Spark reads an `s3://` prefix of canonical Parquet
    through inferplan's Python data source (each object read on an executor by ranged GETs, nothing copied), with
    the same summary to the cent as DuckDB reading the prefix and as the local file."""
    pytest.importorskip("pyspark.sql.datasource")
    t = pq.read_table(parquets["synth"])
    s3.create_bucket(Bucket="canonical")
    half = t.num_rows // 2
    for i, part in enumerate((t.slice(0, half), t.slice(half).drop_columns(["tags"]))):  # 2nd object: no tags
        sink = pa.BufferOutputStream()
        pq.write_table(part, sink)
        s3.put_object(Bucket="canonical", Key=f"usage/2026/01/part-{i}.parquet", Body=sink.getvalue().to_pybytes())
    url = "s3://canonical/usage/"

    def bill(name: str, path) -> tuple[list[str], dict]:  # noqa: ANN001 - a URL or a path
        with engine.using(name):
            wl = read_workload([path], catalog)
            b = price_workload(wl, catalog)
            return wl.notes, {"totals": totals(b), "call_type": breakdown(b, "call_type")}

    (_, duck), (notes, spark) = bill("duckdb", url), bill("spark", url)
    assert any("inferplan's S3 data source" in n for n in notes)
    assert duck["totals"].requests == t.num_rows
    assert _cents(spark["call_type"]) == _cents(duck["call_type"])
    assert abs(spark["totals"].total_usd - duck["totals"].total_usd) < 1e-6
    here = bill("duckdb", parquets["synth"])[1]["totals"]
    assert (duck["totals"].requests, round(duck["totals"].total_usd, 9)) == (here.requests, round(here.total_usd, 9))
