"""Prices in force on a date (issue 12): a row's `effective_from` / `effective_to`, the bill, the per-request
rate card and the levers' API price each request at the row in force at its `ts`; overlaps and gaps are errors."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta

import pytest
import yaml

from inferplan import pricing
from inferplan.catalog import load_catalog
from inferplan.errors import CatalogError, MissingPriceError
from inferplan.pricing import price_workload, request_costs, request_rates
from inferplan.readers import read_workload
from inferplan.workload import Defaults
from tests.helpers import SRC, TEST_MODELS, TEST_PRICES, layered_catalog, make_catalog, rows_table

M = "test.claude-like-v1:0"
KEY = {"model": M, "scope": "in-region", "region": "*", "tier": "standard"}
CHANGE = date(2026, 6, 1)
BEFORE = datetime(2026, 5, 31, 23, 59, 59, 999_999, tzinfo=UTC)  # the last microsecond at the old price
AFTER = datetime(2026, 6, 1, tzinfo=UTC)  # the first at the new one
# 500 input + 100 output tokens: under the hand-built 1,000-token long-context threshold
SHORT = {"model": M, "input_tokens": 500, "output_tokens": 100}
OLD_USD = 500 * 2 / 1e6 + 100 * 10 / 1e6  # 0.002 at 2 / 10 $/Mtok
NEW_USD = 500 * 3 / 1e6 + 100 * 12 / 1e6  # 0.0027 at 3 / 12 $/Mtok
NEW_ROW = {**KEY, "effective_from": CHANGE.isoformat(), "input_usd_per_mtok": 3, "output_usd_per_mtok": 12,
           "source": "price change of 2026-06-01", "checked": "2026-06-01"}


def write(tmp_path, doc, name="over.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc))
    return path


def layered(tmp_path, doc):
    """The hand-built catalog as the user's config file, `doc` as --catalog over it."""
    make_catalog(tmp_path)
    return layered_catalog(tmp_path, write(tmp_path, doc))


def dated_catalog(tmp_path):
    return layered(tmp_path, {"bedrock_prices": [NEW_ROW]})


def two_requests(cat, extra=()):
    return rows_table([{**SHORT, "ts": BEFORE, "request_id": "before"}, {**SHORT, "ts": AFTER, "request_id": "after"},
                       *extra], cat, Defaults(region="us-east-1"))


def test_a_dated_row_splits_the_row_in_force_and_keeps_its_other_fields(tmp_path):
    cat = dated_catalog(tmp_path)
    rows = [p for p in cat.bedrock_prices if (p.model, p.scope, p.region, p.tier) == tuple(KEY.values())]
    assert [(r.effective_from, r.effective_to, r.input_usd_per_mtok) for r in
            sorted(rows, key=lambda r: r.effective_from or date.min)] == [(None, CHANGE, 2), (CHANGE, None, 3)]
    old, new = sorted(rows, key=lambda r: r.effective_from or date.min)
    # the new row starts as the old one: cache, 1-hour and long-context prices carried over
    assert (new.cache_read_usd_per_mtok, new.cache_write_1h_usd_per_mtok, new.lc_input_usd_per_mtok) == (0.2, 4, 4)
    assert "ends 2026-06-01" in old.source and "overridden from 2026-06-01" in new.source
    assert cat.price_periods == (CHANGE,)
    assert cat.price(M, "in-region", "us-east-1", "standard", date(2026, 5, 31)).input_usd_per_mtok == 2
    assert cat.price(M, "in-region", "us-east-1", "standard", CHANGE).input_usd_per_mtok == 3
    assert cat.price(M, "in-region", "us-east-1", "standard", period=0) is old
    assert cat.price(M, "in-region", "us-east-1", "standard", period=1) is new


