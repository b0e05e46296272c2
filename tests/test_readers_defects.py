"""Reader defects: unknown service tiers are bad records (never a silent standard), text-like metadata never
becomes a tag, out-of-range token counts are bad records with a line, invalid JSON cells in canonical CSV."""

from __future__ import annotations

import json

import pytest

from inferplan import synth, writers
from inferplan.errors import InputError
from inferplan.pricing import price_workload
from inferplan.readers import ReadOptions, read_workload

SKIP = ReadOptions(on_error="skip")


def _oa(**kw) -> str:
    rec = {"id": "a", "created": 1767603600, "model": "amazon.nova-pro-v1:0",
           "usage": {"prompt_tokens": 100, "completion_tokens": 10}}
    rec.update(kw)
    return json.dumps(rec)


def _bedrock(rid: str = "r1", tier=None, meta=None, in_tokens=100) -> str:
    body: dict = {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}
    if tier is not None:
        body["serviceTier"] = {"type": tier}
    rec = {"schemaType": "ModelInvocationLog", "timestamp": "2026-01-05T09:00:00Z", "region": "us-east-1",
           "requestId": rid, "operation": "Converse", "modelId": "amazon.nova-pro-v1:0",
           "input": {"inputBodyJson": body, "inputTokenCount": in_tokens},
           "output": {"outputBodyJson": {}, "outputTokenCount": 5},
           "requestMetadata": meta or {"call_type": "x"}}
    return json.dumps(rec)


# 1. service tiers

def test_openai_batch_service_tier_roundtrip_same_dollars(catalog, tmp_path):
    spec = {"start": "2026-01-05T00:00:00Z", "days": 1, "call_types": {
        "nightly": {"model": "amazon.nova-pro-v1:0", "per_hour": 30, "tier": "batch", "input_tokens": 800,
                    "output_tokens": 50},
        "chat": {"model": "amazon.nova-pro-v1:0", "per_hour": 30, "input_tokens": 800, "output_tokens": 50}}}
    traffic = synth.generate(spec, seed=3)
    truth = price_workload(synth.to_workload(traffic, catalog), catalog).table
    f = writers.write_openai_usage(traffic, tmp_path / "usage.jsonl")
    assert '"service_tier":"batch"' in f.read_text()
    back = price_workload(read_workload([f], catalog), catalog).table

    def by_type(t):
        g = t.group_by("call_type").aggregate(usd=t.total_usd.sum(), tier=t.tier.max()).to_pyarrow().to_pylist()
        return {r["call_type"]: (round(r["usd"], 6), r["tier"]) for r in g}

    assert by_type(back) == by_type(truth)
    assert by_type(back)["nightly"][1] == "batch"


def test_openai_unknown_service_tier_is_a_bad_record(catalog, tmp_path):
    f = tmp_path / "u.jsonl"
    f.write_text(_oa(id="a", service_tier="auto") + "\n" + _oa(id="b", service_tier="scale") + "\n")
    with pytest.raises(InputError, match=r"u.jsonl: line 2: unknown service tier 'scale'"):
        read_workload([f], catalog)
    w = read_workload([f], catalog, options=SKIP)
    assert w.skipped == {"openai usage: unknown service tier 'scale'": 1}
    rows = w.table.to_pyarrow().to_pylist()
    assert [(r["request_id"], r["tier"]) for r in rows] == [("a", "standard")]


def test_bedrock_service_tiers(catalog, tmp_path):
    f = tmp_path / "b.jsonl"
    f.write_text("\n".join([_bedrock("r1", "default"), _bedrock("r2", "flex"), _bedrock("r3", "reserved"),
                            _bedrock("r4", "priority"), _bedrock("r5")]) + "\n")
    rows = {r["request_id"]: r["tier"] for r in read_workload([f], catalog).table.to_pyarrow().to_pylist()}
    assert rows == {"r1": "standard", "r2": "flex", "r3": "provisioned", "r4": "priority", "r5": "standard"}
    f.write_text(_bedrock("r1", "default") + "\n" + _bedrock("r2", "turbo") + "\n")
    with pytest.raises(InputError, match=r"b.jsonl: line 2: unknown service tier 'turbo'"):
        read_workload([f], catalog)
    w = read_workload([f], catalog, options=SKIP)
    assert w.skipped == {"bedrock log: unknown service tier 'turbo'": 1}
    assert w.table.count().execute() == 1


# 2. no request text in tags

SECRET_META = {"call_type": "rag", "team": "search", "prompt": "SECRET-1", "systemPrompt": "SECRET-2",
               "user_input": "SECRET-3", "note": "SECRET-4" + "x" * 300}


