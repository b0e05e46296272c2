"""The levers' fast paths against their plain twins: the lever table read in file order, the compiled gather of a
unit's flat arrays, remembered column codes, rates per (price key, long-context) code, and `evaluate`'s plan of
shared steps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from inferplan import engine, synth
from inferplan.catalog import load_catalog
from inferplan.codes import encode
from inferplan.levers import evaluate
from inferplan.levers._build import canonical_table
from inferplan.levers._table import lever_table
from inferplan.levers.cache.flat import from_arrays, gather
from inferplan.pricing import KINDS, request_rates, token_counts
from inferplan.readers import read_workload

from .test_levers_caching import tiny_catalog

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def case_file(tmp_path_factory) -> Path:
    spec = yaml.safe_load((ROOT / "examples" / "support_case_study.yaml").read_text())
    path = tmp_path_factory.mktemp("levers") / "case.parquet"
    t = synth.generate(spec["traffic"], seed=3, rows=3000)
    pq.write_table(t.rename_columns(["model" if c == "model_id" else c for c in t.column_names]), path,
                   row_group_size=700)
    return path


def _sorted(t: pa.Table) -> pa.Table:
    t = t.drop_columns(["_row"])
    t = pa.table({c: t.column(c).cast(pa.string()) if pa.types.is_dictionary(t.column(c).type) else t.column(c)
                  for c in t.column_names})
    return t.sort_by([(c, "ascending") for c in ("ts", "call_type", "input_tokens",
                                                                           "output_tokens", "model", "tier")])


def test_lever_table_reads_a_resolved_workload_in_file_order_like_the_join(case_file):
    """The readers resolve logged model ids with a join, which keeps no order when it runs in parallel; the lever
    table maps the ids in place instead (the same rows, in the file's order, so routing's position-seeded picks
    repeat). Its twin: the joined table, with the rewrite switched off."""
    cat = load_catalog()
    wl = read_workload([str(case_file)], cat, "auto", None)
    fast, pre_fast = lever_table(wl.table, batch_rows=512)
    engine.rewrites.enabled = False
    try:
        twin, pre_twin = lever_table(wl.table, batch_rows=512)
    finally:
        engine.rewrites.enabled = True
    assert fast.num_rows == twin.num_rows == 3000
    file_ts = pq.read_table(case_file, columns=["ts"]).column("ts").cast(pa.int64()).to_numpy()
    assert np.array_equal(fast.column("ts").cast(pa.int64()).to_numpy(), file_ts)  # the file's order
    a, b = _sorted(fast), _sorted(twin)
    for c in a.column_names:
        assert a.column(c).to_pylist() == b.column(c).to_pylist(), c
    assert sorted(pre_fast.tokens_per_row(fast).tolist()) == sorted(pre_twin.tokens_per_row(twin).tolist())
    assert all(len(fast.column(c).chunks) == 1 for c in fast.column_names)  # one chunk: read without a copy
    assert len({evaluate(wl, cat, "routing", {"levers": {"routing": {"rules": [
        {"call_type": "ticket-triage", "small_model": "us.amazon.nova-lite-v1:0", "mode": "cascade",
         "share": 0.5, "escalation_rate": 0.5}]}}})["alone"]["routing"]["new_usd"] for _ in range(2)}) == 1


def test_gather_equals_building_from_gathered_arrays():
    rng = np.random.default_rng(5)
    n = 400
    lengths = rng.integers(0, 5, n).astype(np.int64)
    starts = (np.cumsum(lengths) - lengths).astype(np.int64)
    m = int(lengths.sum())
    seg = rng.integers(1, 30, m).astype(np.uint64)
    tok = rng.integers(-5, 900, m).astype(np.int64)  # negative counts are clamped to 0, as from_arrays' callers do
    rows = rng.permutation(n)[:250].astype(np.int64)
    tin = rng.integers(0, 3000, rows.size).astype(np.int64)
    ns = rng.integers(0, 3, rows.size).astype(np.int64)
    f = gather(lengths, starts, seg, tok, rows, tin, ns)
    idx = np.concatenate([np.arange(starts[r], starts[r] + lengths[r]) for r in rows]).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths[rows])]).astype(np.int64)
    g = from_arrays(offsets, seg[idx], np.maximum(tok[idx], 0), tin, ns)
    for name in ("offsets", "req", "depth", "seg", "key", "tokens", "cum"):
        assert np.array_equal(getattr(f, name), getattr(g, name)), name
    assert f.n_requests == g.n_requests


def test_remembered_codes_follow_the_column_not_its_name():
    a = pa.chunked_array([pa.array(["x", "y", "x", None]).dictionary_encode()])
    b = pa.chunked_array([pa.array(["y", "y", "z", "x"]).dictionary_encode()])
    for _ in range(2):  # the second time from the memo
        assert (encode(a)[0].tolist(), encode(a)[1]) == ([0, 1, 0, 2], ["x", "y", None])
        assert (encode(b)[0].tolist(), encode(b)[1]) == ([0, 0, 1, 2], ["y", "z", "x"])
    t = pa.table({"c": a})
    t2 = t.set_column(0, "c", b)
    assert encode(t, "c")[1] == ["x", "y", None] and encode(t2, "c")[1] == ["y", "z", "x"]
    with pytest.raises(ValueError):
        encode(a)[0][0] = 5  # shared: callers may not write into it


def test_rates_per_code_equal_rates_per_request():
    """The rate card keeps rates per (key, long-context) code; gathered per request they are the per-request
    rates (long context where the total input passes the threshold), and the roll-up equals the sum of costs."""
    cat = tiny_catalog()
    n = 300
    rng = np.random.default_rng(2)
    t = canonical_table(n, model=rng.choice(["claude", "nova"], n).tolist(),
                        tier=rng.choice(["standard", "batch"], n).tolist(),
                        input_tokens=rng.integers(0, 300_000, n), output_tokens=rng.integers(0, 900, n),
                        cache_read_tokens=rng.integers(0, 900, n))
    r = request_rates(t, cat, strict=False)
    for kind in KINDS:
        for i in range(n):
            key = r.keys[r.code[i]]
            p = r.prices.get(key)
            field = f"lc_{kind}_usd_per_mtok" if r.long_context[i] else f"{kind}_usd_per_mtok"
            v = getattr(p, field) if p is not None else None
            got = r.per_token(kind)[i]
            assert (np.isnan(got) if v is None else got == v / 1e6)
    ok = r.priced(*KINDS)
    strict = request_rates(t.filter(pa.array(ok)), cat)
    counts = token_counts(t.filter(pa.array(ok)))
    by = np.zeros(int(ok.sum()), np.int64)
    assert strict.totals_by(counts, by, 1)[0] == pytest.approx(strict.costs(counts).total.sum(), rel=1e-12)
    rows = np.arange(int(ok.sum()))[::3]
    sub = strict.costs({k: v[rows] for k, v in counts.items()}, rows)
    assert np.allclose(sub.total, strict.costs(counts).total[rows], rtol=0, atol=0)


def test_evaluate_applies_and_prices_each_distinct_counterfactual_once(monkeypatch):
    """A lever that changes nothing (trim with nothing to cut) drops out of every sequence: trim -> batch is the
    batch alone, priced once; each other counterfactual is priced once, the baseline once."""
    import inferplan.levers as lv

    priced, applied = [], []
    real_price, real_apply = lv._price, lv._apply_one
    monkeypatch.setattr(lv, "_price", lambda t, c: priced.append(t.num_rows) or real_price(t, c))
    monkeypatch.setattr(lv, "_apply_one", lambda t, c, name, *a, **k: applied.append(name) or real_apply(t, c, name,
                                                                                                         *a, **k))
    n = 8
    t = canonical_table(n, model="claude", ts=np.arange(n) * 10_000_000, call_type=["chat"] * 4 + ["nightly"] * 4,
                        interactive=[True] * 4 + [False] * 4, input_tokens=2100, output_tokens=100,
                        prefix=[[("sys", 2000), (f"m{i}", 100)] for i in range(n)])
    scen = {"levers": {"caching": {"ttl": 300}, "trim": {"rules": [{"call_type": "chat", "scale": 0.5}]},
                       "routing": {"rules": [{"call_type": "chat", "small_model": "nova", "share": 1.0}]}}}
    out = evaluate(t, tiny_catalog(), "all", scen)
    assert out["alone"]["trim"]["new_usd"] == out["baseline_usd"]  # the prefix is the whole input: nothing cut
    # base; batch, caching, routing alone; batch+caching; batch+routing+caching (trim+batch = batch alone)
    assert len(priced) == 6
    assert applied == ["trim", "batch", "caching", "routing", "caching", "routing", "caching"]
    steps = out["compounded"]["steps"]
    assert steps[1]["new_usd"] == out["alone"]["batch"]["new_usd"]


def test_rate_card_on_no_requests_and_on_nanosecond_times():
    """An empty table prices to zeros (no index into empty rate arrays); a pandas-born table with nanosecond
    timestamps prices like the same times in microseconds, dated prices or not."""
    import datetime as dt

    cat = tiny_catalog()
    empty = canonical_table(0, model=[], tier=[], input_tokens=[], output_tokens=[])
    r = request_rates(empty, cat)
    assert np.array_equal(r.totals_by(token_counts(empty), np.zeros(0, np.int64), 3), np.zeros(3))
    from inferplan.catalog import Catalog
    from inferplan.catalog.schema import BedrockPrice

    rows = [p for p in cat.bedrock_prices if not (p.model == "claude" and p.tier == "standard")]
    old = next(p for p in cat.bedrock_prices if p.model == "claude" and p.tier == "standard")
    new = BedrockPrice(**{**old.model_dump(), "input_usd_per_mtok": 20, "effective_from": dt.date(2026, 1, 5)})
    old = BedrockPrice(**{**old.model_dump(), "effective_to": dt.date(2026, 1, 5)})
    dated = Catalog({"bedrock_models": list(cat.bedrock_models.values()), "bedrock_prices": [*rows, old, new]})
    times = [dt.datetime(2026, 1, 4, 23, 59, tzinfo=dt.UTC), dt.datetime(2026, 1, 5, 0, 0, tzinfo=dt.UTC)]
    t = canonical_table(2, model=["claude", "claude"], tier=["standard", "standard"], input_tokens=[1000, 1000],
                        output_tokens=[0, 0])
    us = t.set_column(t.schema.get_field_index("ts"), "ts", pa.array(times, pa.timestamp("us", tz="UTC")))
    ns = t.set_column(t.schema.get_field_index("ts"), "ts", pa.array(times, pa.timestamp("ns", tz="UTC")))
    counts = token_counts(t)
    assert request_rates(us, dated).costs(counts).total.tolist() == pytest.approx([0.01, 0.02])
    got = request_rates(ns, dated).costs(counts).total.tolist()
    assert got == request_rates(us, dated).costs(counts).total.tolist()


def test_replay_units_found_by_scan_or_by_sort_give_the_same_levers(case_file, monkeypatch):
    """Few replay units are found with one scan each, many (hundreds of call types) with one stable sort: both
    give every lever the same rows in the same order, so the same dollars and evidence."""
    import json

    from inferplan.levers import caching

    cat = load_catalog()
    spec = yaml.safe_load((ROOT / "examples" / "support_case_study.yaml").read_text())
    wl = read_workload([str(case_file)], cat, "auto", None)
    scan = evaluate(wl, cat, "caching", spec)
    monkeypatch.setattr(caching, "_FEW_UNITS", 0)  # the sort, even for the case study's few units
    by_sort = evaluate(wl, cat, "caching", spec)
    assert json.dumps(by_sort, sort_keys=True, default=str) == json.dumps(scan, sort_keys=True, default=str)
    assert scan["alone"]["caching"]["saving_usd"] > 1  # the replay ran and moved dollars (about $14 of $52)


def test_plan_readers_give_the_same_facts_on_the_lever_table_as_on_the_canonical_table(case_file, tmp_path):
    """`LeverTable.with_prefix` (what `plan` hands the advisor, the cache curve and the model levers: segment ids
    for hash strings, the lever columns' codes) against the canonical table pulled whole, as plan read it before:
    the same call-type facts, cache curve, workload findings and distillation inputs. With rows without a prefix,
    an empty one, and a segment repeated across call types."""
    from inferplan import advisor, planner
    from inferplan.levers._table import LeverTable, in_file_order
    from inferplan.levers.options import LeverOptions

    cat = load_catalog()
    t = pq.read_table(case_file)
    n = t.num_rows
    prefix = t.column("prefix").to_pylist()
    prefix[0] = None
    prefix[1] = []
    prefix[2] = [{"hash": prefix[5][0]["hash"], "tokens": 7}] if prefix[5] else None
    t = t.set_column(t.schema.get_field_index("prefix"), "prefix", pa.array(prefix, t.schema.field("prefix").type))
    path = tmp_path / "edited.parquet"
    pq.write_table(t, path)
    wl = read_workload([str(path)], cat, "auto", None)
    canonical = in_file_order(wl.table).to_pyarrow()
    lt = LeverTable.read(wl.table, batch_rows=512)
    compact = lt.with_prefix()
    assert compact.num_rows == n and compact.column("prefix").to_pylist()[1] == []
    facts, facts2 = advisor.call_type_facts(canonical), advisor.call_type_facts(compact)
    assert facts == facts2 and facts
    assert planner._cache_curve(canonical) == planner._cache_curve(compact)
    levers = evaluate(lt, cat, "all")
    assert levers == evaluate(wl, cat, "all")
    opts = LeverOptions()
    found = advisor.workload_findings(canonical, cat, levers, opts, facts, 1.0, "F")
    assert found and found == advisor.workload_findings(compact, cat, levers, opts, facts2, 1.0, "F")
    with pytest.raises(ValueError, match="workload order"):
        LeverTable(lt.table.take(pa.array(np.arange(n)[::-1])), lt.prefixes).with_prefix()