def test_a_request_dated_before_a_price_change_is_priced_at_the_old_price(tmp_path):
    """The issue's test: one request the microsecond before the change (old price), one at it (new price),
    through the bill's roll-up, its per-request table and the in-memory rate card the levers use."""
    cat = dated_catalog(tmp_path)
    bill = price_workload(two_requests(cat), cat)
    per_request = bill.table.order_by("ts").to_pyarrow()
    assert per_request.column("request_id").to_pylist() == ["before", "after"]
    assert per_request.column("total_usd").to_pylist() == pytest.approx([OLD_USD, NEW_USD], abs=1e-15)
    assert sum(bill.base.column("total_usd").to_pylist()) == pytest.approx(OLD_USD + NEW_USD, abs=1e-15)
    assert sorted((k[4], p.input_usd_per_mtok) for k, p in bill.prices.items()) == [(0, 2), (1, 3)]
    t = two_requests(cat).order_by("ts").to_pyarrow()
    assert request_costs(t, cat).total.tolist() == pytest.approx([OLD_USD, NEW_USD], abs=1e-15)
    rates = request_rates(t, cat)
    assert [rates.keys[c][4] for c in rates.code] == [0, 1]
    # the same tokens under the packaged-style undated catalog: both at the old price
    (tmp_path / "flat").mkdir()
    flat = make_catalog(tmp_path / "flat")
    assert request_costs(two_requests(flat).order_by("ts").to_pyarrow(), flat).total.tolist() == \
        pytest.approx([OLD_USD, OLD_USD], abs=1e-15)


def test_dated_long_context_batch_and_region_rows(tmp_path):
    """Long-context rates of the row in force; the region's own row in force wins over `*` at each date, and
    `*` prices the dates the region's rows do not cover."""
    cat = layered(tmp_path, {"bedrock_prices": [
        NEW_ROW,
        {**KEY, "region": "eu-west-1", "effective_from": "2026-07-01", "input_usd_per_mtok": 3.5,
         "output_usd_per_mtok": 14, **SRC},
    ]})
    # eu-west-1 had an undated row (3 / 12): split at 2026-07-01; `*` split at 2026-06-01
    assert cat.price_periods == (CHANGE, date(2026, 7, 1))
    long = {"model": M, "input_tokens": 1500, "output_tokens": 100}
    t = rows_table([{**long, "ts": BEFORE}, {**long, "ts": AFTER},
                    {**SHORT, "ts": datetime(2026, 6, 15, tzinfo=UTC), "region": "eu-west-1"},
                    {**SHORT, "ts": datetime(2026, 7, 1, tzinfo=UTC), "region": "eu-west-1"}], cat)
    bill = price_workload(t, cat)
    got = bill.table.order_by("ts").to_pyarrow().column("total_usd").to_pylist()
    want = [1500 * 4 / 1e6 + 100 * 15 / 1e6,  # long context, old row: 4 / 15
            1500 * 4 / 1e6 + 100 * 15 / 1e6,  # new row carried the long-context prices over
            500 * 3 / 1e6 + 100 * 12 / 1e6,  # eu-west-1's own undated-turned-dated row until 2026-07-01
            500 * 3.5 / 1e6 + 100 * 14 / 1e6]
    assert got == pytest.approx(want, abs=1e-15)
    assert request_costs(t.order_by("ts").to_pyarrow(), cat).total.tolist() == pytest.approx(want, abs=1e-15)
    assert sum(bill.base.column("total_usd").to_pylist()) == pytest.approx(sum(want), abs=1e-14)


