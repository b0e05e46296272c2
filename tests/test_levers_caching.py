"""Managed prompt-cache replay: exact hand-built sequences, a brute-force oracle, and invariants."""

from __future__ import annotations

import json
import unittest.mock as um
from datetime import date

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inferplan.catalog import Catalog
from inferplan.catalog.schema import BedrockModel, BedrockPrice
from inferplan.errors import ConfigError
from inferplan.levers import _replay, caching
from inferplan.levers._build import canonical_table
from inferplan.levers.cache.flat import from_arrays
from inferplan.levers.options import CachingOptions, load_options
from inferplan.pricing import request_costs, request_rates

D = date(2026, 11, 26)
S = 1_000_000  # microseconds per second


def tiny_catalog(*, claude_ttls=(300, 3600), claude_min=1000, nova_min=1000) -> Catalog:
    """Made-up round prices (per million tokens) so the arithmetic below can be checked by hand."""
    models = [
        BedrockModel(model="claude", provider="anthropic", name="C", cache_min_tokens=claude_min,
                     cache_ttls_s=list(claude_ttls), source="test", checked=D),
        BedrockModel(model="nova", provider="amazon", name="N", cache_min_tokens=nova_min, cache_ttls_s=[300],
                     source="test", checked=D),
        BedrockModel(model="plain", provider="x", name="P", source="test", checked=D),
    ]
    prices = [
        BedrockPrice(model="claude", scope="in-region", tier="standard", input_usd_per_mtok=10,
                     output_usd_per_mtok=50, cache_read_usd_per_mtok=1, cache_write_5m_usd_per_mtok=12.5,
                     cache_write_1h_usd_per_mtok=20, source="test", checked=D),
        BedrockPrice(model="claude", scope="in-region", tier="batch", input_usd_per_mtok=5,
                     output_usd_per_mtok=25, source="test", checked=D),
        BedrockPrice(model="nova", scope="in-region", tier="standard", input_usd_per_mtok=4,
                     output_usd_per_mtok=16, cache_read_usd_per_mtok=1, cache_write_5m_usd_per_mtok=4,
                     source="test", checked=D),
        BedrockPrice(model="plain", scope="in-region", tier="standard", input_usd_per_mtok=1,
                     output_usd_per_mtok=2, source="test", checked=D),
    ]
    return Catalog({"bedrock_models": models, "bedrock_prices": prices})


def buckets(t):
    return [tuple(r.values()) for r in t.select(["input_tokens", "cache_read_tokens", "cache_write_5m_tokens",
                                                 "cache_write_1h_tokens"]).to_pylist()]


def conv(times_s, segs, model="claude", tokens=None, **kw):
    n = len(times_s)
    tin = tokens or [sum(k for _, k in s) for s in segs]
    return canonical_table(n, model=model, ts=np.array(times_s, np.int64) * S, input_tokens=tin, prefix=segs, **kw)


def test_ttl_expiry_and_refresh_exact():
    segs = [[("sys", 2000), (f"u{i}", 100)] for i in range(5)]
    t = conv([0, 60, 200, 600, 610], segs)
    out, ev = caching.apply(t, tiny_catalog(), CachingOptions(ttl=300))
    # 60: hit (written at 0); 200: hit (refreshed at 60); 600: 400 s since 200 -> expired, written again
    assert buckets(out) == [(100, 0, 2000, 0), (100, 2000, 0, 0), (100, 2000, 0, 0), (100, 0, 2000, 0),
                            (100, 2000, 0, 0)]
    g = ev["groups"][0]
    assert g["placement"] == "after segment 1" and g["ttl_s"] == 300
    # input $: 500 plain x 10 + 6000 read x 1 + 4000 written x 12.5, per million
    assert g["input_usd_after"] == pytest.approx((500 * 10 + 6000 * 1 + 4000 * 12.5) / 1e6)
    assert g["input_usd_no_cache"] == pytest.approx(10500 * 10 / 1e6)


