"""EC2 and SageMaker rows per region: instances are priced in the traffic's region, a missing row names the fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from inferplan.catalog import load_catalog
from inferplan.catalog.pricelist import plan_rows, read_price_list, write_catalog
from inferplan.commands._serving_inputs import instance_catalog
from inferplan.errors import MissingPriceError
from inferplan.serving.selfhost import ec2_prices, sagemaker_prices
from inferplan.workload import Defaults, Workload
from tests.helpers import rows_table

BIN = Path(sys.executable).parent / "inferplan"
V1 = Path(__file__).parent / "data" / "pricelist" / "v1" / "offers" / "v1.0" / "aws" / "index.json"


@pytest.fixture(scope="module")
def eu_catalog(tmp_path_factory):
    """The packaged catalog plus the v1 Price List fixture's rows (g5.xlarge and ml.g5.xlarge in eu-west-1)."""
    base = load_catalog(warn_stale=False, user_config=False)
    path = tmp_path_factory.mktemp("cfg") / "catalog.yaml"
    write_catalog(path, plan_rows(read_price_list([V1], base), base)[0])
    return path, load_catalog(path, warn_stale=False, user_config=False)


def test_lookups_take_a_region(eu_catalog):
    _, cat = eu_catalog
    assert cat.ec2_in("g5.xlarge", "eu-west-1").on_demand_usd_per_hour == 1.123
    assert cat.ec2_in("g5.xlarge", "us-east-1").on_demand_usd_per_hour == 1.006
    assert cat.ec2("g5.xlarge").region == "us-east-1"  # no region set: the default row (hardware specs)
    eu = cat.for_region("eu-west-1")
    assert eu.ec2("g5.xlarge").on_demand_usd_per_hour == 1.123
    assert set(eu.ec2_instances) == {"g5.xlarge", "p5.48xlarge"}  # only what is priced there
    assert ec2_prices(eu, "g5.xlarge", "on-demand").on_demand == 1.123
    name, p = sagemaker_prices(eu, "g5.xlarge", "on-demand")
    assert (name, p.on_demand) == ("ml.g5.xlarge", 1.5738)
    with pytest.raises(MissingPriceError, match=r"g5.xlarge in ap-south-1 .*prices update.*ap-south-1/index.json"):
        cat.for_region("ap-south-1").ec2("g5.xlarge")
    with pytest.raises(MissingPriceError, match="AmazonSageMaker"):
        cat.sagemaker_in("ml.g5.xlarge", "ap-south-1")


def test_sagemaker_twin_priced_elsewhere_is_an_error_not_a_missing_option(catalog):
    eu = catalog.for_region("eu-west-1")  # packaged rows are us-east-1 only
    with pytest.raises(MissingPriceError, match="ml.g5.xlarge in eu-west-1"):
        sagemaker_prices(eu, "g5.xlarge", "on-demand")


def test_the_traffic_region_picks_the_rows(eu_catalog):
    _, cat = eu_catalog
    rows = [{"model": "anthropic.claude-3-haiku-20240307-v1:0", "input_tokens": 10, "output_tokens": 1}] * 3
    wl = Workload(table=rows_table(rows, cat, Defaults(region="eu-west-1")))
    assert instance_catalog(cat, wl, None, "us-east-1").instance_region == "eu-west-1"
    assert instance_catalog(cat, None, None, "ap-south-1").instance_region == "ap-south-1"  # no data: --region


def _compare(region: str, env: dict[str, str], shared_data: Path, *more: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN), "compare", str(shared_data / "traces/azure2023"), "--model",
                           "us.anthropic.claude-haiku-4-5-20251001-v1:0", "--region", region, "--self-host",
                           "llama-3.1-8b", "--instance", "g5.xlarge", "--json", *more],
                          capture_output=True, text=True, env=env, check=False)


def test_compare_prices_the_instance_in_the_traffics_region(eu_catalog, shared_data, tmp_path):
    path, _ = eu_catalog
    env = {**os.environ, "INFERPLAN_CONFIG_DIR": str(tmp_path / "empty")}
    bad = _compare("eu-west-1", env, shared_data)
    assert bad.returncode != 0 and "g5.xlarge in eu-west-1" in bad.stderr and "prices update" in bad.stderr
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "catalog.yaml").write_text(path.read_text())
    env["INFERPLAN_CONFIG_DIR"] = str(cfg)
    us, eu = (json.loads(_compare(r, env, shared_data).stdout) for r in ("us-east-1", "eu-west-1"))
    ec2 = [{o["name"]: o for o in s["options"] if o["kind"] == "ec2"} for s in (us, eu)]
    name = next(n for n in ec2[0] if "on-demand" in n)
    o_us, o_eu = ec2[0][name], ec2[1][name]
    assert o_us["replicas"] == o_eu["replicas"]
    # same fleet, hourly price 1.123 instead of 1.006
    assert o_eu["monthly_usd"] == pytest.approx(o_us["monthly_usd"] * 1.123 / 1.006, rel=1e-9)
    # a Standard 1-year RI read from the fixture's Reserved terms: the fixed fleet at $0.634/h instead of $1.123/h
    ri = json.loads(_compare("eu-west-1", env, shared_data, "--purchase", "reserved-1y").stdout)
    fixed = next(o for o in ri["options"] if o["kind"] == "ec2" and "fixed" in o["name"])
    assert "reserved-1y" in fixed["name"] and any("committed (reserved-1y)" in n for n in fixed["notes"])
    od = next(o for n, o in ec2[1].items() if "fixed" in n)
    assert fixed["replicas"] == od["replicas"]
    assert fixed["monthly_usd"] == pytest.approx(od["monthly_usd"] * 0.634 / 1.123, rel=1e-6)


