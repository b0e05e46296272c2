"""ServeGen as alibaba/ServeGen publishes it (headerless chunk-N-trace.csv rate files, chunk-N-dataset.json token
tables) and the derived series in ../shared/data; Alibaba's offline JSON-lines traces with 16-token block
hashes, told apart from Mooncake. Fixtures and their sources: tests/fixtures/readers/servegen/README.md."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest

from inferplan.errors import InputError
from inferplan.readers import ReadOptions, detect, read_workload
from inferplan.readers.servegen import read_rate_files
from inferplan.workload import Defaults

FIX = Path(__file__).parent / "fixtures" / "readers"
SG = FIX / "servegen" / "m-test"
OPTS = ReadOptions(defaults=Defaults(model="claude-haiku-4.5"))


def test_rate_files_as_published():
    t = read_rate_files([SG / "chunk-3-trace.csv", SG / "chunk-3-dataset.json"])  # dataset files ignored
    rows = t.to_pylist()
    assert [(r["client"], r["window_start_s"], r["window_s"], r["rate_rps"], r["pattern"]) for r in rows] == [
        (3, 0, 600, 0.5, "Gamma"), (3, 600, 600, 0.0, None), (3, 1200, 600, 0.25, "Weibull"),
        (3, 1800, 600, 1.5, "Gamma")]
    assert rows[0]["cv"] == 1.2 and (rows[0]["pattern_shape"], rows[0]["pattern_scale"]) == (0.69, 2.9)
    assert rows[0]["active_clients"] is None


def test_rate_files_derived_series_and_totals(shared_data):
    path = shared_data / "traces" / "servegen" / "aggregate_rate_m-large.csv"
    t = read_rate_files([path])
    assert t.num_rows == 2016 and t.column("client").null_count == 2016
    assert set(t.column("window_s").to_pylist()) == {600}
    assert pc.mean(t.column("rate_rps")).as_py() == pytest.approx(195.84, abs=0.01)
    # the per-window sum over clients is what the derived file holds: same columns, summed
    both = read_rate_files([SG / "chunk-3-trace.csv", SG / "chunk-5-trace.csv"])
    tot = both.group_by("window_start_s").aggregate([("rate_rps", "sum")]).sort_by("window_start_s")
    assert tot.column("rate_rps_sum").to_pylist() == [0.6, 0.2, 0.25, 1.5]


def test_detects_headerless_rate_and_dataset_files():
    assert detect(SG / "chunk-3-trace.csv") == "servegen" and detect(SG / "chunk-3-dataset.json") == "servegen"
    assert detect(FIX / "servegen_offline" / "qwen_traceA_blksz_16.jsonl") == "servegen-offline"


def test_requests_from_chunk_files(catalog):
    opts = ReadOptions(defaults=Defaults(model="claude-haiku-4.5"), rate_scale=20.0, seed=4)
    w = read_workload([SG], catalog, options=opts)
    a = w.table.to_pyarrow()
    b = read_workload([SG], catalog, options=opts).table.to_pyarrow()
    assert a.equals(b)  # seeded
    rows = a.to_pylist()
    client = [dict(r["tags"])["client"] for r in rows]
    secs = np.array([(r["ts"] - opts.trace_start).total_seconds() for r in rows])
    # expected counts: rate x 600 s x 20 -> client 3: 6000, 0, 3000, 18000; client 5: 1200, 2400
    n3 = np.histogram(secs[np.array(client) == "3"], bins=[0, 600, 1200, 1800, 2400])[0]
    n5 = np.histogram(secs[np.array(client) == "5"], bins=[0, 600, 1200, 1800, 2400])[0]
    for got, want in zip([*n3, *n5], [6000, 0, 3000, 18000, 1200, 2400, 0, 0], strict=True):
        assert abs(got - want) <= 5 * max(want, 1) ** 0.5
    assert {r["call_type"] for r in rows} == {"m-test"}
    # client 3 tokens come from its dataset file: only the table's token counts, by window
    c3 = [(s, r["input_tokens"], r["output_tokens"]) for s, r, c in zip(secs, rows, client, strict=True) if c == "3"]
    assert {i for s, i, _ in c3 if s < 1800} == {100, 101, 300} and {o for s, _, o in c3 if s < 1800} == {0, 20}
    assert {(i, o) for s, i, o in c3 if s >= 1800} == {(2000, 7)}
    share = np.mean([i == 101 for s, i, _ in c3 if s < 1800])
    assert share == pytest.approx(0.5, abs=0.03)
    assert any("drawn lognormal" in n and "no chunk-N-dataset.json" in n for n in w.notes)  # client 5
    assert any("drawn from their client's chunk-N-dataset.json" in n for n in w.notes)


def test_arrivals_follow_the_pattern(catalog):
    """A bursty Gamma window (shape 0.23) gives far more variable gaps than a Weibull shape-1 one."""
    opts = ReadOptions(defaults=Defaults(model="claude-haiku-4.5"), rate_scale=20.0, seed=1)
    rows = read_workload([SG], catalog, options=opts).table.to_pyarrow().to_pylist()
    secs = np.array(sorted((r["ts"] - opts.trace_start).total_seconds() for r in rows
                           if dict(r["tags"])["client"] == "3"))
    burst = np.diff(secs[(secs >= 1800) & (secs < 2400)])
    calm = np.diff(secs[(secs >= 1200) & (secs < 1800)])
    assert burst.std() / burst.mean() > 1.5 > calm.std() / calm.mean()
    assert secs.min() >= 0 and secs.max() < 2400


def test_bad_rate_file_says_it_was_read_as_servegen(catalog, tmp_path):
    f = tmp_path / "chunk-9-trace.csv"
    f.write_text("0,0.5,1.2,Gamma,0.69,2.9\n600,-1,0,,0,0\n")
    with pytest.raises(InputError, match="read as a ServeGen rate file"):
        read_workload([f], catalog, options=OPTS)


def test_offline_trace(catalog):
    w = read_workload([FIX / "servegen_offline"], catalog, options=OPTS)
    rows = {r["request_id"]: r for r in w.table.to_pyarrow().to_pylist()}
    assert set(rows) == {"sg-159", "sg-160", "sg-201"}
    r = rows["sg-201"]
    assert [s["hash"] for s in r["prefix"]] == ["sg1089", "sg1090", "sg1091", "sg6326", "sg13148"]
    assert [s["tokens"] for s in r["prefix"]] == [16, 16, 16, 16, 6]  # 70 tokens in 16-token blocks
    assert (r["ts"] - OPTS.trace_start).total_seconds() == pytest.approx(61.114)
    assert r["call_type"] == "text" and dict(r["tags"]) == {"turn": "2", "chat_id": "201", "parent_chat_id": "159"}
    assert rows["sg-160"]["call_type"] == "search"
    assert any("16-token prefix blocks" in n for n in w.notes)


def test_mooncake_and_offline_told_apart_and_errors_say_which(catalog, tmp_path, shared_data):
    moon = shared_data / "traces" / "mooncake" / "conversation_trace.jsonl"
    assert detect(moon) == "mooncake"
    first = json.loads(moon.read_text().splitlines()[0])
    f = tmp_path / "m.jsonl"
    f.write_text(json.dumps(first) + "\n" + json.dumps({**first, "timestamp": "soon"}) + "\n")
    with pytest.raises(InputError, match=r"line 2: .*read as a Mooncake trace"):
        read_workload([f], catalog, options=OPTS)
    g = tmp_path / "o.jsonl"
    rec = json.loads((FIX / "servegen_offline" / "qwen_traceA_blksz_16.jsonl").read_text().splitlines()[0])
    g.write_text(json.dumps({**rec, "timestamp": "soon"}) + "\n")
    with pytest.raises(InputError, match=r"line 1: timestamp .*read as an Alibaba/ServeGen offline trace"):
        read_workload([g], catalog, options=OPTS)