def test_openai_metadata_text_never_reaches_summary(catalog, tmp_path):
    from typer.testing import CliRunner

    from inferplan.cli import app
    from inferplan.commands import load_all

    f = tmp_path / "u.jsonl"
    f.write_text(_oa(metadata=SECRET_META) + "\n")
    w = read_workload([f], catalog)
    tags = dict(w.table.to_pyarrow().to_pylist()[0]["tags"])
    assert tags == {"call_type": "rag", "team": "search"}
    assert "4 tag value(s) dropped: text-like keys or over 256 characters" in w.notes
    load_all()
    for key in ("prompt", "systemPrompt", "note", "team"):
        res = CliRunner().invoke(app, ["analyze", str(f), "--by-tag", key, "--json"])
        assert res.exit_code == 0, res.output
        assert "SECRET" not in res.output


def test_bedrock_request_metadata_text_dropped(catalog, tmp_path):
    f = tmp_path / "b.jsonl"
    f.write_text(_bedrock(meta=SECRET_META) + "\n")
    w = read_workload([f], catalog)
    tags = dict(w.table.to_pyarrow().to_pylist()[0]["tags"])
    assert tags["team"] == "search" and not any("SECRET" in str(v) for v in tags.values())
    assert "4 tag value(s) dropped: text-like keys or over 256 characters" in w.notes


def test_litellm_long_tag_values_dropped(catalog, tmp_path):
    rec = {"request_id": "q1", "startTime": "2026-01-05T09:00:00Z", "endTime": "2026-01-05T09:00:01Z",
           "model": "amazon.nova-pro-v1:0", "prompt_tokens": 10, "completion_tokens": 2, "spend": 0.1,
           "team_id": "t1", "end_user": "SECRET" * 60, "metadata": {"call_type": "x"}}
    f = tmp_path / "spend.jsonl"
    f.write_text(json.dumps(rec) + "\n")
    w = read_workload([f], catalog, "litellm")
    tags = dict(w.table.to_pyarrow().to_pylist()[0]["tags"])
    assert tags["team"] == "t1" and "end_user" not in tags
    assert "1 tag value(s) dropped: text-like keys or over 256 characters" in w.notes


# 3. token counts out of int64 range or not numbers: a bad record with a line, never a failed read

HUGE = ["10000000000000000000", "1e20", '"many"', "1.5", "-99999999999999999999"]


@pytest.mark.parametrize("value", HUGE)
def test_openai_token_count_out_of_range(catalog, tmp_path, value):
    good = _oa(id="a")
    f = tmp_path / "u.jsonl"
    bads = [good.replace('"completion_tokens": 10', f'"completion_tokens": {value}'),
            good.replace('"prompt_tokens": 100', f'"prompt_tokens": 100, "prompt_tokens_details": '
                         f'{{"cached_tokens": {value}}}')]
    for bad in bads:
        f.write_text(good + "\n" + bad + "\n")
        with pytest.raises(InputError, match=r"u.jsonl: line 2: .*not an integer in range"):
            read_workload([f], catalog)
        w = read_workload([f], catalog, options=SKIP)
        assert sum(w.skipped.values()) == 1 and w.table.count().execute() == 1


@pytest.mark.parametrize("value", HUGE)
def test_bedrock_token_count_out_of_range(catalog, tmp_path, value):
    good = _bedrock("r1")
    f = tmp_path / "b.jsonl"
    ob = json.dumps({"usage": {"cacheDetails": [{"ttl": "1h", "inputTokens": "@"}]}}).replace('"@"', value)
    bads = [_bedrock("r2").replace('"inputTokenCount": 100', f'"inputTokenCount": {value}'),
            _bedrock("r2").replace('"outputBodyJson": {}', f'"outputBodyJson": {ob}')]
    for bad in bads:
        f.write_text(good + "\n" + bad + "\n")
        with pytest.raises(InputError, match=r"b.jsonl: line 2: .*not an integer in range"):
            read_workload([f], catalog)
        w = read_workload([f], catalog, options=SKIP)
        assert sum(w.skipped.values()) == 1 and w.table.count().execute() == 1


# 5. LiteLLM: a token count that is not a number is "not an integer", not "missing"

def test_litellm_non_numeric_prompt_tokens(catalog, tmp_path):
    f = tmp_path / "spend.csv"
    head = "request_id,startTime,endTime,model,prompt_tokens,completion_tokens,spend\n"
    f.write_text(head + "q1,2026-01-05T09:00:00Z,2026-01-05T09:00:01Z,amazon.nova-pro-v1:0,abc,2,0.1\n")
    with pytest.raises(InputError, match=r"line 2: prompt_tokens not an integer"):
        read_workload([f], catalog, "litellm")
    f.write_text(head + "q1,2026-01-05T09:00:00Z,2026-01-05T09:00:01Z,amazon.nova-pro-v1:0,,2,0.1\n")
    with pytest.raises(InputError, match=r"line 2: prompt_tokens missing"):
        read_workload([f], catalog, "litellm")
    f.write_text(head + "q1,2026-01-05T09:00:00Z,2026-01-05T09:00:01Z,amazon.nova-pro-v1:0,1e20,2,0.1\n")
    with pytest.raises(InputError, match=r"line 2: prompt_tokens not an integer in range"):
        read_workload([f], catalog, "litellm")


