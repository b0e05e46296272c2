"""Dictionary-encoded string columns in the levers: codes, breakers and the evaluate() memo, checked against
plain Python references (object arrays, pandas group-bys, arrow `take`, levers applied without sharing)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inferplan.codes import first_order
from inferplan.levers import apply_levers, breakers, evaluate, price_table, routing
from inferplan.levers._build import canonical_table
from inferplan.levers._common import codes, encode, lookup, mask
from inferplan.levers.caching import build_flat
from inferplan.levers.options import RoutingOptions, RoutingRule, load_options
from tests.test_levers_caching import tiny_catalog

S = 1_000_000
values = st.sampled_from(["a", "b", "", None, "c\x1fd"])


def reference_codes(t: pa.Table, *names: str) -> tuple[list[int], list[tuple]]:
    """What `codes` means: the combination of the columns (null as ""), numbered by first occurrence."""
    rows = list(zip(*(["" if v is None else v for v in t.column(n).to_pylist()] for n in names), strict=True))
    seen: dict[tuple, int] = {}
    return [seen.setdefault(r, len(seen)) for r in rows], list(seen)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(values, values, st.sampled_from(["standard", "batch", None])), min_size=1, max_size=30),
       st.data())
def test_codes_match_a_python_reference_and_a_taken_table(rows, data):
    n = len(rows)
    plain = pa.table({"call_type": pa.array([r[0] for r in rows], pa.string()),
                      "model": pa.array([r[1] for r in rows], pa.string()),
                      "tier": pa.array([r[2] for r in rows], pa.string())})
    # the same values as strings, as one-chunk dictionaries (read by their indices: the compiled pass) and as
    # dictionaries in two chunks (encoded first)
    as_dict = pa.table({c: plain.column(c).combine_chunks().dictionary_encode() for c in plain.column_names})
    cut = n // 2
    two = pa.concat_tables([as_dict.slice(0, cut), as_dict.slice(cut)])
    form = data.draw(st.sampled_from(["plain", "dictionary", "two chunks"]))
    t = {"plain": plain, "dictionary": as_dict, "two chunks": two}[form]
    for names in (("call_type",), ("call_type", "model"), ("model", "tier", "call_type"),
                  ("model", "tier", "call_type", "model", "tier")):  # five: the combined-integer path
        code, keys = codes(t, *names)
        ref_code, ref_keys = reference_codes(t, *names)
        assert code.tolist() == ref_code and keys == ref_keys
        sub = np.array(data.draw(st.lists(st.integers(0, n - 1), max_size=2 * n)), np.int64)
        code, keys = codes(t, *names, rows=sub)
        ref_code, ref_keys = reference_codes(t.take(pa.array(sub, pa.int64())), *names)
        assert code.tolist() == ref_code and keys == ref_keys


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 40), st.integers(-(2**62), 2**62)), max_size=60), st.booleans())
def test_first_order_numbers_by_first_occurrence_on_both_paths(values, small):
    """The lookup-table pass (small non-negative values) and the hash path (any other) number as a Python
    reference does."""
    arr = np.array([v % 41 for v in values] if small else values, np.int64)
    code, first = first_order(arr)
    seen: dict[int, int] = {}
    ref = [seen.setdefault(int(v), len(seen)) for v in arr]
    assert code.dtype == np.int32 and code.tolist() == ref and first.tolist() == list(seen)
    if small and arr.size:  # int32 input (dictionary indices) takes the same path, same answer
        code32, first32 = first_order(arr.astype(np.int32))
        assert code32.tolist() == ref and first32.tolist() == list(seen)


def test_encode_dictionary_columns_with_nulls_and_repeated_values():
    idx = pa.array([2, None, 0, 2, 1, None], pa.int32())
    col = pa.DictionaryArray.from_arrays(idx, pa.array(["a", "b", "c"]))
    code, vals = encode(pa.table({"c": col}), "c")
    assert [vals[i] for i in code] == ["c", None, "a", "c", "b", None] and vals == ["c", None, "a", "b"]
    names = pa.array([f"v{i}" for i in range(128)])
    full = pa.DictionaryArray.from_arrays(pa.array([0, 5, None, 127], pa.int8()), names)
    code, vals = encode(pa.table({"c": full}), "c")  # an int8 dictionary using its whole range, and a null
    assert code.tolist() == [0, 1, 2, 3] and vals == ["v0", "v5", None, "v127"]
    rep = pa.DictionaryArray.from_arrays(pa.array([0, 1, 2], pa.int8()), pa.array(["x", "y", "x"]))
    code, vals = encode(pa.table({"c": rep}), "c")  # a dictionary repeating a value: one code for it
    assert code.tolist() == [0, 1, 0] and vals == ["x", "y"]


def test_encode_keeps_nulls_and_per_value_helpers():
    t = pa.table({"c": pa.chunked_array([["x", None], ["y", "x", None]], pa.string())})
    code, vals = encode(t, "c")
    assert [vals[i] for i in code] == ["x", None, "y", "x", None]
    assert mask(code, vals, lambda v: v == "x").tolist() == [True, False, False, True, False]
    assert lookup(code, vals, {"y": 7}, 0, np.int64).tolist() == [0, 0, 7, 0, 0]
    dict_col = pa.table({"c": pa.array(["p", "q", "p"]).dictionary_encode()})
    code, vals = encode(dict_col, "c")
    assert [vals[i] for i in code] == ["p", "q", "p"]


def test_routing_leaves_null_and_other_call_types_alone():
    t = canonical_table(4, model=["claude", "claude", "nova", "claude"], call_type=["t", None, "t", "other"],
                        input_tokens=100, output_tokens=10)
    out, ev = routing.apply(t, tiny_catalog(), RoutingOptions(rules=[RoutingRule(
        call_type="t", small_model="nova", share=1.0)]))
    assert out.column("model").to_pylist() == ["nova", "claude", "nova", "claude"]
    assert out.column("call_type").to_pylist() == ["t", None, "t", "other"]
    assert ev["rules"][0]["requests"] == 2 and ev["rules"][0]["to_small"] == 1
    assert ev["rules"][0]["from_models"] == ["claude", "nova"]


def reference_find(t: pa.Table, unique_ratio: float = 0.9, repeat_ratio: float = 0.5, min_requests: int = 20):
    """The breaker search written with a pandas group-by over Python rows."""
    rows = [(ct, d, h, k) for ct, pre in zip(t.column("call_type").to_pylist(), t.column("prefix").to_pylist(),
                                             strict=True) if pre and ct is not None
            for d, (h, k) in enumerate((s["hash"], s["tokens"]) for s in pre)]
    df = pd.DataFrame(rows, columns=["ct", "depth", "seg", "tokens"])
    first = {c: i for i, c in enumerate(dict.fromkeys(x for x in t.column("call_type").to_pylist() if x is not None))}
    df["ct"] = df["ct"].map(first)
    names = list(first)
    g = df.groupby(["ct", "depth"]).agg(n=("seg", "size"), distinct=("seg", "nunique"), tokens=("tokens", "mean"))
    g["ratio"] = g["distinct"] / g["n"]
    out = []
    for (ct, depth), row in g.iterrows():
        if row["n"] < min_requests or row["ratio"] < unique_ratio:
            continue
        after = g.loc[ct]
        after = after[(after.index > depth) & (after["ratio"] <= repeat_ratio) & (after["n"] >= min_requests)]
        if after.empty:
            continue
        out.append({"call_type": names[ct], "position": int(depth) + 1, "requests": int(row["n"]),
                    "distinct_share": round(float(row["ratio"]), 4), "tokens_mean": round(float(row["tokens"]), 1),
                    "repeating_positions_after": [int(d) + 1 for d in after.index],
                    "repeating_tokens_mean_after": round(float(after["tokens"].sum()), 1)})
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_breakers_find_matches_a_pandas_reference(seed):
    rng = np.random.default_rng(seed)
    n = 400
    segs = []
    for i in range(n):
        head = [(f"ts{i}" if rng.random() < 0.95 else "fixed", 100)] if rng.random() < 0.8 else []
        tail = [("sys", 2000), (f"doc{rng.integers(3)}", int(rng.integers(100, 900)))][: int(rng.integers(0, 3))]
        segs.append((head + tail) or None)
    ct = rng.choice(np.array(["a", "b", "c"], object), n)
    ct[rng.random(n) < 0.05] = None
    t = canonical_table(n, call_type=pa.array(ct.tolist(), pa.string()), prefix=segs, input_tokens=5000)
    for kw in ({}, {"unique_ratio": 0.3, "repeat_ratio": 0.9, "min_requests": 1}):
        assert breakers.find(t, **kw) == reference_find(t, **kw)


def test_build_flat_from_a_subset_equals_building_from_the_taken_table():
    n = 6
    t = canonical_table(n, call_type=["r", "r", "x", "r", "x", "y"], input_tokens=3000,
                        prefix=[[("a", 500), ("b", 700)], None, [("a", 500)], [("c", 100)], None, None])
    rows = np.array([5, 3, 0, 1, 4], np.int64)
    stable = {"x": 900, "y": 50}
    ns = np.zeros(rows.size, np.int64)
    tin = np.full(rows.size, 3000, np.int64)
    f = build_flat(t, rows, stable, ns, tin)
    g = build_flat(t.take(pa.array(rows)), np.arange(rows.size), stable, ns, tin)
    assert f.offsets.tolist() == g.offsets.tolist() and f.tokens.tolist() == g.tokens.tolist()
    assert f.cum.tolist() == g.cum.tolist() and f.req.tolist() == g.req.tolist()
    # segment ids may be numbered differently, but equal segments must be equal in both
    assert (f.seg[:, None] == f.seg[None, :]).tolist() == (g.seg[:, None] == g.seg[None, :]).tolist()


def test_evaluate_shares_lever_steps_without_changing_results():
    n = 8
    t = canonical_table(
        n, model="claude", ts=np.arange(n) * 10 * S, call_type=["chat", "chat", "nightly", "nightly", "triage",
                                                               "triage", "chat", "triage"],
        interactive=[True, True, False, False, True, True, True, True], input_tokens=2100, output_tokens=100,
        prefix=[[("sys", 2000), (f"m{i}", 100)] for i in range(n)])
    scen = {"levers": {"caching": {"ttl": 300},
                       "routing": {"rules": [{"call_type": "triage", "small_model": "nova", "mode": "cascade",
                                              "share": 1.0, "escalation_rate": 0.5}]}}}
    cat = tiny_catalog()
    lv = evaluate(t, cat, "all", scen)
    opts = load_options(scen)
    for name in ("trim", "batch", "caching", "routing"):  # each lever alone, unshared
        cf, ev = apply_levers(t, cat, [name], opts)
        assert lv["alone"][name]["new_usd"] == pytest.approx(price_table(cf, cat)[0], rel=1e-12)
        assert lv["alone"][name]["evidence"] == ev[name]
    names = ["trim", "batch", "caching", "routing"]
    for k, step in enumerate(lv["compounded"]["steps"], start=1):
        cf, _ = apply_levers(t, cat, names[:k], opts)
        assert step["new_usd"] == pytest.approx(price_table(cf, cat)[0], rel=1e-12)


def test_streamed_lever_table_gives_the_same_results_as_the_whole_table():
    """`evaluate` on an Ibis workload streams a lever table (no `prefix` strings: 64-bit hashes, one encoding
    shared by every lever and step, `_row` back to the workload) and must agree with the whole pyarrow table:
    every lever alone and compounded, the caching evidence, a cache breaker and its saving."""
    import ibis

    n = 60
    segs = [[("tools", 1500), (f"clock{i}", 20), ("sys", 3000), (f"q{i}", 50)] for i in range(n)]
    segs += [[("sys", 2000), (f"m{i}", 100)] for i in range(8)] + [None, None]
    m = len(segs)
    cts = ["chat"] * n + ["chat", "nightly", "nightly", "triage", "triage", "chat", "triage", "nightly"] + \
        ["triage", "chat"]
    t = canonical_table(m, model="claude", ts=np.arange(m) * 10 * S, call_type=cts,
                        interactive=[c != "nightly" for c in cts],
                        input_tokens=[sum(k for _, k in s) + 30 if s else 900 for s in segs], output_tokens=100,
                        prefix=segs)
    scen = {"levers": {"caching": {"ttl": "auto", "stable_prefix_tokens": {"triage": 1200}},
                       "trim": {"rules": [{"call_type": "chat", "scale": 0.5}]},
                       "routing": {"rules": [{"call_type": "triage", "small_model": "nova", "mode": "cascade",
                                              "share": 1.0, "escalation_rate": 0.5}]}}}
    cat = tiny_catalog()
    whole = evaluate(t, cat, "all", scen)
    streamed = evaluate(ibis.memtable(t), cat, "all", scen)
    assert _same(streamed, whole)
    assert whole["alone"]["caching"]["evidence"]["breakers"][0]["saving_if_moved_to_end"] > 0


def _same(a, b) -> bool:
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        return all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        assert len(a) == len(b)
        return all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-15)
        return True
    assert a == b
    return True


def test_replay_units_split_namespaces_and_unrelated_call_types_and_are_reused(monkeypatch):
    from inferplan.levers import caching
    from inferplan.levers.cache.flat import explode

    segs = [[("sys", 2000), ("a", 10)], [("sys", 2000), ("b", 10)], [("other", 2000)], [("sys", 2000)]]
    t = canonical_table(4, model=["claude", "claude", "claude", "nova"], call_type=["x", "y", "z", "x"],
                        input_tokens=[2010, 2010, 2000, 2000], prefix=segs)
    ex = explode(t)
    units = caching._units(t, ex, np.arange(4), {})
    assert sorted(sorted(u.tolist()) for u in units) == [[0, 1], [2], [3]]  # x and y share `sys` on claude
    calls = []
    real = caching._replay_rows
    monkeypatch.setattr(caching, "_replay_rows", lambda *a, **k: calls.append(1) or real(*a, **k))
    n = 8
    t = canonical_table(n, model="claude", ts=np.arange(n) * 10 * S, call_type=["chat"] * 4 + ["nightly"] * 4,
                        interactive=[True] * 4 + [False] * 4, input_tokens=2100, output_tokens=100,
                        prefix=[[("sys", 2000), (f"m{i}", 100)] for i in range(4)]
                        + [[("summ", 2000), (f"m{i}", 100)] for i in range(4)])
    lv = evaluate(t, tiny_catalog(), "batch,caching", {"levers": {"caching": {"ttl": 300}}})
    # alone: chat and nightly replayed; batch + caching: nightly moved to batch, chat unchanged: not replayed again
    assert len(calls) == 2
    assert lv["compounded"]["steps"][1]["new_usd"] < lv["compounded"]["steps"][0]["new_usd"]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["claude", "nova"]), st.sampled_from(["a", "b", "c", "d"]),
                          st.one_of(st.none(), st.sampled_from(["s1", "s2", "s3", "s4"]))), min_size=1, max_size=30),
       st.data())
def test_replay_units_are_the_components_of_shared_first_segments(rows, data):
    """Oracle: (model, call type) nodes joined when two share a first segment on one model (a row without a
    prefix shares with no other call type); the units are the components, each in arrival order."""
    from inferplan.levers import caching
    from inferplan.levers.cache.flat import explode

    n = len(rows)
    t = canonical_table(n, model=[r[0] for r in rows], call_type=[r[1] for r in rows], input_tokens=3000,
                        prefix=[[(r[2], 1500), ("tail", 10)] if r[2] else None for r in rows])
    order = np.array(data.draw(st.permutations(range(n))), np.int64)  # any subset order: rows given by arrival
    keep = order[: data.draw(st.integers(1, n))]
    units = caching._units(t, explode(t), keep, {})
    parent = {}

    def root(x):
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for i in keep.tolist():
        for j in keep.tolist():
            if rows[i][2] and rows[i][2] == rows[j][2] and rows[i][0] == rows[j][0]:
                a, b = root(rows[i][:2]), root(rows[j][:2])
                if a != b:
                    parent[b] = a
    want = {}
    for i in keep.tolist():
        want.setdefault(root(rows[i][:2]), []).append(int(i))
    assert sorted(u.tolist() for u in units) == sorted(want.values())
    assert sorted(int(x) for u in units for x in u) == sorted(keep.tolist())


@pytest.mark.parametrize("late", [False, True])
def test_replay_units_with_more_first_segments_than_the_first_table_holds(late):
    """Thousands of distinct first segments (the pair table grows, every pair placed again): a call type that
    shares one of them, early or after the growth, still joins; one with only its own stays apart."""
    from inferplan.levers import caching
    from inferplan.levers.cache.flat import explode

    n = 6000
    cts = ["a"] * 3000 + ["b"] * 1500 + ["c"] * 1500
    firsts = [f"s{i}" for i in range(3000)] + [f"b{i}" for i in range(1500)] + [f"c{i}" for i in range(1500)]
    firsts[4499 if late else 3000] = "s2999" if late else "s0"  # one b request shares an a request's first segment
    t = canonical_table(n, model="claude", call_type=cts, input_tokens=3000,
                        prefix=[[(f, 1500), ("tail", 10)] for f in firsts])
    units = caching._units(t, explode(t), np.arange(n), {})
    assert sorted(u.size for u in units) == [1500, 4500]


def test_splitmix64_compiled_equals_the_numpy_expression():
    """The compiled mix (chain keys, unit numbers, routing's draws) against the plain numpy expression, for
    negative, large, 32-bit and empty inputs: the same 64-bit values, so every seeded result is unchanged."""
    from inferplan.levers.cache.flat import splitmix64

    def numpy_mix(x):
        z = x.astype(np.uint64, copy=True)
        with np.errstate(over="ignore"):
            z += np.uint64(0x9E3779B97F4A7C15)
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z ^= z >> np.uint64(31)
        return z

    rng = np.random.default_rng(0)
    for a in (rng.integers(-(2**62), 2**62, 500), rng.integers(0, 2**63, 500).astype(np.uint64),
              np.arange(10, dtype=np.int32), np.zeros(0, np.int64)):
        got = splitmix64(a)
        assert got.dtype == np.uint64 and np.array_equal(got, numpy_mix(a))
    assert int(splitmix64(np.array([0], np.uint64))[0]) == 0xE220A8397B1DCDAF  # splitmix64's first output, seed 0


@pytest.mark.parametrize("split", [1 << 16, 2])
def test_unit_fingerprint_changes_with_every_input_a_replay_reads(split, monkeypatch):
    """A remembered replay is reused only on equal inputs: the digest is equal for an equal copy of the table and
    differs when any one time, segment, segment's tokens, prefix length, token bucket, call type or model of
    one request differs (in one pass, and in halves digested side by side)."""
    from inferplan.levers import caching

    monkeypatch.setattr(caching, "_SPLIT_DIGEST", split)
    from inferplan.levers.cache.flat import explode
    from inferplan.levers.options import CachingOptions
    from inferplan.pricing import request_rates

    cat = tiny_catalog()
    segs = [[("sys", 2000), (f"m{i}", 100)] for i in range(5)]

    def digest(**kw):
        args = {"model": "claude", "ts": np.arange(5) * 10 * S, "call_type": "chat", "input_tokens": 2100,
                "output_tokens": 100, "prefix": segs, **kw}
        t = canonical_table(5, **args)
        ex = explode(t)
        new = {c: np.array(t.column(c).to_numpy()) for c in ("input_tokens", "cache_read_tokens",
                                                             "cache_write_5m_tokens", "cache_write_1h_tokens")}
        return caching._fingerprint(t, ex, np.arange(5), CachingOptions(), t.column("ts").cast("int64").to_numpy(),
                                    request_rates(t, cat), new, 2, {})

    base = digest()
    assert digest() == base
    changed = {
        "ts": digest(ts=np.array([0, 10, 20, 31, 40]) * S),
        "first ts": digest(ts=np.array([1, 10, 20, 30, 40]) * S),
        "first bucket": digest(input_tokens=[2000, 2100, 2100, 2100, 2100], cache_read_tokens=[100, 0, 0, 0, 0]),
        # (a canonical table's segment ids number its distinct texts: a replay reads which segments are equal)
        "segment id": digest(prefix=[*segs[:4], [("sys", 2000), ("m3", 100)]]),
        "segment tokens": digest(prefix=[*segs[:4], [("sys", 2000), ("m4", 101)]]),
        "prefix length": digest(prefix=[*segs[:4], [("sys", 2000)]]),
        "bucket": digest(input_tokens=[2100, 2100, 2000, 2100, 2100], cache_read_tokens=[0, 0, 100, 0, 0]),
        "call type": digest(call_type=["chat", "chat", "chat", "chat", "other"]),
        "model": digest(model=["claude", "claude", "claude", "claude", "nova"]),
    }
    for what, d in changed.items():
        assert d != base, what


def test_codes_past_the_lookup_table_number_as_the_compiled_pass():
    """Two dictionary columns of 1,100 values each (1.21M combinations, past the 2^20-entry table): the
    combined-integer path numbers as the reference does, on every row and on a subset."""
    rng = np.random.default_rng(3)
    a = [f"a{i}" for i in rng.integers(0, 1100, 3000)]
    b = [None if i == 0 else f"b{i}" for i in rng.integers(0, 1100, 3000)]
    t = pa.table({"model": pa.array(a).dictionary_encode(), "region": pa.array(b).dictionary_encode()})
    assert len(t.column("model").chunk(0).dictionary) * len(t.column("region").chunk(0).dictionary) > 1 << 20
    code, keys = codes(t, "model", "region")
    ref_code, ref_keys = reference_codes(t, "model", "region")
    assert code.tolist() == ref_code and keys == ref_keys
    sub = rng.integers(0, 3000, 500)
    code, keys = codes(t, "model", "region", rows=sub)
    ref_code, ref_keys = reference_codes(t.take(pa.array(sub)), "model", "region")
    assert code.tolist() == ref_code and keys == ref_keys


def test_concat_rows_keeps_every_value_in_one_chunk_a_column():
    """`concat_rows` (routing's escalated requests after the routed ones): the same rows as arrow's
    concatenation, each column one chunk, with dictionaries that differ, overlap and hold nulls."""
    from inferplan.levers._common import concat_rows

    a = pa.table({"model": pa.DictionaryArray.from_arrays(pa.array([0, 1, None, 1], pa.int32()), pa.array(["x", "y"])),
                  "n": pa.array([1, 2, 3, 4], pa.int32())})
    b = pa.table({"model": pa.DictionaryArray.from_arrays(pa.array([1, 0, 2], pa.int32()), pa.array(["z", "y", "w"])),
                  "n": pa.array([5, None, 7], pa.int32())})
    same = pa.table({"model": pa.DictionaryArray.from_arrays(pa.array([None, 0], pa.int32()), pa.array(["x", "y"])),
                     "n": pa.array([8, 9], pa.int32())})
    for other in (b, same):
        out = concat_rows(a, other)
        assert out.to_pylist() == pa.concat_tables([a, other]).to_pylist()
        assert all(out.column(c).num_chunks == 1 for c in out.column_names)
    assert concat_rows(a, same).column("model").chunk(0).dictionary.to_pylist() == ["x", "y"]
    # only some of `b`'s rows (routing's escalated ones), repeated and reordered: arrow's take, then as above;
    # with timestamps, booleans and nulls
    extra = {"ts": pa.array([1, 2, 3, 4], pa.timestamp("us", tz="UTC")), "ok": pa.array([True, False, None, True])}
    a2 = a.append_column("ts", extra["ts"]).append_column("ok", extra["ok"])
    for other in (b, same, a):
        o2 = other.append_column("ts", pa.array(range(10, 10 + other.num_rows), pa.timestamp("us", tz="UTC"))) \
            .append_column("ok", pa.array([i % 2 == 0 for i in range(other.num_rows)]))
        take = np.array([other.num_rows - 1, 0, other.num_rows - 1], np.int64)
        out = concat_rows(a2, o2, take)
        assert out.to_pylist() == pa.concat_tables([a2, o2.take(pa.array(take))]).to_pylist()
        assert out.schema == a2.schema
        assert all(out.column(c).num_chunks == 1 for c in out.column_names)
        assert concat_rows(a2, o2, np.zeros(0, np.int64)).to_pylist() == a2.to_pylist()
    # a canonical table's text and list columns, and columns of several chunks: chained as arrow does, not
    # copied into one array (which could pass 2^31 bytes of text)
    text = pa.table({"request_id": pa.chunked_array([["r1", "r2"], ["r3"]]), "n": pa.chunked_array([[1, 2], [3]]),
                     "prefix": pa.chunked_array([[[1], []], [[2, 3]]])})
    more = pa.table({"request_id": ["r4"], "n": [4], "prefix": [[4]]})
    out = concat_rows(text, more)
    assert out.to_pylist() == pa.concat_tables([text, more]).to_pylist() and out.schema == text.schema
    assert [out.column(c).num_chunks for c in out.column_names] == [3, 3, 3]
    assert concat_rows(text, text, np.array([2, 0])).to_pylist() == \
        pa.concat_tables([text, text.take(pa.array([2, 0]))]).to_pylist()


def test_codes_of_dictionaries_with_many_unused_values_do_not_overflow():
    """Four columns with a 70,000-value dictionary each (a filtered table keeps every value): 70,001^4 passes
    2^63, so the combination is renumbered column by column; the keys are the rows' own."""
    d = pa.array([f"v{i}" for i in range(70000)])

    def column(ix: list[int]) -> pa.ChunkedArray:
        return pa.chunked_array([pa.DictionaryArray.from_arrays(pa.array(ix, pa.int32()), d)])

    t = pa.table({"call_type": column([69999, 1, 2, 69999]), "model": column([69999, 1, 2, 69999]),
                  "scope": column([69999, 3, 2, 69999]), "region": column([69999, 1, 2, 69999])})
    code, keys = codes(t, "call_type", "model", "scope", "region")
    ref_code, ref_keys = reference_codes(t, "call_type", "model", "scope", "region")
    assert code.tolist() == ref_code == [0, 1, 2, 0] and keys == ref_keys
    assert keys[0] == ("v69999",) * 4
