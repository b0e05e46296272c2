"""The lever table's fast path (`engine.file_rows`): a workload that is the rows of one canonical Parquet file, in
order, has its `prefix` lists read from the file by pyarrow and hashed by a compiled pass; its portable twin is
the engine's query with the lists. Both must give the same table, the same segments (ids equal exactly where the
hash strings are) and the same dollars; the readers must claim the file's rows only when they are."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from inferplan import engine, synth
from inferplan.catalog import load_catalog
from inferplan.codes import first_order
from inferplan.levers import _table, evaluate
from inferplan.levers._build import canonical_table
from inferplan.levers._table import _ids, lever_table
from inferplan.readers import ReadOptions, read_workload

ROOT = Path(__file__).resolve().parents[1]
M = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


def _odd_file(path: Path, row_group_size: int = 3) -> Path:
    """Prefixes as producers leave them: none, empty, a null element, a null hash, null and negative tokens,
    non-ASCII and repeated hashes, across several row groups."""
    segs = [[("sys", 1200), ("doc-a", 300)], None, [], [("sys", 1200), None, ("tail-1", 5)],
            [(None, 40), ("sys", 1200)], [("sys", None), ("doc-ä", -3)], [("sys", 1200), ("doc-a", 300)],
            [("", 7), ("sys", 1200), ("doc-ä", 9)], [(None, 40)], [("tail-2", 11)]]
    n = len(segs)
    prefix = pa.array([None if s is None else [None if e is None else {"hash": e[0], "tokens": e[1]} for e in s]
                       for s in segs], pa.list_(pa.struct([("hash", pa.string()), ("tokens", pa.int64())])))
    t = canonical_table(n, model=M, scope=None, call_type=["a", "b"] * (n // 2), input_tokens=np.full(n, 2000),
                        output_tokens=np.full(n, 50), prefix=prefix, ts=np.arange(n) * 30_000_000)
    pq.write_table(t, path, row_group_size=row_group_size)
    return path


def _both(table):
    """The lever table by the fast path and by its portable twin (the fast path switched off)."""
    fast = lever_table(table, batch_rows=2)
    real = _table.engine.file_rows
    _table.engine.file_rows = lambda t: None
    try:
        twin = lever_table(table, batch_rows=2)
    finally:
        _table.engine.file_rows = real
    return fast, twin


def _same(fast, twin) -> None:
    (a, pa_), (b, pb) = fast, twin
    assert a.equals(b)
    for f in ("lengths", "starts", "tokens"):
        assert np.array_equal(getattr(pa_, f), getattr(pb, f)), f
    # the ids differ (ours and the engine's hash), the segments they name must not
    assert np.array_equal(first_order(pa_.seg)[0], first_order(pb.seg)[0])


def test_odd_prefixes_give_the_same_lever_table_both_ways(tmp_path):
    cat = load_catalog()
    wl = read_workload([str(_odd_file(tmp_path / "odd.parquet"))], cat, "auto", None)
    assert engine.file_rows(wl.table) == str(tmp_path / "odd.parquet")
    fast, twin = _both(wl.table)
    _same(fast, twin)
    lengths = fast[1].lengths.tolist()
    assert lengths == [2, 0, 0, 3, 2, 2, 2, 3, 1, 1]
    seg = fast[1].seg
    # "sys" everywhere the same id; a null hash (null element or null string) one id; "" its own
    assert len({int(seg[i]) for i in (0, 2, 6, 7, 9, 12)}) == 1
    assert seg[3] == seg[5] == seg[14] == _table._NULL_ID and seg[11] != seg[3] and seg[8] == seg[13]
    assert len(set(seg.tolist())) == 7  # sys, doc-a, null, tail-1, doc-ä, "", tail-2
    assert fast[1].tokens.tolist()[:3] == [1200, 300, 1200] and fast[1].tokens[3] == 0  # null element: 0 tokens


def test_case_study_levers_equal_with_and_without_the_fast_path(tmp_path):
    spec = yaml.safe_load((ROOT / "examples" / "support_case_study.yaml").read_text())
    path = tmp_path / "case.parquet"
    t = synth.generate(spec["traffic"], seed=5, rows=4000)
    pq.write_table(t.rename_columns(["model" if c == "model_id" else c for c in t.column_names]), path,
                   row_group_size=900)
    cat = load_catalog()
    wl = read_workload([str(path)], cat, "auto", None)
    assert engine.file_rows(wl.table) == str(path)
    _same(*_both(wl.table))
    scenario = {**spec, "levers": {"caching": {"ttl": "auto"}, "batch": {"non_interactive": True}}}
    fast = evaluate(wl, cat, "caching,batch", scenario)
    real = _table.engine.file_rows
    _table.engine.file_rows = lambda t: None
    try:
        twin = evaluate(wl, cat, "caching,batch", scenario)
    finally:
        _table.engine.file_rows = real
    assert json.dumps(fast, sort_keys=True, default=str) == json.dumps(twin, sort_keys=True, default=str)
    assert fast["alone"]["caching"]["saving_usd"] > 1  # the replay ran on the file's prefixes


def test_the_readers_claim_the_files_rows_only_when_the_table_is_them(tmp_path):
    cat = load_catalog()
    good = _odd_file(tmp_path / "good.parquet")
    assert engine.file_rows(read_workload([str(good)], cat, "auto", None).table) == str(good)
    # a row skipped (a negative count): the table is not the file's rows
    t = pq.read_table(good)
    bad = t.set_column(t.schema.get_field_index("output_tokens"), "output_tokens",
                       pa.array([-1] + [50] * (t.num_rows - 1), pa.int64()))
    pq.write_table(bad, tmp_path / "bad.parquet")
    wl = read_workload([str(tmp_path / "bad.parquet")], cat, "auto", ReadOptions(on_error="skip"))
    assert sum(wl.skipped.values()) == 1 and engine.file_rows(wl.table) is None
    # tokens of another integer type: the engine casts the lists, so they are not the file's as they are
    narrow = t.set_column(t.schema.get_field_index("prefix"), "prefix", t.column("prefix").cast(
        pa.list_(pa.struct([("hash", pa.string()), ("tokens", pa.int32())]))))
    pq.write_table(narrow, tmp_path / "narrow.parquet")
    wl = read_workload([str(tmp_path / "narrow.parquet")], cat, "auto", None)
    assert engine.file_rows(wl.table) is None
    assert lever_table(wl.table)[1].lengths.tolist() == [2, 0, 0, 3, 2, 2, 2, 3, 1, 1]  # the twin reads it
    # two files: a union, no order to claim
    assert engine.file_rows(read_workload([str(good), str(tmp_path / "narrow.parquet")], cat, "auto",
                                          None).table) is None
    # a CSV export of it
    csv = tmp_path / "w.csv"
    csv.write_text("ts,model,input_tokens,output_tokens\n2026-01-05T00:00:00Z," + M + ",10,2\n")
    assert engine.file_rows(read_workload([str(csv)], cat, "auto", None).table) is None
    # on another engine the path is the engine's own (its table would be Spark's)
    table = read_workload([str(good)], cat, "auto", None).table
    with engine.using("spark"):
        assert engine.file_rows(table) is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=20), st.text("a\x00", max_size=17)), max_size=40))
def test_segment_ids_are_equal_exactly_where_the_strings_are(strings):
    """Equal text, equal id; a null its own id; the same ids from a large_string column."""
    arr = pa.array(strings, pa.string())
    ids = _ids(arr)
    assert np.array_equal(ids, _ids(arr.cast(pa.large_string())))
    for i, a in enumerate(strings):
        for j, b in enumerate(strings):
            assert (ids[i] == ids[j]) == (a == b), (a, b)
    if len(strings) > 2:  # a slice reads its own offsets
        assert np.array_equal(_ids(arr.slice(1)), ids[1:])


def test_segment_ids_tell_apart_texts_that_differ_only_in_zero_bytes_or_at_a_word_edge():
    """The ids read eight bytes a word, the last one zero-padded: a text and the same text with zero bytes
    after it (the padding's own bytes), and texts that differ in their first, eighth, ninth or last byte, all
    get different ids."""
    base = "0123456789abcdefXYZ"
    texts = ["", *("\x00" * k for k in range(1, 18)), *("a" + "\x00" * k for k in range(0, 17))]
    texts += [base[:n] for n in range(1, len(base) + 1)]
    texts += [base[:i] + "!" + base[i + 1:] for i in (0, 7, 8, 15, 16, len(base) - 1)]
    ids = _ids(pa.array(texts, pa.string()))
    assert len(set(ids.tolist())) == len(texts)


def test_row_groups_larger_than_two_batches_are_read_batch_by_batch(tmp_path):
    cat = load_catalog()
    path = _odd_file(tmp_path / "one.parquet", row_group_size=100)  # one row group of 10 rows, batches of 2
    wl = read_workload([str(path)], cat, "auto", None)
    _same(*_both(wl.table))


@pytest.fixture(autouse=True)
def _duckdb():
    with engine.using("duckdb"):
        yield


def test_no_file_order_claimed_once_the_resolution_is_forgotten(tmp_path, monkeypatch):
    """The file's prefixes pair with the rows only in the file's order, which needs the resolution kept beside
    the claim (`in_file_order`); were it evicted from the rewrites, the join's rows keep no order: the lever
    table must then take the engine's lists. Catches a fast path that trusts the file claim alone."""
    cat = load_catalog()
    wl = read_workload([str(_odd_file(tmp_path / "odd.parquet"))], cat, "auto", None)
    assert engine.file_rows(wl.table) is not None
    engine.rewrites._items.pop(("resolved", wl.table.op()))  # what eight later reads would do
    monkeypatch.setattr(_table, "_file_lists", lambda *a, **k: (_ for _ in ()).throw(AssertionError("fast")))
    cols, pre = lever_table(wl.table)
    # the rows come in the join's order, not the file's: pair each list length with its row's `ts` (unique here)
    by_ts = dict(zip(cols.column("ts").to_pylist(), pre.lengths.tolist(), strict=True))
    assert [by_ts[t] for t in sorted(by_ts)] == [2, 0, 0, 3, 2, 2, 2, 3, 1, 1]


def test_slices_of_one_table_are_priced_each_at_its_own_rows(tmp_path):
    """Two equal-length slices of one column share its buffers: their remembered codes must not be shared."""
    from inferplan.pricing import clear_key_codes, request_costs

    from .test_prices_dated import NEW_USD, OLD_USD, dated_catalog, two_requests

    cat = dated_catalog(tmp_path)
    clear_key_codes()
    t = two_requests(cat).order_by("ts").to_pyarrow()
    assert request_costs(t.slice(0, 1), cat).total.tolist() == pytest.approx([OLD_USD], abs=1e-15)
    assert request_costs(t.slice(1, 1), cat).total.tolist() == pytest.approx([NEW_USD], abs=1e-15)
    clear_key_codes()


def test_a_part_arrow_cannot_decode_whole_is_read_again_in_smaller_batches(tmp_path, monkeypatch):
    """Past 2 GiB of text in one row group, arrow cannot decode the nested column whole; the fast path reads
    the file again in smaller batches (the same table), and says which file when even 1,024 rows fail."""
    from inferplan.errors import InputError

    cat = load_catalog()
    path = _odd_file(tmp_path / "odd.parquet")
    wl = read_workload([str(path)], cat, "auto", None)
    real = _table._prefix_batches
    sizes = []

    def failing(p, f, batch_rows):
        sizes.append(batch_rows)
        if batch_rows > 1024:
            raise pa.ArrowNotImplementedError("Nested data conversions not implemented for chunked array outputs")
        return real(p, f, 1)  # one row a batch: every batch's lists appended, none lost or doubled

    monkeypatch.setattr(_table, "_prefix_batches", failing)
    fast = lever_table(wl.table, batch_rows=10_000)
    assert sizes == [10_000, 1250, 1024]
    monkeypatch.setattr(_table, "_prefix_batches", real)
    _same(fast, _both(wl.table)[1])

    def never(p, f, batch_rows):
        raise pa.ArrowCapacityError("array cannot contain more than 2147483646 bytes")

    monkeypatch.setattr(_table, "_prefix_batches", never)
    with pytest.raises(InputError, match="odd.parquet.*smaller row groups"):
        lever_table(wl.table)


def test_a_file_rewritten_since_it_was_read_is_not_claimed(tmp_path):
    cat = load_catalog()
    path = _odd_file(tmp_path / "odd.parquet")
    wl = read_workload([str(path)], cat, "auto", None)
    assert engine.file_rows(wl.table) == str(path)
    import os

    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert engine.file_rows(wl.table) is None
    path.unlink()
    assert engine.file_rows(wl.table) is None


def test_a_failing_stream_stops_the_file_thread_and_a_failing_file_stops_the_stream(tmp_path, monkeypatch):
    """The prefix lists are read from the file in a thread while the engine streams the other columns: when
    the stream fails, its error comes out and the file's thread stops at its next part (not after the whole
    file); when the file fails, its error comes out without the rest of the stream read first."""
    import time

    import ibis.expr.types.relations as rel

    cat = load_catalog()
    path = _odd_file(tmp_path / "odd.parquet", row_group_size=1)  # ten row groups: ten parts
    wl = read_workload([str(path)], cat, "auto", None)
    real_parts = _table._prefix_batches
    parts: list[int] = []

    def slow_parts(p, f, batch_rows):
        for part in real_parts(p, f, batch_rows):
            time.sleep(0.05)
            parts.append(1)
            yield part

    def failing_stream(self, **kw):
        time.sleep(0.02)
        raise RuntimeError("the stream broke")
        yield  # pragma: no cover

    monkeypatch.setattr(_table, "_prefix_batches", slow_parts)
    with monkeypatch.context() as m:
        m.setattr(rel.Table, "to_pyarrow_batches", failing_stream)
        with pytest.raises(RuntimeError, match="the stream broke"):
            lever_table(wl.table, batch_rows=2)
    assert 0 < len(parts) < 10  # stopped early

    real_stream = rel.Table.to_pyarrow_batches
    batches: list[int] = []

    def slow_stream(self, **kw):
        for b in real_stream(self, **kw):
            time.sleep(0.05)
            batches.append(1)
            yield b

    def broken_parts(p, f, batch_rows):
        raise OSError("the file broke")
        yield  # pragma: no cover

    monkeypatch.setattr(_table, "_prefix_batches", broken_parts)
    monkeypatch.setattr(rel.Table, "to_pyarrow_batches", slow_stream)
    with pytest.raises(OSError, match="the file broke"):
        lever_table(wl.table, batch_rows=1)
    assert 0 < len(batches) < 10  # the stream stopped at the file's error
