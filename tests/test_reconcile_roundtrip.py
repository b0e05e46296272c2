"""Round trip: synthetic traffic written as Bedrock logs, OpenAI-style usage and a CUR, read back, gives the
same dollars per call type and model to the cent; `reconcile` finds zero difference on a matching pair and
points at the day, model and token kind where a day's cache writes were dropped from the logs."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from typer.testing import CliRunner

from inferplan import synth, writers
from inferplan.pricing import price_workload
from inferplan.readers import read_workload
from inferplan.readers.cur import read_cur
from inferplan.reconcile import reconcile

SPEC = {"start": "2026-01-05T00:00:00Z", "days": 3, "call_types": {
    "rag": {"model": "us.anthropic.claude-haiku-4-5-20251001-v1:0", "per_hour": 60, "input_tokens": 6000,
            "output_tokens": {"dist": "lognormal", "mean": 300}, "prefix": {"tokens": 4500}, "cache": "5m",
            "tags": {"team": "search"}},
    "agent": {"model": "global.anthropic.claude-sonnet-4-5-20250929-v1:0", "per_hour": 20, "input_tokens": 3000,
              "output_tokens": 200, "prefix": {"tokens": 2000, "variants": 3}, "cache": "1h"},
    "triage": {"model": "amazon.nova-pro-v1:0", "per_hour": 40, "tier": "flex", "input_tokens": 800,
               "output_tokens": 50},
}}


@pytest.fixture(scope="module")
def traffic():
    return synth.generate(SPEC, seed=11)


def _by_type_model(bill) -> dict:
    t = bill.table
    g = t.group_by(["call_type", "model"]).aggregate(usd=t.total_usd.sum(), n=t.count()).to_pyarrow().to_pylist()
    return {(r["call_type"], r["model"]): (round(r["usd"], 2), r["n"]) for r in g}


def test_roundtrip_logs_and_openai(catalog, traffic, tmp_path):
    truth = _by_type_model(price_workload(synth.to_workload(traffic, catalog), catalog))
    assert len(truth) == 3
    writers.write_bedrock_logs(traffic, tmp_path / "logs", bodies=True)
    back = read_workload([tmp_path / "logs"], catalog)
    assert _by_type_model(price_workload(back, catalog)) == truth
    f = writers.write_openai_usage(traffic, tmp_path / "usage.jsonl")
    back = read_workload([f], catalog)
    assert _by_type_model(price_workload(back, catalog)) == truth


def test_roundtrip_cur_and_reconcile_zero(catalog, traffic, tmp_path):
    wl = synth.to_workload(traffic, catalog)
    writers.write_cur(wl, catalog, tmp_path / "cur.csv")
    writers.write_cur(wl, catalog, tmp_path / "cur.parquet", unit="1M tokens")
    for f in ("cur.csv", "cur.parquet"):
        cur = read_cur([tmp_path / f], catalog)
        per_model = pc.sum(cur.table["cost_usd"]).as_py()
        truth = price_workload(wl, catalog).table.total_usd.sum().execute()
        assert round(per_model, 2) == round(truth, 2)
    writers.write_bedrock_logs(traffic, tmp_path / "logs")
    logs = read_workload([tmp_path / "logs"], catalog)
    rec = reconcile(logs, read_cur([tmp_path / "cur.parquet"], catalog), catalog)
    assert rec.differences.num_rows == 0
    assert rec.summary()["difference_usd"] == pytest.approx(0, abs=0.005)


def test_reconcile_points_at_dropped_cache_writes(catalog, traffic, tmp_path):
    writers.write_cur(synth.to_workload(traffic, catalog), catalog, tmp_path / "cur.parquet")
    day = dt.date(2026, 1, 6)
    drop = pc.and_(pc.equal(pc.cast(traffic["ts"], pa.date32()), day), pc.equal(traffic["call_type"], "rag"))
    col = traffic.schema.get_field_index("cache_write_5m_tokens")
    dropped = traffic.set_column(col, "cache_write_5m_tokens", pc.if_else(drop, 0, traffic["cache_write_5m_tokens"]))
    writers.write_bedrock_logs(dropped, tmp_path / "logs")
    rec = reconcile(read_workload([tmp_path / "logs"], catalog), read_cur([tmp_path / "cur.parquet"], catalog),
                    catalog)
    diffs = rec.differences.to_pylist()
    assert len(diffs) == 1
    d = diffs[0]
    assert (d["day"], d["model"], d["token_kind"], d["scope"]) == \
        (day, "anthropic.claude-haiku-4-5-20251001-v1:0", "cache_write_5m", "us")
    assert d["logs_tokens"] == 0 and d["bill_tokens"] > 0 and d["diff_usd"] > 0

    from inferplan.cli import app
    from inferplan.commands import load_all

    load_all()
    res = CliRunner().invoke(app, ["reconcile", "--logs", str(tmp_path / "logs"), "--cur",
                                   str(tmp_path / "cur.parquet"), "--json"])
    assert res.exit_code == 0, res.output
    assert '"keys_differing": 1' in res.output and "cache_write_5m" in res.output


def test_synth_cli(tmp_path):
    import yaml

    from inferplan.cli import app
    from inferplan.commands import load_all

    load_all()
    scen = tmp_path / "s.yaml"
    scen.write_text(yaml.safe_dump({"traffic": SPEC}))
    out = tmp_path / "t.parquet"
    res = CliRunner().invoke(app, ["synth", str(scen), "--out", str(out), "--rows", "500", "--seed", "3"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["analyze", str(out), "--json"])
    assert res.exit_code == 0 and '"requests": 500' in res.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("traffic:\n  call_types:\n    a: {model: x, per_hour: 1, input_tokens: 1, output_tokens: 1, "
                   "colour: red}\n")
    res = CliRunner().invoke(app, ["synth", str(bad), "--out", str(out)])
    assert res.exit_code == 2 and "colour" in res.output