# 4. canonical CSV: a prefix/tags cell that is not valid JSON is named at read time

CSV_HEAD = "ts,model,input_tokens,output_tokens,tags,prefix\n"
CSV_GOOD = '2026-01-05T09:00:00Z,amazon.nova-pro-v1:0,100,10,"{""team"": ""a""}","[{""hash"": ""h"", ""tokens"": 5}]"\n'


@pytest.mark.parametrize("bad, reason", [
    ('2026-01-05T09:00:01Z,amazon.nova-pro-v1:0,100,10,"{team: a",\n', "column tags is not valid JSON"),
    ('2026-01-05T09:00:01Z,amazon.nova-pro-v1:0,100,10,,"[{""hash"": ""h""}, "\n', "column prefix is not valid JSON"),
    ('2026-01-05T09:00:01Z,amazon.nova-pro-v1:0,100,10,"[1, 2]",\n', "column tags is not a JSON object"),
])
def test_canonical_csv_bad_json_cell(catalog, tmp_path, bad, reason):
    f = tmp_path / "w.csv"
    f.write_text(CSV_HEAD + CSV_GOOD + bad)
    with pytest.raises(InputError, match=rf"w.csv: line 3: {reason}"):
        read_workload([f], catalog)
    w = read_workload([f], catalog, options=SKIP)
    assert w.skipped == {f"canonical: {reason}": 1}
    rows = w.table.to_pyarrow().to_pylist()
    assert len(rows) == 1 and dict(rows[0]["tags"]) == {"team": "a"} and rows[0]["prefix"][0]["tokens"] == 5


# 6. pretty-printed Bedrock logs: a truncated record costs that record, not the whole file

def test_bedrock_pretty_printed_truncated_record(catalog, tmp_path):
    recs = [json.dumps(json.loads(_bedrock(f"r{i}")), indent=2) for i in range(1, 4)]
    d = tmp_path / "logs"
    d.mkdir()
    (d / "one.json").write_text(recs[0] + "\n")
    first_lines = recs[1].count("\n") + 1
    (d / "many.json").write_text(recs[1] + "\n" + recs[2][: len(recs[2]) // 2] + "\n" + recs[2] + "\n")
    with pytest.raises(InputError, match=rf"many.json: line {first_lines + 1}: invalid JSON"):
        read_workload([d], catalog)
    w = read_workload([d], catalog, options=SKIP)
    assert w.skipped == {"bedrock log: invalid JSON (truncated or malformed record)": 1}
    ids = sorted(r["request_id"] for r in w.table.to_pyarrow().to_pylist())
    assert ids == ["r1", "r2", "r3"]


# 7. found by the stronger fuzz test: a model that is not a string, and `created` out of range

@pytest.mark.parametrize("fmt", ["openai", "bedrock"])
def test_model_not_a_string_is_a_bad_record(catalog, tmp_path, fmt):
    f = tmp_path / "x.jsonl"
    if fmt == "openai":
        bad, key = _oa(id="b", model=True), "openai usage: model not a string"
    else:
        bad, key = _bedrock("r2").replace('"modelId": "amazon.nova-pro-v1:0"', '"modelId": -1'), \
            "bedrock log: modelId not a string"
    f.write_text((_oa(id="a") if fmt == "openai" else _bedrock("r1")) + "\n" + bad + "\n")
    with pytest.raises(InputError, match="x.jsonl: line 2: .*not a string"):
        read_workload([f], catalog)
    assert read_workload([f], catalog, options=SKIP).skipped == {key: 1}


def test_openai_created_out_of_range(catalog, tmp_path):
    f = tmp_path / "u.jsonl"
    err = json.dumps({"id": "e", "created": 1e20, "model": "amazon.nova-pro-v1:0", "error": {"message": "x"}})
    f.write_text(_oa(id="a") + "\n" + _oa(id="b", created=1e20) + "\n" + err + "\n")
    with pytest.raises(InputError, match="u.jsonl: line 2: created not a time in range"):
        read_workload([f], catalog)
    w = read_workload([f], catalog, options=SKIP)
    assert sum(w.skipped.values()) == 1 and w.table.count().execute() == 1
