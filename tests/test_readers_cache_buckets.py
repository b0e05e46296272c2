"""Gateway cache buckets on the shapes LiteLLM, OpenRouter, Anthropic and OpenAI really write (fixtures and their
sources: tests/fixtures/readers/gateway_cache/README.md): reads counted once whichever fields carry them, the
5m/1h split from the most detailed field, and each `prompt_tokens` convention read as what it holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inferplan.errors import InputError
from inferplan.readers import read_workload

FIX = Path(__file__).parent / "fixtures" / "readers" / "gateway_cache"
BUCKETS = ("input_tokens", "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens", "output_tokens")


def _buckets(w) -> dict[str, tuple[int, ...]]:
    return {r["request_id"]: tuple(r[k] for k in BUCKETS) for r in w.table.to_pyarrow().to_pylist()}


# request_id -> (plain input, cache reads, 5-minute writes, 1-hour writes, output), by hand from the fixture
LITELLM = {
    "inclusive-1h": (100, 3000, 1000, 500, 50),      # 4600 = 100 + 3000 + 1000 + 500
    "converse-small": (120, 2000, 3000, 0, 40),      # prompt 2120 = 120 + 2000 reads; writes not in it
    "converse-large": (6000, 1000, 500, 0, 30),      # total 7530 = 7000 + 30 + 500 tells the convention
    "messages-uncached": (12, 2495, 100, 0, 20),     # aanthropic_messages: prompt is the uncached part
    "older-additional": (15, 80, 5, 0, 20),          # additional_usage_values only
    "no-cache": (10, 0, 0, 0, 20),
}
OPENAI = {
    "chatcmpl-litellm": (100, 3000, 1000, 500, 50),
    "gen-openrouter": (94, 0, 100, 0, 2),            # cache_write_tokens inside prompt_tokens
    "chatcmpl-anthropic-split": (100, 0, 3000, 2000, 30),
    "chatcmpl-openai": (93, 1024, 0, 0, 46),
}


def test_litellm_spend_log_buckets(catalog):
    w = read_workload([FIX / "litellm_spend_cache.jsonl"], catalog)
    assert _buckets(w) == LITELLM
    assert any("cache writes not in it" in n and "2 record(s)" in n for n in w.notes), w.notes
    assert any("the uncached part" in n and "1 record(s)" in n for n in w.notes), w.notes
    # every input token is in exactly one bucket: the totals add up to what was sent
    t = w.table.to_pyarrow().to_pylist()
    assert sum(r["input_tokens"] + r["cache_read_tokens"] + r["cache_write_5m_tokens"] + r["cache_write_1h_tokens"]
               for r in t) == 4600 + 5120 + 7500 + 2607 + 100 + 10


def test_openai_usage_buckets(catalog):
    assert _buckets(read_workload([FIX / "openai_cache.jsonl"], catalog)) == OPENAI


@pytest.mark.parametrize("field", ["cache_read_input_tokens", "prompt_cache_hit_tokens"])
def test_reads_in_two_fields_are_counted_once(catalog, tmp_path, field):
    """LiteLLM writes the same reads into `prompt_tokens_details.cached_tokens` AND `cache_read_input_tokens`
    (DeepSeek's `prompt_cache_hit_tokens` likewise): adding them would bill 1,600 reads for 800 and leave
    input negative. Fails if the reader sums the fields."""
    rec = {"id": "a", "object": "chat.completion", "created": 1767603600, "model": "amazon.nova-pro-v1:0",
           "usage": {"prompt_tokens": 1000, "completion_tokens": 5, "total_tokens": 1005,
                     "prompt_tokens_details": {"cached_tokens": 800}, field: 800}}
    f = tmp_path / "u.jsonl"
    f.write_text(json.dumps(rec) + "\n")
    assert _buckets(read_workload([f], catalog))["a"] == (200, 800, 0, 0, 5)


def test_litellm_reads_in_both_sources_counted_once(catalog, tmp_path):
    """The same reads in `usage_object` and `additional_usage_values`, and in two fields of each: once."""
    u = {"prompt_tokens_details": {"cached_tokens": 700, "cache_creation_tokens": 100},
         "cache_read_input_tokens": 700, "cache_creation_input_tokens": 100}
    rec = {"request_id": "q", "call_type": "acompletion", "startTime": "2026-01-05T09:00:00Z",
           "endTime": "2026-01-05T09:00:01Z", "model": "amazon.nova-pro-v1:0", "spend": 0.1,
           "prompt_tokens": 1000, "completion_tokens": 5, "total_tokens": 1005,
           "metadata": json.dumps({"usage_object": {**u, "prompt_tokens": 1000, "completion_tokens": 5},
                                   "additional_usage_values": u})}
    f = tmp_path / "spend.jsonl"
    f.write_text(json.dumps(rec) + "\n")
    assert _buckets(read_workload([f], catalog, "litellm"))["q"] == (200, 700, 100, 0, 5)


@pytest.mark.parametrize(("usage", "expected", "note"), [
    # the split's 1h part alone: the rest of the total is 5-minute
    ({"cache_creation_input_tokens": 900, "cache_creation": {"ephemeral_1h_input_tokens": 300}},
     (100, 0, 600, 300, 1), None),
    # detail larger than the total field: the detail wins (never fewer writes than itemised)
    ({"cache_creation_input_tokens": 100, "prompt_tokens_details": {"cache_creation_token_details": {
        "ephemeral_5m_input_tokens": 400, "ephemeral_1h_input_tokens": 500}}}, (100, 0, 400, 500, 1), None),
    # an all-zero split with writes: the writes are 5-minute, not lost
    ({"cache_creation_input_tokens": 900, "cache_creation": {"ephemeral_5m_input_tokens": 0,
                                                             "ephemeral_1h_input_tokens": 0}},
     (100, 0, 900, 0, 1), None),
    # every prompt token cached or written (prompt = reads + writes exactly): inclusive, no plain input
    ({"prompt_tokens_details": {"cached_tokens": 700}, "cache_creation_input_tokens": 300}, (0, 700, 300, 0, 1),
     None),
    # prompt exactly the reads, writes outside it (Converse transform with no plain input): reads once, input 0
    ({"prompt_tokens_details": {"cached_tokens": 1000}, "cache_creation_input_tokens": 300}, (0, 1000, 300, 0, 1),
     "cache writes not in it"),
    # total = prompt + completion + reads + writes with reads < writes: prompt is the uncached part
    ({"prompt_tokens_details": {"cached_tokens": 500}, "cache_creation_input_tokens": 800, "total_tokens": 2301},
     (1000, 500, 800, 0, 1), "the uncached part"),
    # prompt below the reads: Anthropic's convention, prompt is the uncached part
    ({"prompt_tokens_details": {"cached_tokens": 2000}}, (1000, 2000, 0, 0, 1), "the uncached part"),
    # reads disagree between fields: the first is taken, and said
    ({"prompt_tokens_details": {"cached_tokens": 300}, "cache_read_input_tokens": 200}, (700, 300, 0, 0, 1),
     "different counts"),
])
def test_openai_bucket_arithmetic(catalog, tmp_path, usage, expected, note):
    rec = {"id": "a", "created": 1767603600, "model": "amazon.nova-pro-v1:0",
           "usage": {"prompt_tokens": 1000, "completion_tokens": 1, **usage}}
    f = tmp_path / "u.jsonl"
    f.write_text(json.dumps(rec) + "\n")
    w = read_workload([f], catalog)
    assert _buckets(w)["a"] == expected
    if note:
        assert any(note in n for n in w.notes), w.notes
    else:
        assert not any("prompt_tokens read as" in n or "different counts" in n for n in w.notes), w.notes


@pytest.mark.parametrize(("prompt", "total", "expected"), [
    (1500, None, (200, 1000, 300, 0, 7)),   # no total: prompt >= reads + writes, OpenAI's inclusive convention
    (1500, 1507, (200, 1000, 300, 0, 7)),   # total = prompt + completion: inclusive
    (1500, 1807, (500, 1000, 300, 0, 7)),   # total = prompt + completion + writes: writes not in prompt
    (1500, 2807, (1500, 1000, 300, 0, 7)),  # total = prompt + completion + reads + writes: prompt is uncached
])
def test_total_tokens_decides_the_convention(catalog, tmp_path, prompt, total, expected):
    usage = {"prompt_tokens": prompt, "completion_tokens": 7, "prompt_tokens_details": {"cached_tokens": 1000},
             "cache_creation_input_tokens": 300}
    if total is not None:
        usage["total_tokens"] = total
    f = tmp_path / "u.jsonl"
    f.write_text(json.dumps({"id": "a", "created": 1767603600, "model": "amazon.nova-pro-v1:0", "usage": usage})
                 + "\n")
    assert _buckets(read_workload([f], catalog))["a"] == expected


def test_litellm_call_type_tells_anthropic_convention(catalog, tmp_path):
    """prompt between reads and reads + writes: on /v1/messages (anthropic_messages) it is the uncached part;
    on chat completions it is LiteLLM's Converse transform (reads inside, writes outside)."""
    def rec(call_type):
        return {"request_id": call_type, "call_type": call_type, "startTime": "2026-01-05T09:00:00Z",
                "endTime": "2026-01-05T09:00:01Z", "model": "amazon.nova-pro-v1:0", "spend": 0.1,
                "prompt_tokens": 1100, "completion_tokens": 5,
                "metadata": {"usage_object": {"cache_read_input_tokens": 1000, "cache_creation_input_tokens": 400}}}
    f = tmp_path / "spend.jsonl"
    f.write_text("\n".join(json.dumps(rec(c)) for c in ("anthropic_messages", "acompletion")) + "\n")
    got = _buckets(read_workload([f], catalog, "litellm"))
    assert got == {"anthropic_messages": (1100, 1000, 400, 0, 5), "acompletion": (100, 1000, 400, 0, 5)}


def test_litellm_total_tokens_wins_over_the_call_type(catalog, tmp_path):
    """An anthropic_messages record whose prompt is exactly its reads and whose total_tokens = prompt +
    completion + writes: the Converse-style no-writes reading (no plain input), not the uncached one."""
    rec = {"request_id": "m", "call_type": "aanthropic_messages", "startTime": "2026-01-05T09:00:00Z",
           "endTime": "2026-01-05T09:00:01Z", "model": "amazon.nova-pro-v1:0", "spend": 0.1,
           "prompt_tokens": 1000, "completion_tokens": 5, "total_tokens": 1305,
           "metadata": {"usage_object": {"cache_read_input_tokens": 1000, "cache_creation_input_tokens": 300}}}
    f = tmp_path / "spend.jsonl"
    f.write_text(json.dumps(rec) + "\n")
    assert _buckets(read_workload([f], catalog, "litellm"))["m"] == (0, 1000, 300, 0, 5)


def test_litellm_skip_no_longer_zeroes_the_total(catalog):
    """Before: prompt < cached + written was refused, and with --on-error skip the bill was $0."""
    from inferplan.readers import ReadOptions

    w = read_workload([FIX / "litellm_spend_cache.jsonl"], catalog, options=ReadOptions(on_error="skip"))
    assert w.skipped == {} and w.table.count().execute() == len(LITELLM)


# OpenAI-style usage as the API reference prints a response: one object, or a JSON array of them

@pytest.mark.parametrize(("name", "ids"), [("openai_response.json", {"chatcmpl-openai"}),
                                           ("openai_responses.json", set(OPENAI))])
def test_openai_usage_json_document(catalog, name, ids):
    w = read_workload([FIX / name], catalog)  # detected, not forced
    assert "format openai-usage: 1 file(s)" in w.notes
    assert _buckets(w) == {k: OPENAI[k] for k in ids}


def test_openai_usage_array_bad_record_names_its_place(catalog, tmp_path):
    recs = json.loads((FIX / "openai_responses.json").read_text())
    recs[2]["usage"]["completion_tokens"] = "many"
    f = tmp_path / "a.json"
    f.write_text(json.dumps(recs, indent=2))
    with pytest.raises(InputError, match=r"a\.json: record 3: usage\.completion_tokens not an integer"):
        read_workload([f], catalog)


def test_openai_usage_malformed_document_names_the_problem(catalog, tmp_path):
    text = (FIX / "openai_response.json").read_text().replace('"object": "chat.completion",',
                                                              '"object": "chat.completion"', 1)
    f = tmp_path / "broken.json"
    f.write_text(text)
    with pytest.raises(InputError, match=r"broken\.json: not JSON lines, and not one JSON document either \(line 4 "
                                        r"column 3: Expecting ',' delimiter\)"):
        read_workload([f], catalog, "openai-usage")


def test_analyze_json_through_the_console_script():
    """The installed `inferplan` on the LiteLLM fixture: one JSON object, every bucket summed by hand from the
    fixture, the same with --on-error skip (nothing refused, so never $0)."""
    import shutil
    import subprocess
    import sys

    exe = shutil.which("inferplan", path=str(Path(sys.executable).parent))
    out = [json.loads(subprocess.run([exe, "analyze", str(FIX / "litellm_spend_cache.jsonl"), "--json", *extra],
                                     capture_output=True, text=True, check=True).stdout)
           for extra in ([], ["--on-error", "skip"])]
    assert out[0]["tokens"] == {"input": 100 + 120 + 6000 + 12 + 15 + 10, "output": 180,
                                "cache_read": 3000 + 2000 + 1000 + 2495 + 80, "cache_write": 4605 + 500,
                                "cache_write_5m": 1000 + 3000 + 500 + 100 + 5, "cache_write_1h": 500}
    assert out[0]["requests"] == 6 and out[0]["skipped"] == {} and out[0]["total_usd"] > 0
    assert out[1]["total_usd"] == out[0]["total_usd"]


@pytest.mark.parametrize("usage", [{"cache_read_input_tokens": "many"},
                                   {"prompt_tokens_details": {"cache_creation_token_details": {
                                       "ephemeral_1h_input_tokens": 1.5}}}])
def test_one_bad_cache_field_is_a_bad_record(catalog, tmp_path, usage):
    """A cache count that is not an integer, in any one of its fields, is a bad record (never read as 0)."""
    rec = {"id": "a", "created": 1767603600, "model": "amazon.nova-pro-v1:0",
           "usage": {"prompt_tokens": 1000, "completion_tokens": 1, "prompt_tokens_details": {"cached_tokens": 10},
                     **usage}}
    f = tmp_path / "u.jsonl"
    f.write_text(json.dumps(rec) + "\n")
    with pytest.raises(InputError, match="line 1: token count not an integer in range"):
        read_workload([f], catalog)
