"""User catalog files merge field by field over the packaged rows; private-pricing discounts (issue 8 item 2)."""

from __future__ import annotations

import warnings

import pytest
import yaml

from inferplan.catalog import load_catalog
from inferplan.errors import CatalogError, MissingPriceError
from inferplan.pricing import price_workload
from inferplan.workload import Defaults
from tests.helpers import SRC, layered_catalog, make_catalog, rows_table

SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
M = "test.claude-like-v1:0"
KEY = {"model": M, "scope": "in-region", "region": "*", "tier": "standard"}
# 1,500 input tokens (over the hand-built table's 1,000-token long-context threshold), 100 output
LONG = {"model": M, "input_tokens": 1200, "cache_read_tokens": 100, "cache_write_5m_tokens": 100,
        "cache_write_1h_tokens": 100, "output_tokens": 100}
SHORT = {"model": M, "input_tokens": 500, "cache_read_tokens": 100, "cache_write_1h_tokens": 100,
         "output_tokens": 100}


def write(tmp_path, doc, name="over.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc))
    return path


def total(cat, rows):
    return price_workload(rows_table(rows, cat, Defaults(region="us-east-1")), cat).base.column("total_usd").to_pylist()


def test_override_of_input_and_output_keeps_long_context_cache_and_1h_prices(tmp_path):
    cat = make_catalog(tmp_path, {"bedrock_prices": [{**KEY, "input_usd_per_mtok": 1.8, "output_usd_per_mtok": 9.0,
                                                      **SRC}]})
    p = cat.price(M, "in-region", "us-east-1", "standard")
    assert (p.input_usd_per_mtok, p.output_usd_per_mtok) == (1.8, 9.0)
    assert (p.cache_read_usd_per_mtok, p.cache_write_5m_usd_per_mtok, p.cache_write_1h_usd_per_mtok) == (0.2, 2.5, 4)
    assert (p.lc_threshold_tokens, p.lc_input_usd_per_mtok, p.lc_output_usd_per_mtok) == (1000, 4, 15)
    assert "input_usd_per_mtok, output_usd_per_mtok overridden" in p.source and "hand-built test row" in p.source
    # long request: lc rates 4 / 15 / 0.4 / 5 / 8 (kept): 1200*4 + 100*15 + 100*0.4 + 100*5 + 100*8 = 7640 / 1e6
    # short request: new plain rates 1.8 / 9 and kept cache rates: 500*1.8 + 100*9 + 100*0.2 + 100*4 = 2220 / 1e6
    assert sum(total(cat, [LONG, SHORT])) == pytest.approx(0.00764 + 0.00222, abs=1e-12)


def test_row_with_a_new_key_is_added_whole(tmp_path):
    cat = make_catalog(tmp_path, {"bedrock_prices": [{**KEY, "region": "ap-south-1", "input_usd_per_mtok": 5,
                                                      "output_usd_per_mtok": 20, **SRC}]})
    p = cat.price(M, "in-region", "ap-south-1", "standard")
    assert p.input_usd_per_mtok == 5 and p.cache_read_usd_per_mtok is None and p.lc_threshold_tokens is None
    assert p.source == "hand-built test row"


def test_explicit_null_removes_a_field_with_a_warning(tmp_path):
    make_catalog(tmp_path)  # writes the hand-built catalog.yaml
    path = write(tmp_path, {"bedrock_prices": [{**KEY, "cache_write_1h_usd_per_mtok": None, **SRC}]})
    with pytest.warns(UserWarning, match="removes cache_write_1h_usd_per_mtok"):
        cat = layered_catalog(tmp_path, path)
    assert cat.price(M, "in-region", "us-east-1", "standard").cache_write_1h_usd_per_mtok is None
    assert any("removes cache_write_1h_usd_per_mtok" in n for n in cat.notes)
    with pytest.raises(MissingPriceError, match="cache_write_1h_usd_per_mtok"):
        total(cat, [SHORT])


def test_config_folder_catalog_is_read_before_catalog_file(tmp_path, monkeypatch):
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "catalog.yaml").write_text(yaml.safe_dump({"bedrock_prices": [
        {"model": SONNET, "scope": "global", "region": "*", "tier": "standard", "input_usd_per_mtok": 2.5,
         "output_usd_per_mtok": 12.5, **SRC}]}))
    monkeypatch.setenv("INFERPLAN_CONFIG_DIR", str(cfg))
    p = load_catalog(warn_stale=False).price(SONNET, "global", "us-east-1", "standard")
    assert (p.input_usd_per_mtok, p.output_usd_per_mtok, p.lc_input_usd_per_mtok) == (2.5, 12.5, 6)
    over = write(tmp_path, {"bedrock_prices": [{"model": SONNET, "scope": "global", "region": "*",
                                                "tier": "standard", "input_usd_per_mtok": 2.0, **SRC}]})
    p = load_catalog(over, warn_stale=False).price(SONNET, "global", "us-east-1", "standard")
    assert (p.input_usd_per_mtok, p.output_usd_per_mtok) == (2.0, 12.5)  # --catalog over the config file
    assert load_catalog(warn_stale=False, user_config=False).price(
        SONNET, "global", "us-east-1", "standard").input_usd_per_mtok == 3


LONG_SONNET = {"model": f"global.{SONNET}", "input_tokens": 230_000, "cache_read_tokens": 20_000,
               "output_tokens": 10_000}


