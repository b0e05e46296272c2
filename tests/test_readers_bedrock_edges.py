"""Reader edges that SQL mutation testing (scripts/mutate_sql.py) showed no test covered: the
1-hour share of writes in a Converse body's `usage.cacheDetails`, writes with no TTL detail, blank lines in a
file read record by record, and `errorCode: ""` records (billed, not errors). Records start from the real
Converse record in the fixture (AWS's invocation-log shape) and change one field."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from inferplan.readers import ReadOptions, read_workload

FIX = Path(__file__).parent / "fixtures" / "readers" / "bedrock"


def converse(rid: str, *, reads: int = 0, writes: int = 0, details: list | None = None, body_reads: int | None = None,
             **top) -> dict:
    rec = json.loads((FIX / "invocations.jsonl").read_text().splitlines()[0])  # Converse, log-level cache counts
    rec = copy.deepcopy(rec)
    rec["requestId"] = rid
    rec["input"]["cacheReadInputTokenCount"] = reads
    rec["input"]["cacheWriteInputTokenCount"] = writes
    usage = rec["output"]["outputBodyJson"]["usage"]
    usage["cacheReadInputTokens"] = reads if body_reads is None else body_reads
    usage["cacheWriteInputTokens"] = writes
    if details is not None:  # Converse TokenUsage.cacheDetails: [{ttl, inputTokens}]
        usage["cacheDetails"] = details
    rec.update(top)
    return rec


@pytest.fixture
def read(tmp_path, catalog):
    def run(records, text: str | None = None, **opts):
        f = tmp_path / "logs.jsonl"
        f.write_text(text if text is not None else "".join(json.dumps(r) + "\n" for r in records))
        w = read_workload([f], catalog, options=ReadOptions(**opts) if opts else None)
        return w, {r["request_id"]: r for r in w.table.to_pyarrow().to_pylist()}

    return run


def test_one_hour_writes_from_converse_cache_details(read):
    _, rows = read([
        converse("split", writes=400, details=[{"ttl": "5m", "inputTokens": 100}, {"ttl": "1h", "inputTokens": 300}]),
        converse("no-ttl", writes=400),  # writes with no TTL detail anywhere: all 5-minute, none 1-hour
    ])
    assert (rows["split"]["cache_write_5m_tokens"], rows["split"]["cache_write_1h_tokens"]) == (100, 300)
    assert (rows["no-ttl"]["cache_write_5m_tokens"], rows["no-ttl"]["cache_write_1h_tokens"]) == (400, 0)


def test_blank_lines_are_not_records_when_a_file_is_read_record_by_record(read):
    good = [json.dumps(converse(f"g{i}")) for i in range(2)]
    text = good[0] + "\n\n   \n" + '{"schemaType": "ModelInvocationLog", "truncat' + "\n" + good[1] + "\n\n"
    w, rows = read([], text=text, on_error="skip")
    assert set(rows) == {"g0", "g1"}
    assert w.skipped == {"bedrock log: invalid JSON (truncated or malformed record)": 1}


def test_an_empty_error_code_is_a_billed_record_not_an_error(read):
    w, rows = read([converse("ok", reads=500, body_reads=600, errorCode=""), converse("plain")])
    assert set(rows) == {"ok", "plain"} and rows["ok"]["cache_read_tokens"] == 500
    assert not any("error record" in n for n in w.notes), w.notes
    assert any("1 record(s) whose cache counts in the log" in n for n in w.notes), w.notes


def test_skipped_records_are_not_counted_in_the_disagreement_note(read):
    bad = converse("bad", reads=500, body_reads=600)
    bad["output"]["outputTokenCount"] = -1  # a bad record (skipped) whose cache counts also disagree
    w, rows = read([bad, converse("good", reads=500)], on_error="skip")
    assert set(rows) == {"good"} and sum(w.skipped.values()) == 1
    assert not any("disagree" in n for n in w.notes), w.notes


@pytest.mark.parametrize("code", ["ThrottlingException", "ValidationException"])
def test_error_records_are_left_out_and_counted(read, code):
    w, rows = read([converse("e", errorCode=code), converse("ok")])
    assert set(rows) == {"ok"} and any(f"{code} x1" in n for n in w.notes)


def test_usage_convention_notes_say_what_prompt_tokens_held():
    """The note is the user's only sign that `prompt_tokens` was read another way: its words are checked."""
    from inferplan.readers import _usage

    notes = _usage.notes("litellm", {"no_writes": 2, "uncached": 1, "reads_disagree": 3})
    assert notes[0] == ("litellm: prompt_tokens read as uncached + cache reads (cache writes not in it) for 2 "
                        "record(s): LiteLLM's Bedrock Converse convention")
    assert notes[1].startswith("litellm: prompt_tokens read as the uncached part (no cache reads or writes in it) "
                               "for 1 record(s)")
    assert notes[2].startswith("litellm: cache reads given with different counts in two fields for 3 record(s)")
