"""The guide's case study (examples/support_case_study.yaml): synthetic traffic from inferplan.synth,
every lever alone and compounded, compared with the guide's ~$26K/month and ~62%."""

from __future__ import annotations

from pathlib import Path

import pytest

from inferplan.levers import case_study, load_options

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "support_case_study.yaml"


@pytest.fixture(scope="module")
def result(catalog):
    return case_study.run(EXAMPLE, catalog, seed=0, days=1)


def test_scenario_file_is_valid():
    opts = load_options(EXAMPLE)
    assert opts.routing.rules[0].escalation_rate == 0.45
    assert opts.caching.stated_read_fraction == {"rag-answer": 0.70}


def test_sized_like_the_guide(result):
    assert result["monthly_baseline_usd"] == pytest.approx(26_000, rel=0.15)
    assert set(result["monthly_by_call_type_usd"]) == {"rag-answer", "ticket-triage", "nightly-summary"}


def test_compounded_saving_and_each_levers_share(result):
    lv = result["levers"]
    assert lv["levers"] == ["batch", "caching", "routing"]
    # batch halves the summary slice (batch is 50% of on-demand for Sonnet 4.5)
    assert result["by_call_type_saving_pct"]["nightly-summary"] == pytest.approx(50.0, abs=0.5)
    # the cascade keeps ~55% of tickets on the small model only
    rule = lv["alone"]["routing"]["evidence"]["rules"][0]
    assert rule["escalated"] / rule["to_small"] == pytest.approx(0.45, abs=0.02)
    steps = result["steps"]
    assert [s["after"] for s in steps] == ["batch", "caching", "routing"]
    assert all(s["share_of_saving"] > 0 for s in steps)
    # what inferplan computes with the guide's stated lever effects: about half, not 62% (docs/levers.md)
    assert 45 < result["compounded_saving_pct"] < 56
    assert result["compounded_saving_pct"] < case_study.GUIDE_SAVING_PCT
    # no single slice saves as much as 62%: no mix of them can reach it
    assert max(result["by_call_type_saving_pct"].values()) < case_study.GUIDE_SAVING_PCT


def test_replayed_cache_on_the_generated_prefixes(result):
    rep = result["replayed_caching"]
    assert rep["read_fraction"]["rag-answer"] == pytest.approx(0.68, abs=0.08)
    assert "TTL" in rep["placement"]["rag-answer"]
    assert 0 < rep["alone_saving_pct"] < result["alone_saving_pct"]["caching"]
