"""The advisor: every finding kind fires on a small workload built to show it, and a clean call type (and a
clean workload) gets none. Dollars come from the levers and compare, so the checks here are on which finding
fires where, its evidence and its sign; the arithmetic behind them is tested with the levers and economics."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferplan import advisor, planner
from inferplan.economics import TcoOptions
from inferplan.serving.spec import CompareSpec
from inferplan.workload import Workload
from tests.helpers import T0, rows_table

SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
NOVA_LITE = "us.amazon.nova-lite-v1:0"
LLAMA8 = "us.meta.llama3-1-8b-instruct-v1:0"
LLAMA1 = "us.meta.llama3-2-1b-instruct-v1:0"
FAST = {"plan": {"scale_points": 9, "slices": False}, "uncertainty": {"draws": 1000}}


def _rows(call_type: str, model: str, n: int, *, inp: int, out: int, interactive: bool | None = True,
          prefix=None, every_s: float = 30.0, offset_s: float = 0.0) -> list[dict]:
    rows = []
    for i in range(n):
        r = {"ts": T0 + timedelta(seconds=offset_s + i * every_s), "call_type": call_type, "model": model,
             "input_tokens": inp, "output_tokens": out, "interactive": interactive}
        if prefix is not None:
            r["prefix"] = prefix(i)
        rows.append(r)
    return rows


def messy_rows() -> list[dict]:
    return [
        *_rows("nightly", HAIKU, 100, inp=2000, out=400, interactive=False, every_s=60),
        *_rows("chat-prefix", SONNET, 200, inp=3500, out=500, every_s=20,
               prefix=lambda i: [{"hash": "sys-a", "tokens": 3000}, {"hash": f"q-{i}", "tokens": 500}]),
        *_rows("breaker", SONNET, 200, inp=3300, out=500, every_s=20, offset_s=5,
               prefix=lambda i: [{"hash": f"now-{i}", "tokens": 50}, {"hash": "sys-b", "tokens": 3000},
                                 {"hash": f"u-{i}", "tokens": 250}]),
        *_rows("triage", SONNET, 200, inp=800, out=100, every_s=20, offset_s=7),
        *_rows("rag", HAIKU, 200, inp=6200, out=300, every_s=30, offset_s=3,
               prefix=lambda i: [{"hash": "sys-r", "tokens": 1000}, {"hash": f"doc-{i % 20}", "tokens": 5000},
                                 {"hash": f"rq-{i}", "tokens": 200}]),
        *_rows("clean", NOVA_LITE, 200, inp=300, out=200, every_s=30, offset_s=11),
        *_rows("selfhosted", LLAMA8, 100, inp=500, out=200, every_s=60, offset_s=13),
        *_rows("tiny", LLAMA1, 100, inp=300, out=50, every_s=60, offset_s=17),
        *_rows("offline", LLAMA8, 100, inp=1500, out=300, interactive=False, every_s=60, offset_s=19),
    ]


ENDPOINTS = {"current": {"endpoints": [
    {"name": "chat-endpoint", "kind": "sagemaker-realtime", "instance": "ml.g6e.xlarge", "count": 3,
     "model": "llama-3.1-8b", "call_types": ["selfhosted"]},
    {"name": "tiny-box", "kind": "ec2", "instance": "p4d.24xlarge", "model": "llama-3.2-1b", "call_types": ["tiny"]},
    {"name": "offline-box", "kind": "ec2", "instance": "g5.xlarge", "model": "llama-3.1-8b",
     "call_types": ["offline"]},
]}}


@pytest.fixture(scope="module")
def messy(catalog):
    wl = Workload(table=rows_table(messy_rows(), catalog))
    return planner.run(wl, catalog, CompareSpec(), {**FAST, **ENDPOINTS}, TcoOptions(), cmd="logs/")


def where(result: dict) -> dict[str, set]:
    out: dict[str, set] = {}
    for f in result["findings"]:
        out.setdefault(f["kind"], set()).add(f["call_type"])
    return out


def test_each_kind_fires_where_the_traffic_shows_it(messy):
    w = where(messy)
    assert "nightly" in w["batch-eligible-on-realtime"] and "offline" in w["batch-eligible-on-realtime"]
    assert "chat-prefix" in w["uncached-repeated-prefix"]
    assert w["cache-breaker"] == {"breaker"}
    assert w["frontier-model-on-easy-traffic"] == {"triage"}
    assert w["rag-context-inflation"] == {"rag"}
    assert "selfhosted" in w["idle-endpoint"]
    assert w["oversized-accelerator"] == {"tiny"}
    assert w["interruptible-not-on-spot"] == {"offline"}
    assert {"selfhosted", "tiny", "offline"} <= w["self-host-below-breakeven"]
    assert w["instance-before-levers"] == {None}


def test_clean_call_type_gets_nothing(messy):
    assert not [f for f in messy["findings"] if f["call_type"] == "clean"]
    # the chat and triage call types are interactive: never batch findings
    assert not {"chat-prefix", "triage", "clean", "rag"} & where(messy)["batch-eligible-on-realtime"]
    # the breaker call type's prefix never repeats from its start: caching cannot pay until the breaker moves
    assert "breaker" not in where(messy).get("uncached-repeated-prefix", set())


def test_findings_are_ranked_and_carry_evidence(messy):
    fs = messy["findings"]
    assert [f["monthly_saving_usd"] for f in fs] == sorted((f["monthly_saving_usd"] for f in fs), reverse=True)
    for f in fs:
        assert f["kind"] in advisor.KINDS
        assert f["monthly_saving_usd"] > 0
        assert f["confidence"] in ("high", "medium", "low")
        assert "logs/" in f["command"]
        assert f["evidence"]["text"]
    br = next(f for f in fs if f["kind"] == "cache-breaker")
    assert br["evidence"]["position"] == 1 and br["evidence"]["distinct_share"] == 1.0
    over = next(f for f in fs if f["kind"] == "oversized-accelerator")
    assert over["evidence"]["weights_gib"] < 0.25 * over["evidence"]["accelerator_memory_gib"]
    spot = next(f for f in fs if f["kind"] == "interruptible-not-on-spot")
    e = spot["evidence"]
    assert spot["monthly_saving_usd"] == pytest.approx((e["usd_per_hour"] - e["spot_usd_per_hour"]) * 730, abs=0.01)
    batch = next(f for f in fs if f["kind"] == "batch-eligible-on-realtime" and f["call_type"] == "nightly")
    lv = messy["levers"]
    per_month = messy["monthly_factor"]
    expect = (lv["baseline_by_call_type_usd"]["nightly"] - lv["alone"]["batch"]["by_call_type_usd"]["nightly"])
    assert batch["monthly_saving_usd"] == pytest.approx(expect * per_month, abs=0.01)


def test_clean_workload_gets_no_finding(catalog):
    wl = Workload(table=rows_table(_rows("clean", NOVA_LITE, 200, inp=300, out=200), catalog))
    res = planner.run(wl, catalog, CompareSpec(), FAST, TcoOptions())
    assert res["findings"] == []


def _big(catalog, n: int) -> Workload:
    return Workload(table=rows_table(_rows("assist", SONNET, n, inp=2000, out=400, every_s=3600 / n), catalog))


def test_self_host_above_breakeven_fires_at_volume_only(catalog):
    spec = CompareSpec(self_host=["llama-3.1-8b"])
    big = planner.run(_big(catalog, 5000), catalog, spec, FAST, TcoOptions())
    f = next(f for f in big["findings"] if f["kind"] == "self-host-above-breakeven")
    e = f["evidence"]
    assert e["breakeven_monthly_bedrock_usd"] < e["bedrock_after_levers_monthly_usd"]
    assert f["monthly_saving_usd"] == pytest.approx(e["bedrock_after_levers_monthly_usd"]
                                                    - e["option_total_monthly_usd"], abs=0.02)
    small = planner.run(_big(catalog, 50), catalog, spec, FAST, TcoOptions())
    assert not [f for f in small["findings"] if f["kind"].startswith("self-host")]


def _shared_depths_per_element(t, cts):
    """The per-element implementation `_shared_depths` replaced (one array per element, `np.unique` over
    (call type, segment) pairs, the per-element position statistics): the oracle."""
    import numpy as np
    import pyarrow.compute as pc

    from inferplan.advisor.traffic import shared_leading
    from tests.oracles import _exploded, _position_stats

    depth, tokens, recurring = {}, {}, {}
    if "prefix" not in t.column_names or t.num_rows == 0:
        return depth, tokens, recurring
    el, names = _exploded(t)
    if el["depth"].size == 0:
        return depth, tokens, recurring
    pair = np.stack([el["ct"].astype(np.int64), el["seg"].astype(np.uint64).view(np.int64)], axis=1)
    _, inv, cnt = np.unique(pair, axis=0, return_inverse=True, return_counts=True)
    seen = cnt[inv.ravel()]
    stats = _position_stats(el)  # the per-element statistics; the depth rule itself is shared, not what changed
    for i, name in enumerate(names):
        if name is None:
            continue
        d, tok = shared_leading(i, *stats)
        depth[name] = d
        n_ct = int(np.sum(pc.fill_null(pc.equal(t.column("call_type"), name), False).to_numpy(zero_copy_only=False)))
        tokens[name] = tok / n_ct if n_ct else 0.0
        rec = (el["ct"] == i) & (el["depth"] >= d) & (seen >= 2)
        recurring[name] = float(el["tokens"][rec].sum()) / n_ct if n_ct else 0.0
    return depth, tokens, recurring


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([None, "a", "b", "c"]),
                          st.one_of(st.none(), st.lists(st.tuples(st.sampled_from(["h0", "h1", "h2", "h3", "h4"]),
                                                                  st.integers(1, 9)), max_size=4))),
                min_size=1, max_size=40))
def test_shared_depths_from_flat_arrays_equal_the_per_element_count(rows):
    """Shared leading depth, its tokens and the recurring tokens after it, per call type, from compiled passes
    over the flat prefix arrays, against the per-element implementation they replaced."""
    import pyarrow as pa

    from inferplan.advisor.traffic import _shared_depths
    from inferplan.levers._build import canonical_table

    t = canonical_table(len(rows), call_type=pa.array([c for c, _ in rows], pa.string()),
                        prefix=[p for _, p in rows])
    got = _shared_depths(t, [])
    want = _shared_depths_per_element(t, [])
    assert got[0] == want[0]
    for a, b in zip(got[1:], want[1:], strict=True):
        assert a.keys() == b.keys() and all(a[k] == pytest.approx(b[k], rel=1e-12) for k in a)
