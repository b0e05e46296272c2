"""Synthetic traffic: validated spec, seeded and reproducible, exact row counts, profiles, cache semantics."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
import pytest

from inferplan import synth
from inferplan.errors import ConfigError
from inferplan.synth import generation

SPEC = {"traffic": {"days": 7, "call_types": {
    "rag": {"model": "us.anthropic.claude-haiku-4-5-20251001-v1:0", "per_hour": 600, "daily_profile": "business",
            "weekly_profile": "weekdays", "burstiness": 0.3,
            "input_tokens": {"dist": "lognormal", "mean": 6000, "cv": 0.5}, "output_tokens": 300,
            "prefix": [{"tokens": 2000}, {"tokens": 1500, "reuse": 0.5, "variants": 10}], "cache": "5m",
            "tags": {"team": "search"}},
    "nightly": {"model": "amazon.nova-pro-v1:0", "per_day": 2000, "daily_profile": "nightly",
                "input_tokens": 1000, "output_tokens": {"dist": "exponential", "mean": 100}, "interactive": False},
}}}


def test_reproducible_and_exact_rows():
    a = synth.generate(SPEC, seed=5, rows=20_000)
    b = synth.generate(SPEC, seed=5, rows=20_000)
    assert a.num_rows == 20_000 and a.equals(b)
    assert not synth.generate(SPEC, seed=6, rows=20_000).equals(a)
    assert (np.diff(pc.cast(a["ts"], "int64").to_numpy()) >= 0).all()


def test_poisson_rate_and_profiles():
    t = synth.generate(SPEC, seed=1)
    rag = t.filter(pc.equal(t["call_type"], "rag"))
    # mean 600/h over a week, within Poisson-with-bursts noise
    assert rag.num_rows == pytest.approx(600 * 24 * 7, rel=0.05)
    hours = pc.hour(rag["ts"]).to_numpy()
    assert (hours == 11).sum() > 5 * (hours == 3).sum()  # business hours dominate
    night = t.filter(pc.equal(t["call_type"], "nightly"))
    assert set(night["interactive"].to_pylist()) == {False}
    assert set(dict(x) == {"team": "search"} for x in rag["tags"].to_pylist()) == {True}


def test_token_columns_disjoint_and_cache():
    t = synth.generate(SPEC, seed=2, rows=30_000)
    t = t.filter(pc.equal(t["call_type"], "rag"))
    total = sum(t[c].to_numpy() for c in ("input_tokens", "cache_read_tokens", "cache_write_5m_tokens"))
    prefix_tok = np.array([sum(s["tokens"] for s in p) for p in t["prefix"].to_pylist()])
    assert (total == prefix_tok).all()  # segments cover the whole prompt
    cached = t["cache_read_tokens"].to_numpy() + t["cache_write_5m_tokens"].to_numpy()
    assert set(np.unique(cached)) <= {2000, 3500}  # whole stages only
    # the system prompt is used every few seconds, so mostly read; the 10 documents are written more often
    assert t["cache_read_tokens"].to_numpy().sum() > 4 * t["cache_write_5m_tokens"].to_numpy().sum()
    first = t.slice(0, 1).to_pylist()[0]
    assert first["cache_read_tokens"] == 0 and first["cache_write_5m_tokens"] >= 2000


def test_hand_cache_sequence():
    """Three requests on one prefix: write, read 1 minute later (refresh), read 4.5 minutes after that."""
    spec = {"call_types": {"a": {"model": "amazon.nova-pro-v1:0", "per_hour": 1, "input_tokens": 5000,
                                 "output_tokens": 1, "prefix": {"tokens": 4000}, "cache": "5m"}}}
    ct = synth.load_traffic(spec).call_types["a"]
    ts = np.array([0, 60, 330, 700], np.int64) * 1_000_000
    applied = np.ones((4, 1), bool)
    read, write = generation._cache_split(ct, ts, applied, np.zeros((4, 1), np.int64), np.array([4000]))
    assert read.tolist() == [0, 4000, 4000, 0] and write.tolist() == [4000, 0, 0, 4000]


@pytest.mark.parametrize(("patch", "msg"), [
    ({"per_hour": 1, "per_day": 2}, "exactly one of"),
    ({"daily_profile": "lunchtime"}, "unknown profile"),
    ({"daily_profile": [1, 2, 3]}, "24 non-negative"),
    ({"colour": "red"}, "Extra inputs"),
    ({"cache": "5m", "prefix": []}, "cache needs a prefix"),
])
def test_validation(patch, msg):
    ct = {"model": "amazon.nova-pro-v1:0", "per_hour": 1, "input_tokens": 10, "output_tokens": 1}
    ct = {**ct, **patch}
    with pytest.raises(ConfigError, match=msg):
        synth.load_traffic({"call_types": {"x": ct}})


def test_to_workload(catalog):
    w = synth.to_workload(synth.generate(SPEC, seed=1, rows=1000), catalog)
    assert w.count() == 1000
    models = set(w.table.model.to_pyarrow().to_pylist())
    assert models == {"anthropic.claude-haiku-4-5-20251001-v1:0", "amazon.nova-pro-v1:0"}


def test_synth_command_refuses_a_model_no_command_could_price(tmp_path):
    """The region was checked, the model not: traffic drawn for `claude-sonet-4-5` failed only at analyze."""
    import yaml
    from typer.testing import CliRunner

    from inferplan.cli import app
    from inferplan.commands import load_all

    load_all()
    bad = {"traffic": {"call_types": {"chat": {"model": "claude-sonet-4-5", "per_hour": 1, "input_tokens": 10,
                                               "output_tokens": 1}}}}
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(bad))
    res = CliRunner().invoke(app, ["synth", str(f), "--out", str(tmp_path / "o.parquet")])
    assert res.exit_code != 0 and not (tmp_path / "o.parquet").exists()
    assert f"{f}: call type 'chat': model: unknown model id 'claude-sonet-4-5'; closest known ids: " \
           "claude-sonnet-4-5" in " ".join(res.output.split())
    good = {"traffic": {"call_types": {"chat": {**bad["traffic"]["call_types"]["chat"], "model": "claude-sonnet-4-5"}}}}
    f.write_text(yaml.safe_dump(good))
    res = CliRunner().invoke(app, ["synth", str(f), "--out", str(tmp_path / "o.parquet"), "--days", "0.1"])
    assert res.exit_code == 0, res.output
