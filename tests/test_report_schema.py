"""Every command's --json carries schema_version and kind and is valid against the shipped JSON Schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from inferplan.commands import load_all
from inferplan.report import SCHEMA_VERSION, stamp
from inferplan.report.schema import errors, schema, validate
from tests.report_data import SMALL_SCENARIO

load_all()
FIX = Path(__file__).parent / "fixtures" / "readers"
BEDROCK = FIX / "bedrock" / "invocations.jsonl"


EXE = Path(sys.executable).parent / "inferplan"


def _json(*args: str) -> dict:
    """The command's --json through the installed console script: stdout must be exactly one JSON object."""
    res = subprocess.run([str(EXE), *args, "--json"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


@pytest.fixture(scope="module")
def demo() -> dict:
    return _json("demo")


def test_schema_is_a_valid_draft_2020_12_schema_shipped_in_the_package():
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(schema())
    kinds = set(schema()["properties"]["kind"]["enum"])
    assert {"analyze", "compare", "breakeven", "plan", "diff"} <= kinds


def test_console_script_analyze_json_validates(tmp_path):
    exe = Path(sys.executable).parent / "inferplan"
    res = subprocess.run([str(exe), "analyze", str(BEDROCK), "--json"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["schema_version"] == SCHEMA_VERSION and out["kind"] == "analyze"
    assert errors(out) == []
    assert out["run_rate"]["hours_per_month"] == 730


def test_analyze_with_levers_validates():
    out = _json("analyze", str(BEDROCK), "--levers", "all")
    assert errors(out) == [] and out["levers"]["levers"] == ["trim", "batch", "caching", "routing"]


def test_demo_json_validates_with_its_plan(demo):
    assert demo["kind"] == "analyze" and errors(demo) == []
    plan = demo["plan"]
    assert errors({"schema_version": SCHEMA_VERSION, "kind": "plan", **plan}) == []
    assert [s["label"] for s in plan["breakeven"]] == [u["label"] for u in plan["uncertainty"]]
    assert plan["spend"]["total_usd"] == demo["total_usd"]  # the plan's spend is analyze's summary


def test_plan_schema_rejects_what_breaks_the_contract(demo):
    good = {"schema_version": SCHEMA_VERSION, "kind": "plan", **demo["plan"]}
    assert errors(good) == []
    for breaking in (lambda d: d.pop("findings"), lambda d: d["spend"].pop("run_rate"),
                     lambda d: d["spend"].update(monthly_usd="49k"),
                     lambda d: d["breakeven"][0]["breakeven"][0].update(scale=None),  # a break-even with no reason
                     lambda d: d["breakeven"][0].update(curve=[]),
                     lambda d: d["uncertainty"][0]["options"][0].update(p_beats_bedrock=1.5),
                     lambda d: d["levers"].pop("monthly_saving_usd"), lambda d: d["compare"].pop("options"),
                     lambda d: d["findings"][0].pop("evidence")):
        bad = json.loads(json.dumps(good))
        breaking(bad)
        assert errors(bad), breaking


def test_breakeven_json_validates(tmp_path):
    csv = tmp_path / "steady.csv"
    csv.write_text("ts,requests,input_tokens,output_tokens\n"
                   + "".join(f"{1_700_000_000 + 60 * i},600,600000,120000\n" for i in range(60)))
    out = _json("breakeven", str(csv), "--format", "demand", "--model", "us.meta.llama3-1-8b-instruct-v1:0",
                "--self-host", "llama-3.1-8b", "--instance", "g5.xlarge", "--replica-rps", "3")
    assert out["schema_version"] == SCHEMA_VERSION and out["kind"] == "breakeven"
    assert errors(out) == [], errors(out)
    never = next(r for r in out["breakeven"] if r["scale"] is None)  # the SageMaker twin never breaks even here
    never["reason"] = None
    assert errors(out)


@pytest.mark.parametrize("args", [
    ("prices", "list", "--service", "bedrock", "--model", "claude-haiku-4.5", "--tier", "batch"),
    ("prices", "list", "--service", "ec2"),
    ("prices", "list", "--service", "sagemaker"),
    ("prices", "show", "claude-sonnet-4.5"),
    ("prices", "show", "g6e.xlarge"),
    ("perf", "--model", "llama-3.1-8b", "--instance", "g6e.xlarge", "--input", "1000", "--output", "200"),
    ("rightsize", "--model", "llama-3.1-8b", "--top", "2"),
], ids=lambda a: "-".join(a[:2]))
def test_command_json_validates(args):
    out = _json(*args)
    assert out["schema_version"] == SCHEMA_VERSION
    assert errors(out) == [], errors(out)


def test_cache_curve_route_eval_synth_and_reconcile_validate(tmp_path, shared_data):
    mmlu = sorted((shared_data / "routing" / "routellm_mmlu").glob("mmlu_a*.csv"))
    import pandas as pd

    cols = list(pd.read_csv(mmlu[0], nrows=1).columns)
    small, large = [c for c in cols if c != "prompt"][:2]
    out = _json("route-eval", *map(str, mmlu), "--small-col", small, "--large-col", large, "--small-model",
                "nova-lite", "--large-model", "claude-sonnet-4.5")
    assert out["kind"] == "route-eval" and errors(out) == []
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SMALL_SCENARIO)
    out = _json("synth", str(scenario), "--out", str(tmp_path / "s.parquet"), "--rows", "400")
    assert out["kind"] == "synth" and errors(out) == []
    out = _json("cache-curve", str(tmp_path / "s.parquet"), "--capacity-tokens", "20k,inf")
    assert out["kind"] == "cache-curve" and errors(out) == [] and len(out["points"]) == 2
    out = _json("reconcile", "--logs", str(BEDROCK), "--cur", str(FIX / "cur_sample.csv"))
    assert out["kind"] == "reconcile" and errors(out) == []


def test_schema_rejects_what_breaks_the_contract(demo):
    good = json.loads(json.dumps(demo))
    assert errors(good) == []
    for breaking in (lambda d: d.pop("total_usd"), lambda d: d.update(schema_version="2.0"),
                     lambda d: d["run_rate"].update(hours_per_month=720),
                     lambda d: d["breakdowns"]["call_type"][0].update(requests=-1),
                     lambda d: d.update(kind="nonsense"), lambda d: d["prices"][0].pop("source")):
        bad = json.loads(json.dumps(good))
        breaking(bad)
        assert errors(bad), bad
    with pytest.raises(Exception, match="not a valid inferplan"):
        validate({"schema_version": "1.0", "kind": "analyze"})


def test_stamp_puts_version_and_kind_first_and_wraps_lists():
    assert list(stamp({"a": 1, "kind": "x"}, "analyze")) == ["schema_version", "kind", "a"]
    assert stamp([1, 2], "prices-list")["rows"] == [1, 2]
