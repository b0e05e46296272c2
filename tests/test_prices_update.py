"""`prices update`: AWS Price List offer files (and their index files) and LiteLLM's map into a user catalog."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from inferplan.catalog import load_catalog
from inferplan.catalog.pricelist import plan_rows, read_litellm, read_price_list
from inferplan.errors import CatalogError
from inferplan.pricing import price_workload
from inferplan.report.schema import errors
from inferplan.workload import Defaults
from tests.helpers import rows_table

DATA = Path(__file__).parent / "data" / "pricelist"
V1, V2 = DATA / "v1" / "offers" / "v1.0" / "aws", DATA / "v2" / "offers" / "v1.0" / "aws"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"


@pytest.fixture()
def cfg(tmp_path, monkeypatch):
    d = tmp_path / "config"
    monkeypatch.setenv("INFERPLAN_CONFIG_DIR", str(d))
    return d


def _stats(up):
    return {(s.offer, Path(s.path).parts[-2]): (s.products_read, s.products_kept, s.rows) for s in up.stats}


def test_offer_index_is_followed_and_only_catalog_products_kept(catalog):
    up = read_price_list([V1 / "index.json"], catalog)
    assert _stats(up) == {
        ("AmazonBedrock", "20260301000000"): (10, 8, 8),  # latency-optimized and image usage dropped
        ("AmazonSageMaker", "20260301000000"): (7, 4, 4),  # training, notebook, ml.m5 (not in catalog) dropped
        ("AmazonEC2", "us-east-1"): (7, 2, 2),  # Windows, Dedicated, unused reservation, c4, p6-b200 dropped
        ("AmazonEC2", "eu-west-1"): (7, 2, 2),
    }
    ec2 = [s for s in up.stats if s.offer == "AmazonEC2"][0]
    assert ec2.skipped == {"operatingSystem not Linux": 1, "tenancy not Shared": 1, "capacitystatus not Used": 1,
                           "instance type not in catalog": 1, "accelerated type without a catalog spec": 1}
    assert any("p6-b200.48xlarge" in n and "ec2_instances" in n for n in up.notes)
    rows, diff = plan_rows(up, catalog)
    ec2_rows = {(r["instance"], r["region"]): r for r in rows["ec2_instances"]}
    assert ec2_rows[("g5.xlarge", "eu-west-1")]["on_demand_usd_per_hour"] == 1.123
    assert ec2_rows[("g5.xlarge", "eu-west-1")]["accelerator"] == "a10g"  # specs from the catalog's row
    assert "USG5XLLINUX00001" in ec2_rows[("g5.xlarge", "us-east-1")]["source"]
    sm = {(r["instance"], r["region"]): r["usd_per_hour"] for r in rows["sagemaker_instances"]}
    assert sm == {("ml.g5.xlarge", "us-east-1"): 1.408, ("ml.g5.xlarge", "eu-west-1"): 1.5738}
    # serverless inference per region: $/second of a memory size over its GB (USE1-ServerlessInf:Mem-4GB)
    sls = {(r["region"], r["memory_gb"]): r["usd_per_gb_second"] for r in rows["sagemaker_serverless"]}
    assert sls == {("us-east-1", 4): 0.00002, ("eu-west-1", 4): pytest.approx(0.0000224, abs=1e-15)}
    br = {(r["model"], r["region"], r["tier"]): r for r in rows["bedrock_prices"]}
    assert br[(HAIKU, "us-east-1", "standard")]["input_usd_per_mtok"] == 0.25  # $0.00025 per 1K tokens
    assert br[("amazon.nova-pro-v1:0", "us-east-1", "batch")]["input_usd_per_mtok"] == 0.4
    assert br[("amazon.nova-pro-v1:0", "ap-northeast-1", "standard")]["cache_read_usd_per_mtok"] == 0.24
    # v1 equals the packaged us-east-1 figures: only the new regions change
    changed = {(d["item"], d["region"], d["field"]) for d in diff}
    assert ("g5.xlarge", "eu-west-1", "on_demand_usd_per_hour") in changed
    assert not any(d["region"] == "us-east-1" for d in diff if d["table"] != "discounts")
    # Standard Reserved terms become per-type, per-region reserved-instance discounts (the diff: TYPICAL -> read)
    ri_rows = {(r["applies_to"], r["region"], r["term_years"], r["payment"]): r["discount_fraction"]
               for r in rows["discounts"]}
    assert ri_rows == {("g5.xlarge", "us-east-1", 1, "no-upfront"): pytest.approx(1 - 0.634 / 1.006, abs=1e-6),
                       ("g5.xlarge", "us-east-1", 3, "all-upfront"): pytest.approx(1 - 10594 / 26280 / 1.006, abs=1e-6),
                       ("g5.xlarge", "eu-west-1", 1, "no-upfront"): pytest.approx(1 - 0.634 / 1.123, abs=1e-6),
                       ("g5.xlarge", "eu-west-1", 3, "all-upfront"): pytest.approx(0.641033, abs=1e-6)}
    ri_diff = {(d["region"], d["plan"]): (d["old"], d["new"]) for d in diff if d["table"] == "discounts"}
    assert ri_diff[("us-east-1", "reserved-instance 1y no-upfront")] == (0.32, pytest.approx(0.369781, abs=1e-6))
    # Reserved terms of kept products: effective hourly and discount off on-demand
    ri = {(r["instance"], r["region"], r["term_years"], r["payment"]): r for r in up.reserved}
    r3 = ri[("g5.xlarge", "us-east-1", 3, "All Upfront")]
    assert r3["effective_usd_per_hour"] == pytest.approx(10594 / (3 * 8760))
    assert ri[("g5.xlarge", "us-east-1", 1, "No Upfront")]["discount_fraction"] == pytest.approx(1 - 0.634 / 1.006,
                                                                                                 abs=1e-6)


def test_region_filter_and_region_index(catalog):
    up = read_price_list([V1 / "AmazonEC2" / "current" / "region_index.json"], catalog, regions={"eu-west-1"})
    assert [Path(s.path).parts[-2] for s in up.stats] == ["eu-west-1"]


def test_price_change_between_versions_shows_in_diff_and_repriced_total(cfg, catalog):
    from inferplan.catalog.pricelist import write_catalog

    up1 = read_price_list([V1 / "index.json"], catalog)
    write_catalog(cfg / "catalog.yaml", plan_rows(up1, catalog)[0])
    cat1 = load_catalog(warn_stale=False)
    up2 = read_price_list([V2 / "index.json"], cat1)
    rows, diff = plan_rows(up2, cat1)
    got = {(d["item"], d["region"], d["field"], d.get("plan")): (d["old"], d["new"], d["percent"]) for d in diff}
    got = {k[:3] if k[3] is None else k: v for k, v in got.items()}
    assert got == {
        ("g5.xlarge", "us-east-1", "on_demand_usd_per_hour"): (1.006, 0.905, pytest.approx(-10.0398, abs=1e-4)),
        ("ml.g5.xlarge", "us-east-1", "usd_per_hour"): (1.408, 1.2672, pytest.approx(-10.0, abs=1e-9)),
        (HAIKU, "us-east-1", "input_usd_per_mtok"): (0.25, 0.3, pytest.approx(20.0, abs=1e-9)),
        # the RI hourly rates are unchanged, so against the lower on-demand price they are a smaller discount
        ("g5.xlarge", "us-east-1", "discount_fraction", "reserved-instance 1y no-upfront"): (
            0.369781, pytest.approx(1 - 0.634 / 0.905, abs=1e-6), pytest.approx(-19.0202, abs=1e-4)),
        ("g5.xlarge", "us-east-1", "discount_fraction", "reserved-instance 3y all-upfront"): (
            0.599284, pytest.approx(1 - 10594 / 26280 / 0.905, abs=1e-6), pytest.approx(-7.4624, abs=1e-4)),
    }
    # every term of v2 is effective 2026-06-01: each change is a new row from then, the old one kept
    assert {d["effective_from"] for d in diff if d["table"] != "discounts"} == {"2026-06-01"}
    haiku = sorted((r.get("effective_from") or "", r.get("effective_to"), r["input_usd_per_mtok"])
                   for r in rows["bedrock_prices"] if r["model"] == HAIKU and r["region"] == "us-east-1"
                   and r["tier"] == "standard")
    assert haiku == [("", "2026-06-01", 0.25), ("2026-06-01", None, 0.3)]
    g5 = sorted((r.get("effective_from") or "", r.get("effective_to"), r["on_demand_usd_per_hour"])
                for r in rows["ec2_instances"] if (r["instance"], r["region"]) == ("g5.xlarge", "us-east-1"))
    assert g5 == [("", "2026-06-01", 1.006), ("2026-06-01", None, 0.905)]
    table = [{"model": HAIKU, "input_tokens": 1_000_000, "output_tokens": 200_000, "ts": ts}
             for ts in (datetime(2026, 5, 15, tzinfo=UTC), datetime(2026, 6, 15, tzinfo=UTC))]
    before = price_workload(rows_table(table, cat1, Defaults(region="us-east-1")), cat1).table.order_by("ts")
    write_catalog(cfg / "catalog.yaml", rows)
    cat2 = load_catalog(warn_stale=False)
    after = price_workload(rows_table(table, cat2, Defaults(region="us-east-1")), cat2).table.order_by("ts")
    # 1M x 0.25 + 0.2M x 1.25 = 0.50; from 2026-06-01 1M x 0.30 + 0.2M x 1.25 = 0.55; May keeps May's price
    assert before.to_pyarrow().column("total_usd").to_pylist() == [pytest.approx(0.50, abs=1e-12)] * 2
    assert after.to_pyarrow().column("total_usd").to_pylist() == [pytest.approx(0.50, abs=1e-12),
                                                                   pytest.approx(0.55, abs=1e-12)]
    assert cat2.price(HAIKU, "in-region", "us-east-1", "standard").checked.isoformat() == "2026-06-01"
    # instances are priced at the row in force today; the closed row stays for what ran before
    assert cat2.ec2_in("g5.xlarge", "us-east-1").on_demand_usd_per_hour == 0.905
    assert cat2.sagemaker_in("ml.g5.xlarge", "us-east-1").usd_per_hour == 1.2672
    # the RI discount is dated alike (it is a fraction of the on-demand price of the same file): both change on
    # 2026-06-01, and the reserved hourly stays the term's $0.634
    from inferplan.serving.selfhost import ec2_prices

    ri = sorted((r.get("effective_from") or "", r.get("effective_to"), r["discount_fraction"])
                for r in rows["discounts"] if (r["applies_to"], r["term_years"]) == ("g5.xlarge", 1)
                and r["region"] == "us-east-1")
    assert ri == [("", "2026-06-01", 0.369781), ("2026-06-01", None, pytest.approx(1 - 0.634 / 0.905, abs=1e-6))]
    assert ec2_prices(cat2.for_region("us-east-1"), "g5.xlarge", "reserved-1y").committed == pytest.approx(0.634,
                                                                                                          abs=1e-6)
    # reading v2 again, or v1 after it, changes nothing: each term equals the row in force on its date
    for again in (V2, V1):
        assert plan_rows(read_price_list([again / "index.json"], cat2), cat2)[1] == []
    # the packaged data is untouched
    assert load_catalog(warn_stale=False, user_config=False).price(
        HAIKU, "in-region", "us-east-1", "standard").input_usd_per_mtok == 0.25


def test_litellm_map(catalog):
    up = read_litellm(DATA / "litellm_prices.json", catalog)
    st = up.stats[0]
    assert (st.products_read, st.products_kept, st.rows) == (5, 3, 3)  # one row per key with input+output
    assert st.skipped == {"bedrock key form not read (commitment, invoke, ...)": 1, "not a bedrock provider": 1}
    rows, diff = plan_rows(up, catalog)
    g = {(r["model"], r["scope"], r["region"], r["tier"]): r for r in rows["bedrock_prices"]}
    s = g[("anthropic.claude-sonnet-4-5-20250929-v1:0", "global", "*", "standard")]
    assert (s["lc_input_usd_per_mtok"], s["lc_output_usd_per_mtok"], s["lc_cache_read_usd_per_mtok"],
            s["lc_threshold_tokens"], s["cache_write_5m_usd_per_mtok"]) == (6, 22.5, 0.6, 200000, 3.75)
    assert ("anthropic.claude-sonnet-4-5-20250929-v1:0", "global", "*", "batch") not in g  # no batch fields
    # only the ap-south-1 Llama price differs from the catalog
    assert [(d["item"], d["region"], d["field"], d["old"], d["new"]) for d in diff] == [
        ("meta.llama3-70b-instruct-v1:0", "ap-south-1", "input_usd_per_mtok", 3.18, 3.3),
        ("meta.llama3-70b-instruct-v1:0", "ap-south-1", "output_usd_per_mtok", 4.2, 4.4)]


def test_bad_files_are_clear_errors(tmp_path, catalog):
    bad = tmp_path / "x.json"
    bad.write_text('{"formatVersion": "v1.0", "offerCode": "AmazonS3", "products": {}}')
    with pytest.raises(CatalogError, match="AmazonS3"):
        read_price_list([bad], catalog)
    bad.write_text('{"offerCode": "AmazonEC2", "products": {"A": {"attributes": ')
    with pytest.raises(CatalogError, match="malformed"):
        read_price_list([bad], catalog)
    idx = tmp_path / "region_index.json"
    idx.write_text(json.dumps({"regions": {"us-east-1": {"regionCode": "us-east-1", "currentVersionUrl":
                                                         "/offers/v1.0/aws/AmazonEC2/1/us-east-1/index.json"}}}))
    with pytest.raises(CatalogError, match="curl"):
        read_price_list([idx], catalog)


def test_console_script_writes_the_config_catalog_and_json(tmp_path):
    exe = Path(sys.executable).parent / "inferplan"
    env = {**os.environ, "INFERPLAN_CONFIG_DIR": str(tmp_path / "cfg")}
    r = subprocess.run([str(exe), "prices", "update", "--aws-price-list", str(V1 / "index.json"), "--json"],
                       capture_output=True, text=True, env=env, check=True)
    doc = json.loads(r.stdout)
    assert doc["kind"] == "prices-update" and errors(doc) == []
    assert doc["written"] == str(tmp_path / "cfg" / "catalog.yaml")
    assert doc["rows"] == {"bedrock_prices": 4, "sagemaker_instances": 2, "sagemaker_serverless": 2,
                           "ec2_instances": 4, "discounts": 4}
    r = subprocess.run([str(exe), "prices", "update", "--aws-price-list", str(V2 / "index.json"), "--json",
                        "--dry-run"], capture_output=True, text=True, env=env, check=True)
    doc = json.loads(r.stdout)
    assert doc["written"] is None and len(doc["changed"]) == 5  # 3 prices, 2 RI discount fractions


def test_console_script_dated_update_diff_and_prices_show(tmp_path):
    """v1 then v2 through the console script: the diff says from when the new price is in force, `prices show`
    gives the instance's row in force today and every window of its price (schema-valid --json)."""
    exe = Path(sys.executable).parent / "inferplan"
    env = {**os.environ, "INFERPLAN_CONFIG_DIR": str(tmp_path / "cfg"), "COLUMNS": "200"}

    def run(*args):
        return subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, check=True).stdout

    run("prices", "update", "--aws-price-list", str(V1 / "index.json"))
    text = run("prices", "update", "--aws-price-list", str(V2 / "index.json"))
    assert "in force from" in text and text.count("2026-06-01") >= 3
    show = json.loads(run("prices", "show", "g5.xlarge", "--region", "us-east-1", "--json"))
    assert errors(show) == []
    assert show["ec2_instance"]["on_demand_usd_per_hour"] == 0.905
    assert [(h["effective_from"], h["effective_to"], h["on_demand_usd_per_hour"]) for h in
            show["ec2_instance_history"]] == [(None, "2026-06-01", 1.006), ("2026-06-01", None, 0.905)]
    text = run("prices", "show", "g5.xlarge", "--region", "us-east-1")
    assert "prices in force by date" in text and "until 2026-05-31" in text and "from 2026-06-01" in text


