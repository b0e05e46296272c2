"""`inferplan diff`: the monthly change between two runs, split exactly into volume, tokens and rate effects."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferplan.analysis import summarize
from inferplan.pricing import price_workload
from inferplan.report import stamp
from inferplan.report.diff import diff, effects, render_markdown
from inferplan.report.schema import errors
from tests.helpers import T0, make_catalog, rows_table

CLAUDE, NOVA = "test.claude-like-v1:0", "test.nova-like-v1:0"


def _summary(catalog, rows):
    bill = price_workload(rows_table(rows, catalog), catalog)
    return stamp(summarize(bill, catalog), "analyze")


def _hours(n, **kw):
    """n requests one hour apart, the last at the end of the window's last minute: a window of n - 1 hours
    (minutes 0 .. 60 (n - 1) - 1), so a month is 730 / (n - 1) windows."""
    return [{"ts": T0 + timedelta(hours=i) - (timedelta(seconds=1) if i == n - 1 else timedelta(0)), **kw}
            for i in range(n)]


@pytest.fixture(scope="module")
def cat(tmp_path_factory):
    return make_catalog(tmp_path_factory.mktemp("cat"))


def test_more_input_tokens_and_a_new_call_type(cat):
    # 11 requests over 10 hours: a month is 73 windows. Claude-like: $2/$10 per Mtok (below its 1,000-token
    # long-context threshold), Nova-like $0.8 input.
    before = _summary(cat, _hours(11, call_type="a", model=CLAUDE, input_tokens=400, output_tokens=100))
    after = _summary(cat, [*_hours(11, call_type="a", model=CLAUDE, input_tokens=800, output_tokens=100),
                           *_hours(11, call_type="b", model=NOVA, input_tokens=500)])
    d = diff(before, after)
    assert d["monthly"]["before_usd"] == pytest.approx(11 * 0.0018 * 73, abs=0.005)
    assert d["monthly"]["change_usd"] == pytest.approx(11 * 73 * (0.0008 + 0.0004), abs=0.01)
    a = next(ln for ln in d["lines"] if ln["key"] == "call type a")
    assert [e["usd"] for e in a["effects"]] == [pytest.approx(11 * 73 * 400 * 2e-6)]  # only input tokens/request
    assert "input tokens per request 400 → 800" in a["effects"][0]["what"]
    b = next(ln for ln in d["lines"] if ln["key"] == "call type b")
    assert b["before_usd"] is None and b["change_usd"] == pytest.approx(11 * 73 * 0.0004, abs=0.005)
    assert "now priced: test.nova-like-v1:0 in-region/*/standard" in d["why"]
    assert errors(stamp(d, "diff")) == []
    md = render_markdown(d)
    assert "| ~ |" in md and "call type a" in md


def test_a_price_change_is_a_rate_effect_and_volume_is_a_volume_effect(cat):
    before = _summary(cat, _hours(11, call_type="a", model=CLAUDE, input_tokens=1000, output_tokens=100))
    # twice the requests in the same 10 hours, billed in eu-west-1 ($3/$12)
    after = _summary(cat, [*_hours(11, call_type="a", model=CLAUDE, input_tokens=1000, output_tokens=100,
                                  region="eu-west-1"),
                           *[{"ts": T0 + timedelta(hours=i, minutes=30), "call_type": "a", "model": CLAUDE,
                              "input_tokens": 1000, "output_tokens": 100, "region": "eu-west-1"} for i in range(10)]])
    a = diff(before, after)["lines"][0]
    def effect(prefix):
        return next(e["usd"] for e in a["effects"] if e["what"].startswith(prefix))

    r1 = 21 * 73
    assert effect("requests") == pytest.approx((r1 - 11 * 73) * 0.003)
    assert effect("input rate") == pytest.approx(r1 * 1000 * 1e-6)
    assert effect("output rate") == pytest.approx(r1 * 100 * 2e-6)
    assert len(a["effects"]) == 3  # tokens per request did not change
    assert sum(e["usd"] for e in a["effects"]) == pytest.approx(a["change_usd"], abs=0.01)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 10**7), min_size=11, max_size=11), st.lists(st.integers(1, 10**7), min_size=11,
       max_size=11), st.floats(0.1, 1e5), st.floats(0.1, 1e5))
def test_effects_add_up_to_the_change(t0, t1, r0, r1):
    def line(req, toks, rate):
        tok = dict(zip(("input", "output", "cache_read", "cache_write_5m", "cache_write_1h"), toks[:5], strict=True))
        usd = {k: v * rate * (i + 1) * 1e-6 for i, (k, v) in enumerate(tok.items())}
        return {"requests": req, "tokens": tok, "usd": usd, "total": sum(usd.values())}

    b, a = line(r0, t0, 1.5), line(r1, t1, 2.5)
    # float error scales with the totals, not with their (possibly tiny) difference: 21.49 -> 21.43 is a change
    # of 0.064 whose effects sum to it within ~2e-9
    assert sum(e["usd"] for e in effects(b, a, min_usd=0)) == pytest.approx(a["total"] - b["total"], rel=1e-9,
                                                                          abs=1e-9 * (1 + a["total"] + b["total"]))


def test_diff_command_through_the_console_script(tmp_path, cat):
    before = _summary(cat, _hours(11, call_type="a", model=CLAUDE, input_tokens=1000, output_tokens=100))
    after = _summary(cat, _hours(11, call_type="a", model=CLAUDE, input_tokens=900, output_tokens=100))
    (tmp_path / "b.json").write_text(json.dumps(before))
    (tmp_path / "a.json").write_text(json.dumps(after))
    (tmp_path / "bad.json").write_text(json.dumps({"total_usd": 3}))
    exe = Path(sys.executable).parent / "inferplan"
    res = subprocess.run([str(exe), "diff", str(tmp_path / "b.json"), str(tmp_path / "a.json"), "--json",
                          "--markdown", str(tmp_path / "d.md")], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["kind"] == "diff" and errors(out) == []
    assert out["monthly"]["change_usd"] == pytest.approx(11 * 73 * -100 * 2e-6, abs=0.01)
    assert "monthly cost" in (tmp_path / "d.md").read_text()
    res = subprocess.run([str(exe), "diff", str(tmp_path / "bad.json"), str(tmp_path / "a.json")],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode != 0 and "schema_version" in res.stderr and "Traceback" not in res.stderr


def _breakeven(eng: float, at: float | None, bedrock: float = 1000.0) -> dict:
    return {"schema_version": "1.1", "kind": "breakeven", "label": "all traffic",
            "bedrock_after_levers_monthly_usd": bedrock, "today": {"EC2 x": 500.0 + eng},
            "breakeven": [{"option": "EC2 x", "kind": "ec2", "engineering_monthly_usd": eng,
                           "monthly_bedrock_usd": at, "scale": None if at is None else at / bedrock,
                           "reason": None if at is not None else "dearer than Bedrock at every scale searched"}]}


def test_breakeven_runs_differing_in_engineering_show_the_moved_break_even():
    """Two breakeven runs with other --eng-fte read "n/a → n/a, no line changed"."""
    d = diff(_breakeven(800.0, 1300.0), _breakeven(400.0, 900.0))
    assert d["monthly"] == {"before_usd": 1000.0, "after_usd": 1000.0, "change_usd": 0.0, "change_pct": 0.0}
    [line] = d["lines"]
    assert line["key"] == "break-even EC2 x" and line["change_usd"] == -400.0
    assert "engineering $800.00 → $400.00 a month (-$400.00)" in line["why"]
    gone = diff(_breakeven(800.0, 1300.0), _breakeven(2000.0, None))
    line = gone["lines"][0]
    assert line["kind"] == "break-even" and line["after_usd"] is None
    assert "no longer breaks even: dearer" in " ".join(line["why"])
    from rich.console import Console

    from inferplan.report.diff import render_terminal

    con = Console(record=True, width=200)
    render_terminal(gone, con)
    text = con.export_text()
    assert " ~ break-even EC2 x: $1,300.00 → never" in text and "$0.00 " not in text.split("never")[0][-12:]
    assert "| ~ | $1,300.00 | never |" in render_markdown(gone)
    moved = diff(_breakeven(800.0, 1300.0), _breakeven(800.0, 2600.0, bedrock=500.0))["lines"]
    assert moved[0]["key"] == "break-even against Bedrock" and moved[0]["change_usd"] == -500.0


def _plan(routing_saving: float) -> dict:
    return {"schema_version": "1.1", "kind": "plan", "monthly_factor": 10.0,
            "spend": {"run_rate": {"monthly_usd": 5000.0, "month_factor": 10.0}},
            "levers": {"alone": {"routing": {"saving_usd": routing_saving}, "caching": {"saving_usd": 20.0}},
                       "compounded": {"saving_usd": routing_saving + 20.0}},
            "findings": [{"kind": "route-to-small-model", "call_type": "chat",
                          "monthly_saving_usd": routing_saving * 10}] if routing_saving else []}


def test_plans_differing_only_in_a_lever_show_its_saving():
    """Two plans differing in a routing rule showed $0 change and no line."""
    d = diff(_plan(0.0), _plan(50.0))
    by = {ln["key"]: ln for ln in d["lines"]}
    assert by["lever routing alone"]["change_usd"] == 500.0 and by["levers compounded"]["after_usd"] == 700.0
    assert {ln["kind"] for ln in d["lines"]} == {"saving"}
    assert by["finding route-to-small-model (chat)"]["before_usd"] is None
    assert "lever caching alone" not in by  # unchanged: not a line
    # a plan's own month (its demand series'), as its monthly_saving_usd says, wins over the run-rate's
    p = _plan(50.0)
    p["levers"].update(baseline_usd=100.0, monthly_baseline_usd=1200.0, monthly_saving_usd=840.0)
    by = {ln["key"]: ln for ln in diff(_plan(0.0), p)["lines"]}
    assert by["lever routing alone"]["after_usd"] == 600.0 and by["levers compounded"]["after_usd"] == 840.0


def test_two_commands_outputs_are_refused_and_pretty_json_is_read(tmp_path, cat):
    from inferplan.errors import InputError
    from inferplan.report.diff import load

    with pytest.raises(InputError, match="b.json is a `compare` output and a.json a `plan` one"):
        diff({"kind": "compare"}, _plan(1.0), "b.json", "a.json")
    with pytest.raises(InputError, match="`breakeven` output and a.json a `plan` one"):
        diff(_breakeven(1.0, 2.0), _plan(1.0), "b.json", "a.json")
    s = _summary(cat, _hours(3, call_type="a", model=CLAUDE, input_tokens=10, output_tokens=1))
    assert diff(s, {**_plan(1.0), "spend": s})["lines"]  # analyze and plan both headline today's spend
    (tmp_path / "p.json").write_text("note: something\n" + json.dumps(s, indent=2))
    with pytest.raises(InputError, match="not JSON"):
        load(tmp_path / "p.json")  # notes before a pretty-printed object: neither whole nor last line
    (tmp_path / "p.json").write_text(json.dumps(s, indent=2))
    assert load(tmp_path / "p.json")["total_usd"] == s["total_usd"]
