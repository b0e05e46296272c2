"""Every command's --json carries schema_version and kind and is valid against the shipped JSON Schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inferplan.cli import app
from inferplan.commands import load_all
from inferplan.report import SCHEMA_VERSION, stamp
from inferplan.report.schema import errors, schema, validate
from tests.report_data import SMALL_SCENARIO

load_all()
FIX = Path(__file__).parent / "fixtures" / "readers"
BEDROCK = FIX / "bedrock" / "invocations.jsonl"


def _json(*args: str) -> dict:
    res = CliRunner().invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout.strip().splitlines()[-1])


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


@pytest.mark.parametrize("args", [
    ("demo",),
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


def test_schema_rejects_what_breaks_the_contract():
    good = _json("demo")
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
