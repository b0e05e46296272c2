"""Synthetic traffic, the vectorised construction: time order, request ids, chunked string/list columns,
dictionary columns, tags and prefix segments built from flat arrays."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from inferplan import synth
from inferplan.synth import arrow, generation

SPEC = {"days": 2, "call_types": {
    "rag": {"model": "m-rag", "per_hour": 900, "burstiness": 0.2, "input_tokens": {"mean": 6000, "cv": 0.5},
            "output_tokens": 300, "cache": "5m", "tags": {"team": "search", "env": "prod"},
            "prefix": [{"tokens": 2000}, {"tokens": 1500, "reuse": 0.5, "variants": 10},
                       {"tokens": 300, "reuse": 0.6, "variants": 100_000}]},
    "agent": {"model": "m-agent", "per_hour": 300, "input_tokens": 3000, "output_tokens": 20, "cache": "1h",
              "prefix": {"tokens": 2000, "variants": 3}, "region": "eu-west-1", "tier": "flex"},
    "batch": {"model": "m-rag", "per_hour": 100, "input_tokens": 800, "output_tokens": 50, "interactive": False},
}}


@pytest.mark.parametrize(("a", "b"), [(0, 0), (0, 12_345), (7, 8), (995, 31_234), (99_999_990, 100_004_321)])
def test_request_ids(a, b):
    ids = arrow._request_ids("syn-4-", a, b)
    ids.validate(full=True)
    assert ids.to_pylist() == [f"syn-4-{i}" for i in range(a, b)]


def test_time_order_fallback_matches(monkeypatch):
    """The packed-key sort and the argsort fallback give sorted times with the same counts per cell."""
    rng = np.random.default_rng(0)
    counts = rng.poisson(3.0, (3, 500))
    ts, cti = generation._time_order(counts, 10**15, np.random.default_rng(1))
    monkeypatch.setattr(generation, "_OFFSET_BITS", 64)  # no room in the key: argsort
    ts2, cti2 = generation._time_order(counts, 10**15, np.random.default_rng(1))
    for t, c in ((ts, cti), (ts2, cti2)):
        assert (np.diff(t) >= 0).all() and t.size == counts.sum()
        minute = (t - 10**15) // generation.MINUTE_US
        cells = np.zeros_like(counts)
        np.add.at(cells, (c.astype(np.int64), minute), 1)
        assert (cells == counts).all()


def test_chunks_do_not_change_the_table(monkeypatch):
    whole = synth.generate(SPEC, seed=9, rows=30_000)
    monkeypatch.setattr(arrow, "_CHUNK", 4096)
    chunked = synth.generate(SPEC, seed=9, rows=30_000)
    assert chunked["prefix"].num_chunks > 1 and chunked.equals(whole)
    chunked.validate(full=True)


def test_columns():
    t = synth.generate(SPEC, seed=3, rows=40_000)
    t.validate(full=True)
    assert t.schema == synth.RAW_SCHEMA
    assert t["call_type"].type == pa.dictionary(pa.int32(), pa.string())
    cast = {c: pc.cast(t[c], pa.string()).to_numpy(zero_copy_only=False)
            for c in ("call_type", "model_id", "region", "tier")}
    by_type = {c: {k: set(v[cast["call_type"] == k]) for k in SPEC["call_types"]} for c, v in cast.items()}
    assert by_type["model_id"] == {"rag": {"m-rag"}, "agent": {"m-agent"}, "batch": {"m-rag"}}
    assert by_type["region"]["agent"] == {"eu-west-1"} and by_type["region"]["rag"] == {"us-east-1"}
    assert by_type["tier"]["agent"] == {"flex"} and by_type["tier"]["batch"] == {"standard"}
    rows = t.select(["call_type", "interactive", "tags", "request_id"]).to_pylist()
    tags = {"rag": [("team", "search"), ("env", "prod")], "agent": [], "batch": []}
    assert all(r["tags"] == tags[r["call_type"]] for r in rows)
    assert all(r["interactive"] == (r["call_type"] != "batch") for r in rows)
    assert [r["request_id"] for r in rows] == [f"syn-3-{i}" for i in range(t.num_rows)]
    # 1h writes only on the 1h call type
    one_h = pc.equal(pc.cast(t["call_type"], pa.string()), "agent")
    assert pc.sum(pc.if_else(one_h, 0, t["cache_write_1h_tokens"])).as_py() == 0
    assert pc.sum(pc.if_else(one_h, t["cache_write_5m_tokens"], 0)).as_py() == 0


def test_prefix_segments():
    t = synth.generate(SPEC, seed=4, rows=40_000)
    rows = t.select(["call_type", "prefix", "input_tokens", "cache_read_tokens", "cache_write_5m_tokens",
                     "cache_write_1h_tokens"]).to_pylist()
    stage_hashes: dict[tuple[str, int], set[str]] = {}
    own = set()
    for r in rows:
        p = r["prefix"]
        assert sum(s["tokens"] for s in p) == sum(r[c] for c in ("input_tokens", "cache_read_tokens",
                                                                 "cache_write_5m_tokens", "cache_write_1h_tokens"))
        assert all(len(s["hash"]) == 16 for s in p) and p[-1]["tokens"] >= 1
        own.add(p[-1]["hash"])
        for j, s in enumerate(p[:-1]):
            stage_hashes.setdefault((r["call_type"], j), set()).add(s["hash"])
    assert len(own) == len(rows)  # the request's own part is unique
    assert len(stage_hashes[("rag", 0)]) == 1 and len(stage_hashes[("rag", 1)]) == 10
    assert len(stage_hashes[("agent", 0)]) == 3 and ("batch", 0) not in stage_hashes
    assert len(stage_hashes[("rag", 2)]) > 1000  # 10 x 100,000 possible chains, a few thousand drawn
    shared = set().union(*stage_hashes.values())
    assert not shared & own
    # another seed: the same hashes for the same texts, other own hashes
    u = synth.generate(SPEC, seed=5, rows=2000).select(["call_type", "prefix"]).to_pylist()
    first = {(r["call_type"], len(r["prefix"]) > 2 and r["prefix"][1]["hash"]) for r in u}
    assert {h for c, h in first if c == "rag" and h} <= stage_hashes[("rag", 1)]
    assert not {r["prefix"][-1]["hash"] for r in u} & own


def test_without_prefix_and_empty():
    t = synth.generate(SPEC, seed=1, rows=5000, with_prefix=False)
    assert t["prefix"].null_count == 5000 and t.schema == synth.RAW_SCHEMA
    full = synth.generate(SPEC, seed=1, rows=5000)
    assert t.drop_columns(["prefix"]).equals(full.drop_columns(["prefix"]))
    for n in (0, 1):
        e = synth.generate(SPEC, seed=1, rows=n)
        e.validate(full=True)
        assert e.num_rows == n