def test_a_correction_on_the_same_day_replaces_the_row_in_place(cfg, catalog, tmp_path):
    """A term whose effectiveDate equals the start of the row in force, with another price (AWS corrected the
    file): that row's price is replaced, no zero-length window is opened; a key's rows read from several SKUs
    take the latest of their effective dates."""
    from inferplan.catalog.pricelist import Update, write_catalog

    write_catalog(cfg / "catalog.yaml", plan_rows(read_price_list([V1 / "index.json"], catalog), catalog)[0])
    cat1 = load_catalog(warn_stale=False)
    write_catalog(cfg / "catalog.yaml", plan_rows(read_price_list([V2 / "index.json"], cat1), cat1)[0])
    cat2 = load_catalog(warn_stale=False)
    src = V2 / "AmazonBedrock" / "20260601000000" / "index.json"
    fixed = tmp_path / "bedrock-corrected.json"
    text = src.read_text()
    assert text.count('"USD": "0.0003000000"') == 1
    fixed.write_text(text.replace('"USD": "0.0003000000"', '"USD": "0.0003100000"'))
    rows, diff = plan_rows(read_price_list([fixed], cat2), cat2)
    assert [(d["field"], d["old"], d["new"], d["effective_from"]) for d in diff] == [
        ("input_usd_per_mtok", 0.3, 0.31, None)]
    haiku = [r for r in rows["bedrock_prices"] if r["model"] == HAIKU and r["region"] == "us-east-1"]
    assert [(r.get("effective_from"), r.get("effective_to"), r["input_usd_per_mtok"]) for r in haiku] == [
        ("2026-06-01", None, 0.31)]
    up = Update()
    up.put("ec2_instances", {"instance": "x", "region": "us-east-1", "_effective": "2026-06-01"})
    up.put("ec2_instances", {"instance": "x", "region": "us-east-1", "_effective": "2026-03-01"})
    assert up.rows["ec2_instances"][("x", "us-east-1", None)]["_effective"] == "2026-06-01"


