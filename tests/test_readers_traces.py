"""Public traces in ../shared/data/traces: Mooncake prefix blocks, BurstGPT model/log type, ServeGen draws."""

from __future__ import annotations

import json

import pyarrow.compute as pc
import pytest

from inferplan.readers import ReadOptions, read_workload
from inferplan.workload import Defaults

OPTS = ReadOptions(defaults=Defaults(model="claude-haiku-4.5"))


def test_mooncake(catalog, shared_data):
    folder = shared_data / "traces" / "mooncake"
    w = read_workload([folder], catalog, options=OPTS)
    t = w.table.order_by("request_id").to_pyarrow()
    assert t.num_rows == 12_031
    first = json.loads((folder / "conversation_trace.jsonl").read_text().splitlines()[0])
    row = t.slice(0, 1).to_pylist()[0]
    assert row["input_tokens"] == first["input_length"] and row["output_tokens"] == first["output_length"]
    assert [s["hash"] for s in row["prefix"]] == [f"mc{h}" for h in first["hash_ids"]]
    assert all(s["tokens"] == 512 for s in row["prefix"][:-1])
    assert sum(s["tokens"] for s in row["prefix"]) == first["input_length"]
    # every request starts with block 0 (the shared system prompt)
    heads = pc.struct_field(pc.list_element(t.column("prefix"), 0), "hash")
    assert pc.all(pc.equal(heads, "mc0")).as_py()
    assert round(pc.mean(t.column("input_tokens")).as_py()) == pytest.approx(12_035, abs=1)


def test_burstgpt(catalog, shared_data):
    opts = ReadOptions(defaults=Defaults(model="claude-haiku-4.5"), model_map={"GPT-4": "claude-sonnet-4.5"})
    w = read_workload([shared_data / "traces" / "burstgpt"], catalog, options=opts)
    t = w.table.to_pyarrow()
    assert t.num_rows == 800
    assert set(t.column("call_type").to_pylist()) <= {"conversation", "api"}
    rows = t.to_pylist()
    gpt4 = [r for r in rows if dict(r["tags"])["source_model"] == "GPT-4"]
    assert gpt4 and all(r["model"] == "anthropic.claude-sonnet-4-5-20250929-v1:0" for r in gpt4)
    assert any("zero response tokens" in n for n in w.notes)


def test_servegen_is_seeded(catalog, shared_data):
    folder = shared_data / "traces" / "servegen"
    opts = ReadOptions(defaults=Defaults(model="claude-haiku-4.5"), rate_scale=0.001, seed=3)
    a = read_workload([folder], catalog, options=opts).table.to_pyarrow()
    b = read_workload([folder], catalog, options=opts).table.to_pyarrow()
    assert a.equals(b)
    # 196 req/s mean over 14 days at 1/1000 of the rate: about 237k requests
    assert a.num_rows == pytest.approx(196 * 14 * 86400 * 0.001, rel=0.02)
    assert pc.mean(a.column("input_tokens")).as_py() == pytest.approx(914, rel=0.05)
