"""Demand series: from a workload (windows, groups, prefix replay, the bill's dollars), from a demand CSV and
CloudWatch get-metric-data output, and the scale / grow / shift transforms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferplan.attribution import totals
from inferplan.demand import DemandSeries, GroupKey, from_workload, water_fill
from inferplan.demand.readers import read_demand
from inferplan.errors import InputError
from inferplan.pricing import price_workload
from inferplan.workload import Workload
from tests.helpers import rows_table

FIX = Path(__file__).parent / "fixtures" / "demand"
T0 = datetime(2026, 1, 5, tzinfo=UTC)
HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1:0"


def _rows() -> list[dict]:
    seg = [{"hash": "sys", "tokens": 600}]
    return [
        {"ts": T0 + timedelta(seconds=5), "model": HAIKU, "call_type": "chat", "interactive": True,
         "input_tokens": 1000, "output_tokens": 100, "prefix": seg},
        {"ts": T0 + timedelta(seconds=30), "model": HAIKU, "call_type": "chat", "interactive": True,
         "input_tokens": 1000, "output_tokens": 300, "prefix": seg},
        {"ts": T0 + timedelta(seconds=130), "model": HAIKU, "call_type": "chat", "interactive": None,
         "input_tokens": 400, "cache_read_tokens": 600, "output_tokens": 50, "prefix": seg},
        {"ts": T0 + timedelta(seconds=61), "model": HAIKU, "call_type": "nightly", "interactive": False,
         "input_tokens": 5000, "output_tokens": 500},
    ]


def test_from_workload_buckets_groups_and_keeps_the_bill(catalog):
    wl = Workload(table=rows_table(_rows(), catalog))
    bill = price_workload(wl, catalog)
    d = from_workload(wl, 60, bill=bill)
    assert d.window_s == 60 and d.windows == 3 and d.start == int(T0.timestamp())
    chat = d.groups.index(GroupKey("anthropic.claude-haiku-4-5-20251001-v1:0", "chat", True))
    nightly = d.groups.index(GroupKey("anthropic.claude-haiku-4-5-20251001-v1:0", "nightly", False))
    np.testing.assert_array_equal(d.requests[chat], [2, 0, 1])  # unknown `interactive` counts as interactive
    np.testing.assert_array_equal(d.requests[nightly], [0, 1, 0])
    np.testing.assert_array_equal(d.input_total[chat], [2000, 0, 1000])
    np.testing.assert_array_equal(d.output_tokens[chat], [400, 0, 50])
    # prefill after the self-hosted prefix cache: the second and third requests find the 600-token system prompt
    np.testing.assert_array_equal(d.input_tokens[chat], [1400, 0, 400])
    np.testing.assert_array_equal(d.input_tokens[nightly], [0, 5000, 0])
    assert d.bedrock_usd.sum() == pytest.approx(totals(bill).total_usd, rel=1e-12)
    assert d.peak_to_mean == pytest.approx(2 / (4 / 3))
    assert any("counted as interactive" in n for n in d.notes)


def test_prefix_cache_capacity_and_cache_reads_modes(catalog):
    wl = Workload(table=rows_table(_rows(), catalog))
    none = from_workload(wl, 60, catalog=catalog, prefix_cache="none")
    assert none.input_tokens.sum() == none.input_total.sum()
    reads = from_workload(wl, 60, catalog=catalog, prefix_cache="cache-reads")
    assert none.input_total.sum() - reads.input_tokens.sum() == 600  # the one request that read a prompt cache
    tiny = from_workload(wl, 60, catalog=catalog, prefix_cache="replay", prefix_cache_tokens=100)
    assert tiny.input_tokens.sum() == tiny.input_total.sum()  # a 100-token cache cannot hold the 600-token prefix


def test_demand_csv(catalog):
    d = read_demand([FIX / "demand.csv"], catalog, model="claude-haiku-4.5")
    assert d.window_s == 60 and d.windows == 3
    chat = d.groups.index(GroupKey("anthropic.claude-haiku-4-5-20251001-v1:0", "chat", True))
    np.testing.assert_array_equal(d.requests[chat], [10, 20, 0])
    assert list(d.interactive) == [True, False]
    p = catalog.price("anthropic.claude-haiku-4-5-20251001-v1:0", "in-region", "us-east-1", "standard")
    expected = (30000 + 50000) * p.input_usd_per_mtok / 1e6 + (6000 + 2000) * p.output_usd_per_mtok / 1e6
    assert d.bedrock_usd.sum() == pytest.approx(expected, rel=1e-12)


def test_demand_csv_bad_row_names_the_line(catalog, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("ts,requests,input_tokens,output_tokens\n2026-01-05T00:00:00Z,1,10,2\nyesterday,1,10,2\n")
    with pytest.raises(InputError, match=r"bad.csv, line 3: ts is not ISO-8601"):
        read_demand([f], catalog, model="claude-haiku-4.5")
    d = read_demand([f], catalog, model="claude-haiku-4.5", on_error="skip")
    assert d.requests.sum() == 1 and any("skipped 1 bad row" in n for n in d.notes)
    with pytest.raises(InputError, match="pass --model"):
        read_demand([FIX / "demand.csv"], catalog)


def test_cloudwatch_get_metric_data(catalog):
    d = read_demand([FIX / "cloudwatch_bedrock.json"], catalog, model="claude-haiku-4.5")
    assert d.window_s == 60 and d.windows == 5
    np.testing.assert_array_equal(d.requests[0], [6, 18, 0, 30, 12])  # oldest first
    np.testing.assert_array_equal(d.input_total[0], [9000, 27000, 0, 45000, 18000])
    np.testing.assert_array_equal(d.input_tokens[0], [6000, 18000, 0, 30000, 12000])  # cache reads need no prefill
    p = catalog.price("anthropic.claude-haiku-4-5-20251001-v1:0", "in-region", "us-east-1", "standard")
    expected = (66000 * p.input_usd_per_mtok + 33000 * p.cache_read_usd_per_mtok
                + 13200 * p.output_usd_per_mtok) / 1e6
    assert d.bedrock_usd.sum() == pytest.approx(expected, rel=1e-12)


def test_cloudwatch_unknown_metric_is_named(catalog, tmp_path):
    f = tmp_path / "cw.json"
    f.write_text('{"MetricDataResults": [{"Id": "m1", "Label": "CPUUtilization", "Timestamps": [], "Values": [], '
                 '"StatusCode": "Complete"}], "Messages": []}')
    with pytest.raises(InputError, match=r"MetricDataResults\[1\] \(Id 'm1', Label 'CPUUtilization'\)"):
        read_demand([f], catalog, model="claude-haiku-4.5")


def _series(req: np.ndarray, inter: list[bool]) -> DemandSeries:
    r = np.asarray(req, dtype=float)
    return DemandSeries(window_s=3600, start=0, groups=[GroupKey("m", f"c{i}", b) for i, b in enumerate(inter)],
                        requests=r, input_tokens=r * 10, output_tokens=r * 2, input_total=r * 10,
                        bedrock_usd=r * 0.01)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1000, allow_nan=False), min_size=48, max_size=48),
       st.lists(st.floats(min_value=0, max_value=1000, allow_nan=False), min_size=48, max_size=48))
def test_shift_conserves_each_day_and_flattens(inter, defer):
    d = _series(np.array([inter, defer]), [True, False])
    s = d.shifted_deferrable(24)
    for day in (slice(0, 24), slice(24, 48)):
        for name in ("requests", "input_tokens", "output_tokens", "bedrock_usd"):
            assert getattr(s, name)[:, day].sum() == pytest.approx(getattr(d, name)[:, day].sum(), rel=1e-9, abs=1e-6)
        assert s.requests[:, day].sum(axis=0).max() <= d.requests[:, day].sum(axis=0).max() + 1e-6
    np.testing.assert_array_equal(s.requests[0], d.requests[0])  # interactive work never moves


def test_scale_and_growth():
    d = _series(np.ones((1, 730 * 2)), [True])
    assert d.scaled(3).requests.sum() == 3 * d.requests.sum()
    g = d.grown(10)
    assert g.requests[0, 0] == 1 and g.requests[0, 730] == pytest.approx(1.1)
    assert g.requests[0, -1] == pytest.approx(1.1 ** (1459 / 730))


def test_water_fill_levels():
    add = water_fill(np.array([5.0, 1.0, 3.0]), 4.0)
    np.testing.assert_allclose(add, [0, 3, 1])
    assert water_fill(np.array([1.0, 1.0]), 0).sum() == 0


def test_demand_csv_old_cache_write_column_name(catalog, tmp_path):
    """A demand CSV naming the 5-minute writes by their old column name reads the same as the new name."""
    rows = "2026-01-05T00:00:00Z,10,10000,2000,{w},chat,true\n2026-01-05T00:01:00Z,20,20000,4000,{w},chat,true\n"
    got = {}
    for name in ("cache_write_tokens", "cache_write_5m_tokens"):
        f = tmp_path / f"{name}.csv"
        f.write_text(f"ts,requests,input_tokens,output_tokens,{name},call_type,interactive\n" + rows.format(w=3000))
        got[name] = read_demand([f], catalog, model="claude-haiku-4.5").bedrock_usd.sum()
    base = tmp_path / "none.csv"
    base.write_text("ts,requests,input_tokens,output_tokens,call_type,interactive\n"
                    + rows.replace(",{w}", ""))
    assert got["cache_write_tokens"] == got["cache_write_5m_tokens"]
    old = read_demand([tmp_path / "cache_write_tokens.csv"], catalog, model="claude-haiku-4.5")
    assert any("'cache_write_tokens' read as 'cache_write_5m_tokens'" in n for n in old.notes)
    both = tmp_path / "both.csv"
    both.write_text("ts,requests,input_tokens,output_tokens,cache_write_tokens,cache_write_5m_tokens\n"
                    "2026-01-05T00:00:00Z,1,10,1,2,2\n")
    with pytest.raises(InputError, match="both 'cache_write_tokens' and 'cache_write_5m_tokens'"):
        read_demand([both], catalog, model="claude-haiku-4.5")
    assert got["cache_write_tokens"] > read_demand([base], catalog, model="claude-haiku-4.5").bedrock_usd.sum()
