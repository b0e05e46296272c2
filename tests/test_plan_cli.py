"""`inferplan breakeven` and `inferplan plan` through the installed console script (`--json` must parse).

The break-even is checked against the algebra on a closed-form case: constant demand, a stated replica capacity
(`--replica-rps`), a catalog price and the default engineering cost.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from inferplan.economics import TcoOptions, engineering

BIN = Path(sys.executable).parent / "inferplan"
MODEL = "us.meta.llama3-1-8b-instruct-v1:0"  # $0.22 / $0.22 per million tokens (catalog, us. profile)


def cli(*args: str) -> dict:
    proc = subprocess.run([str(BIN), *args, "--json"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def steady_csv(tmp_path_factory) -> Path:
    """One hour of 1-minute windows at a constant 10 requests/s, 1,000 input and 200 output tokens each."""
    p = tmp_path_factory.mktemp("demand") / "steady.csv"
    rows = ["ts,requests,input_tokens,output_tokens"]
    rows += [f"{1_700_000_000 + 60 * i},600,600000,120000" for i in range(60)]
    p.write_text("\n".join(rows) + "\n")
    return p


def test_breakeven_closed_form(steady_csv, catalog):
    rps, cap = 10.0, 3.0
    out = cli("breakeven", str(steady_csv), "--format", "demand", "--model", MODEL, "--self-host", "llama-3.1-8b",
              "--instance", "g5.xlarge", "--replica-rps", str(cap))
    price = catalog.price("meta.llama3-1-8b-instruct-v1:0", "us", "us-east-1", "standard")
    bedrock = 600 * 60 * (1000 * price.input_usd_per_mtok + 200 * price.output_usd_per_mtok) / 1e6 * 730
    assert out["bedrock_after_levers_monthly_usd"] == pytest.approx(bedrock, rel=1e-6)
    hourly = catalog.ec2("g5.xlarge").on_demand_usd_per_hour
    eng = engineering("ec2", "g5.xlarge", TcoOptions())["monthly_usd"]
    # at scale s: k = ceil(10 s / 3) replicas for the peak, k x hourly x 730 + eng; Bedrock is s x bedrock.
    k = next(k for k in range(1, 1000) if (k * hourly * 730 + eng) / bedrock <= k * cap / rps)
    s_star = max((k * hourly * 730 + eng) / bedrock, (k - 1) * cap / rps)
    row = next(r for r in out["breakeven"] if "fixed for the peak" in r["option"])
    assert row["kind"] == "ec2"
    assert abs(row["scale"] - s_star) <= cap / rps  # one replica's granularity
    assert row["scale"] == pytest.approx(s_star, rel=0.03)
    assert row["monthly_bedrock_usd"] == pytest.approx(bedrock * row["scale"], rel=1e-6)
    tokens = 60 * 600 * 1200 * 730
    assert row["tokens_per_month"] == pytest.approx(tokens * row["scale"], rel=1e-6)
    assert row["engineering_monthly_usd"] == pytest.approx(eng, abs=0.01)
    # the curve: Bedrock linear in scale; the fixed fleet is ceil(10 s / 3) replicas plus engineering
    for point in out["curve"]:
        s = point["scale"]
        assert point["bedrock_usd"] == pytest.approx(bedrock * s, abs=0.01)
        n = max(1, math.ceil(rps * s / cap - 1e-9))
        assert point[row["option"]] == pytest.approx(n * hourly * 730 + eng, rel=1e-6)
    mc = next(o for o in out["uncertainty"]["options"] if o["option"] == row["option"])
    assert mc["throughput_error"]["draws_from"] > 0  # the validation's errors (a10g: other GPUs at tp 1)
    p = mc["breakeven_monthly_bedrock_usd"]
    assert p["p10"] < bedrock * s_star < p["p90"]


def test_breakeven_never_in_range_is_null_with_a_reason(steady_csv):
    out = cli("breakeven", str(steady_csv), "--format", "demand", "--model", MODEL, "--self-host", "llama-3.1-8b",
              "--instance", "g5.xlarge", "--replica-rps", "0.001")
    row = next(r for r in out["breakeven"] if "fixed for the peak" in r["option"])
    assert row["monthly_bedrock_usd"] is None and row["scale"] is None and row["tokens_per_month"] is None
    assert "every scale searched" in row["reason"]


def test_eng_flags_move_the_break_even(steady_csv):
    args = ("breakeven", str(steady_csv), "--format", "demand", "--model", MODEL, "--self-host", "llama-3.1-8b",
            "--instance", "g5.xlarge", "--replica-rps", "3")
    lo = cli(*args, "--eng-fte", "0.1", "--eng-usd-per-year", "200000")
    hi = cli(*args, "--eng-fte", "0.5")

    def be(o: dict) -> float:
        return next(r for r in o["breakeven"] if "fixed for the peak" in r["option"])["monthly_bedrock_usd"]

    assert be(lo) < be(hi)
    assert lo["engineering"]["fte"] == 0.1 and lo["engineering"]["usd_per_year"] == 200_000


def test_bad_flag_is_one_line_not_a_traceback(steady_csv):
    proc = subprocess.run([str(BIN), "breakeven", str(steady_csv), "--format", "demand", "--model", MODEL,
                           "--call-type", "nope"], capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr and "nope" in proc.stderr


def test_plan_on_the_bundled_traces():
    """`inferplan demo` runs the plan on the Azure 2023 traces: an 8B self-hosted candidate for Haiku-class
    traffic is past its break-even (~$50K/month of Bedrock), and no workload finding fires (the traces carry
    no prefixes, no interactivity flags and a small model)."""
    out = cli("demo")
    assert out["requests"] == 8819 + 19366  # the analyze summary is still there
    p = out["plan"]
    assert set(p) >= {"spend", "levers", "model_levers", "compare", "breakeven", "uncertainty", "findings"}
    kinds = {(f["kind"], f["call_type"]) for f in p["findings"]}
    assert kinds == {("self-host-above-breakeven", "conversation"), ("self-host-above-breakeven", "code")}
    for f in p["findings"]:
        assert set(f) >= {"kind", "call_type", "model", "monthly_saving_usd", "evidence", "confidence", "command"}
        assert f["monthly_saving_usd"] > 0
    savings = [f["monthly_saving_usd"] for f in p["findings"]]
    assert savings == sorted(savings, reverse=True)
    assert p["spend"]["monthly_usd"] == pytest.approx(out["total_usd"] * 730 / p["spend"]["hours"], rel=1e-6)
    for u in p["uncertainty"]:
        assert u["draws"] == 10_000  # its speed: bench/montecarlo.py
