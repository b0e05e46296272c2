"""Catalog coverage: the models a 2026 Bedrock user calls are priced (or recognised) in commercial regions.

Hand-computed costs on real log shapes (a Bedrock invocation log record as AWS writes it), embeddings per input
token, batch rows (derived ones say so), non-token models recognised, bedrock-mantle ids resolved.
"""

from __future__ import annotations

import json

import pytest

from inferplan.errors import MissingPriceError, UnknownModelError
from inferplan.pricing import price_workload
from inferplan.readers import read_workload
from tests.helpers import rows_table

HAIKU3 = "anthropic.claude-3-haiku-20240307-v1:0"
SONNET3 = "anthropic.claude-3-sonnet-20240229-v1:0"


def _log(tmp_path, model_id: str, inp: int, out: int, region: str = "us-east-1"):
    """One Bedrock model invocation log record (shape of tests/fixtures/readers/bedrock/invocations.jsonl)."""
    rec = {"schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": "2026-11-05T09:00:00Z",
           "accountId": "123456789012", "identity": {"arn": "arn:aws:sts::123456789012:assumed-role/App/s1"},
           "region": region, "requestId": "r1", "operation": "Converse", "modelId": model_id,
           "input": {"inputContentType": "application/json", "inputTokenCount": inp},
           "output": {"outputContentType": "application/json", "outputTokenCount": out}}
    f = tmp_path / "logs.jsonl"
    f.write_text(json.dumps(rec) + "\n")
    return f


def _total(catalog, path) -> float:
    bill = price_workload(read_workload([path], catalog), catalog)
    return float(bill.table.to_pyarrow()["total_usd"].to_pylist()[0])


@pytest.mark.parametrize(("model_id", "usd"), [
    # Claude 3 Haiku $0.25 / $1.25 per Mtok: 1,200 in + 300 out = 0.0003 + 0.000375
    (HAIKU3, 0.000675),
    (f"us.{HAIKU3}", 0.000675),  # a cross-region profile costs the source region's price
    # Claude 3 Sonnet $3 / $15: 0.0036 + 0.0045
    (SONNET3, 0.0081),
    (f"eu.{SONNET3}", 0.0081),
    # Command R $0.50 / $1.50: 0.0006 + 0.00045; Command R+ $3 / $15
    ("cohere.command-r-v1:0", 0.00105),
    ("cohere.command-r-plus-v1:0", 0.0081),
])
def test_commercial_log_lines_price_to_the_cent(catalog, tmp_path, model_id, usd):
    assert _total(catalog, _log(tmp_path, model_id, 1200, 300)) == pytest.approx(usd, abs=1e-12)


@pytest.mark.parametrize(("model", "usd_per_mtok"), [
    ("amazon.titan-embed-text-v1", 0.10), ("amazon.titan-embed-text-v2:0", 0.02),
    ("cohere.embed-english-v3", 0.10), ("cohere.embed-multilingual-v3", 0.10), ("cohere.embed-v4:0", 0.12),
])
def test_embeddings_price_per_input_token(catalog, model, usd_per_mtok):
    rows = [{"model": model, "input_tokens": 25_000, "region": "us-east-1"}]
    bill = price_workload(rows_table(rows, catalog), catalog).table.to_pyarrow().to_pylist()[0]
    assert bill["total_usd"] == pytest.approx(25_000 * usd_per_mtok / 1e6, abs=1e-15)
    assert bill["input_usd"] == bill["total_usd"]


@pytest.mark.parametrize(("model", "scope"), [
    ("anthropic.claude-sonnet-4-6", "global"), ("anthropic.claude-sonnet-4-6", "us"),
    ("anthropic.claude-sonnet-4-6", "in-region"), ("anthropic.claude-opus-4-5-20251101-v1:0", "global"),
    ("anthropic.claude-opus-4-6-v1", "us"), ("meta.llama3-1-405b-instruct-v1:0", "in-region"),
    (HAIKU3, "in-region"), (SONNET3, "us"),
])
def test_batch_rows_at_half_the_standard_price(catalog, model, scope):
    std = catalog.price(model, scope, "us-east-1", "standard")
    batch = catalog.price(model, scope, "us-east-1", "batch")
    assert batch.input_usd_per_mtok == pytest.approx(std.input_usd_per_mtok / 2)
    assert batch.output_usd_per_mtok == pytest.approx(std.output_usd_per_mtok / 2)
    assert "derived" in batch.source and "50%" in batch.source


def test_long_context_batch_rows(catalog):
    std = catalog.price("anthropic.claude-sonnet-4-5-20250929-v1:0", "global", "us-east-1", "standard")
    batch = catalog.price("anthropic.claude-sonnet-4-5-20250929-v1:0", "global", "us-east-1", "batch")
    assert std.lc_threshold_tokens and batch.lc_threshold_tokens == std.lc_threshold_tokens
    assert batch.lc_input_usd_per_mtok == pytest.approx(std.lc_input_usd_per_mtok / 2)
    assert batch.lc_output_usd_per_mtok == pytest.approx(std.lc_output_usd_per_mtok / 2)


