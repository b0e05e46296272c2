"""The Python API: inferplan.analyze()/compare() return a Report whose summary is the command's --json, and the
README's notebook example runs as written (only the shared data's location is filled in)."""

from __future__ import annotations

import json
import os
import re

import pytest
from typer.testing import CliRunner

import inferplan
from inferplan.cli import app
from inferplan.commands import load_all
from inferplan.report.schema import errors
from tests.conftest import ROOT

load_all()


def _readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    m = re.search(r"<!-- api-example -->\s*```python\n(.*?)```", text, re.S)
    assert m, "README has no api-example block"
    return m.group(1)


def test_readme_example_runs_and_its_numbers_are_true(tmp_path, shared_data, capsys):
    code = _readme_example().replace("../shared/data", str(shared_data))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        ns: dict = {}
        exec(compile(code, "README.md", "exec"), ns)  # noqa: S102 - the README's own example
    finally:
        os.chdir(cwd)
    report = ns["report"]
    assert (tmp_path / "spend.html").read_text().startswith("<!DOCTYPE html>")
    assert "### inferplan: Inference spend" in capsys.readouterr().out
    stated = re.search(r"monthly_usd\"\]\s*#\s*([\d.]+)", code)
    assert stated and float(stated.group(1)) == report.summary["run_rate"]["monthly_usd"]
    plan = ns["plan"]
    kind = re.search(r"\[\"kind\"\]\s*#\s*([a-z-]+)", code)
    assert plan.kind == "plan" and kind and plan.summary["findings"][0]["kind"] == kind.group(1)
    assert errors(plan.summary) == []
    page = (tmp_path / "plan.html").read_text()
    for section in ("headline", "spend-over-time", "demand-replicas", "comparison", "cost-volume", "findings"):
        assert f'<section id="{section}">' in page, section


def test_analyze_summary_is_the_cli_json(shared_data):
    path = shared_data / "traces" / "azure2023" / "AzureLLMInferenceTrace_code.csv"
    report = inferplan.analyze(path, model="nova-pro", region="us-west-2")
    cli = json.loads(CliRunner().invoke(app, ["analyze", str(path), "--model", "nova-pro", "--region", "us-west-2",
                                              "--json"]).stdout)
    assert report.summary == cli and errors(report.summary) == []
    assert report.to_markdown() == report._repr_markdown_()
    assert "plotly" in report.to_html().lower()


def test_compare_report_carries_the_series_for_its_chart(tmp_path):
    from tests.report_data import SMALL_SCENARIO

    (tmp_path / "s.yaml").write_text(SMALL_SCENARIO)
    assert CliRunner().invoke(app, ["synth", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "s.parquet"),
                                    "--rows", "200"]).exit_code == 0
    report = inferplan.compare(tmp_path / "s.parquet", self_host=["llama-3.1-8b"])
    assert report.kind == "compare" and errors(report.summary) == []
    series = report.charts["series"]
    d = report.summary["demand"]
    assert len(series["requests"]) == min(720, d["windows"])  # a day of minutes, cut to 720 slices
    mean = sum(series["requests"]) / len(series["requests"])  # slices differ by at most one window
    assert mean == pytest.approx(d["requests"] / d["windows"], rel=0.01)
    assert "demand-replicas" in report.to_html()


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError):
        inferplan.nothing_here  # noqa: B018


def test_plan_summary_is_the_cli_json(shared_data):
    """`inferplan.plan()` returns what `inferplan plan --json` prints (the Monte Carlo's wall time aside)."""
    import subprocess
    import sys
    from pathlib import Path

    path = shared_data / "traces" / "azure2023" / "AzureLLMInferenceTrace_code.csv"
    report = inferplan.plan(path, model="claude-haiku-4.5", self_host=["llama-3.1-8b"])
    exe = Path(sys.executable).parent / "inferplan"
    res = subprocess.run([str(exe), "plan", str(path), "--model", "claude-haiku-4.5", "--self-host", "llama-3.1-8b",
                          "--json"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    cli = json.loads(res.stdout)

    def steady(d: dict) -> dict:
        d = json.loads(json.dumps(d, default=str))
        for u in d["uncertainty"]:
            u.pop("seconds")
        return d

    assert steady(report.summary) == steady(cli) and errors(cli) == []
    assert report.charts["series"]["requests"] and "demand-replicas" in report.to_html()
    assert "**Break-even, all traffic**" in report.to_markdown()
