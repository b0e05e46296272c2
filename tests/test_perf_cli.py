"""`inferplan perf` and `inferplan rightsize` end to end on the packaged catalog."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from inferplan.cli import app
from inferplan.commands import load_all

load_all()
runner = CliRunner()


def run_json(*args: str) -> dict:
    res = runner.invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_perf_mix_json_has_the_promised_keys():
    d = run_json("perf", "--model", "llama-3.1-8b", "--instance", "g6e.xlarge", "--input", "1000", "--output", "200",
                 "--ttft-ms", "1000", "--tpot-ms", "50")
    for k in ("decode_step_ms", "prefill_ms", "max_batch", "tokens_per_s", "usd_per_mtok"):
        assert d[k] is not None, k
    assert d["feasible"] and d["tpot_ms"] <= 50 and d["ttft_ms"] <= 1000
    assert set(d["usd_per_mtok"]) == {"on-demand", "spot", "savings-plan-1y", "savings-plan-3y", "reserved-1y",
                                      "reserved-3y"}
    assert d["usd_per_mtok"]["savings-plan-3y"] < d["usd_per_mtok"]["on-demand"]


def test_perf_batch_context_on_bare_accelerators():
    d = run_json("perf", "--model", "llama-3.1-8b", "--accelerator", "h100", "--batch", "64", "--context", "2048")
    assert d["feasible"] and d["decode_step_ms"] > 0 and d["max_batch"] >= 64
    assert d["tokens_per_s"] == pytest.approx(64 / d["decode_step_ms"] * 1e3)


def test_perf_infeasible_is_reported_with_reason():
    d = run_json("perf", "--model", "llama-3.3-70b", "--instance", "g5.xlarge")
    assert not d["feasible"] and d["reason"].startswith("does not fit")


def test_perf_rejects_ambiguous_hardware():
    res = runner.invoke(app, ["perf", "--model", "llama-3.1-8b", "--instance", "g5.xlarge", "--accelerator", "h100"])
    assert res.exit_code == 2 and "exactly one of --instance or --accelerator" in res.output


def test_rightsize_json_ranks_and_rejects():
    d = run_json("rightsize", "--model", "llama-3.3-70b")
    assert d["ranked"], d["rejected"]
    costs = [r["usd_per_mtok"]["on-demand"] for r in d["ranked"]]
    assert costs == sorted(costs)
    reasons = " ".join(r["reason"] for r in d["rejected"])
    assert "does not fit" in reasons
    names = {r["instance"] for r in d["ranked"]} | {r["instance"] for r in d["rejected"]}
    assert "g5.xlarge" in names and "p5.48xlarge" in names


def test_unknown_model_is_one_line_error():
    res = runner.invoke(app, ["rightsize", "--model", "no-such-model"])
    assert res.exit_code != 0 and "Traceback" not in res.output
