"""Terminal report: run-rate and month with the window's caveat, top-N with "other", weekly roll-up past a month,
no all-zero rows or columns, and the full price provenance behind --explain."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from rich.console import Console

from inferplan.analysis import summarize
from inferplan.pricing import price_workload
from inferplan.report.terminal import render, weekly
from inferplan.runrate import bucket_seconds, caveat, run_rate
from tests.helpers import T0, make_catalog, rows_table

CLAUDE = "test.claude-like-v1:0"


@pytest.fixture(scope="module")
def cat(tmp_path_factory):
    return make_catalog(tmp_path_factory.mktemp("cat"))


def _text(summary, **kw) -> str:
    buf = io.StringIO()
    render(summary, Console(file=buf, width=200), **kw)
    return buf.getvalue()


def test_run_rate_is_the_window_projected_to_730_hours():
    # whole minutes from the first request's minute to the last one's: 00:00 .. 04:59 is 300 minutes
    r = run_rate(10.0, "2026-01-01T00:00:10+00:00", "2026-01-01T04:59:30+00:00")
    assert r["window_hours"] == 5.0 and r["window"] == "5.0 hours"
    assert r["usd_per_hour"] == 2.0 and r["monthly_usd"] == 1460.0 and r["month_factor"] == pytest.approx(146)
    assert "no daily cycle" in r["caveat"]
    assert "weekly" in caveat(3 * 24) and "month-end" in caveat(14 * 24) and caveat(30 * 24) is None
    one = run_rate(10.0, "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00")
    assert one["window_hours"] == pytest.approx(1 / 60, abs=1e-6) and one["monthly_usd"] == pytest.approx(10 * 730 * 60)
    none = run_rate(0.0, None, None)
    assert none["monthly_usd"] is None and none["month_factor"] is None and "no run-rate" in none["caveat"]
    assert bucket_seconds(1) == 60 and bucket_seconds(24 * 30) == 6 * 3600 and bucket_seconds(24 * 365) == 7 * 86400


def test_top_n_other_row_weeks_and_no_zero_columns(cat):
    rows = [{"ts": T0 + timedelta(hours=6 * i), "call_type": f"ct{i % 14:02d}", "model": CLAUDE,
             "input_tokens": 100 * (1 + i % 14), "output_tokens": 10} for i in range(4 * 40)]  # 40 days, 14 types
    s = summarize(price_workload(rows_table(rows, cat), cat), cat)
    text = _text(s)
    assert "other (4)" in text and "By call type (top 10 of 14)" in text
    assert "By week (40 days)" in text and "week of 2025-12-29" in text and "By day" not in text
    assert "cache read tok" not in text and "cache $" not in text  # no cache tokens anywhere: no such columns
    assert "By token kind: input" in text and "cache read $" not in text
    assert "Run-rate" in text and "a month (730 hours)" in text
    assert s["run_rate"]["caveat"] is None  # 39.75 days cover a month
    # the "other" row sums the rows it stands for
    from inferplan.report.fmt import sum_rows, top_n

    shown = top_n(s["breakdowns"]["call_type"], 10, sum_rows)
    assert sum(r["total_usd"] for r in shown) == pytest.approx(s["total_usd"])
    assert sum(r["requests"] for r in shown) == s["requests"]


def test_weekly_rollup_keeps_the_sums():
    days = [{"key": f"2026-01-{d:02d}", "requests": d, "total_usd": d / 10} for d in range(1, 15)]
    weeks = weekly(days)
    assert [w["key"] for w in weeks] == ["week of 2025-12-29", "week of 2026-01-05", "week of 2026-01-12"]
    assert sum(w["requests"] for w in weeks) == sum(range(1, 15))


def test_explain_shows_every_price_with_source_and_date(cat):
    rows = [{"ts": T0 + timedelta(minutes=i), "call_type": "a", "model": CLAUDE, "input_tokens": 10,
             "output_tokens": 1} for i in range(3)]
    s = summarize(price_workload(rows_table(rows, cat), cat), cat)
    plain = _text(s)
    assert "--explain shows each price" in plain and "hand-built test row" not in plain
    explained = _text(s, explain=True)
    assert "hand-built test row" in explained and "2026-11-01" in explained and "Prices used" in explained
    assert "no daily cycle" in plain  # a 2-minute window says so


def test_money_is_one_format_for_every_command_table():
    """compare, breakeven and plan tables use report.fmt.money: whole dollars from $100, cents below, sub-cent
    amounts readable, "-" for nothing."""
    from inferplan.commands import breakeven, compare
    from inferplan.report.fmt import money

    assert breakeven.money is money and compare.money is money
    assert [money(None), money(1234.4), money(-150.0), money(12.5), money(0.000123), money(0.0)] == \
        ["-", "$1,234", "-$150", "$12.50", "$0.000123", "$0.00"]
