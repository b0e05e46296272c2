"""The guide's case study (examples/support_case_study.yaml) through `plan`: caching, the cascade and batch come
first, with dollars; self-hosting the steady slice on Inferentia2 is a phase-two option that does not pay yet
at ~$26K a month (~$12.7K after the levers). One generated day (the scenario's volume per day, monthly dollars
scaled from it), 5-minute windows, fewer break-even points and draws: the story is the same as on 30 days."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from inferplan import planner, synth
from inferplan.economics import TcoOptions
from inferplan.serving.spec import CompareSpec

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "support_case_study.yaml"


@pytest.fixture(scope="module")
def inputs(catalog):
    doc = yaml.safe_load(EXAMPLE.read_text())
    doc.update({"plan": {"scale_points": 13}, "uncertainty": {"draws": 2000}})
    table = synth.generate(synth.load_traffic(doc), seed=0, days=1)
    return doc, synth.to_workload(table, catalog, source=str(EXAMPLE))


@pytest.fixture(scope="module")
def case(catalog, inputs):
    doc, wl = inputs
    # the Llama-class replacement for the frontier model, quantized (the guide's step 2) so it fits Inferentia2
    spec = CompareSpec(self_host=["llama-3.3-70b"], precision="fp8", window_s=300)
    return planner.run(wl, catalog, spec, doc, TcoOptions())


def test_the_plans_levers_are_analyzes_to_the_request(case, inputs, catalog):
    """`plan` and `analyze --levers all` replay the same levers on the same traffic: every lever's dollars and
    the cascade's picks agree exactly. A guard: on this in-memory workload the rows keep their order either way;
    the order that varied was a read file's resolved join at scale (1.46M requests, too slow here), which the
    next test covers by what `plan` and `breakeven` hand `evaluate`."""
    from inferplan.levers import evaluate
    from inferplan.pricing import price_workload

    doc, wl = inputs
    alone = evaluate(wl, catalog, "all", doc, baseline=price_workload(wl, catalog))  # as `analyze` calls it
    assert case["levers"]["compounded"]["new_usd"] == alone["compounded"]["new_usd"]
    for name, r in alone["alone"].items():
        assert case["levers"]["alone"][name]["new_usd"] == r["new_usd"], name
    assert case["levers"]["alone"]["routing"]["evidence"]["rules"] == alone["alone"]["routing"]["evidence"]["rules"]


def test_levers_first_with_dollars(case):
    assert case["spend"]["monthly_usd"] == pytest.approx(26_000, rel=0.15)
    lv = case["levers"]
    assert 45 < lv["compounded"]["saving_pct"] < 56
    top = [(f["kind"], f["call_type"]) for f in case["findings"][:4]]
    assert ("uncached-repeated-prefix", "rag-answer") == top[0]
    assert {("frontier-model-on-easy-traffic", "ticket-triage"), ("batch-eligible-on-realtime", "nightly-summary")} \
        <= set(top)
    m = case["monthly_factor"]
    by = {(f["kind"], f["call_type"]): f for f in case["findings"]}
    for kind, ct, lever in (("uncached-repeated-prefix", "rag-answer", "caching"),
                            ("frontier-model-on-easy-traffic", "ticket-triage", "routing"),
                            ("batch-eligible-on-realtime", "nightly-summary", "batch")):
        saved = lv["baseline_by_call_type_usd"][ct] - lv["alone"][lever]["by_call_type_usd"][ct]
        assert by[(kind, ct)]["monthly_saving_usd"] == pytest.approx(saved * m, abs=0.02)
    # batch halves the summary slice
    summary = case["spend"]["by_call_type_monthly_usd"]["nightly-summary"]
    assert by[("batch-eligible-on-realtime", "nightly-summary")]["monthly_saving_usd"] == pytest.approx(
        summary / 2, rel=0.02)
    phase1 = case["phases"][0]["items"]
    assert {(i["kind"], i["call_type"]) for i in phase1} >= set(top[:3])


def test_inferentia2_is_phase_two_and_does_not_pay_yet(case):
    two = {i["slice"]: i for i in case["phases"][1]["items"]}
    assert set(two) == {"rag-answer", "ticket-triage", "nightly-summary"}
    steadiest = [k for k, v in two.items() if v["steadiest"]]
    assert len(steadiest) == 1 and steadiest[0] != "nightly-summary"  # the nightly batch is the spikiest
    for ct in ("rag-answer", "ticket-triage"):
        it = two[ct]
        assert it["stay_on"] == "Bedrock"
        if it.get("option"):  # something breaks even in the range, at more than today's volume
            assert it["volume_to_break_even"] > 1
            assert it["breakeven_monthly_bedrock_usd"] > it["bedrock_after_levers_monthly_usd"]
        inf = it["inferentia_trainium"]  # the phase-two option the guide modelled, with its dollars
        assert inf["instance"].startswith(("inf2.", "trn1.")), inf
        if inf["volume_to_break_even"] is not None:
            assert inf["volume_to_break_even"] > 1
        else:
            assert inf["cost_ratio_at_max_scale"] > 1 and "every scale searched" in inf["reason"]
    assert not [f for f in case["findings"] if f["kind"].startswith("self-host")]
    q = case["model_levers"]["quantization"]
    assert q["model"] == "llama-3.3-70b" and q["monthly_saving_usd"] >= 0


def test_plan_and_breakeven_replay_the_levers_as_analyze_does(catalog, tmp_path, monkeypatch):
    """The routing lever picks requests by position: `plan` replayed it on the resolved table's order (which
    varies run to run), so its cascade escalated 391,599 case-study tickets where `analyze --levers` escalated
    391,765. Both now hand `evaluate` the traffic in the input's order: breakeven the workload itself (which
    `evaluate` reads so), plan the lever table it reads once so for the levers and its other readers."""
    from inferplan.readers import read_workload
    from inferplan.workload import Workload

    doc = yaml.safe_load(EXAMPLE.read_text())
    table = synth.generate(synth.load_traffic(doc), seed=0, days=0.01)
    import pyarrow.parquet as pq

    pq.write_table(table.rename_columns(["model" if c == "model_id" else c for c in table.column_names]),
                   tmp_path / "case.parquet")  # as `inferplan synth --out case.parquet` writes it
    wl = read_workload([tmp_path / "case.parquet"], catalog, "auto")
    seen = []

    class Stop(Exception):
        pass

    def spy(workload, *args, **kwargs):
        seen.append(workload)
        raise Stop

    monkeypatch.setattr(planner, "evaluate", spy)
    spec = CompareSpec(self_host=["llama-3.3-70b"], precision="fp8", window_s=300)
    for call in (lambda: planner.run(wl, catalog, spec, doc, TcoOptions()),
                 lambda: planner.run_breakeven(wl, None, catalog, spec, doc, TcoOptions())):
        with pytest.raises(Stop):
            call()
    # plan: the lever table it also reads the traffic from (streamed in the input's order, as `evaluate` reads
    # a workload); breakeven: the workload itself
    from inferplan.levers._table import LeverTable

    assert len(seen) == 2 and isinstance(seen[0], LeverTable) and isinstance(seen[1], Workload) and seen[1] is wl
    again = LeverTable.read(wl.table)
    assert seen[0].table.equals(again.table)
    assert np.array_equal(seen[0].prefixes.seg, again.prefixes.seg)
