"""One rate card: the levers' per-request pricing (`pricing.request_costs`) against the bill, long context,
errors, provisioned throughput and models not billed per token. Round hand-built prices, so every expected
dollar is worked out by hand; each test names the mistake it is there to catch."""

from __future__ import annotations

import json
from datetime import date

import ibis
import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

from inferplan.analysis import summarize
from inferplan.attribution import breakdown, totals
from inferplan.catalog import Catalog
from inferplan.catalog.schema import BedrockModel, BedrockPrice, ProvisionedPrice
from inferplan.errors import ConfigError, MissingPriceError
from inferplan.levers import batch, caching, evaluate, price_table
from inferplan.levers._build import canonical_table
from inferplan.levers._common import replace_columns
from inferplan.levers.options import BatchOptions, CachingOptions
from inferplan.pricing import parse_provisioned_units, price_workload, request_costs, request_rates, token_counts
from inferplan.report import terminal
from inferplan.report.markdown import render as render_markdown

D = date(2026, 11, 26)
S = 1_000_000  # microseconds per second
SRC = {"source": "hand-built test row", "checked": D}


def catalog(*, batch_lc: bool = False) -> Catalog:
    """`lc`: a Claude-like model whose whole request costs double above 1,000 input tokens; `short`: no long
    context; `canvas`: billed per image; a provisioned price for `lc`."""
    models = [
        BedrockModel(model="lc", provider="anthropic", name="LC", cache_min_tokens=1000, cache_ttls_s=[300, 3600],
                     **SRC),
        BedrockModel(model="short", provider="amazon", name="S", **SRC),
        BedrockModel(model="canvas", provider="amazon", name="Canvas", billing_unit="image", **SRC),
    ]
    prices = [
        BedrockPrice(model="lc", scope="in-region", tier="standard", input_usd_per_mtok=2, output_usd_per_mtok=10,
                     cache_read_usd_per_mtok=0.2, cache_write_5m_usd_per_mtok=2.5, cache_write_1h_usd_per_mtok=4,
                     lc_threshold_tokens=1000, lc_input_usd_per_mtok=4, lc_output_usd_per_mtok=15,
                     lc_cache_read_usd_per_mtok=0.4, lc_cache_write_5m_usd_per_mtok=5,
                     lc_cache_write_1h_usd_per_mtok=8, **SRC),
        BedrockPrice(model="lc", scope="in-region", region="eu-west-1", tier="standard", input_usd_per_mtok=3,
                     output_usd_per_mtok=12, **SRC),  # no cache prices in eu-west-1
        BedrockPrice(model="lc", scope="in-region", tier="batch", input_usd_per_mtok=1, output_usd_per_mtok=5,
                     lc_threshold_tokens=1000,  # a long-context tier, its batch rates known only with batch_lc
                     **({"lc_input_usd_per_mtok": 2, "lc_output_usd_per_mtok": 7.5} if batch_lc else {}), **SRC),
        BedrockPrice(model="short", scope="in-region", tier="standard", input_usd_per_mtok=1, output_usd_per_mtok=2,
                     **SRC),
    ]
    prov = [ProvisionedPrice(model="lc", region="*", term="1-month", usd_per_model_unit_hour=20, **SRC)]
    return Catalog({"bedrock_models": models, "bedrock_prices": prices, "provisioned_prices": prov})