def test_the_long_context_request_of_issue_8(tmp_path):
    """250k input tokens on Sonnet 4.5 global: long-context rates 6 / 22.5 / 0.6 (packaged)."""
    plain = load_catalog(warn_stale=False, user_config=False)
    # 230000*6 + 20000*0.6 + 10000*22.5 = 1,380,000 + 12,000 + 225,000 -> $1.617
    assert total(plain, [LONG_SONNET]) == [pytest.approx(1.617, abs=1e-12)]
    # "10% off input and output" as a row override: long-context and cache prices are kept (were dropped)
    row = write(tmp_path, {"bedrock_prices": [{"model": SONNET, "scope": "global", "region": "*", "tier": "standard",
                                               "input_usd_per_mtok": 2.7, "output_usd_per_mtok": 13.5, **SRC}]})
    assert total(load_catalog(row, warn_stale=False, user_config=False), [LONG_SONNET]) == [
        pytest.approx(1.617, abs=1e-12)]
    # the same as a discount: 10% off every input and output field, long-context ones included
    # 230000*5.4 + 20000*0.6 + 10000*20.25 = 1,242,000 + 12,000 + 202,500 -> $1.4565
    disc = write(tmp_path, {"bedrock_discounts": [{"provider": "anthropic", "model": "*", "scope": "*", "tier": "*",
                                                   "kinds": ["input", "output"], "percent_off": 10,
                                                   "source": "PPA 2026-07 section 3", "checked": "2026-07-01"}]},
                 name="disc.yaml")
    cat = load_catalog(disc, warn_stale=False, user_config=False)
    assert total(cat, [LONG_SONNET]) == [pytest.approx(1.4565, abs=1e-12)]
    p = cat.price(SONNET, "global", "us-east-1", "standard")
    assert (p.input_usd_per_mtok, p.output_usd_per_mtok, p.lc_input_usd_per_mtok, p.lc_output_usd_per_mtok,
            p.cache_read_usd_per_mtok, p.lc_cache_read_usd_per_mtok) == (2.7, 13.5, 5.4, 20.25, 0.3, 0.6)
    assert "10% off input, output (bedrock_discounts in" in p.source and "PPA 2026-07 section 3" in p.source
    assert any("10% off input, output on" in n and "Bedrock price row(s)" in n for n in cat.notes)
    # other providers untouched
    nova = [r for r in cat.bedrock_prices if r.model.startswith("amazon.nova-pro")][0]
    assert "bedrock_discounts" not in nova.source


def test_discount_patterns_kinds_and_compounding(tmp_path):
    cat = make_catalog(tmp_path, {"bedrock_discounts": [
        {"model": "tcl", "tier": "standard", "kinds": ["cache_write_1h"], "percent_off": 50, **SRC},
        {"model": "test.*", "scope": "in-region", "region": "*", "kinds": ["cache_write_1h"], "percent_off": 10,
         **SRC},
    ]})
    p = cat.price(M, "in-region", "us-east-1", "standard")
    # 4 x 0.5 x 0.9 = 1.8; long-context 8 x 0.5 x 0.9 = 3.6; other kinds untouched
    assert (p.cache_write_1h_usd_per_mtok, p.lc_cache_write_1h_usd_per_mtok, p.input_usd_per_mtok) == (1.8, 3.6, 2)
    batch = cat.price(M, "in-region", "us-east-1", "batch")
    assert batch.input_usd_per_mtok == 1 and "bedrock_discounts" not in batch.source  # no 1h price to discount
    # 500*2 + 100*10 + 100*0.2 + 100*1.8 = 2200 / 1e6
    assert total(cat, [SHORT]) == [pytest.approx(0.0022, abs=1e-12)]


@pytest.mark.parametrize(("row", "match"), [
    ({"model": "nothing-*", "percent_off": 10}, "matches no Bedrock price row"),
    ({"percent_off": 0}, "percent_off"),
    ({"percent_off": 120}, "percent_off"),
    ({"kinds": ["image"], "percent_off": 5}, "kinds"),
])
def test_discount_errors(tmp_path, row, match):
    with pytest.raises(CatalogError, match=match):
        make_catalog(tmp_path, {"bedrock_discounts": [{**row, **SRC}]})


def test_merge_never_warns_when_fields_are_only_given(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_catalog(tmp_path, {"bedrock_prices": [{**KEY, "input_usd_per_mtok": 1.9, **SRC}]})


@pytest.mark.parametrize("section,row", [
    ("bedrock_prices", {**KEY, "region": "us-east1", "input_usd_per_mtok": 1, "output_usd_per_mtok": 5}),
    ("bedrock_discounts", {"region": "eu-west1", "percent_off": 10}),
    ("provisioned_prices", {"model": M, "region": "useast-1", "term": "none", "usd_per_model_unit_hour": 20}),
])
def test_a_mistyped_region_in_a_user_row_is_an_error_naming_the_real_ones(tmp_path, section, row):
    """A row under a region no request can have would never match, and its traffic would silently price at
    the `*` row: refused with the closest real regions."""
    with pytest.raises(CatalogError, match=r"unknown AWS region '.*'; closest real regions: (us-east-1|eu-west-1)"):
        make_catalog(tmp_path, {section: [{**row, **SRC}]})


def test_region_patterns_and_star_stay_allowed(tmp_path):
    cat = make_catalog(tmp_path, {"bedrock_discounts": [{"region": "eu-*", "percent_off": 10, **SRC}],
                                  "bedrock_prices": [{**KEY, "region": "eu-west-1", "input_usd_per_mtok": 3,
                                                      "output_usd_per_mtok": 12, **SRC}]})
    assert cat.price(M, "in-region", "eu-west-1", "standard").input_usd_per_mtok == pytest.approx(2.7)