def test_read_workload_fast_path_and_portable_twin_agree_on_dated_prices(tmp_path):
    """The bill of a file the readers resolved joins the table before resolution (engine.rewrites); its twin
    joins the resolved table: both price each request in its period."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from inferplan import engine

    cat = dated_catalog(tmp_path)
    # a file with no scope column (the fast path's case: the logged id gives the scope)
    path = tmp_path / "w.parquet"
    pq.write_table(pa.table({
        "ts": pa.array([BEFORE, AFTER, AFTER], pa.timestamp("us", tz="UTC")), "request_id": ["before", "after", "us"],
        "model": [M, M, f"us.{M}"], "input_tokens": [500] * 3, "output_tokens": [100] * 3}), path)
    wl = read_workload([path], cat)
    assert engine.rewrites.find(("resolved", wl.table.op()))[2]["scope"] is None  # the fast path applies
    bill = price_workload(wl, cat)
    fast = pricing.per_request_costs(wl.table, bill.prices, bill.periods).order_by("request_id").to_pyarrow()
    twin_t = pricing._with_rates(wl.table, bill.prices, fast=False, periods=bill.periods)
    assert "_pp" not in twin_t.columns and "_period" not in fast.column_names
    from inferplan.engine import rewrites

    rewrites.enabled = False
    try:
        twin = pricing.per_request_costs(wl.table, bill.prices, bill.periods).order_by("request_id").to_pyarrow()
    finally:
        rewrites.enabled = True
    assert fast.column("total_usd").to_pylist() == twin.column("total_usd").to_pylist()
    by_id = dict(zip(fast.column("request_id").to_pylist(), fast.column("total_usd").to_pylist(), strict=True))
    assert by_id["before"] == pytest.approx(OLD_USD, abs=1e-15)
    assert by_id["after"] == pytest.approx(NEW_USD, abs=1e-15)
    assert by_id["us"] == pytest.approx(500 * 2.2 / 1e6 + 100 * 11 / 1e6, abs=1e-15)  # us. row: undated


def test_no_row_in_force_is_an_error_naming_model_region_dates_and_the_row_to_add(tmp_path):
    cat = make_catalog(tmp_path, {"bedrock_prices": [
        {**KEY, "region": "ap-south-1", "effective_from": "2026-06-01", "input_usd_per_mtok": 3,
         "output_usd_per_mtok": 12, **SRC}]})
    # `*` has an undated row, so ap-south-1 before June falls back to it; the `us` scope too. A key with only a
    # dated row has no price before it:
    gap = make_catalog(tmp_path, {"bedrock_prices": [
        {"model": M, "scope": "eu", "region": "*", "tier": "standard", "effective_from": "2026-06-01",
         "input_usd_per_mtok": 3, "output_usd_per_mtok": 12, **SRC}]})
    assert cat.price(M, "in-region", "ap-south-1", "standard", date(2026, 5, 1)).input_usd_per_mtok == 2
    t = rows_table([{**SHORT, "model": f"eu.{M}", "ts": BEFORE}], gap, Defaults(region="eu-west-1"))
    with pytest.raises(MissingPriceError) as e:
        price_workload(t, gap)
    msg = str(e.value)
    for part in (M, "'eu'", "eu-west-1", "requests dated before 2026-06-01", "from 2026-06-01",
                 "effective_from / effective_to", "bedrock_prices"):
        assert part in msg, part
    with pytest.raises(MissingPriceError, match="before 2026-06-01"):
        request_costs(t.to_pyarrow(), gap)
    # after the change it prices
    ok = rows_table([{**SHORT, "model": f"eu.{M}", "ts": AFTER}], gap, Defaults(region="eu-west-1"))
    assert request_costs(ok.to_pyarrow(), gap).total.tolist() == pytest.approx([NEW_USD], abs=1e-15)


def test_overlapping_windows_are_a_catalog_error_naming_both_rows(tmp_path):
    rows = [{**KEY, "region": "ap-south-1", "effective_from": "2026-01-01", "effective_to": "2026-07-01",
             "input_usd_per_mtok": 3, "output_usd_per_mtok": 12, "source": "row A", "checked": "2026-01-01"},
            {**KEY, "region": "ap-south-1", "effective_from": "2026-06-01", "input_usd_per_mtok": 4,
             "output_usd_per_mtok": 13, "source": "row B", "checked": "2026-06-01"}]
    with pytest.raises(CatalogError) as e:
        make_catalog(tmp_path, {"bedrock_prices": rows})
    msg = str(e.value)
    assert "overlap" in msg and "row A" in msg and "row B" in msg and "2026-01-01 .. 2026-06-30" in msg
    assert "from 2026-06-01" in msg
    # an open row before a later one overlaps it too
    with pytest.raises(CatalogError, match="overlap"):
        make_catalog(tmp_path, {"bedrock_prices": [{**rows[0], "effective_to": None}, rows[1]]})
    with pytest.raises(CatalogError, match="effective_to 2026-01-01 must be after effective_from 2026-06-01"):
        make_catalog(tmp_path, {"bedrock_prices": [{**rows[1], "effective_to": "2026-01-01"}]})
    with pytest.raises(CatalogError, match="must be after"):  # an empty window
        make_catalog(tmp_path, {"bedrock_prices": [{**rows[1], "effective_to": "2026-06-01"}]})
    # touching windows are fine
    cat = make_catalog(tmp_path, {"bedrock_prices": [{**rows[0], "effective_to": "2026-06-01"}, rows[1]]})
    assert cat.price(M, "in-region", "ap-south-1", "standard", date(2026, 5, 31)).source.startswith("row A")


def test_undated_override_changes_every_window_and_dated_override_one(tmp_path):
    """A user row without dates overrides its key at every date (a negotiated price is not date-bound); a row
    with the same effective_from as an existing one merges into that one only."""
    base = tmp_path / "base"
    base.mkdir()
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    doc = {"bedrock_models": TEST_MODELS, "bedrock_prices": [
        *[p for p in TEST_PRICES if (p["model"], p["scope"], p["region"], p["tier"]) != tuple(KEY.values())],
        {**TEST_PRICES[0], "effective_to": "2026-06-01"},
        {**TEST_PRICES[0], "effective_from": "2026-06-01", "input_usd_per_mtok": 3, "output_usd_per_mtok": 12}]}
    (cfg / "catalog.yaml").write_text(yaml.safe_dump(doc))
    old = os.environ["INFERPLAN_CONFIG_DIR"]
    os.environ["INFERPLAN_CONFIG_DIR"] = str(cfg)
    try:
        undated = load_catalog(write(tmp_path, {"bedrock_prices": [{**KEY, "output_usd_per_mtok": 9, **SRC}]}),
                               warn_stale=False)
        one = load_catalog(write(tmp_path, {"bedrock_prices": [
            {**KEY, "effective_from": "2026-06-01", "output_usd_per_mtok": 9, **SRC}]}), warn_stale=False)
    finally:
        os.environ["INFERPLAN_CONFIG_DIR"] = old
    get = lambda cat, d: cat.price(M, "in-region", "us-east-1", "standard", d)  # noqa: E731
    assert [(get(undated, d).input_usd_per_mtok, get(undated, d).output_usd_per_mtok)
            for d in (date(2026, 5, 1), CHANGE)] == [(2, 9), (3, 9)]
    assert [(get(one, d).input_usd_per_mtok, get(one, d).output_usd_per_mtok)
            for d in (date(2026, 5, 1), CHANGE)] == [(2, 10), (3, 9)]
    assert get(undated, CHANGE).effective_from == CHANGE  # windows kept


def test_period_bucket_matches_searchsorted_at_the_boundaries(tmp_path):
    """The engine's CASE (bill) and numpy's searchsorted (rate card) put the same instants in the same period,
    boundaries included, and a price row's window is whole UTC days."""
    import ibis
    import numpy as np
    import pyarrow as pa

    from inferplan import engine
    from inferplan.catalog import day_us
    from inferplan.workload import period_bucket

    days = (date(2026, 1, 1), date(2026, 6, 1), date(2027, 1, 1))
    bounds = tuple(day_us(d) for d in days)
    instants = [datetime(2025, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC),
                BEFORE, AFTER, datetime(2026, 12, 31, 23, 59, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC),
                datetime(1969, 12, 31, tzinfo=UTC)]
    t = ibis.memtable(pa.table({"ts": pa.array(instants, pa.timestamp("us", tz="UTC"))}))
    got = engine.connection().to_pyarrow(t.select(p=period_bucket(t, bounds))).column("p").to_pylist()
    us = [(d - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) for d in instants]
    assert got == np.searchsorted(np.array(bounds), np.array(us), side="right").tolist() == [0, 1, 1, 2, 2, 3, 0]


