"""End to end through the CLI: the demo, analyze on the real Azure traces, and errors without tracebacks."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inferplan.catalog import load_catalog
from inferplan.cli import DEMO_MODEL, app
from inferplan.commands import load_all

load_all()
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def _independent_total(paths: list[Path], model_id: str, region: str) -> tuple[int, float, dict[str, float]]:
    """Re-derive the bill with the csv module and the catalog row, no engine involved."""
    cat = load_catalog(warn_stale=False)
    r = cat.resolve_model(model_id)
    p = cat.price(r.model, r.scope, region, "standard")
    n, total, by_type = 0, 0.0, {}
    for path in paths:
        kind = "conversation" if path.name.endswith("_conv.csv") else "code"
        with path.open() as fh:
            for row in csv.DictReader(fh):
                usd = (int(row["ContextTokens"]) * p.input_usd_per_mtok
                       + int(row["GeneratedTokens"]) * p.output_usd_per_mtok) / 1e6
                n += 1
                total += usd
                by_type[kind] = by_type.get(kind, 0.0) + usd
    return n, total, by_type


def test_demo_json_matches_an_independent_computation():
    res = run("demo", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    from inferplan.cli import demo_paths

    n, total, by_type = _independent_total(demo_paths(), DEMO_MODEL, "us-east-1")
    assert out["requests"] == n == 8819 + 19366
    assert out["total_usd"] == pytest.approx(total, abs=0.005)
    for k, v in by_type.items():
        assert out["by_call_type"][k] == pytest.approx(v, abs=0.005)
    assert set(out) >= {"requests", "total_usd", "by_call_type", "by_model", "tokens", "catalog_checked"}
    assert out["tokens"]["cache_read"] == 0 and out["tokens"]["input"] > 0


def test_analyze_shared_traces_with_model_and_region(shared_data):
    paths = sorted((shared_data / "traces" / "azure2023").glob("*.csv"))
    res = run("analyze", *map(str, paths), "--model", "nova-pro", "--region", "us-west-2", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    n, total, _ = _independent_total(paths, "nova-pro", "us-west-2")
    assert out["requests"] == n
    assert out["total_usd"] == pytest.approx(total, abs=0.005)
    assert list(out["by_model"]) == ["amazon.nova-pro-v1:0"]


def test_terminal_report_shows_breakdown():
    res = run("demo")
    assert res.exit_code == 0, res.output
    assert "By call type" in res.stdout and "conversation" in res.stdout and "code" in res.stdout


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize(("content", "args", "needle"), [
    ("ts,model,input_tokens,output_tokens\n2026-01-01T00:00:00Z,claude-sonet-9,10,5\n", [],
     "closest known ids"),
    ("ts,model,output_tokens\n2026-01-01T00:00:00Z,nova-pro,5\n", [], "input_tokens"),
    ("ts,model,input_tokens,output_tokens\n2026-01-01T00:00:00Z,nova-pro,10,5\n2026-01-01T00:00:01Z,nova-pro,abc,5\n",
     [], "line 3"),
    ("ts,model,input_tokens,output_tokens\n2026-01-01T00:00:00Z,nova-pro,10,5\n2026-01-01T00:00:01Z,nova-pro,-4,5\n",
     [], "row 2: input_tokens is negative"),
    ("ts,model,input_tokens,output_tokens,colour\n2026-01-01T00:00:00Z,nova-pro,10,5,red\n", [], "colour"),
    ("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.9799600,10,5\n", [], "--model"),
])
def test_errors_are_one_clear_line(tmp_path, content, args, needle):
    p = _write(tmp_path, "usage.csv", content)
    res = run("analyze", str(p), *args)
    assert res.exit_code != 0
    assert needle in res.output
    assert "Traceback" not in res.output


def test_skip_bad_rows_counts_them(tmp_path):
    p = _write(tmp_path, "usage.csv",
               "ts,model,input_tokens,output_tokens\n2026-01-01T00:00:00Z,nova-pro,10,5\n"
               "2026-01-01T00:00:01Z,nova-pro,abc,5\n2026-01-01T00:00:02Z,nova-pro,-1,5\n"
               "2026-01-01T00:00:03Z,nova-pro,1000000,0\n")
    res = run("analyze", str(p), "--on-error", "skip", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["requests"] == 2
    assert sum(out["skipped"].values()) == 2
    assert out["skipped"]["input_tokens is negative"] == 1


def test_missing_file_and_unknown_format(tmp_path):
    assert "no such file" in run("analyze", str(tmp_path / "nope.csv")).output
    p = _write(tmp_path, "x.txt", "hello\n")
    res = run("analyze", str(p))
    assert res.exit_code != 0 and "unrecognised format" in res.output


def test_prices_commands():
    res = run("prices", "list", "--service", "ec2", "--json")
    assert res.exit_code == 0
    rows = json.loads(res.stdout)["rows"]
    assert any(r["instance"] == "p5.48xlarge" for r in rows)
    res = run("prices", "show", "claude-sonnet-4.5", "--json")
    out = json.loads(res.stdout)
    assert out["bedrock_model"]["model"] == "anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert {p["scope"] for p in out["bedrock_prices"]} >= {"global", "us", "in-region"}
    assert run("prices", "show", "nope-model").exit_code != 0


def test_console_script_runs_without_traceback(tmp_path):
    exe = Path(sys.executable).parent / "inferplan"
    res = subprocess.run([str(exe), "analyze", str(tmp_path / "missing.csv")], capture_output=True, text=True)
    assert res.returncode != 0 and "Traceback" not in res.stderr and "no such file" in res.stderr


def test_call_type_key_option_picks_the_metadata_key():
    logs = Path(__file__).parent / "fixtures" / "readers" / "bedrock" / "invocations.jsonl"
    default = json.loads(run("analyze", str(logs), "--on-error", "skip", "--json").stdout)
    by_team = json.loads(run("analyze", str(logs), "--on-error", "skip", "--call-type-key", "team", "--json").stdout)
    assert "rag-answer" in default["by_call_type"]
    assert "search" in by_team["by_call_type"] and "rag-answer" not in by_team["by_call_type"]
    assert by_team["total_usd"] == pytest.approx(default["total_usd"])


def test_unknown_model_error_names_the_file(tmp_path):
    p = _write(tmp_path, "usage.csv", "ts,model,input_tokens,output_tokens\n2026-01-01T00:00:00Z,acme.unknown-v1,1,1\n")
    res = run("analyze", str(p))
    assert res.exit_code != 0 and "usage.csv" in res.output and "acme.unknown-v1" in res.output


def test_bad_value_error_withholds_text_that_could_be_a_prompt(tmp_path):
    p = _write(tmp_path, "usage.csv", "ts,model,input_tokens,output_tokens\n"
                                      "2026-01-01T00:00:00Z,nova-pro,my secret prompt text,1\n")
    res = run("analyze", str(p))
    assert res.exit_code != 0 and "line 2" in res.output
    assert "secret" not in res.output and "characters withheld" in res.output


def test_empty_header_only_and_unknown_files_say_which(tmp_path):
    """An empty file said "unrecognised format"; a header-only one "$0.00 over 0 requests (None to None)"; and
    compare's format list left out the demand series it also reads."""
    empty, header, odd = tmp_path / "e.jsonl", tmp_path / "h.csv", tmp_path / "o.csv"
    empty.write_text("\n")
    header.write_text("ts,model,input_tokens,output_tokens\n")
    odd.write_text("ts,total\n1,2\n")
    res = run("analyze", str(empty))
    assert res.exit_code != 0 and f"{empty}: the file is empty" in " ".join(res.output.split())
    res = run("analyze", str(header))
    assert res.exit_code == 0 and "no requests in the input" in res.output and "None" not in res.output
    res = run("compare", str(odd))
    flat = " ".join(res.output.split())
    assert res.exit_code != 0 and "unrecognised format" in flat and "demand, cloudwatch, servegen-rates" in flat
    flat = " ".join(run("plan", str(odd)).output.split())  # plan takes no demand series: not offered
    assert "unrecognised format" in flat and "cloudwatch" not in flat