def test_refresh_keeps_entry_alive_past_ttl_from_write():
    # written at 0, read at 250 and 500: alive at 500 only because the hit at 250 restarted the TTL
    segs = [[("sys", 2000), (f"u{i}", 10)] for i in range(3)]
    out, _ = caching.apply(conv([0, 250, 500], segs), tiny_catalog(), CachingOptions(ttl=300, placements=[[1]]))
    assert [b[1] for b in buckets(out)] == [0, 2000, 2000]


def test_minimum_tokens_per_checkpoint():
    segs = [[("sys", 900), (f"u{i}", 10)] for i in range(4)]
    out, ev = caching.apply(conv([0, 1, 2, 3], segs), tiny_catalog(), CachingOptions(ttl=300, placements=[[1]]))
    assert [b[1] + b[2] for b in buckets(out)] == [0, 0, 0, 0]  # 900 < 1000: no checkpoint, nothing cached
    out, _ = caching.apply(conv([0, 1, 2, 3], segs), tiny_catalog(claude_min=900),
                           CachingOptions(ttl=300, placements=[[1]]))
    assert buckets(out)[1] == (10, 900, 0, 0)


def test_at_most_four_checkpoints():
    with pytest.raises(ConfigError, match="at most 4"):
        load_options({"levers": {"caching": {"placements": [[1, 2, 3, 4, "last"]]}}})
    with pytest.raises(ConfigError, match="ttl_seconds: Extra inputs"):
        load_options({"levers": {"caching": {"ttl_seconds": 300}}})
    assert all(len(f) + last <= 4 for f, last in caching.candidate_placements(CachingOptions(), 10))


def test_reads_through_an_earlier_boundary_in_a_conversation():
    # turn 2 checkpoints the end of its prefix; turn 3 extends it and reads it (look-back), then writes
    t1 = [("sys", 1200), ("u1", 100)]
    t2 = [*t1, ("a1", 100), ("u2", 100)]
    t3 = [*t2, ("a2", 100), ("u3", 100)]
    out, _ = caching.apply(conv([0, 10, 20], [t1, t2, t3]), tiny_catalog(),
                           CachingOptions(ttl=300, placements=[["last"]]))
    assert buckets(out) == [(0, 0, 1300, 0), (0, 1300, 200, 0), (0, 1500, 200, 0)]


def test_one_hour_ttl_where_offered():
    segs = [[("sys", 10_000), (f"u{i}", 10)] for i in range(3)]
    t = conv([0, 1000, 2000], segs)  # 1000 s apart: the 5-minute cache always expires
    out, ev = caching.apply(t, tiny_catalog(), CachingOptions(ttl="auto"))
    assert ev["groups"][0]["ttl_s"] == 3600
    assert buckets(out) == [(10, 0, 0, 10_000), (10, 10_000, 0, 0), (10, 10_000, 0, 0)]
    # a model without the 1-hour TTL cannot use it: writes at 12.5 then nothing read: no caching pays
    out, ev = caching.apply(t, tiny_catalog(claude_ttls=(300,)), CachingOptions(ttl="auto"))
    assert ev["groups"][0]["placement"] == "as observed"  # the traffic did not cache: keep it so
    assert buckets(out) == [(10_010, 0, 0, 0)] * 3


def test_claude_write_premium_vs_nova_free_writes():
    # each prefix used once: with Claude's write premium caching costs more, so it is not chosen;
    # Nova writes at the input price, so caching is never worse (ties keep the observed, uncached traffic)
    segs = [[(f"s{i}", 3000), (f"u{i}", 10)] for i in range(3)]
    out, ev = caching.apply(conv([0, 1, 2], segs, model="claude"), tiny_catalog(), CachingOptions(ttl=300))
    assert ev["groups"][0]["input_usd_after"] == ev["groups"][0]["input_usd_no_cache"]
    shared = [[("s", 3000), (f"u{i}", 10)] for i in range(3)]
    _, ev_c = caching.apply(conv([0, 1, 2], shared, model="claude"), tiny_catalog(), CachingOptions(ttl=300))
    _, ev_n = caching.apply(conv([0, 1, 2], shared, model="nova"), tiny_catalog(), CachingOptions(ttl=300))
    # claude: 30 x 10 + 6000 x 1 + 3000 x 12.5; nova: 30 x 4 + 6000 x 1 + 3000 x 4 (no write premium)
    assert ev_c["groups"][0]["input_usd_after"] == pytest.approx((300 + 6000 + 37_500) / 1e6)
    assert ev_n["groups"][0]["input_usd_after"] == pytest.approx((120 + 6000 + 12_000) / 1e6)


