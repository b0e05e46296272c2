"""Routing: route-eval on the real MMLU outcomes (held-out split), exact small cases, the stated-rate lever."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from inferplan.errors import InputError
from inferplan.levers import route_eval, routing
from inferplan.levers._build import canonical_table
from inferplan.levers.options import RoutingOptions, RoutingRule
from tests.test_levers_caching import tiny_catalog

SMALL, LARGE = "mistralai/Mixtral-8x7B-Instruct-v0.1", "gpt-4-1106-preview"


@pytest.fixture(scope="module")
def mmlu_result(shared_data):
    from inferplan.cli import app
    from inferplan.commands import load_all

    load_all()
    r = CliRunner().invoke(app, ["route-eval", str(shared_data / "routing" / "routellm_mmlu"), "--small-col", SMALL,
                                 "--large-col", LARGE, "--small-model", "mixtral-8x7b", "--large-model",
                                 "claude-sonnet-4.5", "--seed", "0", "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_mmlu_router_against_baselines(mmlu_result):
    r = mmlu_result
    assert r["requests"] == 14042 and r["test"] == 7021
    # the held-out split reproduces the published accuracies closely (68.1% / 80.6% on all questions)
    assert r["small_accuracy"] == pytest.approx(0.681, abs=0.01)
    assert r["large_accuracy"] == pytest.approx(0.806, abs=0.01)
    assert r["target_accuracy"] == pytest.approx(0.95 * r["large_accuracy"])
    for k in ("router", "random", "perfect"):
        assert r[f"{k}_accuracy_at_target"] >= r["target_accuracy"] - 1e-9
    # a trained router beats random routing, and nothing beats the perfect router
    assert r["perfect_usd_at_target"] < r["router_usd_at_target"] < r["random_usd_at_target"] < r["always_large_usd"]
    assert r["router_usd_at_target"] <= 0.75 * r["always_large_usd"]
    assert r["perfect_max_accuracy"] == pytest.approx(0.859, abs=0.01)
    assert r["cascade"]["accuracy"] > r["small_accuracy"]
    assert len(r["curve"]) == 21


def write_csv(path, rows):
    path.write_text("prompt,s,l\n" + "".join(f"{p},{s},{lg}\n" for p, s, lg in rows))


def test_route_eval_exact_on_a_tiny_set(tmp_path):
    # 40 questions of 40 characters (10 tokens each), 2 output tokens; prices: nova 4/16, claude 10/50 per Mtok
    rows = [("x" * 40, s, lg) for s, lg in [(True, True)] * 16 + [(True, False)] * 4 + [(False, True)] * 16
            + [(False, False)] * 4]
    write_csv(tmp_path / "a.csv", rows)
    out = route_eval.load_outcomes([tmp_path], "s", "l")
    assert route_eval.estimate_tokens(out.prompts).tolist() == [10] * 40
    r = route_eval.evaluate(out, tiny_catalog(), "nova", "claude", target=0.9, seed=1, output_tokens=2)
    small, large = (10 * 4 + 2 * 16) / 1e6, (10 * 10 + 2 * 50) / 1e6
    assert r["always_large_usd"] == pytest.approx(1000 * large)
    assert r["always_small_usd"] == pytest.approx(1000 * small)
    m = r["test"]
    n_move = int(np.ceil((r["target_accuracy"] - r["small_accuracy"]) * m - 1e-9))
    assert r["perfect_usd_at_target"] == pytest.approx(1000 * (small + n_move / m * (large - small)))
    assert r["random_usd_at_target"] == pytest.approx(
        1000 * (small + (1 - r["random_share_small_at_target"]) * (large - small)))


def test_route_eval_perfect_and_random_lines(tmp_path):
    rng = np.random.default_rng(3)
    s = rng.random(400) < 0.6
    lg = rng.random(400) < 0.8
    pairs = enumerate(zip(s, lg, strict=True))
    write_csv(tmp_path / "a.csv", [(f"q{i} " + "w" * (i % 7), a, b) for i, (a, b) in pairs])
    out = route_eval.load_outcomes([tmp_path / "a.csv"], "s", "l")
    r = route_eval.evaluate(out, tiny_catalog(), "nova", "claude", target=0.95, seed=0, output_tokens=0)
    acc_s, acc_l = r["small_accuracy"], r["large_accuracy"]
    f = (r["target_accuracy"] - acc_s) / (acc_l - acc_s)  # random router: share to the large model
    assert r["random_share_small_at_target"] == pytest.approx(1 - f, abs=1e-6)
    assert r["random_accuracy_at_target"] == pytest.approx(r["target_accuracy"], abs=1e-6)
    assert r["perfect_usd_at_target"] <= r["router_usd_at_target"] + 1e-9
    assert r["perfect_accuracy_at_target"] >= r["target_accuracy"]


def test_route_eval_bad_input(tmp_path):
    (tmp_path / "b.csv").write_text("prompt,s,l\nq,maybe,true\n")
    with pytest.raises(InputError, match="line 2.*not a boolean"):
        route_eval.load_outcomes([tmp_path / "b.csv"], "s", "l")
    with pytest.raises(InputError, match="missing column"):
        route_eval.load_outcomes([tmp_path / "b.csv"], "small", "l")


def test_stated_router_and_cascade_exact():
    n = 1000
    t = canonical_table(n, model="claude", call_type="triage", input_tokens=1000, output_tokens=100)
    cat = tiny_catalog()
    out, ev = routing.apply(t, cat, RoutingOptions(rules=[RoutingRule(call_type="triage", small_model="nova",
                                                                      share=1.0)]))
    assert out.num_rows == n and set(out.column("model").to_pylist()) == {"nova"}
    out, ev = routing.apply(t, cat, RoutingOptions(rules=[RoutingRule(
        call_type="triage", small_model="nova", mode="cascade", share=1.0, escalation_rate=0.45, seed=7)]))
    esc = ev["rules"][0]["escalated"]
    assert 400 < esc < 500  # seeded draw around 45%
    assert out.num_rows == n + esc  # escalated requests pay both models
    models = out.column("model").to_pylist()
    assert models.count("nova") == n and models.count("claude") == esc
    again, _ = routing.apply(t, cat, RoutingOptions(rules=[RoutingRule(
        call_type="triage", small_model="nova", mode="cascade", share=1.0, escalation_rate=0.45, seed=7)]))
    assert again.equals(out)


@pytest.mark.parametrize("ratio", [1.0, 0.5])
def test_routed_requests_lose_their_cache_and_scale_their_output_others_keep_every_token(ratio):
    """A routed request's cache tokens become plain input on the small model (its cache is the other model's),
    its output scaled by `output_ratio`; a request not routed keeps every bucket (columns with no routed cache
    token are kept as they are)."""
    t = canonical_table(4, model="claude", call_type=["triage", "triage", "chat", "chat"],
                        input_tokens=[100, 200, 300, 400], cache_read_tokens=[1000, 0, 500, 0],
                        cache_write_5m_tokens=[0, 0, 0, 70], output_tokens=[11, 20, 30, 40])
    out, _ = routing.apply(t, tiny_catalog(), RoutingOptions(rules=[RoutingRule(
        call_type="triage", small_model="nova", share=1.0, output_ratio=ratio)]))
    assert out.column("model").to_pylist() == ["nova", "nova", "claude", "claude"]
    assert out.column("input_tokens").to_pylist() == [1100, 200, 300, 400]
    assert out.column("cache_read_tokens").to_pylist() == [0, 0, 500, 0]
    assert out.column("cache_write_5m_tokens").to_pylist() == [0, 0, 0, 70]
    assert out.column("output_tokens").to_pylist() == ([11, 20, 30, 40] if ratio == 1 else [6, 10, 30, 40])
