"""Catalog loading, id resolution, user overrides, staleness and validation errors."""

from __future__ import annotations

from datetime import date

import pytest

from inferplan.catalog import STALE_AFTER_DAYS, load_catalog
from inferplan.errors import CatalogError, UnknownItemError, UnknownModelError
from tests.helpers import SRC, make_catalog

SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"


@pytest.mark.parametrize(("ident", "scope"), [
    (SONNET, "in-region"),
    (f"us.{SONNET}", "us"),
    (f"eu.{SONNET}", "eu"),
    (f"apac.{SONNET}", "apac"),
    (f"global.{SONNET}", "global"),
    ("claude-sonnet-4.5", "in-region"),
    ("anthropic.claude-sonnet-4-5-20250929-v1", "in-region"),  # version suffix missing
    (f"arn:aws:bedrock:us-east-1::foundation-model/{SONNET}", "in-region"),
    (f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.{SONNET}", "global"),
])
def test_resolve_prefix_forms(catalog, ident, scope):
    r = catalog.resolve_model(ident)
    assert r.model == SONNET and r.scope == scope


def test_application_profile_arn_needs_mapping(tmp_path, catalog):
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"
    with pytest.raises(UnknownModelError, match="profile_arns"):
        catalog.resolve_model(arn)
    cat = make_catalog(tmp_path, {"profile_arns": [{"arn": arn, "model": "tcl", "scope": "us", **SRC}]})
    r = cat.resolve_model(arn)
    assert (r.model, r.scope) == ("test.claude-like-v1:0", "us")


def test_unknown_id_lists_closest(catalog):
    with pytest.raises(UnknownModelError) as e:
        catalog.resolve_model("anthropic.claude-sonet-4-5-20250929-v1:0")
    assert SONNET in str(e.value) and "bedrock_models" in str(e.value)


def test_packaged_catalog_coverage(catalog):
    providers = {m.provider for m in catalog.bedrock_models.values()}
    assert {"anthropic", "amazon", "meta", "mistral", "openai", "qwen", "deepseek"} <= providers
    assert len(catalog.bedrock_models) >= 30
    scopes = {p.scope for p in catalog.bedrock_prices}
    assert {"global", "us", "eu", "apac", "in-region"} <= scopes
    assert len(catalog.ec2_instances) >= 25 and len(catalog.sagemaker_instances) >= 12
    assert len(catalog.model_specs) >= 15
    for key in ("h100", "h200", "a100-40gb", "a100-80gb", "a10g", "l4", "l40s", "t4", "inferentia2",
                "trainium1", "graviton3", "graviton4"):
        assert catalog.accelerator(key).memory_bandwidth_gbps > 0
    # every row carries provenance
    for table in catalog.tables.values():
        for row in table:
            assert row.source and row.checked


def test_in_region_us_east_1_costs_the_geo_rate_for_global_models(catalog):
    g = catalog.price(SONNET, "global", "us-east-1", "standard")
    r = catalog.price(SONNET, "in-region", "us-east-1", "standard")
    us = catalog.price(SONNET, "us", "us-east-1", "standard")
    assert r.input_usd_per_mtok == us.input_usd_per_mtok == pytest.approx(g.input_usd_per_mtok * 1.1)


def test_user_file_overrides_and_adds(tmp_path):
    cat = make_catalog(tmp_path, {"bedrock_prices": [
        {"model": SONNET, "scope": "global", "region": "*", "tier": "standard", "input_usd_per_mtok": 2.0,
         "output_usd_per_mtok": 10.0, **SRC}]})
    p = cat.price(SONNET, "global", "us-east-1", "standard")
    assert p.input_usd_per_mtok == 2.0 and p.source.startswith("hand-built test row: input_usd_per_mtok")
    assert p.lc_input_usd_per_mtok == 6  # merged field by field: the packaged long-context price is kept
    assert cat.resolve_model("tcl").model == "test.claude-like-v1:0"


@pytest.mark.parametrize(("doc", "match"), [
    ("bedrock_pricez: []", "unknown table"),
    ("bedrock_models: [{model: x, provider: p, name: n, source: s, checked: 2026-01-01, colour: red}]",
     "colour"),
    ("bedrock_prices: [{model: nope, scope: global, tier: standard, source: s, checked: 2026-01-01}]",
     "no bedrock_models row"),
    ("bedrock_prices: [{model: test.claude-like-v1:0, scope: mars, tier: standard, source: s, "
     "checked: 2026-01-01}]", "scope"),
    ("ec2_instances: [{instance: x.large, family: x, vcpu: 2, memory_gib: 4, on_demand_usd_per_hour: -1, "
     "source: s, checked: 2026-01-01}]", "on_demand_usd_per_hour"),
    ("[1, 2]", "mapping"),
    ("a: [", "not valid YAML"),
])
def test_user_file_errors(tmp_path, doc, match):
    path = tmp_path / "bad.yaml"
    path.write_text(doc)
    with pytest.raises(CatalogError, match=match):
        load_catalog(path, warn_stale=False)


def test_staleness(catalog):
    assert catalog.staleness_warning(today=catalog.checked) is None
    later = date.fromordinal(catalog.checked.toordinal() + STALE_AFTER_DAYS + 1)
    assert "days ago" in catalog.staleness_warning(today=later)


def test_hardware_lookups(catalog):
    inst = catalog.ec2("p5.48xlarge")
    assert inst.accelerator == "h100" and inst.accelerator_count == 8
    assert catalog.model_spec("llama-3.1-8b").layers == 32
    assert catalog.model_spec("llama-3.3-70b").kv_heads == 8
    with pytest.raises(UnknownItemError, match="closest"):
        catalog.ec2("p5.48xlarg")


def test_billing_unit_defaults_to_token_and_is_checked(tmp_path, catalog):
    assert {m.billing_unit for m in catalog.bedrock_models.values()} >= {"token"}
    assert catalog.bedrock_models[SONNET].billing_unit == "token"
    bad = {"model": "x.painter-v1", "provider": "x", "name": "Painter", "billing_unit": "pixel", **SRC}
    with pytest.raises(CatalogError, match="billing_unit"):
        make_catalog(tmp_path, {"bedrock_models": [bad]})
    ok = make_catalog(tmp_path, {"bedrock_models": [{**bad, "billing_unit": "image"}]})
    assert ok.bedrock_models["x.painter-v1"].billing_unit == "image"


def test_age_check_reads_the_rows_used_and_names_the_stale_ones(tmp_path):
    cat = make_catalog(tmp_path, {"bedrock_prices": [
        {"model": "test.nova-like-v1:0", "scope": "in-region", "region": "*", "tier": "standard",
         "input_usd_per_mtok": 0.8, "output_usd_per_mtok": 3.2, "source": "old quote", "checked": "2026-01-01"}]})
    nova = cat.price("test.nova-like-v1:0", "in-region", "us-east-1", "standard")
    claude = cat.price("test.claude-like-v1:0", "in-region", "us-east-1", "standard")
    day = date(2026, 4, 15)  # claude row checked 2026-11-01 (fresh), nova 2026-01-01 (104 days old)
    assert cat.checked_of([claude, nova]) == date(2026, 1, 1)
    assert cat.staleness_warning(today=day, rows=[claude]) is None  # a bill that used only fresh rows
    msg = cat.staleness_warning(today=day, rows=[claude, nova])
    assert msg.startswith("1 price row(s) used are over 90 days old: test.nova-like-v1:0 in-region/*/standard "
                          "checked 2026-01-01") and "prices update" in msg
    assert cat.age_days(today=day, rows=[claude, nova]) == 104