def test_models_namespaces_and_ineligible_rows():
    segs = [[("sys", 2000), (f"u{i}", 10)] for i in range(6)]
    t = conv([0, 1, 2, 3, 4, 5], segs, model=["claude", "nova", "claude", "nova", "claude", "plain"],
             tier=["standard"] * 4 + ["batch", "standard"])
    out, ev = caching.apply(t, tiny_catalog(), CachingOptions(ttl=300, placements=[[1]]))
    # each model has its own cache; batch and a model without caching are left alone
    assert buckets(out) == [(10, 0, 2000, 0), (10, 0, 2000, 0), (10, 2000, 0, 0), (10, 2000, 0, 0),
                            (2010, 0, 0, 0), (2010, 0, 0, 0)]
    assert any("plain" in n for n in ev["notes"])


def test_declared_stable_prefix_without_prefix_column():
    t = canonical_table(3, model="claude", ts=np.array([0, 10, 20]) * S, input_tokens=[5000, 6000, 7000],
                        call_type="rag")
    out, _ = caching.apply(t, tiny_catalog(), CachingOptions(ttl=300, stable_prefix_tokens={"rag": 4000}))
    assert buckets(out) == [(1000, 0, 4000, 0), (2000, 4000, 0, 0), (3000, 4000, 0, 0)]


def test_same_timestamp_rule():
    segs = [[("sys", 2000), (f"u{i}", 10)] for i in range(3)]
    t = conv([0, 0, 5], segs)
    hit, _ = caching.apply(t, tiny_catalog(), CachingOptions(ttl=300, placements=[[1]]))
    strict, _ = caching.apply(t, tiny_catalog(), CachingOptions(ttl=300, placements=[[1]], same_timestamp_hits=False))
    assert [b[1] for b in buckets(hit)] == [0, 2000, 2000]
    assert [b[1] for b in buckets(strict)] == [0, 0, 2000]


def test_cache_breaker_found_with_saving():
    n = 60
    segs = [[("tools", 1500), (f"clock{i}", 20), ("sys", 3000), (f"q{i}", 50)] for i in range(n)]
    t = conv(list(range(n)), segs)
    _, ev = caching.apply(t, tiny_catalog(), CachingOptions(ttl=300))
    (b,) = ev["breakers"]
    assert b["position"] == 2 and b["repeating_positions_after"] == [3]
    # moved to the end, the 3000-token system prompt is read by 59 of 60 requests instead of written each time
    assert b["saving_if_moved_to_end"] > 0


# ---- brute-force oracle ------------------------------------------------------------------------------------

def brute(times, segs, ttl, fixed, last, min_tok):
    """Direct simulation of the documented rules with a dict of live entries."""
    entries: dict[tuple, int] = {}
    reads, writes = [], []
    for t, s in zip(times, segs, strict=True):
        cum = np.cumsum([k for _, k in s]).tolist()
        keys = [tuple(h for h, _ in s[: d + 1]) for d in range(len(s))]
        alive = [k in entries and t - entries[k] <= ttl for k in keys]
        rd = max([d + 1 for d, a in enumerate(alive) if a], default=0)
        cps = [d + 1 for d in range(len(s)) if ((d + 1) in fixed or (last and d == len(s) - 1)) and cum[d] >= min_tok]
        lc = max(cps, default=0)
        r = cum[rd - 1] if rd else 0
        reads.append(r)
        writes.append(cum[lc - 1] - r if lc > rd else 0)
        for d, a in enumerate(alive):
            if a:
                entries[keys[d]] = t
        for d in cps:
            entries[keys[d - 1]] = t
    return reads, writes


traces = st.lists(
    st.tuples(st.integers(0, 400), st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from([300, 700, 1200])),
                                            min_size=1, max_size=5)),
    min_size=1, max_size=30)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(traces, st.sampled_from([0, 100, 300]), st.sampled_from([((1,), False), ((), True), ((1, 3), True),
                                                                ((2,), False)]))
