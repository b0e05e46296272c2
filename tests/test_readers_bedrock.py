"""Bedrock invocation logs: realistic records (Converse, InvokeModel, streams, cache, 1-hour writes,
cross-region, ARN, flex, errors), pretty-printed files, gzip, S3, and malformed input."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from inferplan.errors import InputError, UnknownModelError
from inferplan.readers import ReadOptions, read_workload

FIX = Path(__file__).parent / "fixtures" / "readers" / "bedrock"


def _rows(w):
    return {r["request_id"]: r for r in w.table.to_pyarrow().to_pylist()}


def test_fixture_records(catalog):
    w = read_workload([FIX / "invocations.jsonl"], catalog)
    rows = _rows(w)
    assert set(rows) == {"r1", "r2", "r3", "r4"}  # r5 is an error record
    assert any("ThrottlingException x1" in n for n in w.notes)
    r1 = rows["r1"]
    assert (r1["input_tokens"], r1["cache_read_tokens"], r1["cache_write_5m_tokens"], r1["output_tokens"]) == \
        (100, 4000, 0, 20)
    assert r1["scope"] == "us" and r1["region"] == "us-east-1" and r1["call_type"] == "rag-answer"
    tags = dict(r1["tags"])
    assert tags["inference_region"] == "us-west-2" and tags["team"] == "search"
    assert tags["iam_principal"].endswith("assumed-role/SearchApp/s1")
    assert r1["latency_ms"] == 850
    assert len(r1["prefix"]) == 3 and sum(s["tokens"] for s in r1["prefix"]) == 4100
    r2 = rows["r2"]
    assert r2["call_type"] == "ticket-triage"  # from `feature`
    assert (r2["cache_write_5m_tokens"], r2["cache_write_1h_tokens"]) == (3000, 2000)
    assert r2["scope"] == "in-region" and len(r2["prefix"]) == 2
    r3 = rows["r3"]  # ConverseStream via a system inference profile ARN, 1-hour write in the stream metadata
    assert r3["scope"] == "global" and (r3["cache_write_5m_tokens"], r3["cache_write_1h_tokens"]) == (0, 1000)
    assert r3["latency_ms"] == 400 and r3["prefix"] is None
    r4 = rows["r4"]
    assert r4["tier"] == "flex" and r4["call_type"] == "untagged"
    assert rows["r1"]["tier"] == "standard"


def test_call_type_key_option(catalog):
    w = read_workload([FIX / "invocations.jsonl"], catalog, options=ReadOptions(call_type_key="team"))
    assert _rows(w)["r1"]["call_type"] == "search" and _rows(w)["r2"]["call_type"] == "untagged"


def test_pretty_printed_and_gzip_tree(catalog, tmp_path):
    tree = tmp_path / "AWSLogs" / "123456789012" / "BedrockModelInvocationLogs" / "us-east-1" / "2026" / "01" / "05"
    tree.mkdir(parents=True)
    with gzip.open(tree / "a.json.gz", "wb") as fh:
        fh.write((FIX / "invocations.jsonl").read_bytes())
    shutil.copy(FIX / "pretty_one_record.json", tree / "b.json")
    w = read_workload([tmp_path], catalog)
    rows = _rows(w)
    assert set(rows) == {"r1", "r2", "r3", "r4", "p1"}
    assert rows["p1"]["input_tokens"] == 7 and rows["p1"]["call_type"] == "single"
    assert any("format bedrock-logs" in n for n in w.notes)


def _lines() -> list[str]:
    return (FIX / "invocations.jsonl").read_text().splitlines()


@pytest.mark.parametrize(("mutate", "reason"), [
    (lambda r: r[: len(r) // 2], "invalid JSON"),
    (lambda r: r.replace('"inputTokenCount":50', '"inputTokenCount":"fifty"'), "inputTokenCount not an integer"),
    (lambda r: r.replace('"outputTokenCount":30', '"outputTokenCount":-30'), "negative token count"),
    (lambda r: r.replace('"inputTokenCount":50,', ''), "inputTokenCount missing"),
    (lambda r: r.replace('"timestamp":"2026-01-05T09:00:05Z",', ''), "timestamp missing"),
])
def test_malformed_record_named_then_skipped(catalog, tmp_path, mutate, reason):
    lines = _lines()
    lines[1] = mutate(lines[1])
    f = tmp_path / "logs.jsonl"
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=rf"logs.jsonl: line 2: {reason}"):
        read_workload([f], catalog)
    w = read_workload([f], catalog, options=ReadOptions(on_error="skip"))
    assert w.count() == 3
    assert sum(v for k, v in w.skipped.items() if reason in k) == 1


def test_unknown_model_is_a_clear_error(catalog, tmp_path):
    lines = _lines()
    lines[0] = lines[0].replace("us.anthropic.claude-haiku-4-5-20251001-v1:0", "acme.unknown-model-v9")
    f = tmp_path / "logs.jsonl"
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(UnknownModelError, match="acme.unknown-model-v9"):
        read_workload([f], catalog)


def test_application_profile_arn_needs_mapping(catalog, tmp_path):
    rec = json.loads(_lines()[3])
    rec["modelId"] = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"
    f = tmp_path / "logs.jsonl"
    f.write_text(json.dumps(rec) + "\n")
    with pytest.raises(UnknownModelError, match="profile_arns"):
        read_workload([f], catalog)


def test_s3_prefix(catalog, s3):
    """A prefix read in place (moto's S3 server on the loopback; more in test_s3_streaming.py)."""
    s3.create_bucket(Bucket="acme-bedrock-logs")
    key = "bedrock/AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/2026/01/05/09/x.json.gz"
    s3.put_object(Bucket="acme-bedrock-logs", Key=key, Body=gzip.compress((FIX / "invocations.jsonl").read_bytes()))
    s3.put_object(Bucket="acme-bedrock-logs", Key="other/ignored.json.gz", Body=b"{}")
    w = read_workload(["s3://acme-bedrock-logs/bedrock/"], catalog)
    assert w.count() == 4
    with pytest.raises(InputError, match="no objects"):
        read_workload(["s3://acme-bedrock-logs/nothing-here/"], catalog)


def test_cache_counts_from_the_body_when_the_log_has_none(catalog):
    """Logs without `cacheRead/WriteInputTokenCount` (older logs) take them from the output body's usage:
    InvokeModel (Anthropic `cache_read_input_tokens` / `cache_creation_input_tokens`, AWS Bedrock user guide,
    Anthropic Claude Messages API response), Converse (`cacheReadInputTokens` / `cacheWriteInputTokens`,
    Converse API `TokenUsage`) and streamed Anthropic chunks (`message_start.message.usage`). The metadata-only
    record is shaped like a real text-delivery-off record (no body, no cache fields)."""
    w = read_workload([FIX / "body_usage.jsonl"], catalog)
    got = {r["request_id"]: (r["input_tokens"], r["cache_read_tokens"], r["cache_write_5m_tokens"],
                             r["cache_write_1h_tokens"], r["output_tokens"]) for r in w.table.to_pyarrow().to_pylist()}
    assert got == {"invoke-body": (30, 2400, 1800, 0, 12), "converse-body": (40, 1000, 0, 0, 9),
                   "stream-body": (25, 3000, 0, 0, 7), "disagree": (10, 500, 0, 0, 3), "no-body": (1, 0, 0, 0, 8)}
    assert any("1 record(s) whose cache counts in the log" in n for n in w.notes), w.notes