def test_request_costs_equal_the_bill_per_request_and_to_the_cent():
    rng = np.random.default_rng(7)
    n = 400
    model = rng.choice(["lc", "short"], n)
    t = canonical_table(
        n, model=model.tolist(), call_type=rng.choice(["a", "b"], n).tolist(),
        tier=np.where(model == "lc", rng.choice(["standard", "batch"], n), "standard").tolist(),
        input_tokens=rng.integers(0, 1500, n), cache_read_tokens=np.zeros(n, np.int64),
        cache_write_5m_tokens=np.zeros(n, np.int64), output_tokens=rng.integers(0, 500, n))
    # cache tokens only where priced (lc standard), some requests pushed over the threshold by them alone
    std_lc = (t.column("model").to_numpy(zero_copy_only=False) == "lc") & \
        (t.column("tier").to_numpy(zero_copy_only=False) == "standard")
    t = replace_columns(t, {"cache_read_tokens": np.where(std_lc, rng.integers(0, 300, n), 0),
                            "cache_write_5m_tokens": np.where(std_lc, rng.integers(0, 300, n), 0),
                            "cache_write_1h_tokens": np.where(std_lc, rng.integers(0, 300, n), 0)})
    cat = catalog(batch_lc=True)
    bill = price_workload(ibis.memtable(t), cat)
    rows = bill.table.order_by("ts").to_pyarrow()
    c = request_costs(t, cat)
    assert c.long_context.sum() > 0 and (~c.long_context).sum() > 0
    assert np.array_equal(c.long_context, rows.column("long_context").to_numpy(zero_copy_only=False))
    np.testing.assert_allclose(c.total, rows.column("total_usd").to_numpy(zero_copy_only=False), rtol=1e-12)
    for kind in ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h"):
        np.testing.assert_allclose(c.usd[kind], rows.column(f"{kind}_usd").to_numpy(zero_copy_only=False), rtol=1e-12)
    assert round(float(c.total.sum()), 2) == round(totals(bill).total_usd, 2)
    # the levers' baseline is the bill to the cent, in total and by call type
    lv = evaluate(t, cat, "batch,caching")
    assert round(lv["baseline_usd"], 2) == round(totals(bill).total_usd, 2)
    total, by_ct = price_table(t, cat)
    assert total == pytest.approx(totals(bill).total_usd, rel=1e-12)
    assert by_ct == pytest.approx({r["key"]: r["total_usd"] for r in breakdown(bill, "call_type")}, rel=1e-12)


def test_input_usd_sums_are_exactly_the_input_side_of_costs():
    """The caching lever's per-group input dollars (`RequestRates.input_usd_sums`, one compiled pass over whole
    columns) against the bincount of `costs().input_side`: equal bit for bit, on all rows and on a subset in any
    order, with provisioned (excluded) requests among them, int32 or int64 counts, a kind left out; and the
    same error for cache tokens with no price."""
    rng = np.random.default_rng(11)
    n = 300
    t = canonical_table(n, model="lc", tier=rng.choice(["standard", "provisioned"], n).tolist(),
                        input_tokens=rng.integers(0, 1500, n), cache_read_tokens=rng.integers(0, 400, n),
                        cache_write_5m_tokens=rng.integers(0, 400, n), cache_write_1h_tokens=rng.integers(0, 400, n),
                        output_tokens=rng.integers(0, 50, n))
    r = request_rates(t, catalog())
    tok = {k: np.asarray(t.column(f"{k}_tokens")) for k in ("input", "cache_read", "cache_write_5m", "cache_write_1h")}
    assert r.excluded.any() and (~r.excluded).any()
    every = np.arange(n)
    by_all = rng.integers(0, 3, n)
    assert np.array_equal(r.input_usd_sums(tok, every, by_all, 3),
                          np.bincount(by_all, r.costs(tok).input_side, minlength=3))
    rows = np.sort(rng.choice(n, 90, replace=False))
    by = rng.integers(0, 5, rows.size)
    shuffled = rng.permutation(rows)
    for cols in (tok, {k: v.astype(np.int32) for k, v in tok.items()},
                 {k: v for k, v in tok.items() if k != "cache_write_1h"}):
        sub = {k: v[shuffled] for k, v in cols.items()}
        want = np.bincount(by, r.costs(sub, shuffled).input_side, minlength=6)
        assert np.array_equal(r.input_usd_sums(cols, shuffled, by, 6), want)
    eu = canonical_table(2, model="lc", region="eu-west-1", input_tokens=10, cache_read_tokens=[0, 5])
    re_ = request_rates(eu, catalog())
    with pytest.raises(MissingPriceError) as a:
        re_.input_usd_sums({"input": np.array([10, 10]), "cache_read": np.array([0, 5])}, np.arange(2),
                           np.zeros(2, np.int64), 1)
    with pytest.raises(MissingPriceError) as b:
        re_.costs({"input": np.array([10, 10]), "cache_read": np.array([0, 5])})
    assert str(a.value) == str(b.value)


