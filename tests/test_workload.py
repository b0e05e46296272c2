"""Canonical workload: readers of the canonical formats, the validator, attribution by tag and time."""

from __future__ import annotations

import pytest

from inferplan.attribution import breakdown, totals
from inferplan.errors import ConfigError, SchemaError
from inferplan.pricing import price_workload
from inferplan.readers import ReadOptions, read_workload
from inferplan.readers.canonical import write
from inferplan.workload import SCHEMA, Defaults, validate
from tests.helpers import T0, make_catalog, rows_table

M = "test.claude-like-v1:0"


@pytest.fixture(scope="module")
def cat(tmp_path_factory):
    return make_catalog(tmp_path_factory.mktemp("cat"))


def sample(cat):
    import ibis

    t = rows_table([
        {"model": M, "input_tokens": 100, "output_tokens": 10, "cache_read_tokens": 50, "call_type": "rag"},
        {"model": f"us.{M}", "input_tokens": 200, "output_tokens": 20, "call_type": "rag"},
        {"model": "tnl", "input_tokens": 300, "output_tokens": 30, "cache_write_5m_tokens": 40, "call_type": "triage"},
    ], cat)
    tags = ibis.cases((t.call_type == "rag", ibis.map({"team": "search"})), else_=ibis.map({"team": "support"}))
    prefix = ibis.literal([{"hash": "abc", "tokens": 50}], type="array<struct<hash: string, tokens: int64>>")
    return t.mutate(tags=tags, prefix=prefix)


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_canonical_round_trip(tmp_path, cat, suffix):
    t = sample(cat)
    path = tmp_path / f"w{suffix}"
    write(t, path)
    wl = read_workload([path], cat)
    back = wl.table.order_by("ts").to_pyarrow()
    assert back.schema.names == SCHEMA.names
    orig = t.order_by("ts").to_pyarrow()
    for col in ("model", "scope", "call_type", "input_tokens", "cache_read_tokens", "cache_write_5m_tokens",
                "output_tokens"):
        assert back.column(col).to_pylist() == orig.column(col).to_pylist(), col
    assert [dict(x) for x in back.column("tags").to_pylist()] == [dict(x) for x in orig.column("tags").to_pylist()]
    assert back.column("prefix").to_pylist()[0] == [{"hash": "abc", "tokens": 50}]
    b1, b2 = totals(price_workload(t, cat)), totals(price_workload(wl, cat))
    assert b1.total_usd == pytest.approx(b2.total_usd, abs=1e-12)


def test_breakdowns_by_tag_hour_day(cat):
    bill = price_workload(sample(cat), cat)
    by_team = {r["key"]: r for r in breakdown(bill, "tag:team")}
    assert set(by_team) == {"search", "support"}
    assert by_team["support"]["requests"] == 1 and by_team["search"]["requests"] == 2
    by_call = {r["key"]: r for r in breakdown(bill, "call_type")}
    assert by_call["rag"]["cache_read_tokens"] == 50
    assert sum(r["share"] for r in by_call.values()) == pytest.approx(1.0)
    hours = breakdown(bill, "hour")
    assert len(hours) == 1 and hours[0]["key"].startswith(T0.isoformat()[:13])
    tot = totals(bill)
    assert tot.total_usd == pytest.approx(sum(r["total_usd"] for r in by_call.values()))
    # the us. row is priced at the us. rate (2.2 in, 11 out), the in-region row at 2 / 10 / 0.2
    expected_rag = (100 * 2 + 10 * 10 + 50 * 0.2 + 200 * 2.2 + 20 * 11) / 1e6
    assert by_call["rag"]["total_usd"] == pytest.approx(expected_rag)
    with pytest.raises(ConfigError):
        breakdown(bill, "colour")


def test_validator_names_first_bad_row_and_skip_counts(cat):
    t = rows_table([{"model": M, "input_tokens": 1}, {"model": M, "input_tokens": -1},
                    {"model": M, "input_tokens": 2, "output_tokens": -5}], cat)
    with pytest.raises(SchemaError, match="row 2: input_tokens is negative"):
        validate(t)
    kept, bad = validate(t, on_error="skip")
    assert kept.count().execute() == 1
    assert bad == {"input_tokens is negative": 1, "output_tokens is negative": 1}
    t2 = rows_table([{"model": M, "input_tokens": 1}], cat, Defaults(tier="gold"))
    with pytest.raises(SchemaError, match="tier is not one of"):
        validate(t2)


