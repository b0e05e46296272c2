"""Tests written for the mutants a mutation check left alive in the batch and trim levers and the lever result
arithmetic (102 mutants of levers/batch.py, trim.py and __init__.py, 2026-12-04; docs/testing.md): a one-row
table, unknown `interactive`, flex and priority tiers moving, rows already on batch, 1-hour cache writes, the
`non_interactive` switch, missing batch prices counted only for the moving rows, null segment tokens, tables
without a prefix column, and the saving's exact dollars and rounding. Hand-built rows and round prices
(tests/test_levers_caching.tiny_catalog: claude input $10, batch $5 per million tokens)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from inferplan.levers import _result, batch, evaluate, trim
from inferplan.levers._build import PREFIX_TYPE, canonical_table
from inferplan.levers.options import BatchOptions, TrimOptions, TrimRule
from tests.test_levers_caching import tiny_catalog


def test_one_named_row_is_moved():
    t = canonical_table(1, model="claude", call_type="report", interactive=True, input_tokens=100)
    out, _ = batch.apply(t, tiny_catalog(), BatchOptions(call_types=["report"]))
    assert out.column("tier").to_pylist() == ["batch"]


def test_unknown_interactive_does_not_qualify():
    t = canonical_table(2, model="claude", call_type="nightly", interactive=[False, None], input_tokens=100)
    out, ev = batch.apply(t, tiny_catalog(), BatchOptions())
    assert out.column("tier").to_pylist() == ["standard", "standard"]
    assert ev["call_types"] == [{"call_type": "nightly", "qualifies": False,
                                 "why": "1 of 2 requests are non-interactive"}]
    t = canonical_table(2, model="claude", call_type="chat", interactive=None, input_tokens=100)
    assert batch.apply(t, tiny_catalog(), BatchOptions())[1]["call_types"][0]["why"] == "interactive is unknown"


def test_flex_and_priority_move_batch_stays_and_every_cache_write_becomes_input():
    t = canonical_table(4, model="claude", call_type=["nightly"] * 3 + ["chat"], interactive=[False] * 3 + [True],
                        tier=["flex", "priority", "batch", "standard"], input_tokens=100,
                        cache_write_1h_tokens=[30, 0, 0, 0], cache_write_5m_tokens=[0, 20, 0, 0])
    out, ev = batch.apply(t, tiny_catalog(), BatchOptions())
    assert out.column("tier").to_pylist() == ["batch", "batch", "batch", "standard"]
    assert out.column("input_tokens").to_pylist() == [130, 120, 100, 100]
    assert out.column("cache_write_1h_tokens").to_pylist() == [0] * 4
    e = ev["call_types"][0]
    assert (e["requests_moved"], e["already_batch"]) == (2, 1) and "no_batch_price" not in e


def test_non_interactive_switched_off_moves_nothing():
    t = canonical_table(2, model="claude", call_type="nightly", interactive=False, input_tokens=100)
    out, _ = batch.apply(t, tiny_catalog(), BatchOptions(non_interactive=False))
    assert out.column("tier").to_pylist() == ["standard", "standard"]


def test_a_missing_batch_price_is_counted_only_for_the_moving_rows():
    t = canonical_table(2, model=["claude", "nova"], call_type=["nightly", "chat"], interactive=[False, True],
                        input_tokens=100)
    _, ev = batch.apply(t, tiny_catalog(), BatchOptions())
    assert "no_batch_price" not in ev["call_types"][0]


def test_null_segment_tokens_count_zero():
    t = canonical_table(1, model="claude", call_type="rag", input_tokens=1000, prefix=[[("sys", 1), ("b", 100)]])
    arr = pa.array([[{"hash": "sys", "tokens": None}, {"hash": "b", "tokens": 100}]], PREFIX_TYPE)
    t = t.set_column(t.column_names.index("prefix"), "prefix", arr)
    assert trim.prefix_tokens(t).tolist() == [100]


def test_trim_without_a_prefix_column_or_without_prefixes_for_its_row_ids():
    t = canonical_table(2, model="claude", call_type="rag", input_tokens=1000, prefix=[[("sys", 200)], None])
    rule = TrimOptions(rules=[TrimRule(call_type="rag", scale=0.5)])
    with_rows = t.append_column("_row", pa.array([0, 1], pa.int64()))
    assert trim.prefix_tokens(with_rows).tolist() == trim.prefix_tokens(t).tolist() == [200, 0]
    out, _ = trim.apply(t.drop(["prefix"]), rule)
    assert out.column("input_tokens").to_pylist() == [500, 500]
    assert trim.apply(t.slice(0, 0), rule)[1] == {"call_types": []}


def test_the_saving_in_dollars_and_its_rounding():
    t = canonical_table(1, model="claude", call_type="nightly", interactive=False, input_tokens=1_000_000,
                        output_tokens=0)
    lv = evaluate(t, tiny_catalog(), "batch")  # $10 -> $5 a million input tokens
    assert lv["alone"]["batch"]["saving_usd"] == pytest.approx(5.0, abs=1e-12)
    assert lv["compounded"]["saving_usd"] == pytest.approx(5.0, abs=1e-12)
    assert _result(3.0, 2.0, {})["saving_pct"] == 33.3333


def test_a_batch_price_without_an_output_rate_does_not_move():
    """A batch row priced for input only cannot price the moved requests' answers: they stay, and are named."""
    from datetime import date

    from inferplan.catalog import Catalog
    from inferplan.catalog.schema import BedrockPrice

    cat = tiny_catalog()
    d = date(2026, 1, 1)
    prices = [p for p in cat.bedrock_prices if not (p.model == "claude" and p.tier == "batch")]
    prices.append(BedrockPrice(model="claude", scope="in-region", tier="batch", input_usd_per_mtok=5,
                               source="test", checked=d))
    models = cat.bedrock_models
    half = Catalog({"bedrock_models": list(models.values() if isinstance(models, dict) else models),
                    "bedrock_prices": prices})
    t = canonical_table(2, model="claude", call_type="nightly", interactive=False, input_tokens=100)
    out, ev = batch.apply(t, half, BatchOptions())
    assert out.column("tier").to_pylist() == ["standard", "standard"]
    assert ev["call_types"][0]["no_batch_price"] == ["claude"]