def test_replay_matches_brute_force(trace, ttl, placement):
    gaps = [g for g, _ in trace]
    times = np.cumsum(gaps).tolist()
    segs = [s for _, s in trace]
    # segment hashes: letters, so prefixes repeat often
    ids = {c: i + 1 for i, c in enumerate("abc")}
    lengths = [len(s) for s in segs]
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    flat = from_arrays(offsets, np.array([ids[h] for s in segs for h, _ in s], np.uint64),
                       np.array([k for s in segs for _, k in s], np.int64))
    ts = np.array(times, np.int64)
    touches = _replay.prepare(flat, ts, np.full(len(segs), ttl, np.int64))
    cr = _replay.checkpoints(flat, placement[0], placement[1], np.full(len(segs), 1000, np.int64))
    res = _replay.replay(flat, touches, cr)
    r, w = brute(times, segs, ttl, set(placement[0]), placement[1], 1000)
    assert res.read_tokens.tolist() == r
    assert res.write_tokens.tolist() == w


@settings(max_examples=60, deadline=None)
@given(traces, st.sampled_from([((1,), False), ((), True), ((1, 2), True)]))
def test_longer_ttl_never_lowers_hits(trace, placement):
    times = np.cumsum([g for g, _ in trace])
    segs = [s for _, s in trace]
    ids = {c: i + 1 for i, c in enumerate("abc")}
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in segs])])
    flat = from_arrays(offsets, np.array([ids[h] for s in segs for h, _ in s], np.uint64),
                       np.array([k for s in segs for _, k in s], np.int64))
    cr = _replay.checkpoints(flat, placement[0], placement[1], np.full(len(segs), 1000, np.int64))
    prev = None
    for ttl in (0, 50, 300, 3600):
        res = _replay.replay(flat, _replay.prepare(flat, times, np.full(len(segs), ttl, np.int64)), cr)
        if prev is not None:
            assert np.all(res.read_tokens >= prev)  # per request, not only in total
        prev = res.read_tokens


@settings(max_examples=40, deadline=None)
@given(traces, st.sampled_from(["claude", "nova"]))
def test_caching_never_costs_more_than_the_write_premium_allows(trace, model):
    times = np.cumsum([g for g, _ in trace]).tolist()
    segs = [s for _, s in trace]
    t = conv(times, segs, model=model)
    cat = tiny_catalog()
    p = request_rates(t, cat).usd_per_token
    tin = np.array([sum(k for _, k in s) for s in segs], float)
    # a fixed placement (forced, even where it does not pay): every token costs at most max(input, write)
    out, _ = caching.apply(t, cat, CachingOptions(ttl=300, placements=[[1, "last"]]), breakers=False)
    forced = request_costs(out, cat).input_side
    assert np.all(forced <= tin * np.maximum(p["input"], np.nan_to_num(p["cache_write_5m"])) + 1e-12)
    # the lever (free to choose) never costs more than no caching
    out, _ = caching.apply(t, cat, CachingOptions(ttl="auto"), breakers=False)
    assert request_costs(out, cat).input_side.sum() <= (tin * p["input"]).sum() + 1e-12


def test_call_types_sharing_a_prefix_never_end_up_worse():
    # found by the property test: `a` writes what `b` reads; alone `a` does not pay, so it stops caching, and
    # then `b` would only write: both must fall back to no caching rather than cost more than before
    segs = [[("sys", 1500), ("v", 700), (f"own{i}", 10)] for i in range(2)]
    t = conv([0, 0], segs, call_type=["a", "b"])
    out, ev = caching.apply(t, tiny_catalog(), CachingOptions(), breakers=False)
    assert all(g["input_usd_after"] <= g["input_usd_before"] + 1e-12 for g in ev["groups"])
    assert buckets(out) == [(2210, 0, 0, 0), (2210, 0, 0, 0)]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(traces, st.sampled_from([0, 100, 300]), st.booleans(), st.data())
