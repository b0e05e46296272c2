"""OpenAI-style usage, LiteLLM spend logs, Bedrock batch output, CUR parsing: the cached-token subtraction
that tools get wrong, tiers, error records, units and usage types."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from inferplan.catalog.usage_types import parse_usage_type
from inferplan.errors import InputError
from inferplan.readers import ReadOptions, read_workload
from inferplan.readers.cur import read_cur
from inferplan.workload import Defaults

FIX = Path(__file__).parent / "fixtures" / "readers"


def _rows(w):
    return {r["request_id"]: r for r in w.table.to_pyarrow().to_pylist()}


def test_openai_prompt_tokens_include_cached(catalog):
    w = read_workload([FIX / "openai_usage.jsonl"], catalog)
    rows = _rows(w)
    assert set(rows) == {"chatcmpl-1", "chatcmpl-2", "chatcmpl-3"}
    r = rows["chatcmpl-1"]  # 1000 prompt tokens of which 800 cached: 200 plain input
    assert (r["input_tokens"], r["cache_read_tokens"], r["output_tokens"]) == (200, 800, 50)
    assert r["scope"] == "us" and r["call_type"] == "rag-answer" and r["tier"] == "standard"
    r = rows["chatcmpl-2"]  # 300 prompt tokens of which 100 cache writes
    assert (r["input_tokens"], r["cache_write_5m_tokens"], r["tier"], r["call_type"]) == (200, 100, "flex", "triage")
    assert rows["chatcmpl-3"]["tier"] == "batch" and rows["chatcmpl-3"]["input_tokens"] == 40
    assert any("1 error record" in n for n in w.notes)


def test_openai_cached_more_than_prompt_reads_prompt_as_uncached(catalog, tmp_path):
    """prompt_tokens below the reads cannot include them: it is the uncached part (noted), not a bad record."""
    f = tmp_path / "u.jsonl"
    f.write_text('{"id":"a","created":1767603600,"model":"amazon.nova-pro-v1:0","usage":{"prompt_tokens":10,'
                 '"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":20}}}\n')
    w = read_workload([f], catalog)
    r = _rows(w)["a"]
    assert (r["input_tokens"], r["cache_read_tokens"]) == (10, 20)
    assert any("the uncached part" in n and "1 record(s)" in n for n in w.notes)


def test_litellm_spend_logs(catalog):
    w = read_workload([FIX / "litellm_spend.csv"], catalog)
    rows = _rows(w)
    assert set(rows) == {"req-1", "req-2"}  # failure and LiteLLM cache hit left out
    r = rows["req-1"]  # 1000 prompt = 600 cache read + 200 cache write + 200 plain
    assert (r["input_tokens"], r["cache_read_tokens"], r["cache_write_5m_tokens"], r["output_tokens"]) == \
        (200, 600, 200, 100)
    assert r["call_type"] == "support-bot" and dict(r["tags"])["team"] == "team-a"
    assert r["latency_ms"] == pytest.approx(1500)
    assert rows["req-2"]["call_type"] == "triage" and rows["req-2"]["input_tokens"] == 400
    assert any("failed" in n for n in w.notes) and any("cache hit" in n for n in w.notes)



def test_litellm_region_from_a_bedrock_api_base(catalog, tmp_path):
    """LiteLLM logs the endpoint it called: a Bedrock host names the region (priced there, no default note);
    a row without one takes --region and is counted in the defaults note."""
    import json

    from inferplan.attribution import totals
    from inferplan.pricing import price_workload

    base = json.loads((FIX / "gateway_cache" / "litellm_spend_cache.jsonl").read_text().splitlines()[0])
    rows = []
    for i, api_base in enumerate(["https://bedrock-runtime.eu-west-1.amazonaws.com/model/x/converse",
                                  "https://bedrock-runtime-fips.us-east-2.amazonaws.com", "",
                                  "https://api.openai.com/v1",
                                  "https://vpce-0a1b2c3d-4e5f.bedrock-runtime.ap-northeast-1.vpce.amazonaws.com"]):
        rows.append(json.dumps({**base, "request_id": f"r{i}", "api_base": api_base,
                                "model": "bedrock/anthropic.claude-haiku-4-5-20251001-v1:0"}))
    f = tmp_path / "spend.jsonl"
    f.write_text("\n".join(rows) + "\n")
    w = read_workload([f], catalog, options=ReadOptions(defaults=Defaults(region="us-west-2")))
    got = {r["request_id"]: r["region"] for r in w.table.to_pyarrow().to_pylist()}
    assert got == {"r0": "eu-west-1", "r1": "us-east-2", "r2": "us-west-2", "r3": "us-west-2", "r4": "ap-northeast-1"}
    assert any("region us-west-2 assumed for 2 of 5 requests" in n for n in w.notes), w.notes
    bill = {r["request_id"]: r for r in price_workload(w, catalog).table.to_pyarrow().to_pylist()}
    for rid, region in got.items():
        p = catalog.price("anthropic.claude-haiku-4-5-20251001-v1:0", "in-region", region, "standard")
        assert bill[rid]["input_usd"] == pytest.approx(bill[rid]["input_tokens"] * p.input_usd_per_mtok / 1e6)
    assert totals(price_workload(w, catalog)).requests == 5

def test_bedrock_batch_output(catalog):
    opts = ReadOptions(defaults=Defaults(model="claude-haiku-4.5"))
    w = read_workload([FIX / "batch" / "job-1"], catalog, options=opts)
    rows = _rows(w)
    assert set(rows) == {"rec1", "rec2"}
    assert all(r["tier"] == "batch" and r["interactive"] is False for r in rows.values())
    assert rows["rec1"]["input_tokens"] == 120 and rows["rec2"]["output_tokens"] == 20
    assert any("1 error record" in n for n in w.notes)
    assert not any("record files missing" in n for n in w.notes)  # manifest totals match


def test_batch_without_model_asks_for_one(catalog):
    with pytest.raises(InputError, match="--model"):
        read_workload([FIX / "batch" / "job-1"], catalog)


@pytest.mark.parametrize(("usage_type", "expected"), [
    ("USE1-NovaPro-cache-read-input-token-count", ("us-east-1", "NovaPro", "cache_read", "standard", "in-region")),
    ("USE1-NovaMicro-output-tokens-batch", ("us-east-1", "NovaMicro", "output", "batch", "in-region")),
    ("USE1-Nova2.0Lite-input-tokens-flex", ("us-east-1", "Nova2.0Lite", "input", "flex", "in-region")),
    ("USE1-Claude4Sonnet-cache-read-input-token-count-cross-region-global",
     ("us-east-1", "Claude4Sonnet", "cache_read", "standard", "global")),
    ("EUC1-NovaPro-input-tokens-cross-region", ("eu-central-1", "NovaPro", "input", "standard", "eu")),
    ("USE1-Claude4.5Haiku-cache-write-1h-input-token-count", ("us-east-1", "Claude4.5Haiku", "cache_write_1h",
                                                              "standard", "in-region")),
])
def test_usage_types(usage_type, expected):
    ut = parse_usage_type(usage_type)
    assert (ut.region, ut.billing_name, ut.kind, ut.tier, ut.scope) == expected


def test_marketplace_usage_type():
    ut = parse_usage_type("USE1-MP:USE1_CacheWrite1hInputTokenCount_Global-Units", "Claude Sonnet 4.5")
    assert (ut.kind, ut.scope, ut.billing_name) == ("cache_write_1h", "global", "Claude Sonnet 4.5")
    assert parse_usage_type("USE1-ProvisionedThroughput-ModelUnits") is None


def test_cur_sample(catalog):
    cur = read_cur([FIX / "cur_sample.csv"], catalog)
    rows = {(r["model"], r["token_kind"], r["tier"], r["scope"]): r for r in cur.table.to_pylist()}
    nova = rows[("amazon.nova-pro-v1:0", "input", "standard", "in-region")]
    assert nova["tokens"] == 1_000_000 and nova["cost_usd"] == pytest.approx(0.8) and nova["day"] == date(2026, 1, 5)
    assert rows[("amazon.nova-micro-v1:0", "output", "batch", "in-region")]["tokens"] == 2_000_000  # 1M units
    assert ("amazon.nova-2-lite-v1:0", "input", "flex", "in-region") in rows
    assert rows[("amazon.nova-pro-v1:0", "cache_read", "standard", "eu")]["region"] == "eu-central-1"
    assert any("ProvisionedThroughput" in n for n in cur.notes)


def test_cur_unknown_billing_name(catalog, tmp_path):
    f = tmp_path / "cur.csv"
    text = (FIX / "cur_sample.csv").read_text().replace("USE1-NovaPro-input-tokens,", "USE1-AcmeLM9-input-tokens,")
    f.write_text(text)
    with pytest.raises(InputError, match="AcmeLM9.*billing_names"):
        read_cur([f], catalog)
    assert read_cur([f], catalog, on_error="skip").skipped == {"cur unknown billing name AcmeLM9": 1}


def test_cur_refused_by_analyze(catalog):
    with pytest.raises(InputError, match="reconcile"):
        read_workload([FIX / "cur_sample.csv"], catalog)


def test_batch_model_from_records_and_dates_from_the_job(catalog):
    """The Anthropic job: model from `modelOutput.model` (mapped to the Bedrock id); the Nova job: model from
    the job description (Nova bodies carry none); both dated at the job's endTime; no --model needed."""
    w = read_workload([FIX / "batch" / "out", FIX / "batch" / "jobs.json"], catalog)
    rows = _rows(w)
    assert {k: (r["model"], r["ts"].isoformat()) for k, r in rows.items()} == {
        "CALL0000001": ("anthropic.claude-haiku-4-5-20251001-v1:0", "2026-01-06T01:12:39.880000+00:00"),
        "CALL0000002": ("anthropic.claude-haiku-4-5-20251001-v1:0", "2026-01-06T01:12:39.880000+00:00"),
        "NOVA0000001": ("amazon.nova-pro-v1:0", "2026-01-07T04:30:00+00:00")}
    assert rows["NOVA0000001"]["input_tokens"] == 60 and rows["CALL0000001"]["output_tokens"] == 40
    assert any("the job's endTime (2 file(s))" in n for n in w.notes), w.notes
    assert not any("record files missing" in n for n in w.notes)


