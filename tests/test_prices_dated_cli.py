"""Prices in force on a date through reconcile and the console script (issue 12): a month before a price change
reconciles with zero differences at that month's prices; analyze, reconcile and prices show with a dated catalog."""

from __future__ import annotations

import pytest

from inferplan.catalog import load_catalog
from inferplan.readers import read_workload
from tests.test_prices_dated import write

# ---- reconcile of an older period, and the CLI ----------------------------------------------------------------

HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
# three days in May and three in June around a Haiku `us.` price change on 2026-06-01
TRAFFIC = {"call_types": {
    "rag": {"model": f"us.{HAIKU}", "per_hour": 12, "input_tokens": 3000, "output_tokens": 200,
            "prefix": {"tokens": 2000}, "cache": "5m"},
    "triage": {"model": "amazon.nova-pro-v1:0", "per_hour": 6, "input_tokens": 800, "output_tokens": 50}}}


@pytest.fixture(scope="module")
def periods(tmp_path_factory):
    """The packaged catalog (old prices), one with Haiku `us.` input +20% from 2026-06-01 (dated) and one with it
    +20% at every date (new prices); a May and a June CUR as AWS billed them (dated catalog); the logs."""
    from inferplan import synth, writers

    d = tmp_path_factory.mktemp("periods")
    old = load_catalog(warn_stale=False)
    row = old.price(HAIKU, "us", "us-east-1", "standard")
    new_input = round(row.input_usd_per_mtok * 1.2, 10)
    change = {"model": HAIKU, "scope": "us", "region": row.region, "tier": "standard",
              "input_usd_per_mtok": new_input, "source": "test: Haiku input +20%", "checked": "2026-06-01"}
    dated_f = write(d, {"bedrock_prices": [{**change, "effective_from": "2026-06-01"}]}, "dated.yaml")
    new_f = write(d, {"bedrock_prices": [change]}, "new.yaml")
    cats = {"old": old, "dated": load_catalog(dated_f, warn_stale=False), "new": load_catalog(new_f, warn_stale=False)}
    out = {"cats": cats, "files": {"dated": dated_f, "new": new_f}, "row": row, "new_input": new_input}
    for month, start in (("may", "2026-05-29T00:00:00Z"), ("june", "2026-06-01T00:00:00Z")):
        traffic = synth.generate({"start": start, "days": 3, **TRAFFIC}, seed=3)
        wl = synth.to_workload(traffic, cats["dated"])
        out[f"{month}_cur"] = writers.write_cur(wl, cats["dated"], d / f"cur-{month}.parquet")
        out[f"{month}_logs"] = writers.write_bedrock_logs(traffic, d / f"logs-{month}") and d / f"logs-{month}"
    return out


def test_reconcile_of_a_month_before_a_price_change_uses_that_months_prices(periods):
    from inferplan.readers.cur import read_cur
    from inferplan.reconcile import reconcile

    cats = periods["cats"]
    for month, zero_with, off_with in (("may", ("dated", "old"), "new"), ("june", ("dated", "new"), "old")):
        cur = read_cur([periods[f"{month}_cur"]], cats["dated"])
        for name in zero_with:
            logs = read_workload([periods[f"{month}_logs"]], cats[name])
            rec = reconcile(logs, cur, cats[name])
            assert rec.differences.num_rows == 0, (month, name)
            assert rec.summary()["difference_usd"] == pytest.approx(0, abs=0.005)
        logs = read_workload([periods[f"{month}_logs"]], cats[off_with])
        rec = reconcile(logs, cur, cats[off_with])
        diffs = rec.differences.to_pylist()
        # exactly Haiku's input tokens differ, on each of the three days, by 20% of the old input dollars
        assert {(r["model"], r["token_kind"]) for r in diffs} == {(HAIKU, "input")}, month
        assert len({r["day"] for r in diffs}) == 3
        old_rate, new_rate = periods["row"].input_usd_per_mtok, periods["new_input"]
        for r in diffs:
            assert r["diff_tokens"] == 0
            billed_rate = old_rate if month == "may" else new_rate
            assert r["bill_usd"] == pytest.approx(r["bill_tokens"] * billed_rate / 1e6, rel=1e-9)
            assert r["diff_usd"] == pytest.approx(r["bill_tokens"] * (billed_rate - (new_rate if month == "may"
                                                                                     else old_rate)) / 1e6, rel=1e-9)


def _cli(*args):
    import json
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).parent / "inferplan"
    res = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout) if "--json" in args else res.stdout


def test_cli_analyze_reconcile_and_prices_show_dated_rows(periods):
    """Through the console script: analyze of May and June logs with the dated catalog bills May at the old
    Haiku price and June at the new one, --json lists both rows with their windows (schema-valid), --explain
    shows the window; reconcile of May with zero differences; prices show lists the windows."""
    from inferplan.report.schema import errors

    dated = periods["files"]["dated"]
    may = _cli("analyze", periods["may_logs"], "--catalog", dated, "--json")
    both = _cli("analyze", periods["may_logs"], periods["june_logs"], "--catalog", dated, "--json")
    june = _cli("analyze", periods["june_logs"], "--catalog", dated, "--json")
    assert errors(both) == []
    assert both["total_usd"] == pytest.approx(may["total_usd"] + june["total_usd"], abs=1e-6)
    haiku = sorted([(p["effective_from"], p["effective_to"], p["input_usd_per_mtok"]) for p in both["prices"]
                    if p["model"] == HAIKU], key=lambda x: x[0] or "")
    assert haiku == [(None, "2026-06-01", periods["row"].input_usd_per_mtok), ("2026-06-01", None,
                                                                               periods["new_input"])]
    assert [p["effective_from"] for p in may["prices"] if p["model"] == HAIKU] == [None]
    flat_june = _cli("analyze", periods["june_logs"], "--json")
    assert june["total_usd"] > flat_june["total_usd"]
    assert _cli("analyze", periods["may_logs"], "--json")["total_usd"] == pytest.approx(may["total_usd"], abs=1e-9)
    text = _cli("analyze", periods["may_logs"], periods["june_logs"], "--catalog", dated, "--explain")
    assert "in force" in text and "until 2026-05-31" in text and "from 2026-06-01" in text
    rec = _cli("reconcile", "--logs", periods["may_logs"], "--cur", periods["may_cur"], "--catalog", dated, "--json")
    assert rec["keys_differing"] == 0
    rec = _cli("reconcile", "--logs", periods["may_logs"], "--cur", periods["may_cur"], "--catalog",
               periods["files"]["new"], "--json")
    assert rec["keys_differing"] == 3
    show = _cli("prices", "show", HAIKU, "--catalog", dated, "--json")
    assert errors(show) == []
    assert sorted((r["effective_from"] or "", r["effective_to"]) for r in show["bedrock_prices"]
                  if r["scope"] == "us" and r["tier"] == "standard") == [("", "2026-06-01"), ("2026-06-01", None)]
    assert "from 2026-06-01" in _cli("prices", "show", HAIKU, "--catalog", dated)