def test_report_diff_names_each_window_of_a_dated_key(tmp_path):
    """`inferplan diff` of May (old row) against May + June (both rows): the June row is "now priced" with its
    window, the May row is the same row in both (no price change reported for it)."""
    from inferplan.analysis import summarize
    from inferplan.report import stamp
    from inferplan.report.diff import diff

    cat = dated_catalog(tmp_path)
    may = price_workload(rows_table([{**SHORT, "ts": BEFORE}], cat, Defaults(region="us-east-1")), cat)
    both = price_workload(two_requests(cat), cat)
    d = diff(stamp(summarize(may, cat), "analyze"), stamp(summarize(both, cat), "analyze"))
    assert f"now priced: {M} in-region/*/standard (from 2026-06-01)" in d["why"]
    assert not any(w.startswith("price ") for w in d["why"])


def test_a_price_history_in_one_file_carries_the_fields_it_does_not_give(tmp_path):
    """Rows of one file do not split each other: each but the last gives its effective_to; a row starting where
    the previous one ended starts with that row's fields (only input changes here: output, cache and long-context
    prices come along), the first splits the earlier layer's open row."""
    hist = [{**KEY, "effective_from": "2026-06-01", "effective_to": "2026-07-01", "input_usd_per_mtok": 3, **SRC},
            {**KEY, "effective_from": "2026-07-01", "input_usd_per_mtok": 4, **SRC}]
    cat = layered(tmp_path, {"bedrock_prices": hist})
    got = [(r.effective_from, r.effective_to, r.input_usd_per_mtok, r.output_usd_per_mtok, r.lc_input_usd_per_mtok)
           for r in cat._price_index[tuple(KEY.values())]]
    assert got == [(None, CHANGE, 2, 10, 4), (CHANGE, date(2026, 7, 1), 3, 10, 4), (date(2026, 7, 1), None, 4, 10, 4)]
    # a third row follows the latest one that ended (output 11 from July), not an older one
    three = [hist[0], {**hist[1], "effective_to": "2026-08-01", "output_usd_per_mtok": 11},
             {**KEY, "effective_from": "2026-08-01", "input_usd_per_mtok": 5, **SRC}]
    last = layered(tmp_path, {"bedrock_prices": three}).price(M, "in-region", "us-east-1", "standard", date(2026, 8, 1))
    assert (last.input_usd_per_mtok, last.output_usd_per_mtok) == (5, 11)
    t = rows_table([{**SHORT, "ts": ts} for ts in (BEFORE, AFTER, datetime(2026, 7, 1, tzinfo=UTC))], cat,
                   Defaults(region="us-east-1"))
    assert request_costs(t.order_by("ts").to_pyarrow(), cat).total.tolist() == pytest.approx(
        [500 * r / 1e6 + 100 * 10 / 1e6 for r in (2, 3, 4)], abs=1e-15)
    # without the first row's effective_to the two rows overlap: an error naming both
    with pytest.raises(CatalogError, match="overlap"):
        layered(tmp_path, {"bedrock_prices": [{k: v for k, v in hist[0].items() if k != "effective_to"}, hist[1]]})