def test_all_placements_in_one_pass_equal_one_replay_each(trace, ttl, same_ts, data):
    """`placement_costs` (every candidate placement in one compiled pass, bitsets) against `checkpoints` +
    `replay` run once per placement, request by request through the dollars, on random traces with groups,
    per-request rates, rows that may not checkpoint and equal timestamps."""
    times = np.cumsum([g // 100 * 100 for g, _ in trace])  # coarse times: many equal timestamps
    segs = [s for _, s in trace]
    n = len(segs)
    ids = {c: i + 1 for i, c in enumerate("abc")}
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in segs])])
    flat = from_arrays(offsets, np.array([ids[h] for s in segs for h, _ in s], np.uint64),
                       np.array([k for s in segs for _, k in s], np.int64))
    # 3, 15, 40 or 70 placements: words of 8, 16 and 64 bits, and a second chunk of 64
    from itertools import combinations

    every = [(tuple(x for x in c if x != "last"), "last" in c) for k in range(1, 5)
             for c in combinations([1, 2, 3, 4, 5, 6, "last"], k)]
    placements = every[:data.draw(st.sampled_from([3, 15, 40, 70]))]
    allowed = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), bool)
    grp = np.array(data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)), np.int64)
    mt = np.array(data.draw(st.lists(st.sampled_from([0, 1000, 2000]), min_size=n, max_size=n)), np.int64)
    total = flat.cum[offsets[1:] - 1] + 50
    p_in, p_read, p_w = np.full(n, 3e-6), np.full(n, 3e-7), np.linspace(3e-6, 5e-6, n)
    ttl_a = np.full(n, ttl, np.int64)
    prev = _replay.previous_occurrence(flat.key)
    got, any_ck = _replay.placement_costs(flat, prev, times, ttl_a, placements, mt, allowed, total, p_in, p_read,
                                          p_w, grp, 3, same_ts_hits=same_ts)
    one = _replay.placement_costs(flat, prev, times, np.array([ttl], np.int64), placements, mt, allowed, total, p_in,
                                  p_read, p_w, grp, 3, same_ts_hits=same_ts)  # one TTL for all: the same
    assert np.array_equal(one[0], got) and np.array_equal(one[1], any_ck)
    touches = _replay.prepare(flat, times, ttl_a, same_ts_hits=same_ts)
    want_ck = np.zeros(3, bool)
    for j, (fixed, last) in enumerate(placements):
        res = _replay.replay(flat, touches, _replay.checkpoints(flat, fixed, last, mt, allowed))
        c = (total - res.read_tokens - res.write_tokens) * p_in + res.read_tokens * p_read + res.write_tokens * p_w
        np.testing.assert_allclose(got[j], np.bincount(grp, c, minlength=3), rtol=1e-12, atol=1e-18)
        want_ck |= np.bincount(grp, res.last_checkpoint > 0, minlength=3) > 0
    assert any_ck.tolist() == want_ck.tolist()


@settings(max_examples=60)
@given(st.lists(st.tuples(st.sampled_from([None, "a", "b", "c"]),
                          st.one_of(st.none(), st.lists(st.tuples(st.sampled_from(["h0", "h1", "h2", "h3"]),
                                                                  st.integers(1, 9)), max_size=4))),
                min_size=1, max_size=40))
def test_breaker_position_stats_from_flat_arrays_equal_the_per_element_count(rows):
    """The compiled per-depth count (no array per element) against the per-element group-by it replaced."""
    from inferplan.levers import breakers
    from inferplan.levers.cache.flat import explode
    from tests import oracles

    t = canonical_table(len(rows), call_type=pa.array([c for c, _ in rows], pa.string()),
                        prefix=[p for _, p in rows])
    ex = explode(t)
    oracle = oracles._position_stats(oracles._exploded(t, ex)[0])
    fast = breakers.position_stats(ex)
    for a, b in zip(oracle, fast, strict=True):
        assert a.shape == b.shape and np.allclose(a, b)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 5), st.integers(0, 2**64 - 1)), max_size=200))