@pytest.mark.parametrize("bucket", ["cache_write_5m_tokens", "cache_write_1h_tokens", "cache_read_tokens"])
def test_long_context_counts_every_input_bucket(bucket):
    """400 plain + 601 in one cache bucket = 1,001 > 1,000: the whole request at long-context rates, in the bill
    (roll-up and per-request paths) and in the levers' pricing. Catches a threshold on input + reads only."""
    t = canonical_table(2, model="lc", input_tokens=[400, 399], output_tokens=[10, 10], **{bucket: [601, 601]})
    cat = catalog()
    rate = {"cache_write_5m_tokens": (2.5, 5), "cache_write_1h_tokens": (4, 8), "cache_read_tokens": (0.2, 0.4)}[bucket]
    long_ = (400 * 4 + 601 * rate[1] + 10 * 15) / 1e6
    short_ = (399 * 2 + 601 * rate[0] + 10 * 10) / 1e6  # 1,000 exactly: standard
    bill = price_workload(ibis.memtable(t), cat)
    assert totals(bill).total_usd == pytest.approx(long_ + short_, rel=1e-12)
    per_row = bill.table.order_by("ts").to_pyarrow().column("total_usd").to_pylist()
    assert per_row == pytest.approx([long_, short_], rel=1e-12)
    c = request_costs(t, cat)
    assert c.long_context.tolist() == [True, False]
    assert c.total.tolist() == pytest.approx([long_, short_], rel=1e-12)


def test_caching_lever_prices_long_context_requests_at_long_context_rates():
    # two requests 10 s apart, 1,500 input tokens each (over 1,000): a 1,100-token prefix that can be cached
    segs = [[("sys", 1100), (f"q{i}", 400)] for i in range(2)]
    t = canonical_table(2, model="lc", ts=np.array([0, 10]) * S, input_tokens=[1500, 1500], prefix=segs)
    out, ev = caching.apply(t, catalog(), CachingOptions(ttl=300, placements=[[1]]), breakers=False)
    g = ev["groups"][0]
    assert g["input_usd_no_cache"] == pytest.approx(2 * 1500 * 4 / 1e6)  # lc input rate 4, not 2
    # first writes 1,100 at the lc 5-minute write rate, second reads them at the lc read rate
    after = (400 * 4 + 1100 * 5 + 400 * 4 + 1100 * 0.4) / 1e6
    assert g["input_usd_after"] == pytest.approx(after)
    assert request_costs(out, catalog()).input_side.sum() == pytest.approx(after)


def test_batch_lever_needs_a_long_context_batch_price_for_long_requests():
    t = canonical_table(2, model="lc", call_type="nightly", interactive=False, input_tokens=[1500, 500],
                        output_tokens=[100, 100])
    out, ev = batch.apply(t, catalog(), BatchOptions())
    entry = ev["call_types"][0]
    assert entry["requests_moved"] == 1 and entry["no_batch_price"] == ["lc"]  # the long one has no lc batch rate
    assert out.column("tier").to_pylist() == ["standard", "batch"]
    cat = catalog(batch_lc=True)
    out, ev = batch.apply(t, cat, BatchOptions())
    assert ev["call_types"][0]["requests_moved"] == 2
    lv = evaluate(t, cat, "batch")
    assert lv["alone"]["batch"]["new_usd"] == pytest.approx((1500 * 2 + 100 * 7.5 + 500 * 1 + 100 * 5) / 1e6)