def test_a_request_without_a_time_has_no_dated_price(tmp_path):
    """With dated prices a null `ts` is no period's: an error, not the earliest row (the readers reject a null
    `ts` before pricing; the in-memory rate card checks it too)."""
    import pyarrow as pa

    cat = dated_catalog(tmp_path)
    t = two_requests(cat).order_by("ts").to_pyarrow()
    t = t.set_column(t.schema.get_field_index("ts"), "ts", pa.array([None, AFTER], pa.timestamp("us", tz="UTC")))
    with pytest.raises(MissingPriceError, match="no timestamp"):
        request_costs(t, cat)
    assert request_rates(t, cat, strict=False).priced("input").tolist() == [False, True]


def test_price_windows_read_as_days():
    from inferplan.report.fmt import price_window

    assert price_window({}) == "always"
    assert price_window({"effective_from": "2026-06-01"}) == "from 2026-06-01"
    assert price_window({"effective_to": "2026-06-01"}) == "until 2026-05-31"  # the exclusive end's day before
    assert price_window({"effective_from": "2026-01-01", "effective_to": "2026-03-01"}) == "2026-01-01 .. 2026-02-28"


def test_a_regions_first_dated_row_starts_from_the_star_row_in_force(tmp_path):
    """docs/catalog.md's example: a us-east-1 input price from 2026-06-01 over a key priced by its `*` row keeps
    the `*` row's other fields (output, long context, cache) from then; before it and in other regions, `*`."""
    from datetime import date

    from tests.helpers import make_catalog

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    m = "test.claude-like-v1:0"
    base = make_catalog(tmp_path / "a")
    cat = make_catalog(tmp_path / "b", {"bedrock_prices": [{
        "model": m, "scope": "in-region", "region": "us-east-1", "tier": "standard",
        "effective_from": date(2026, 6, 1), "input_usd_per_mtok": 3, "source": "notice", "checked": date(2026, 6, 1)}]})
    june = cat.price(m, "in-region", "us-east-1", "standard", date(2026, 6, 2))
    star = base.price(m, "in-region", "us-east-1", "standard", date(2026, 6, 2))
    assert (june.region, june.input_usd_per_mtok) == ("us-east-1", 3)
    for field in ("output_usd_per_mtok", "cache_read_usd_per_mtok", "lc_threshold_tokens", "lc_input_usd_per_mtok",
                  "cache_write_1h_usd_per_mtok"):
        assert getattr(june, field) == getattr(star, field), field
    assert cat.price(m, "in-region", "us-east-1", "standard", date(2026, 5, 31)).input_usd_per_mtok == 2
    assert cat.price(m, "in-region", "us-west-2", "standard", date(2026, 6, 2)).input_usd_per_mtok == 2