def test_read_options_defaults_fill_model_region(tmp_path, cat):
    p = tmp_path / "t.csv"
    p.write_text("ts,input_tokens,output_tokens\n2026-01-01T00:00:00Z,1000,1000\n")
    wl = read_workload([p], cat, options=ReadOptions(defaults=Defaults(model="tcl", region="eu-west-1")))
    assert totals(price_workload(wl, cat)).total_usd == pytest.approx((1000 * 3 + 1000 * 12) / 1e6)


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_old_column_name_cache_write_tokens_is_read_as_the_5m_bucket(tmp_path, cat, suffix):
    """Files written before each token bucket got one name (`cache_write_tokens`, the 5-minute writes) read
    to the same bill as the new name, with a note; never refused and never dropped."""
    t = sample(cat)
    new, old = tmp_path / f"new{suffix}", tmp_path / f"old{suffix}"
    write(t, new)
    write(t.rename(cache_write_tokens="cache_write_5m_tokens"), old)
    a, b = read_workload([new], cat), read_workload([old], cat)
    import duckdb

    written = duckdb.sql(f"DESCRIBE SELECT * FROM '{old}'").fetchall()
    assert "cache_write_tokens" in [r[0] for r in written]  # the file really carries the old name
    got = b.table.order_by("ts").to_pyarrow().column("cache_write_5m_tokens").to_pylist()
    assert sorted(got) == [0, 0, 40]
    assert totals(price_workload(a, cat)).total_usd == totals(price_workload(b, cat)).total_usd
    assert any("'cache_write_tokens', read as 'cache_write_5m_tokens'" in n for n in b.notes)
    assert not any("cache_write_tokens" in n for n in a.notes)


def test_a_bucket_under_its_old_and_new_name_is_an_error(tmp_path, cat):
    p = tmp_path / "both.csv"
    p.write_text("ts,input_tokens,output_tokens,cache_write_tokens,cache_write_5m_tokens\n"
                 "2026-01-01T00:00:00Z,1000,1000,5,5\n")
    with pytest.raises(Exception, match="both 'cache_write_tokens' and 'cache_write_5m_tokens'.*keep only"):
        read_workload([p], cat, options=ReadOptions(defaults=Defaults(model="tcl", region="us-east-1")))


def test_canonical_files_with_different_optional_columns_read_together(tmp_path, cat):
    """A CSV export with the required columns only and a Parquet file with more, in one folder: one workload,
    the missing values filled by the defaults and counted (this used to fail to union)."""
    import duckdb

    (tmp_path / "a.csv").write_text("ts,input_tokens,output_tokens\n2026-01-01T00:00:00Z,100,100\n")
    duckdb.sql("COPY (SELECT TIMESTAMPTZ '2026-01-01 00:01:00+00' AS ts, 200::INT AS input_tokens, "
               "100::BIGINT AS output_tokens, 400::BIGINT AS cache_read_tokens, 'rag' AS call_type) "
               f"TO '{tmp_path / 'b.parquet'}' (FORMAT PARQUET)")
    wl = read_workload([tmp_path], cat, options=ReadOptions(defaults=Defaults(model="tcl")))
    rows = sorted(wl.table.to_pyarrow().to_pylist(), key=lambda r: r["ts"])
    assert [(r["input_tokens"], r["cache_read_tokens"], r["call_type"]) for r in rows] == [
        (100, 0, "untagged"), (200, 400, "rag")]
    assert any("untagged assumed for 1 of 2 requests" in n for n in wl.notes)
    # tcl in-region standard (tests/helpers.py): $2 input, $10 output, $0.2 reads; both under the lc threshold
    assert totals(price_workload(wl, cat)).total_usd == pytest.approx(
        (100 * 2 + 100 * 10 + 200 * 2 + 400 * 0.2 + 100 * 10) / 1e6, abs=1e-15)


def test_a_file_without_a_required_column_is_named_among_several(tmp_path, cat):
    (tmp_path / "a.csv").write_text("ts,input_tokens,output_tokens\n2026-01-01T00:00:00Z,100,100\n")
    (tmp_path / "b.csv").write_text("ts,output_tokens\n2026-01-01T00:00:00Z,100\n")
    for on_error in ("raise", "skip"):  # a missing column is not a bad row: never skipped
        with pytest.raises(Exception, match=r"b.csv: missing required column\(s\) \['input_tokens'\]"):
            read_workload([tmp_path], cat, options=ReadOptions(defaults=Defaults(model="tcl"), on_error=on_error))