def test_previous_occurrence_against_a_dict(values):
    """The hash pass (slots found by a multiply, probing wrapping at the end) against a dict of last
    positions, for clustered small keys (dense segment ids) and any 64-bit keys."""
    keys = np.array(values, np.uint64)
    last: dict[int, int] = {}
    ref = []
    for i, k in enumerate(values):
        ref.append(last.get(k, -1))
        last[k] = i
    got = _replay.previous_occurrence(keys)
    assert got.tolist() == ref and got.dtype == np.int32


@pytest.mark.parametrize("stable", [{}, {"chat": 900}, {"chat": 1000}])
def test_traffic_no_checkpoint_can_reach_is_not_replayed_and_ends_as_replayed(stable, monkeypatch):
    """Prefixes under the model's minimum (one with a declared stable prefix instead): no placement makes a
    checkpoint, so the replay is skipped; the table and the evidence (every alternative's dollars included) are
    those of the replays it skips, and one prefix at the minimum replays again."""

    segs = [[("sys", 600), (f"u{i % 3}", 300 + i)] for i in range(8)] + [None, [("sys", -5)]]
    # observed: half of each input written to a cache (dearer than none): a placement is chosen, with nothing
    t = conv(list(range(0, 100, 10)), segs, tokens=[1000] * 10, cache_write_5m_tokens=[1000] * 10,
             call_type="chat", model=["claude"] * 8 + ["nova"] * 2)
    opts = CachingOptions(ttl="auto", stable_prefix_tokens=stable)
    out, ev = caching.apply(t, tiny_catalog(), opts)
    skipped = not caching.can_checkpoint(caching.explode(t), np.arange(10), stable, np.full(10, 2000),
                                         np.full(10, 1000))
    assert skipped == (stable.get("chat", 0) < 1000)
    monkeypatch.setattr(caching, "can_checkpoint", lambda *a, **k: True)  # every replay run
    out2, ev2 = caching.apply(t, tiny_catalog(), opts)
    assert out.equals(out2)
    assert json.dumps(ev, sort_keys=True) == json.dumps(ev2, sort_keys=True)
    assert buckets(out)[0] == ((2000, 0, 0, 0) if skipped else buckets(out)[0])


def _brute_shared_depth(segs):
    """Per request: the deepest segment whose chain of segment hashes another request's prefix also has."""
    chains: dict[tuple, int] = {}
    for s in segs:
        for d in range(len(s or [])):
            key = tuple(h for h, _ in s[:d + 1])
            chains[key] = chains.get(key, 0) + 1
    return [max([d + 1 for d in range(len(s or [])) if chains[tuple(h for h, _ in s[:d + 1])] > 1], default=0)
            for s in segs]


prefix_lists = st.lists(st.one_of(st.none(), st.lists(st.tuples(st.sampled_from(["s", "t", "u", "v", "w"]),
                                                                  st.integers(1, 900)), max_size=4)),
                        min_size=1, max_size=30)


@settings(max_examples=80, deadline=None)
@given(prefix_lists)
def test_shared_depth_against_a_dict_of_chains(segs):
    t = conv(list(range(len(segs))), segs, tokens=[5000] * len(segs))
    assert caching.explode(t).shared_depth().tolist() == _brute_shared_depth(segs)


def _unique_tail_traffic(n, shared_tokens, seed=0, model="claude", nova_share=0.0):
    """Ticket-triage-like traffic: a shared instruction block, then a unique ticket (so nothing can be read back
    while the block is under the model's minimum), sometimes a shared block after it, on one or two models."""
    rng = np.random.default_rng(seed)
    segs, models = [], []
    for i in range(n):
        s = [("instructions", shared_tokens), (f"ticket{i}", int(rng.integers(1, 1500)))]
        if rng.random() < 0.3:
            s.append(("footer", 200))
        segs.append(s)
        models.append("nova" if rng.random() < nova_share else model)
    times = np.cumsum(rng.integers(0, 400, n))
    tin = [sum(k for _, k in s) + int(rng.integers(0, 300)) for s in segs]
    return conv(times.tolist(), segs, tokens=tin, model=models, call_type="triage")