def test_flex_rows_where_litellm_publishes_them(catalog):
    flex = {p.model for p in catalog.bedrock_prices if p.tier == "flex"}
    assert {"amazon.nova-2-lite-v1:0", "xai.grok-4.6", "google.gemma-4-31b"} <= flex


def test_nova_2_in_region_costs_the_geographic_price(catalog):
    # Price List: USE1-Nova2.0Lite-input-tokens $0.33 vs -cross-region-global $0.30
    assert catalog.price("amazon.nova-2-lite-v1:0", "in-region", "us-east-1", "standard").input_usd_per_mtok == 0.33
    pro_in = catalog.price("amazon.nova-2-pro-preview-20251202-v1:0", "in-region", "us-east-1", "standard")
    pro_us = catalog.price("amazon.nova-2-pro-preview-20251202-v1:0", "us", "us-east-1", "standard")
    assert pro_in.input_usd_per_mtok == pro_us.input_usd_per_mtok == pytest.approx(1.375)
    assert "derived" in pro_in.source


@pytest.mark.parametrize(("model_id", "unit"), [
    ("amazon.nova-canvas-v1:0", "image"), ("us.amazon.nova-canvas-v1:0", "image"),
    ("amazon.titan-image-generator-v2:0", "image"), ("stability.stable-image-core-v1:1", "image"),
    ("amazon.nova-reel-v1:1", "second"), ("luma.ray-v2:0", "second"), ("twelvelabs.pegasus-1-2-v1:0", "second"),
    ("amazon.nova-sonic-v1:0", "speech"), ("amazon.nova-2-sonic-v1:0", "speech"),
])
def test_non_token_models_are_recognised(catalog, model_id, unit):
    model = catalog.resolve_model(model_id).model
    assert catalog.bedrock_models[model].billing_unit == unit
    assert not [p for p in catalog.bedrock_prices if p.model == model]  # never a made-up per-token price


def test_nova_canvas_request_is_not_an_unknown_model(catalog, tmp_path):
    wl = read_workload([_log(tmp_path, "amazon.nova-canvas-v1:0", 40, 0)], catalog)
    try:
        bill = price_workload(wl, catalog)
        totals = bill.table.to_pyarrow()["total_usd"].to_pylist()
    except UnknownModelError:  # pragma: no cover - the failure this test guards against
        pytest.fail("Nova Canvas read as an unknown model")
    except MissingPriceError as exc:  # before the pricing engine reports non-token models
        assert "nova-canvas" in str(exc)
        return
    assert any("not token-priced" in n for n in bill.notes) and totals in ([0.0], [None], [])


@pytest.mark.parametrize(("mantle_id", "model"), [
    ("qwen.qwen3-32b", "qwen.qwen3-32b-v1:0"), ("openai.gpt-oss-120b", "openai.gpt-oss-120b-1:0"),
    ("anthropic.claude-haiku-4-5", "anthropic.claude-haiku-4-5-20251001-v1:0"),
    ("deepseek.v3.1", "deepseek.v3-v1:0"), ("google.gemma-4-31b", "google.gemma-4-31b"),
    ("xai.grok-4.3", "xai.grok-4.3"),
])
def test_bedrock_mantle_ids_resolve(catalog, mantle_id, model):
    assert catalog.resolve_model(mantle_id).model == model


def test_newest_generations_priced_in_commercial_regions(catalog):
    for model in ("anthropic.claude-opus-5-5", "anthropic.claude-sonnet-5-5", "anthropic.claude-haiku-5-5",
                  "amazon.nova-2-lite-v1:0", "amazon.nova-premier-v1:0", "meta.llama4-maverick-17b-instruct-v1:0",
                  "meta.llama3-3-70b-instruct-v1:0", HAIKU3, SONNET3):
        scopes = {(p.scope, p.region) for p in catalog.bedrock_prices if p.model == model and p.tier == "standard"}
        assert any(not r.startswith("us-gov") for _s, r in scopes), model


def test_a10g_is_not_the_a10(catalog):
    a10g = catalog.accelerator("a10g")
    assert (a10g.bf16_tflops, a10g.fp16_tflops, a10g.int8_tops) == (70, 70, 140)  # A10 datasheet: 125 / 125 / 250
    assert "A10G" in a10g.source and "baseten" in a10g.source


@pytest.mark.parametrize("family", ["g5", "g6", "g6e"])
def test_sagemaker_xlarge_prices_are_published_not_ec2_x_1_25(catalog, family):
    ml = catalog.sagemaker_instances[f"ml.{family}.xlarge"]
    ratio = ml.usd_per_hour / catalog.ec2(f"{family}.xlarge").on_demand_usd_per_hour
    assert ratio == pytest.approx(1.40, abs=0.005) and not ml.source.startswith("ESTIMATE")


@pytest.mark.parametrize("family", ["p4d.24xlarge", "p5.48xlarge"])
def test_sagemaker_p_family_after_the_2025_price_cut(catalog, family):
    ml = catalog.sagemaker_instances[f"ml.{family}"]
    assert ml.usd_per_hour / catalog.ec2(family).on_demand_usd_per_hour == pytest.approx(1.15, abs=1e-3)
    assert "June 2025" in ml.source