def test_a_request_without_a_time_prices_at_a_row_in_force_at_every_date_only(tmp_path):
    """The in-memory rate card with a null `ts`: an undated key still prices (a dated row elsewhere in the
    catalog does not make it unpriceable); a key whose rows are dated cannot, and says why."""
    from datetime import date

    import pyarrow as pa

    from inferplan.errors import MissingPriceError
    from inferplan.pricing import request_rates
    from tests.helpers import make_catalog

    cat = make_catalog(tmp_path, {"bedrock_prices": [
        {"model": "test.nova-like-v1:0", "scope": "in-region", "region": "eu-west-1", "tier": "standard",
         "effective_from": date(2026, 6, 1), "input_usd_per_mtok": 1, "output_usd_per_mtok": 4,
         "source": "s", "checked": date(2026, 6, 1)}]})
    def table(model, region):
        return pa.table({"ts": pa.array([None], pa.timestamp("us", tz="UTC")), "model": [model],
                         "scope": ["in-region"], "region": [region], "tier": ["standard"],
                         "input_tokens": [1000], "cache_read_tokens": [0], "cache_write_5m_tokens": [0],
                         "cache_write_1h_tokens": [0], "output_tokens": [0], "call_type": ["x"]})
    r = request_rates(table("test.claude-like-v1:0", "us-east-1"), cat)
    assert r.per_token("input")[0] == pytest.approx(2e-6)
    with pytest.raises(MissingPriceError, match="no timestamp"):
        request_rates(table("test.nova-like-v1:0", "eu-west-1"), cat)


def test_remembered_price_codes_follow_a_changed_time_and_are_reused_for_changed_tokens(tmp_path):
    """The rate card remembers each table's price-key codes (key and period) by its key and `ts` columns: a
    table whose times moved across the change (same key columns) is priced at the new row, not from the memo;
    one whose tokens alone changed (what trim and caching make) reuses them. Catches a memo keyed without `ts`."""
    import pyarrow as pa

    from inferplan.levers._common import replace_columns

    cat = dated_catalog(tmp_path)
    pricing.clear_key_codes()
    t = two_requests(cat).order_by("ts").to_pyarrow()
    assert request_costs(t, cat).total.tolist() == pytest.approx([OLD_USD, NEW_USD], abs=1e-15)
    both_before = t.set_column(t.schema.get_field_index("ts"), "ts",
                               pa.array([BEFORE, BEFORE], t.schema.field("ts").type))
    assert request_costs(both_before, cat).total.tolist() == pytest.approx([OLD_USD, OLD_USD], abs=1e-15)
    fewer = replace_columns(t, {"input_tokens": [250, 250]})
    n = len(pricing._KEY_MEMO)
    rates = request_rates(fewer, cat)
    assert len(pricing._KEY_MEMO) == n  # found, not recomputed
    assert [rates.keys[c][4] for c in rates.code] == [0, 1]
    assert request_costs(fewer, cat).total.tolist() == pytest.approx(
        [250 * 2 / 1e6 + 100 * 10 / 1e6, 250 * 3 / 1e6 + 100 * 12 / 1e6], abs=1e-15)
    pricing.clear_key_codes()