def test_reserved_terms_price_the_reserved_purchase_options(eu_catalog, catalog):
    """The Price List's Standard RI terms become per-type, per-region `reserved-instance` rows: `reserved-1y`
    costs the term's effective hourly; a term the file lacks (3-year no upfront) falls back to the TYPICAL `*`
    row, named in its source; SageMaker has no RIs: its commitment stays the SageMaker Savings Plan."""
    from inferplan.perf.cost import find_discount, hourly_prices

    _, cat = eu_catalog
    for region, on_demand in (("us-east-1", 1.006), ("eu-west-1", 1.123)):
        c = cat.for_region(region)
        p = ec2_prices(c, "g5.xlarge", "reserved-1y")
        assert (p.on_demand, p.committed_label) == (on_demand, "reserved-1y")
        assert p.committed == pytest.approx(0.634, abs=1e-6)  # 1yr No Upfront $0.634/h in both fixture regions
        d = find_discount(c, c.ec2("g5.xlarge"), "reserved-instance", 1, "no-upfront")
        assert (d.applies_to, d.region) == ("g5.xlarge", region) and "Reserved term" in d.source
        three = find_discount(c, c.ec2("g5.xlarge"), "reserved-instance", 3, "no-upfront")
        assert (three.applies_to, three.region) == ("*", "*") and "TYPICAL" in three.source
        assert hourly_prices(c, c.ec2("g5.xlarge"))["reserved-3y"] == pytest.approx(on_demand * (1 - 0.53))
        # all upfront over 3 years: $10,594 (us-east-1) over 26,280 h
        if region == "us-east-1":
            d3 = find_discount(c, c.ec2("g5.xlarge"), "reserved-instance", 3, "all-upfront")
            assert on_demand * (1 - d3.discount_fraction) == pytest.approx(10594 / 26280, abs=1e-6)
        sm = sagemaker_prices(c, "g5.xlarge", "reserved-1y")
        assert sm is not None and sm[1].committed_label == "sagemaker-savings-plan-1y"
    # the packaged catalog (no Reserved terms read): the TYPICAL `*` fraction
    assert ec2_prices(catalog, "g5.xlarge", "reserved-1y").committed == pytest.approx(1.006 * (1 - 0.32))


def test_serverless_prices_per_region(eu_catalog, catalog):
    """SageMaker Serverless rows per region from the Price List (`EU-ServerlessInf:Mem-4GB`): the traffic's
    region's rows only, none there is an empty list (the serverless option then says what to add), never
    us-east-1's price for another region."""
    _, cat = eu_catalog
    eu = cat.for_region("eu-west-1").sagemaker_serverless
    assert [(r.region, r.memory_gb, r.usd_per_gb_second) for r in eu] == [("eu-west-1", 4, pytest.approx(0.0000224))]
    assert "EU-ServerlessInf:Mem-4GB" in eu[0].source
    assert [r.memory_gb for r in cat.for_region("us-east-1").sagemaker_serverless] == [1, 2, 3, 4, 5, 6]
    assert cat.for_region("ap-south-1").sagemaker_serverless == []
    # no region set (the packaged defaults): one row per size, us-east-1's
    assert {r.region for r in cat.sagemaker_serverless} == {"us-east-1"} and len(cat.sagemaker_serverless) == 6
    assert {r.region for r in catalog.sagemaker_serverless} == {"us-east-1"}


def test_the_most_specific_discount_row_wins(tmp_path):
    """Instance type before family before `*`; within each, the instance's region before `*`."""
    import yaml

    from inferplan.perf.cost import find_discount

    def row(applies, region, fraction):
        return {"plan": "reserved-instance", "term_years": 1, "payment": "no-upfront", "applies_to": applies,
                "region": region, "discount_fraction": fraction, "source": f"{applies}/{region}",
                "checked": "2026-11-01"}

    def pick(*rows):
        path = tmp_path / "d.yaml"
        path.write_text(yaml.safe_dump({"discounts": list(rows)}))
        cat = load_catalog(path, warn_stale=False, user_config=False).for_region("us-east-1")
        return find_discount(cat, cat.ec2("g5.xlarge"), "reserved-instance", 1, "no-upfront").source

    assert pick(row("g5", "us-east-1", 0.4), row("g5.xlarge", "*", 0.41)) == "g5.xlarge/*"
    assert pick(row("g5.xlarge", "*", 0.41), row("g5.xlarge", "us-east-1", 0.45)) == "g5.xlarge/us-east-1"
    assert pick(row("g5", "*", 0.4), row("g5", "us-east-1", 0.42)) == "g5/us-east-1"
    assert pick(row("g5", "*", 0.4)) == "g5/*"
    assert "TYPICAL" in pick(row("g5.xlarge", "eu-west-1", 0.5))  # another region's row: the packaged `*` row
