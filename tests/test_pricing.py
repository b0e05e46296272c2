"""Exact repricing on hand-built rows: every token kind, tier, scope, region and the long-context tier."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inferplan.attribution import breakdown, totals
from inferplan.errors import MissingPriceError
from inferplan.pricing import price_workload
from inferplan.workload import Defaults
from tests.helpers import make_catalog, rows_table

M = "test.claude-like-v1:0"


@pytest.fixture(scope="module")
def cat(tmp_path_factory):
    return make_catalog(tmp_path_factory.mktemp("cat"))


def costs(cat, rows, defaults=None):
    bill = price_workload(rows_table(rows, cat, defaults), cat)
    return bill.table.order_by("ts").to_pyarrow().to_pylist()


def test_each_token_kind_priced_at_its_own_rate(cat):
    r = costs(cat, [{"model": M, "input_tokens": 500, "output_tokens": 100, "cache_read_tokens": 300,
                     "cache_write_5m_tokens": 100, "cache_write_1h_tokens": 50}])[0]
    # total input 950 <= 1000: standard rates 2 / 10 / 0.2 / 2.5 / 4 per Mtok
    assert r["input_usd"] == pytest.approx(500 * 2 / 1e6, abs=1e-15)
    assert r["output_usd"] == pytest.approx(100 * 10 / 1e6, abs=1e-15)
    assert r["cache_read_usd"] == pytest.approx(300 * 0.2 / 1e6, abs=1e-15)
    assert r["cache_write_5m_usd"] == pytest.approx(100 * 2.5 / 1e6, abs=1e-15)
    assert r["cache_write_1h_usd"] == pytest.approx(50 * 4 / 1e6, abs=1e-15)
    assert r["total_usd"] == pytest.approx((1000 + 1000 + 60 + 250 + 200) / 1e6, abs=1e-15)
    assert r["long_context"] is False


def test_long_context_rate_applies_to_whole_request_above_threshold(cat):
    # 600 + 401 cache read = 1001 total input > 1000: every kind at the lc rate
    r = costs(cat, [{"model": M, "input_tokens": 600, "cache_read_tokens": 401, "output_tokens": 10}])[0]
    assert r["long_context"] is True
    assert r["input_usd"] == pytest.approx(600 * 4 / 1e6)
    assert r["cache_read_usd"] == pytest.approx(401 * 0.4 / 1e6)
    assert r["output_usd"] == pytest.approx(10 * 15 / 1e6)
    # exactly at the threshold stays standard
    r2 = costs(cat, [{"model": M, "input_tokens": 1000, "output_tokens": 10}])[0]
    assert r2["long_context"] is False and r2["input_usd"] == pytest.approx(1000 * 2 / 1e6)


@pytest.mark.parametrize(("tier", "in_rate", "out_rate"), [("standard", 2, 10), ("batch", 1, 5), ("flex", 1, 5),
                                                           ("priority", 3.5, 17.5)])
def test_tiers(cat, tier, in_rate, out_rate):
    r = costs(cat, [{"model": M, "input_tokens": 1000, "output_tokens": 1000}], Defaults(tier=tier))[0]
    assert r["total_usd"] == pytest.approx((1000 * in_rate + 1000 * out_rate) / 1e6)


@pytest.mark.parametrize(("model_id", "region", "expected"), [
    (M, "us-east-1", (1000 * 2 + 1000 * 10) / 1e6),             # in-region, region `*` row
    (M, "eu-west-1", (1000 * 3 + 1000 * 12) / 1e6),             # region-specific row wins over `*`
    (f"global.{M}", "us-east-1", (1000 * 1.5 + 1000 * 7.5) / 1e6),
    (f"us.{M}", "us-west-2", (1000 * 2.2 + 1000 * 11) / 1e6),
    ("tcl", "us-east-1", (1000 * 2 + 1000 * 10) / 1e6),           # alias
])
def test_scopes_and_regions(cat, model_id, region, expected):
    r = costs(cat, [{"model": model_id, "input_tokens": 1000, "output_tokens": 1000, "region": region}])[0]
    assert r["total_usd"] == pytest.approx(expected)


def test_missing_price_is_an_error_naming_what_to_add(cat):
    # the eu-west-1 row has no cache read price: tokens there must not be priced as zero
    with pytest.raises(MissingPriceError, match="cache_read_usd_per_mtok"):
        costs(cat, [{"model": M, "input_tokens": 10, "cache_read_tokens": 5, "region": "eu-west-1"}])
    # a geo scope the catalog lacks
    with pytest.raises(MissingPriceError, match="eu.*bedrock_prices"):
        costs(cat, [{"model": f"eu.{M}", "input_tokens": 10}])
    # a tier the model does not offer
    with pytest.raises(MissingPriceError, match="tier 'batch'"):
        costs(cat, [{"model": "test.nova-like-v1:0", "input_tokens": 10}], Defaults(tier="batch"))


def test_zero_tokens_of_an_unpriced_kind_are_fine(cat):
    r = costs(cat, [{"model": M, "input_tokens": 10, "region": "eu-west-1"}])[0]
    assert r["total_usd"] == pytest.approx(10 * 3 / 1e6)


def test_nova_like_write_has_no_premium(cat):
    r = costs(cat, [{"model": "tnl", "input_tokens": 1000, "cache_write_5m_tokens": 1000,
                     "cache_read_tokens": 1000}])[0]
    assert r["cache_write_5m_usd"] == pytest.approx(r["input_usd"])
    assert r["cache_read_usd"] == pytest.approx(r["input_usd"] / 4)


def test_provisioned_rows_are_noted_not_silently_priced(cat):
    bill = price_workload(rows_table([{"model": M, "input_tokens": 10}], cat, Defaults(tier="provisioned")), cat)
    assert any("provisioned" in n for n in bill.notes)


token = st.integers(min_value=0, max_value=2_000_000)
row_st = st.fixed_dictionaries({"input_tokens": token, "output_tokens": token, "cache_read_tokens": token,
                                "cache_write_5m_tokens": token, "cache_write_1h_tokens": token})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row_st, min_size=1, max_size=6), kind=st.sampled_from(
    ["input_tokens", "output_tokens", "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens"]),
    extra=st.integers(min_value=1, max_value=100_000))
def test_cost_is_additive_across_rows_and_monotone_in_each_count(cat, rows, kind, extra):
    """Per-request costs (join path) add up to the roll-up total (aggregate path), and more tokens never cost less.

    The two paths are independent implementations of the same prices: one multiplies every row, the other
    multiplies each group's integer sums once.
    """
    bigger = dict(rows[0])
    bigger[kind] += extra
    table = rows_table([{"model": M, "call_type": f"r{i}", **r} for i, r in enumerate([*rows, bigger])], cat)
    bill = price_workload(table, cat)
    per_row = {r["call_type"]: r["total_usd"] for r in bill.table.to_pyarrow().to_pylist()}
    assert math.isclose(sum(per_row.values()), totals(bill).total_usd, rel_tol=1e-12, abs_tol=1e-12)
    by_type = {r["key"]: r["total_usd"] for r in breakdown(bill, "call_type")}
    for name, usd in per_row.items():
        assert math.isclose(by_type[name], usd, rel_tol=1e-12, abs_tol=1e-15)
    assert per_row[f"r{len(rows)}"] >= per_row["r0"]
