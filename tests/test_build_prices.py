"""scripts/build_bedrock_prices.py on a tiny litellm-shaped map: mantle aliases, non-token models, embeddings,
derived batch rows, the Nova 2 in-region repricing, and the supplement."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "build_bedrock_prices.py"


@pytest.fixture(scope="module")
def build():
    spec = importlib.util.spec_from_file_location("build_bedrock_prices", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def _chat(inp, out, provider="bedrock", **kw):
    return {"litellm_provider": provider, "mode": "chat", "input_cost_per_token": inp, "output_cost_per_token": out,
            **kw}


MAP = {
    "qwen.qwen3-32b-v1:0": _chat(1.5e-7, 6e-7),
    "bedrock_mantle/qwen.qwen3-32b": _chat(1.5e-7, 6e-7, "bedrock_mantle", input_cost_per_token_flex=7.5e-8,
                                           output_cost_per_token_flex=3e-7),
    "bedrock_mantle/google.gemma-4-31b": _chat(1.4e-7, 4e-7, "bedrock_mantle"),
    "amazon.nova-canvas-v1:0": {"litellm_provider": "bedrock", "mode": "image_generation",
                                "output_cost_per_image": 0.06},
    "amazon.nova-2-sonic-v1:0": {"litellm_provider": "bedrock", "mode": "realtime", "input_cost_per_token": 3.3e-7,
                                 "output_cost_per_token": 2.75e-6, "input_cost_per_audio_token": 3e-6},
    "twelvelabs.pegasus-1-2-v1:0": {"litellm_provider": "bedrock", "mode": "chat", "output_cost_per_token": 7.5e-6,
                                    "input_cost_per_video_per_second": 0.00049},
    "amazon.titan-embed-text-v2:0": {"litellm_provider": "bedrock", "mode": "embedding",
                                     "input_cost_per_token": 2e-8, "output_cost_per_token": 0.0},
    "meta.llama3-1-405b-instruct-v1:0": _chat(2.4e-6, 2.4e-6),
    "amazon.nova-2-pro-preview-20251202-v1:0": _chat(1.25e-6, 1e-5),
    "us.amazon.nova-2-pro-preview-20251202-v1:0": _chat(1.375e-6, 1.1e-5),
}


@pytest.fixture(scope="module")
def built(build):
    prices, models = build.build(MAP, "0.0-test", "2026-01-01")
    return ({(r["model"], r["scope"], r["region"], r["tier"]): r for r in prices},
            {m["model"]: m for m in models})


def test_mantle_id_of_a_runtime_model_is_an_alias(built):
    prices, models = built
    assert "qwen.qwen3-32b" in models["qwen.qwen3-32b-v1:0"]["aliases"] and "qwen.qwen3-32b" not in models
    assert ("qwen.qwen3-32b", "in-region", "*", "flex") not in prices
    assert prices[("google.gemma-4-31b", "in-region", "*", "standard")]["input_usd_per_mtok"] == 0.14


@pytest.mark.parametrize(("model", "unit"), [("amazon.nova-canvas-v1:0", "image"),
                                             ("amazon.nova-2-sonic-v1:0", "speech"),
                                             ("twelvelabs.pegasus-1-2-v1:0", "second"),
                                             ("amazon.nova-reel-v1:1", "second")])
def test_non_token_models_have_a_unit_and_no_price(built, model, unit):
    prices, models = built
    assert models[model]["billing_unit"] == unit
    assert not [k for k in prices if k[0] == model]


def test_embeddings_are_token_priced(built):
    prices, models = built
    row = prices[("amazon.titan-embed-text-v2:0", "in-region", "*", "standard")]
    assert (row["input_usd_per_mtok"], row["output_usd_per_mtok"]) == (0.02, 0.0)
    assert models["amazon.titan-embed-text-v2:0"]["billing_names"] == ["TitanEmbeddingV2-Text"]


def test_derived_batch_and_nova_2_in_region(built):
    prices, _ = built
    b = prices[("meta.llama3-1-405b-instruct-v1:0", "in-region", "*", "batch")]
    assert (b["input_usd_per_mtok"], b["output_usd_per_mtok"]) == (1.2, 1.2) and b["source"].startswith("derived")
    pro = prices[("amazon.nova-2-pro-preview-20251202-v1:0", "in-region", "*", "standard")]
    assert pro["input_usd_per_mtok"] == 1.375 and "derived" in pro["source"]


def test_supplement_rows_exist_without_litellm_keys(built):
    prices, models = built
    h = prices[("anthropic.claude-3-haiku-20240307-v1:0", "us", "*", "standard")]
    assert (h["input_usd_per_mtok"], h["output_usd_per_mtok"]) == (0.25, 1.25) and "derived" in h["source"]
    assert prices[("cohere.command-r-plus-v1:0", "in-region", "*", "standard")]["output_usd_per_mtok"] == 15.0
    assert models["anthropic.claude-3-sonnet-20240229-v1:0"]["billing_names"] == ["Claude3Sonnet"]
    assert all(r["source"] and r["checked"] for r in prices.values())
