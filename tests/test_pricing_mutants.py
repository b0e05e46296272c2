"""Tests written for the mutants `mutmut` left alive in the dollar code (docs/testing.md lists each): the
per-request rate card at the edges (one token, a kind without a price, one price key, a tier or model
override, a missing long-context price), the per-request bill without any long-context price, breakdowns of a
read workload at long-context rates, provisioned units (several scopes, models and regions), and validation
of null timestamps and counts. Hand-built rows and round prices (tests/test_pricing_one_rate_card.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import ibis
import numpy as np
import pytest

from inferplan.attribution import breakdown, totals
from inferplan.catalog import Catalog
from inferplan.catalog.schema import BedrockModel, BedrockPrice, ProvisionedPrice
from inferplan.errors import ConfigError, MissingPriceError, SchemaError
from inferplan.levers import price_table
from inferplan.levers._build import canonical_table
from inferplan.pricing import (
    COST_COLUMNS,
    parse_provisioned_units,
    price_workload,
    provisioned_costs,
    request_costs,
    request_rates,
)
from inferplan.workload import COLUMNS, validate
from tests.test_pricing_one_rate_card import catalog

D = date(2026, 11, 26)
SRC = {"source": "hand-built test row", "checked": D}


def test_one_token_is_priced_and_one_unpriced_token_is_an_error():
    cat = catalog()
    t = canonical_table(1, model="short", input_tokens=[1], output_tokens=[1])
    assert request_costs(t, cat).total.tolist() == pytest.approx([(1 * 1 + 1 * 2) / 1e6])
    assert price_table(t, cat)[0] == pytest.approx(3e-6)
    with pytest.raises(MissingPriceError, match="cache_read_usd_per_mtok"):
        request_costs(canonical_table(1, model="lc", region="eu-west-1", cache_read_tokens=[1]), cat)
    # zero tokens of a kind without a price are fine, as in the bill
    assert request_costs(canonical_table(1, model="lc", region="eu-west-1", input_tokens=[5]), cat).total.tolist() \
        == pytest.approx([15e-6])


def test_the_first_unpriced_kind_with_tokens_is_named_like_the_bill():
    # eu-west-1 has neither cache read nor cache write prices: tokens only in 5-minute writes
    t = canonical_table(1, model="lc", region="eu-west-1", input_tokens=[5], cache_write_5m_tokens=[7])
    cat = catalog()
    with pytest.raises(MissingPriceError) as bill:
        price_workload(ibis.memtable(t), cat)
    with pytest.raises(MissingPriceError) as lever:
        request_costs(t, cat)
    assert "cache_write_5m_usd_per_mtok" in str(bill.value) and str(lever.value) == str(bill.value)


def test_a_missing_long_context_price_is_an_error_not_a_zero():
    models = [BedrockModel(model="m", provider="x", name="M", **SRC)]
    prices = [BedrockPrice(model="m", scope="in-region", tier="standard", input_usd_per_mtok=2, output_usd_per_mtok=4,
                           cache_read_usd_per_mtok=0.2, lc_threshold_tokens=100, lc_input_usd_per_mtok=4,
                           lc_output_usd_per_mtok=8, **SRC)]  # no lc cache-read price
    cat = Catalog({"bedrock_models": models, "bedrock_prices": prices})
    t = canonical_table(1, model="m", input_tokens=[50], cache_read_tokens=[60])
    with pytest.raises(MissingPriceError) as bill:
        price_workload(ibis.memtable(t), cat)
    assert "lc_cache_read_usd_per_mtok" in str(bill.value)
    with pytest.raises(MissingPriceError) as lever:
        request_costs(t, cat)
    assert str(lever.value) == str(bill.value)


def test_costs_of_some_kinds_only_and_priced_needs_every_kind():
    cat = catalog()
    t = canonical_table(2, model=["short", "lc"], region="eu-west-1", input_tokens=[10, 10])
    r = request_rates(t, cat)
    c = r.costs({"input": np.array([10, 10])})
    assert c.usd["output"].tolist() == [0.0, 0.0] and c.total.tolist() == pytest.approx([10e-6, 30e-6])
    assert r.priced("input", "output").tolist() == [True, True]
    assert r.priced("input", "cache_read").tolist() == [False, False]  # both needed, not only the last
    assert r.priced("cache_read", "input").tolist() == [False, False]


def test_totals_by_call_type_with_a_single_price_key():
    cat = catalog()
    t = canonical_table(3, model="short", call_type=["a", "b", "a"], input_tokens=[1, 10, 100], output_tokens=0)
    total, by_ct = price_table(t, cat)
    assert by_ct == pytest.approx({"a": 101e-6, "b": 10e-6}) and total == pytest.approx(111e-6)


def test_tier_and_model_overrides_and_keys_after_a_missing_one():
    cat = catalog(batch_lc=True)
    t = canonical_table(2, model="lc", input_tokens=[1000, 1500], output_tokens=[0, 0])
    assert request_costs(t, cat, tier="batch").total.tolist() == pytest.approx([1000e-6, 3000e-6])
    assert request_costs(t, cat, model="short").total.tolist() == pytest.approx([1000e-6, 1500e-6])
    # strict=False: a key without a row is NaN, and the keys after it are still resolved
    t = canonical_table(2, model=["short", "lc"], tier="batch", input_tokens=[5, 5])
    r = request_rates(t, cat, strict=False)
    assert r.priced("input").tolist() == [False, True]


def test_per_request_bill_without_any_long_context_price():
    models = [BedrockModel(model="m", provider="x", name="M", **SRC)]
    prices = [BedrockPrice(model="m", scope="in-region", tier="standard", input_usd_per_mtok=2, output_usd_per_mtok=4,
                           **SRC)]
    cat = Catalog({"bedrock_models": models, "bedrock_prices": prices})
    t = canonical_table(2, model="m", input_tokens=[10, 300_000], output_tokens=[1, 1])
    rows = price_workload(ibis.memtable(t), cat).table.order_by("ts").to_pyarrow()
    assert rows.column("total_usd").to_pylist() == pytest.approx([24e-6, 600_004e-6])
    assert rows.column("long_context").to_pylist() == [False, False]
    assert set(rows.column_names) == {*COLUMNS, *COST_COLUMNS, "total_usd", "long_context"}


def test_breakdowns_of_a_read_workload_price_long_context_like_the_total(catalog_real, tmp_path):
    """A read workload's breakdowns take the roll-up over the logged ids (workload.rollup_by); they must use
    the long-context buckets and the resolved models, as the total does."""
    from inferplan.readers import read_workload

    f = tmp_path / "usage.csv"
    f.write_text("ts,model,call_type,input_tokens,output_tokens\n"
                 "2026-01-05T09:00:00Z,us.anthropic.claude-sonnet-4-5-20250929-v1:0,big,300000,10\n"
                 "2026-01-05T09:00:01Z,us.anthropic.claude-sonnet-4-5-20250929-v1:0,small,1000,10\n")
    wl = read_workload([f], catalog_real, "canonical")
    bill = price_workload(wl, catalog_real)
    by_ct = {r["key"]: r["total_usd"] for r in breakdown(bill, "call_type")}
    per_row = {r["call_type"]: r["total_usd"] for r in bill.table.to_pyarrow().to_pylist()}
    assert by_ct == pytest.approx(per_row, rel=1e-12)
    assert sum(by_ct.values()) == pytest.approx(totals(bill).total_usd, rel=1e-12)
    assert by_ct["big"] > 300_000 * 3.3 / 1e6  # above the standard input rate: the long-context tier


@pytest.fixture
def catalog_real():
    from inferplan.catalog import load_catalog

    return load_catalog(warn_stale=False)


def test_provisioned_units_across_scopes_models_and_regions():
    cat = catalog()
    cat = Catalog({**cat.tables, "provisioned_prices": [
        *cat.provisioned_prices,
        ProvisionedPrice(model="lc", region="us-east-1", term="1-month", usd_per_model_unit_hour=30, **SRC),
        ProvisionedPrice(model="short", region="*", term="1-month", usd_per_model_unit_hour=5, **SRC)]})
    excluded = {("lc", "in-region", "us-east-1", "provisioned"): ("provisioned", 2),
                ("lc", "us", "us-east-1", "provisioned"): ("provisioned", 3),
                ("lc", "in-region", "us-west-2", "provisioned"): ("provisioned", 4),
                ("short", "in-region", "us-east-1", "provisioned"): ("provisioned", 1),
                ("canvas", "in-region", "us-east-1", "standard"): ("image", 9)}
    out = provisioned_costs(excluded, cat, {"short": (2, None)}, hours=10)
    assert out["requests"] == 10 and out["unpriced_requests"] == 9  # lc in two regions, not given units
    (row,) = out["priced"]
    assert (row["model"], row["region"], row["requests"], row["usd"]) == ("short", "us-east-1", 1, 2 * 5 * 10)
    out = provisioned_costs(excluded, cat, {"lc": (1, "1-month")}, hours=10)
    by_region = {r["region"]: (r["requests"], r["usd_per_model_unit_hour"]) for r in out["priced"]}
    assert by_region == {"us-east-1": (5, 30), "us-west-2": (4, 20)}  # the region's own row wins over `*`
    assert out["unpriced_requests"] == 1


def test_provisioned_units_from_a_scenario_mapping_and_bad_items():
    assert parse_provisioned_units({"lc": 2, "short": "3:1-month"}) == {"lc": (2, None), "short": (3, "1-month")}
    for bad in (["=2"], ["lc=2=3"], [" =1"]):
        with pytest.raises(ConfigError):
            parse_provisioned_units(bad)


def _table(**cols):
    base = {"ts": [datetime(2026, 1, 1, tzinfo=UTC)] * 2, "model": ["m", "m"], "input_tokens": [1, 2],
            "output_tokens": [1, 1]}
    base.update(cols)
    t = canonical_table(2, **{k: v for k, v in base.items() if k != "ts"})
    ts = t.column("ts").to_pylist() if "ts" not in cols else cols["ts"]
    import pyarrow as pa

    t = t.set_column(0, "ts", pa.array(ts, pa.timestamp("us", tz="UTC")))
    return ibis.memtable(t)


def test_validation_catches_a_null_timestamp_alone_and_a_null_count_alone():
    with pytest.raises(SchemaError, match="ts is null"):
        validate(_table(ts=[datetime(2026, 1, 1, tzinfo=UTC), None]))
    with pytest.raises(SchemaError, match="input_tokens is null"):
        validate(_table(input_tokens=[1, None]))


@pytest.mark.parametrize("reads_on", [0, 1])
def test_unpriced_tokens_in_any_long_context_bucket_of_a_key_are_an_error(reads_on):
    """A key's tokens are checked summed over all its roll-up groups (long-context buckets), not the last one."""
    cat = catalog()  # `short` has no cache prices; the catalog's 1,000-token threshold splits its requests
    reads = [5 if i == reads_on else 0 for i in range(2)]
    t = canonical_table(2, model="short", input_tokens=[1500, 10], cache_read_tokens=reads)
    with pytest.raises(MissingPriceError, match="cache_read_usd_per_mtok"):
        price_workload(ibis.memtable(t), cat)


def test_a_short_request_needs_no_long_context_price():
    models = [BedrockModel(model="m", provider="x", name="M", **SRC)]
    prices = [BedrockPrice(model="m", scope="in-region", tier="standard", input_usd_per_mtok=2, output_usd_per_mtok=4,
                           cache_read_usd_per_mtok=0.2, lc_threshold_tokens=100, lc_input_usd_per_mtok=4,
                           lc_output_usd_per_mtok=8, **SRC)]  # no lc cache-read price: only long requests need it
    cat = Catalog({"bedrock_models": models, "bedrock_prices": prices})
    t = canonical_table(1, model="m", input_tokens=[50], cache_read_tokens=[40])
    expected = (50 * 2 + 40 * 0.2) / 1e6
    assert totals(price_workload(ibis.memtable(t), cat)).total_usd == pytest.approx(expected)
    assert request_costs(t, cat).total.tolist() == pytest.approx([expected])