def test_a_missing_price_is_the_same_error_in_a_lever_as_in_the_bill():
    # eu-west-1 has no cache read price: 5 read tokens there must fail, with the same words everywhere
    t = canonical_table(1, model="lc", region="eu-west-1", input_tokens=[10], cache_read_tokens=[5])
    cat = catalog()
    with pytest.raises(MissingPriceError) as bill_err:
        price_workload(ibis.memtable(t), cat)
    assert "cache_read_usd_per_mtok" in str(bill_err.value)
    for run in (lambda: request_costs(t, cat), lambda: caching.apply(t, cat, CachingOptions()),
                lambda: evaluate(t, cat, "caching")):
        with pytest.raises(MissingPriceError) as lever_err:
            run()
        assert str(lever_err.value) == str(bill_err.value)
    # a key with no price row at all (short has no batch row)
    t = canonical_table(1, model="short", tier="batch", input_tokens=[10])
    with pytest.raises(MissingPriceError) as bill_err:
        price_workload(ibis.memtable(t), cat)
    with pytest.raises(MissingPriceError) as lever_err:
        request_costs(t, cat)
    assert str(lever_err.value) == str(bill_err.value)
    # a lever asking which requests *could* move gets NaN, never a zero price
    r = request_rates(t, cat, strict=False)
    assert not r.priced("input").any()
    with pytest.raises(MissingPriceError) as lever_err:
        r.costs({"input": np.array([10])})
    assert str(lever_err.value) == str(bill_err.value)


def provisioned_table():
    # one on-demand request, two on provisioned throughput an hour apart
    return canonical_table(3, model="lc", tier=["standard", "provisioned", "provisioned"],
                           ts=np.array([0, 0, 3600]) * S, input_tokens=[1000, 5000, 7000],
                           output_tokens=[100, 200, 300], call_type=["a", "b", "b"])


def test_provisioned_requests_are_kept_out_of_token_dollars_everywhere():
    """Catches provisioned requests priced at on-demand rates behind a note (the catalog has an on-demand
    price for the model, so a wrong path would find one)."""
    t = provisioned_table()
    cat = catalog()
    on_demand = (1000 * 2 + 100 * 10) / 1e6
    bill = price_workload(ibis.memtable(t), cat)
    assert totals(bill).total_usd == pytest.approx(on_demand, rel=1e-12)
    assert bill.excluded == {("lc", "in-region", "us-east-1", "provisioned"): ("provisioned", 2)}
    assert any("billed by the hour, not per token: 2 request(s)" in n for n in bill.notes)
    s = summarize(bill, cat)
    assert s["total_usd"] == pytest.approx(on_demand) and s["by_call_type"].get("b", 0.0) == 0.0
    assert s["not_token_priced"]["requests"] == 2
    assert s["not_token_priced"]["headline"] == ["billed by the hour, not per token: 2 requests"]
    c = request_costs(t, cat)
    assert c.excluded.tolist() == [False, True, True] and c.total.tolist() == pytest.approx([on_demand, 0, 0])
    # no lever prices them per token, none moves them
    lv = evaluate(t, cat, "all", scenario={"levers": {"batch": {"call_types": ["b"]}}})
    assert lv["baseline_usd"] == pytest.approx(on_demand)
    assert all(r["new_usd"] == pytest.approx(on_demand) for r in lv["alone"].values())
    assert any("billed by the hour" in n for n in lv["notes"])
    out, _ = batch.apply(t, cat, BatchOptions(call_types=["b"]))
    assert out.column("tier").to_pylist() == ["standard", "provisioned", "provisioned"]


def test_provisioned_requests_priced_from_model_units_over_the_window():
    t = provisioned_table()
    cat = catalog()
    bill = price_workload(ibis.memtable(t), cat)
    s = summarize(bill, cat, provisioned_units=parse_provisioned_units(["lc=2"]))
    hours = 61 / 60  # whole minutes from the first request's minute to the last one's, inclusive
    prov = s["not_token_priced"]["provisioned"]
    assert prov["usd"] == pytest.approx(2 * 20 * hours)
    assert prov["priced"][0]["term"] == "1-month" and prov["unpriced_requests"] == 0
    assert s["token_usd"] == pytest.approx((1000 * 2 + 100 * 10) / 1e6)
    assert s["total_usd"] == pytest.approx(s["token_usd"] + 2 * 20 * hours)
    assert s["not_token_priced"]["headline"][0].startswith("provisioned throughput lc: $40.67 = 2 model unit(s)")
    assert not any("billed by the hour" in n for n in s["notes"])
    with pytest.raises(ConfigError, match="no request"):
        summarize(bill, cat, provisioned_units={"short": (1, None)})
    with pytest.raises(MissingPriceError, match="6-month"):
        summarize(bill, cat, provisioned_units={"lc": (1, "6-month")})
    for bad in (["lc"], ["lc=0"], ["lc=two"]):
        with pytest.raises(ConfigError):
            parse_provisioned_units(bad)


