"""HTML reports in a real browser (headless Chromium over the DevTools pipe).

For each report: a screenshot is taken, the console has no error or warning, the only request is the file
itself, every chart drew a non-empty SVG, and the sections present are exactly those the summary has data
for. A canary planted in the prompt bodies of the input logs appears in no report (HTML, Markdown, JSON).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inferplan.cli import app
from inferplan.commands import load_all
from inferplan.report import html, stamp
from inferplan.report.browser import Browser, find_chromium
from tests.report_data import SMALL_SCENARIO

load_all()
FIX = Path(__file__).parent / "fixtures" / "readers"
CANARY = "CANARY-prompt-7f3e9a1c"


EXE = Path(sys.executable).parent / "inferplan"


def console(*args: str) -> subprocess.CompletedProcess:
    res = subprocess.run([str(EXE), *args], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return res


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> dict:
    """`inferplan demo --json --html --markdown` once: its JSON and the report files it wrote."""
    d = tmp_path_factory.mktemp("demo")
    res = console("demo", "--json", "--html", str(d / "demo.html"), "--markdown", str(d / "demo.md"))
    return {"summary": json.loads(res.stdout), "stderr": res.stderr, "html": d / "demo.html", "md": d / "demo.md"}


@pytest.fixture(scope="module")
def demo_summary(demo_run) -> dict:
    return demo_run["summary"]


@pytest.fixture(scope="module")
def browser():
    find_chromium()  # a clear failure naming `make chromium` when it is missing, never a skip
    with Browser() as b:
        yield b


def _plant(value, canary: str):
    """Every string in a prompt or completion body replaced by text holding the canary."""
    if isinstance(value, str):
        return f"{canary} {value} {canary}"
    if isinstance(value, list):
        return [_plant(v, canary) for v in value]
    if isinstance(value, dict):
        return {k: (_plant(v, canary) if k in ("text", "content", "system", "messages", "prompt", "inputText",
                                                  "outputText", "message", "output", "contents")
                    else _plant_deep(v, canary)) for k, v in value.items()}
    return value


def _plant_deep(value, canary: str):
    if isinstance(value, dict):
        return _plant(value, canary)
    if isinstance(value, list):
        return [_plant_deep(v, canary) for v in value]
    return value


def canary_logs(tmp_path: Path) -> Path:
    out = tmp_path / "canary.jsonl"
    lines = []
    for line in (FIX / "bedrock" / "invocations.jsonl").read_text().splitlines():
        rec = json.loads(line)
        for side in ("input", "output"):
            for body in ("inputBodyJson", "outputBodyJson"):
                if body in rec.get(side, {}):
                    rec[side][body] = _plant(rec[side][body], CANARY)
        lines.append(json.dumps(rec))
    out.write_text("\n".join(lines) + "\n")
    assert out.read_text().count(CANARY) >= 10  # the canary really is in the prompts
    return out


def check(browser: Browser, path: Path, tmp_path: Path, expect_sections: set[str], absent: set[str] = frozenset()):
    page = browser.check(path)
    (tmp_path / f"{path.stem}.png").write_bytes(page.screenshot)
    assert page.screenshot[:8] == b"\x89PNG\r\n\x1a\n" and len(page.screenshot) > 10_000
    assert page.console_errors == []
    assert page.foreign_requests == [] and page.requests == [page.url]
    assert page.charts > 0 and page.drawn == page.charts, page.empty
    assert expect_sections <= set(page.sections), page.sections
    assert not (absent & set(page.sections)), page.sections
    return page


def test_analyze_reports_through_the_console_script_hold_no_prompt_text(tmp_path, browser):
    logs = canary_logs(tmp_path)
    exe = Path(sys.executable).parent / "inferplan"
    h, m = tmp_path / "analyze.html", tmp_path / "analyze.md"
    res = subprocess.run([str(exe), "analyze", str(logs), "--json", "--html", str(h), "--markdown", str(m)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert str(h.resolve()) in res.stderr and str(m.resolve()) in res.stderr  # says where the reports are
    terminal = CliRunner().invoke(app, ["analyze", str(logs), "--explain"])
    for text in (res.stdout, res.stderr, h.read_text(), m.read_text(), terminal.output):
        assert CANARY not in text
    assert "rag-answer" in h.read_text() and "rag-answer" in m.read_text()  # the reports do show the input's data
    json.loads(res.stdout)
    check(browser, h, tmp_path, {"headline", "spend-over-time", "token-kinds", "provenance"},
          {"levers", "comparison", "findings", "cache-curve", "routing"})


def test_the_canary_check_would_catch_a_leak(demo_summary):
    """The same check on a summary that does carry the text (as a call type) finds it: the test above can fail."""
    summary = json.loads(json.dumps(demo_summary))
    summary["breakdowns"]["call_type"][0]["key"] = CANARY
    assert CANARY in html.render(summary)


PLAN_SECTIONS = {"headline", "spend-over-time", "token-kinds", "levers", "demand-replicas", "comparison",
                 "model-levers", "cost-volume", "phases", "provenance"}


def test_demo_report_is_the_plan(tmp_path, browser, demo_run):
    """`inferplan demo --html` writes the plan's report and says where; the Azure traces carry no prefixes and
    no lever saves anything on them, so the levers section says so instead of drawing bars of $0."""
    out, md = demo_run["html"], demo_run["md"]
    assert str(out.resolve()) in demo_run["stderr"] and str(md.resolve()) in demo_run["stderr"]
    page = check(browser, out, tmp_path, PLAN_SECTIONS | {"findings", "cost-volume-1", "cost-volume-2"},
                 {"cache-curve", "routing"})
    assert page.charts == 6  # spend over time, token kinds, demand/replicas, cost/volume for 3 slices
    text = out.read_text()
    assert "No workload lever" in text and "self host above breakeven: conversation" in text
    assert "**Break-even, conversation**" in md.read_text() and "**Top findings** (2 in all)" in md.read_text()


def test_plan_and_breakeven_reports_hold_no_prompt_text(tmp_path, browser):
    """plan and breakeven through the console script on logs whose prompts carry the canary: valid --json, no
    canary anywhere, every section the data allows, every chart drawn."""
    from inferplan.report.schema import errors

    logs = canary_logs(tmp_path)
    for cmd, sections in (("plan", PLAN_SECTIONS | {"cache-curve"}), ("breakeven", {"headline", "cost-volume"})):
        h, m = tmp_path / f"{cmd}.html", tmp_path / f"{cmd}.md"
        res = console(cmd, str(logs), "--self-host", "llama-3.1-8b", "--json", "--html", str(h), "--markdown", str(m))
        summary = json.loads(res.stdout)
        assert summary["kind"] == cmd and errors(summary) == [], errors(summary)
        for text in (res.stdout, res.stderr, h.read_text(), m.read_text()):
            assert CANARY not in text
        absent = {"spend-over-time", "levers", "comparison", "findings"} if cmd == "breakeven" else {"routing"}
        page = check(browser, h, tmp_path, sections, absent)
        assert page.charts == sum(1 for _ in re.finditer(r'<div class="chart" id=', h.read_text()))
        if cmd == "plan":  # the reports do show the input's call types
            assert "rag-answer" in h.read_text() and "rag-answer" in m.read_text()
        else:
            assert "stay on Bedrock" in h.read_text() or "serve on" in h.read_text()


def test_levers_report_draws_the_waterfall(tmp_path, browser):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SMALL_SCENARIO)
    runner = CliRunner()
    assert runner.invoke(app, ["synth", str(scenario), "--out", str(tmp_path / "s.parquet"), "--rows", "600"]
                         ).exit_code == 0
    out = tmp_path / "levers.html"
    res = runner.invoke(app, ["analyze", str(tmp_path / "s.parquet"), "--levers", "all", "--html", str(out)])
    assert res.exit_code == 0, res.output
    page = check(browser, out, tmp_path, {"headline", "levers", "spend-over-time"})
    assert page.charts == 4  # spend over time, token kinds, levers alone, waterfall


def test_cache_curve_and_routing_reports(tmp_path, browser, shared_data):
    import pandas as pd

    runner = CliRunner()
    mmlu = sorted((shared_data / "routing" / "routellm_mmlu").glob("mmlu_a*.csv"))
    cols = [c for c in pd.read_csv(mmlu[0], nrows=1).columns if c != "prompt"]
    route = tmp_path / "route.html"
    res = runner.invoke(app, ["route-eval", *map(str, mmlu), "--small-col", cols[0], "--large-col", cols[1],
                              "--small-model", "nova-lite", "--large-model", "claude-sonnet-4.5", "--html", str(route)])
    assert res.exit_code == 0, res.output
    page = check(browser, route, tmp_path, {"routing"}, {"spend-over-time", "levers"})
    assert page.charts == 1
    text = route.read_text()
    prompt = pd.read_csv(mmlu[0], nrows=1)["prompt"].iloc[0]
    assert prompt[:40] not in text  # outcome files carry prompts; the report does not
    summary = stamp({"ttl_s": None, "requests": 10, "input_tokens": 1000, "prefix_tokens": 1000,
                     "points": [{"capacity_tokens": 100, "hit_token_fraction": 0.1, "hit_tokens": 100},
                                {"capacity_tokens": 1000, "hit_token_fraction": 0.3, "hit_tokens": 300},
                                {"capacity_tokens": None, "hit_token_fraction": 0.4, "hit_tokens": 400}],
                     "breakers": []}, "cache-curve")
    cc = tmp_path / "cache.html"
    cc.write_text(html.render(summary))
    check(browser, cc, tmp_path, {"cache-curve"}, {"routing", "headline"})


def test_report_prints_to_pdf(tmp_path, browser, demo_summary):
    out = tmp_path / "demo.html"
    out.write_text(html.render(demo_summary))
    pdf = browser.print_pdf(out)
    assert pdf[:5] == b"%PDF-" and len(pdf) > 20_000


def test_compare_report_and_json(tmp_path, browser):
    from inferplan.report.schema import errors

    scenario = tmp_path / "s.yaml"
    scenario.write_text(SMALL_SCENARIO)
    runner = CliRunner()
    assert runner.invoke(app, ["synth", str(scenario), "--out", str(tmp_path / "s.parquet"), "--rows", "300"]
                         ).exit_code == 0
    out, md = tmp_path / "compare.html", tmp_path / "compare.md"
    res = runner.invoke(app, ["compare", str(tmp_path / "s.parquet"), "--self-host", "llama-3.1-8b", "--json",
                              "--html", str(out), "--markdown", str(md)])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert summary["kind"] == "compare" and errors(summary) == []
    page = check(browser, out, tmp_path, {"headline", "demand-replicas", "comparison"},
                 {"spend-over-time", "levers", "findings"})
    assert page.charts == 1
    text = md.read_text()
    assert "**Serving options**" in text and "Bedrock on-demand" in text