@pytest.mark.parametrize("shared_tokens,can_read", [(800, False), (1000, True), (1200, True)])
def test_may_read_only_when_a_shared_prefix_reaches_the_minimum(shared_tokens, can_read):
    t = _unique_tail_traffic(50, shared_tokens)
    ex = caching.explode(t)
    rows = np.arange(50)
    tin = caching.total_input(t)
    assert caching.may_read(ex, rows, {}, tin, np.full(50, 1000)) == can_read
    # the same request twice in one unit (a cascade's copies of one `_row`) always may read
    twice = np.array([0, 1, 0])
    assert caching.may_read(ex, twice, {}, tin[twice], np.full(3, 1000))
    # a declared stable prefix on a row without segments is one shared segment
    bare = conv([0, 1], [None, None], tokens=[3000, 3000], call_type="triage")
    assert not caching.may_read(caching.explode(bare), np.arange(2), {}, np.full(2, 3000), np.full(2, 1000))
    assert caching.may_read(caching.explode(bare), np.arange(2), {"triage": 1500}, np.full(2, 3000),
                            np.full(2, 1000))


def _cheap_write_catalog() -> Catalog:
    """`tiny_catalog` with Nova's cache writes cheaper than its input (a made-up price): a placement then pays
    with no read at all, so a write-only replay's written tokens are the result, not only the alternatives."""
    cat = tiny_catalog()
    prices = [p.model_copy(update={"cache_write_5m_usd_per_mtok": 3}) if p.model == "nova" and p.tier == "standard"
              else p for p in cat.bedrock_prices]
    return Catalog({"bedrock_models": list(cat.bedrock_models.values()), "bedrock_prices": prices})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.sampled_from([400, 800, 999, 1000]), st.sampled_from([0.0, 0.5]),
       st.sampled_from(["auto", 300]), st.booleans(), st.booleans())
def test_write_only_replay_equals_the_full_replay(seed, shared_tokens, nova_share, ttl, same_ts, cheap_writes):
    """A unit that cannot read an entry back takes the one-pass write-only replay (`may_read` false); the
    table and the evidence (every alternative's dollars, to the bit) equal those of the full replay it skips,
    forced here by making `may_read` always true."""
    t = _unique_tail_traffic(60, shared_tokens, seed, nova_share=nova_share)
    cat = _cheap_write_catalog() if cheap_writes else tiny_catalog()
    opts = CachingOptions(ttl=ttl, same_timestamp_hits=same_ts)
    calls = []
    real = caching.may_read

    def spy(*a, **k):
        calls.append(real(*a, **k))
        return calls[-1]

    with um.patch.object(caching, "may_read", spy):
        out, ev = caching.apply(t, cat, opts)
    assert calls and (False in calls) == (shared_tokens < 1000)  # (a breaker's moved prefixes may share more)
    with um.patch.object(caching, "may_read", lambda *a, **k: True):
        out2, ev2 = caching.apply(t, cat, opts)
    assert out.equals(out2)
    assert json.dumps(ev, sort_keys=True) == json.dumps(ev2, sort_keys=True)
    if cheap_writes and nova_share:  # Nova's writes pay with no read: the written tokens are the result
        assert sum(r[2] for r, m in zip(buckets(out), t.column("model").to_pylist(), strict=True) if m == "nova") > 0


def test_write_only_check_clamps_as_the_replay_does_even_on_a_negative_input():
    """Found by review: `may_read` clamped a shared prefix to a negative input (which the replay leaves
    unclamped: `flat.gather` clamps only to inputs of 0 or more), so it took the write-only path where the
    replay reads. The workload's checks refuse negative buckets; a raw table must still not diverge."""
    segs = [[("s1", 2000)], [("solo", 3000)], [("s1", 2000)]]
    t = conv([0, 1, 2], segs, tokens=[-1, 5000, -1])
    assert caching.may_read(caching.explode(t), np.arange(3), {}, np.array([-1, 5000, -1]), np.full(3, 1000))
    opts = CachingOptions(ttl=300, placements=[["last"]])
    out, ev = caching.apply(t, _cheap_write_catalog(), opts)
    with um.patch.object(caching, "may_read", lambda *a, **k: True):
        out2, ev2 = caching.apply(t, _cheap_write_catalog(), opts)
    assert out.equals(out2) and json.dumps(ev, sort_keys=True) == json.dumps(ev2, sort_keys=True)
