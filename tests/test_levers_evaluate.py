"""Batch and trim levers, evaluate() (alone and compounded), options, and `analyze --levers`."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from inferplan.errors import ConfigError
from inferplan.levers import batch, evaluate, parse_levers, trim
from inferplan.levers._build import canonical_table
from inferplan.levers.options import BatchOptions, TrimOptions, TrimRule, load_options
from tests.test_levers_caching import tiny_catalog

S = 1_000_000


def test_batch_moves_non_interactive_and_named_call_types():
    t = canonical_table(5, model="claude", call_type=["nightly", "nightly", "chat", "chat", "report"],
                        interactive=[False, False, True, None, True], input_tokens=100,
                        cache_read_tokens=[0, 50, 0, 0, 0], output_tokens=10)
    out, ev = batch.apply(t, tiny_catalog(), BatchOptions(call_types=["report"]))
    assert out.column("tier").to_pylist() == ["batch", "batch", "standard", "standard", "batch"]
    assert out.column("input_tokens").to_pylist() == [100, 150, 100, 100, 100]  # batch does not cache
    assert out.column("cache_read_tokens").to_pylist() == [0] * 5
    why = {c["call_type"]: c for c in ev["call_types"]}
    assert why["nightly"]["qualifies"] and "non-interactive" in why["nightly"]["why"]
    assert why["report"]["why"] == "named in the scenario"
    assert not why["chat"]["qualifies"]


def test_batch_without_a_batch_price_is_reported_not_moved():
    t = canonical_table(2, model="nova", call_type="nightly", interactive=False, input_tokens=100)
    out, ev = batch.apply(t, tiny_catalog(), BatchOptions())
    assert out.column("tier").to_pylist() == ["standard", "standard"]
    assert ev["call_types"][0]["no_batch_price"] == ["nova"]


def test_trim_scales_and_caps_the_variable_part_only():
    pre = [[("sys", 1000)], [("sys", 1000)], None]
    t = canonical_table(3, model="claude", call_type="rag", input_tokens=[6000, 3000, 8000], prefix=pre)
    out, ev = trim.apply(t, TrimOptions(rules=[TrimRule(call_type="rag", scale=0.5, cap_input_tokens=3000)]),
                         stable={"rag": 500})
    # 1000 + min(5000 * 0.5, 3000 - 1000); 1000 + min(1000, 2000); 500 (declared) + min(3750, 2500)
    assert out.column("input_tokens").to_pylist() == [3000, 2000, 3000]
    assert ev["call_types"][0]["input_tokens_after"] == 8000
    with pytest.raises(ValueError, match="needs scale"):
        TrimRule(call_type="rag")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["rag", "chat", "other"]), st.integers(0, 3000), st.integers(0, 2000),
                          st.integers(0, 2000), st.integers(0, 2000), st.one_of(st.none(), st.integers(0, 4000))),
                min_size=1, max_size=25),
       st.lists(st.tuples(st.sampled_from(["rag", "chat", "nope"]), st.floats(0, 1, exclude_max=True),
                          st.one_of(st.none(), st.integers(0, 5000))), min_size=1, max_size=3))
def test_trim_against_a_per_request_oracle(rows, rules):
    """Each request alone: the last rule naming its call type keeps prefix + floor(variable * scale) (capped),
    the cut comes from plain input, then 5m writes, 1h writes, reads; other call types keep every token."""
    t = canonical_table(len(rows), model="claude", call_type=[r[0] for r in rows], input_tokens=[r[1] for r in rows],
                        cache_write_5m_tokens=[r[2] for r in rows], cache_write_1h_tokens=[r[3] for r in rows],
                        cache_read_tokens=[r[4] for r in rows],
                        prefix=[None if r[5] is None else [("p", r[5])] for r in rows])
    opts = TrimOptions(rules=[TrimRule(call_type=c, scale=k, cap_input_tokens=cap) for c, k, cap in rules])
    out, _ = trim.apply(t, opts, stable={"chat": 700})
    cols = ("input_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens", "cache_read_tokens")
    got = list(zip(*(out.column(c).to_pylist() for c in cols), strict=True))
    for (ct, *b, pre), g in zip(rows, got, strict=True):
        total = sum(b)
        p = min(pre if pre else (700 if ct == "chat" else 0), total)
        want = list(b)
        mine = [r for r in rules if r[0] == ct]
        if mine:
            _, k, cap = mine[-1]
            keep = int(np.floor((total - p) * k))
            if cap is not None:
                keep = min(keep, max(cap - p, 0))
            cut = total - (p + keep)
            for i in range(4):
                take = min(want[i], cut)
                want[i] -= take
                cut -= take
        assert list(g) == want, (ct, b, pre, mine)


def test_parse_levers_and_options_errors(tmp_path):
    assert parse_levers("all") == ["trim", "batch", "caching", "routing"]
    assert parse_levers("routing,caching") == ["caching", "routing"]
    with pytest.raises(ConfigError, match="unknown lever"):
        parse_levers("caching,magic")
    f = tmp_path / "s.yaml"
    f.write_text("levers:\n  batch: {call_type: [x]}\n")
    with pytest.raises(ConfigError, match="levers.batch.call_type"):
        load_options(f)


def test_evaluate_alone_and_compounded_exact():
    # 2 chat requests sharing a 2000-token prefix, 2 nightly non-interactive requests
    n = 4
    t = canonical_table(
        n, model="claude", ts=np.array([0, 10, 20, 30]) * S, call_type=["chat", "chat", "nightly", "nightly"],
        interactive=[True, True, False, False], input_tokens=[2100, 2100, 1000, 1000], output_tokens=100,
        prefix=[[("sys", 2000), ("a", 100)], [("sys", 2000), ("b", 100)], None, None])
    lv = evaluate(t, tiny_catalog(), "caching,batch", {"levers": {"caching": {"ttl": 300}}})
    base = (6200 * 10 + 400 * 50) / 1e6
    assert lv["baseline_usd"] == pytest.approx(base)
    batch_new = (4200 * 10 + 200 * 50 + 2000 * 5 + 200 * 25) / 1e6
    assert lv["alone"]["batch"]["new_usd"] == pytest.approx(batch_new)
    cache_new = base - (4200 * 10 - (200 * 10 + 2000 * 12.5 + 2000 * 1)) / 1e6
    assert lv["alone"]["caching"]["new_usd"] == pytest.approx(cache_new)
    steps = lv["compounded"]["steps"]
    assert [s["after"] for s in steps] == ["batch", "caching"]
    both = batch_new - (base - cache_new)
    assert steps[-1]["new_usd"] == pytest.approx(both)
    assert sum(s["share_of_saving"] for s in steps) == pytest.approx(1.0)
    assert lv["compounded"]["saving_pct"] == pytest.approx(100 * (base - both) / base, abs=1e-3)


@pytest.mark.parametrize("levers, key", [
    ("{caching: {stated_read_fraction: {chat: 1.5}}}", "levers.caching.stated_read_fraction.chat"),
    ("{caching: {stated_read_fraction: {chat: -0.1}}}", "levers.caching.stated_read_fraction.chat"),
    ("{caching: {stable_prefix_tokens: {chat: -5}}}", "levers.caching.stable_prefix_tokens.chat"),
])
def test_out_of_range_lever_numbers_are_refused(tmp_path, levers, key):
    """A read fraction above 1 would charge negative input tokens: refused at load, naming the key."""
    f = tmp_path / "s.yaml"
    f.write_text(f"levers: {levers}\n")
    with pytest.raises(ConfigError, match=f"{f}: invalid lever options: {key}"):
        load_options(f)


def _two_call_types():
    return canonical_table(4, model="claude", ts=np.array([0, 10, 20, 30]) * S,
                           call_type=["chat", "chat", "nightly", "nightly"], interactive=[True, True, False, False],
                           input_tokens=1000, output_tokens=100)


@pytest.mark.parametrize("levers, key, name, meant", [
    ("{caching: {stated_read_fraction: {CHAT: 0.5}}}", "levers.caching.stated_read_fraction", "CHAT", "chat"),
    ("{batch: {call_types: [Nightly]}}", "levers.batch.call_types", "Nightly", "nightly"),
    ("{routing: {rules: [{call_type: Chat, small_model: claude}]}}", "levers.routing.rules.0.call_type", "Chat",
     "chat"),
    ("{trim: {rules: [{call_type: night_ly, scale: 0.5}]}}", "levers.trim.rules.0.call_type", "night_ly",
     "nightly"),
])
def test_a_misspelt_call_type_in_the_levers_is_an_error(tmp_path, levers, key, name, meant):
    """A call type differing from one the traffic has only in case or separators left its lever saving nothing
    ("0 of 0 requests"), with nothing to say why."""
    f = tmp_path / "s.yaml"
    f.write_text(f"levers: {levers}\n")
    with pytest.raises(ConfigError, match=f"{f}: {key}: '{name}' is not a call type of this traffic "
                                          f"\\(did you mean '{meant}'\\?\\); the traffic has chat, nightly"):
        evaluate(_two_call_types(), tiny_catalog(), "all", f)


def test_a_call_type_the_traffic_lacks_is_a_note_with_the_closest(tmp_path, capsys):
    """A scenario written for traffic with a call type this month lacks (`chat-eu` beside `chat-us`) still runs,
    says so, and names the closest; options of levers not asked for are not checked."""
    lv = evaluate(_two_call_types(), tiny_catalog(), "batch", {"levers": {"batch": {"exclude": ["summarize",
                                                                                               "chats"]}}})
    assert lv["notes"] == [
        "levers.batch.exclude: no request has call type 'summarize' (the traffic has chat, nightly): it changes "
        "nothing",
        "levers.batch.exclude: no request has call type 'chats' (the traffic has chat, nightly; did you mean "
        "'chat'?): it changes nothing"]
    assert "notes" not in evaluate(_two_call_types(), tiny_catalog(), "batch", None)
    other = {"levers": {"routing": {"rules": [{"call_type": "Chat", "small_model": "nope-9"}]}}}
    assert "notes" not in evaluate(_two_call_types(), tiny_catalog(), "batch", other)
    from rich.console import Console

    from inferplan.report.levers import render_levers

    render_levers(lv, Console(width=300))
    assert "note: levers.batch.exclude: no request has call type 'summarize'" in capsys.readouterr().out


workloads = st.lists(st.tuples(st.integers(0, 200), st.sampled_from(["a", "b", "c"]), st.booleans(),
                               st.integers(0, 3), st.integers(1, 5000), st.integers(0, 500)),
                     min_size=1, max_size=25)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workloads)
def test_each_lever_alone_saves_at_least_zero(rows):
    # assumptions: batch costs less than on-demand, the small model less than the large one, no escalation
    n = len(rows)
    prefixes = [[("sys", 1500), (f"v{v}", 700), (f"own{i}", 10)] for i, (_, _, _, v, _, _) in enumerate(rows)]
    t = canonical_table(
        n, model="claude", ts=np.cumsum([r[0] for r in rows]) * S, call_type=[r[1] for r in rows],
        interactive=[r[2] for r in rows], input_tokens=[2210 + r[4] for r in rows],
        output_tokens=[r[5] for r in rows], prefix=prefixes)
    scen = {"levers": {"routing": {"rules": [{"call_type": "a", "small_model": "nova", "share": 0.6}]},
                       "trim": {"rules": [{"call_type": "b", "scale": 0.3}]}, "batch": {"call_types": ["c"]}}}
    lv = evaluate(t, tiny_catalog(), "all", scen)
    for name, r in lv["alone"].items():
        assert r["saving_usd"] >= -1e-9, name


def test_analyze_levers_cli(shared_data, tmp_path):
    from inferplan.cli import app
    from inferplan.commands import load_all

    load_all()
    scen = tmp_path / "s.yaml"
    scen.write_text("levers:\n  batch: {call_types: [code]}\n  caching: {stable_prefix_tokens: {conversation: 5000}}\n")
    azure = shared_data / "traces" / "azure2023"
    args = ["analyze", str(azure / "AzureLLMInferenceTrace_code.csv"), str(azure / "AzureLLMInferenceTrace_conv.csv"),
            "--format", "azure2023", "--model", "claude-sonnet-4.5", "--levers", "all", "--scenario", str(scen)]
    r = CliRunner().invoke(app, [*args, "--json"])
    assert r.exit_code == 0, r.output
    lv = json.loads(r.stdout)["levers"]
    assert lv["alone"]["batch"]["saving_usd"] > 0
    assert lv["alone"]["caching"]["saving_usd"] > 0
    assert lv["compounded"]["saving_usd"] >= max(v["saving_usd"] for v in lv["alone"].values()) - 1e-6
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0 and "Workload levers" in r.output
    bad = CliRunner().invoke(app, [*args[:-2], "--levers", "nope"])
    assert bad.exit_code == 2 and "unknown lever" in bad.output