def test_a_local_zone_product_is_skipped_and_a_bad_write_keeps_the_old_file(tmp_path, catalog):
    """Offer files carry Local Zone products (regionCode us-west-2-lax-1): skipped and counted, never written as
    a row the catalog would refuse; and a file that does not validate never replaces the user's catalog."""
    from inferplan.catalog.pricelist import write_catalog

    doc = json.loads((V1 / "AmazonEC2" / "20260301000000" / "us-east-1" / "index.json").read_text())
    sku = next(k for k, p in doc["products"].items() if p["attributes"].get("instanceType") == "g5.xlarge"
               and p["attributes"].get("operatingSystem") == "Linux")
    doc["products"][sku]["attributes"]["regionCode"] = "us-west-2-lax-1"
    f = tmp_path / "lz.json"
    f.write_text(json.dumps(doc))
    up = read_price_list([f], catalog)
    assert any("not an AWS region" in reason for s in up.stats for reason in s.skipped)
    rows, _ = plan_rows(up, catalog)
    assert all(r["region"] != "us-west-2-lax-1" for t in rows.values() for r in t)

    target = tmp_path / "catalog.yaml"
    target.write_text("bedrock_prices: []\n")
    bad = {"ec2_instances": [{"instance": "g5.xlarge", "region": "us-west-2-lax-1", "source": "x",
                              "checked": "2026-03-01", "on_demand_usd_per_hour": 1.0}]}
    with pytest.raises(CatalogError, match=r"catalog.yaml.tmp: `ec2_instances` row 1"):
        write_catalog(target, bad, check=lambda p: load_catalog(p, warn_stale=False, user_config=False))
    assert target.read_text() == "bedrock_prices: []\n" and not list(tmp_path.glob("*.tmp"))