def test_batch_model_from_records_without_job(catalog):
    """Without the job description the Anthropic records still name their model; the Nova ones need --model."""
    w = read_workload([FIX / "batch" / "out" / "k1t2v3w4x5y6"], catalog)
    assert {r["model"] for r in _rows(w).values()} == {"anthropic.claude-haiku-4-5-20251001-v1:0"}
    assert any("modification time" in n for n in w.notes)
    with pytest.raises(InputError, match="--model"):
        read_workload([FIX / "batch" / "out" / "n0v4j0b00001"], catalog)


def test_openai_usage_first_record_cut_short_is_one_bad_line(catalog, tmp_path):
    """A JSON-lines file whose first record is cut short is still JSON lines (the next line is a record of its
    own), so the bad record is named by line, or skipped and counted: not "not one JSON document"."""
    lines = (FIX / "openai_usage.jsonl").read_text().splitlines()
    f = tmp_path / "usage.jsonl"
    cut = lines[0][: lines[0].index('"object":') + len('"object":')]  # ends like an unfinished document
    f.write_text("\n".join([cut, *lines[1:]]) + "\n")
    with pytest.raises(InputError, match=rf"{f.name}: line 1: "):
        read_workload([f], catalog, "openai-usage")
    w = read_workload([f], catalog, "openai-usage", ReadOptions(on_error="skip"))
    assert sum(w.skipped.values()) == 1 and w.count() == 2