def test_models_not_billed_per_token_are_counted_not_crashed_nor_zero():
    t = canonical_table(3, model=["canvas", "canvas", "short"], input_tokens=[10, 20, 1000], output_tokens=[0, 0, 10])
    cat = catalog()
    bill = price_workload(ibis.memtable(t), cat)
    assert totals(bill).total_usd == pytest.approx((1000 + 20) / 1e6)
    s = summarize(bill, cat)
    assert s["not_token_priced"]["other"] == {"canvas": {"requests": 2, "billing_unit": "image"}}
    assert s["not_token_priced"]["headline"] == ["not token-priced: 2 requests"]
    assert any("not token-priced: 2 request(s) (canvas: 2, billed per image)" in n for n in s["notes"])
    assert request_costs(t, cat).excluded.tolist() == [True, True, False]
    # every report's headline says it
    con = Console(record=True, width=200)
    terminal.render(s, con)
    assert "not token-priced: 2 requests" in con.export_text()
    assert "not token-priced: 2 requests" in render_markdown(s)


def test_analyze_cli_provisioned_headline_and_units(shared_data):
    from inferplan.cli import app
    from inferplan.commands import load_all

    load_all()
    azure = shared_data / "traces" / "azure2023" / "AzureLLMInferenceTrace_code.csv"
    args = ["analyze", str(azure), "--format", "azure2023", "--model", "anthropic.claude-instant-v1",
            "--tier", "provisioned"]
    r = CliRunner().invoke(app, [*args, "--json"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    assert s["total_usd"] == 0.0 and s["not_token_priced"]["requests"] == s["requests"] > 0
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0 and f"billed by the hour, not per token: {s['requests']:,} requests" in r.output
    r = CliRunner().invoke(app, [*args, "--json", "--provisioned-units", "anthropic.claude-instant-v1=1:1-month"])
    assert r.exit_code == 0, r.output
    p = json.loads(r.stdout)
    hours = p["run_rate"]["window_hours"]
    assert p["total_usd"] == pytest.approx(39.6 * hours)
    assert p["run_rate"]["monthly_usd"] == pytest.approx(39.6 * 730)
    r = CliRunner().invoke(app, [*args, "--provisioned-units", "anthropic.claude-instant-v1=1"])
    assert r.exit_code != 0 and "1-month, 6-month" in r.output


def test_totals_by_integer_sums_equal_the_float_path_bit_for_bit():
    """`totals_by` sums integer counts per group in a compiled pass; float counts take the bincount path: the
    two give the same dollars bit for bit (sums exact either way below 2^53), excluded requests left out."""
    rng = np.random.default_rng(5)
    n = 400
    t = canonical_table(n, model="lc", tier=rng.choice(["standard", "provisioned"], n).tolist(),
                        input_tokens=rng.integers(0, 2500, n), cache_read_tokens=rng.integers(0, 400, n),
                        output_tokens=rng.integers(0, 90, n))
    r = request_rates(t, catalog())
    counts = token_counts(t)
    by = rng.integers(0, 4, n).astype(np.int32)
    ints_ = r.totals_by(counts, by, 4)
    floats = r.totals_by({k: np.asarray(v, np.float64) for k, v in counts.items()}, by, 4)
    assert np.array_equal(ints_, floats) and ints_.sum() > 0
    per_request = r.costs(counts).total
    assert ints_ == pytest.approx(np.bincount(by, np.where(r.excluded, 0.0, per_request), minlength=4), rel=1e-12)
