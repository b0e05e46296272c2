"""No silent defaults (issue 8 item 3): an unknown region is an error naming the closest real ones, wherever it
enters; every column a default fills adds a note with its request count. On the real-shaped fixtures of each
reader family (Bedrock logs, CUR, LiteLLM / OpenAI gateways, traces) and through the installed console script.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from inferplan import synth
from inferplan.catalog.usage_types import REGION_CODES
from inferplan.demand.readers import read_demand
from inferplan.errors import ConfigError, InputError, UnknownRegionError
from inferplan.readers import ReadOptions, read_workload
from inferplan.readers.cur import read_cur
from inferplan.regions import REGIONS, closest
from inferplan.workload import Defaults

FIX = Path(__file__).parent / "fixtures" / "readers"
LOGS = FIX / "bedrock" / "invocations.jsonl"
LITELLM = FIX / "litellm_spend.csv"
OPENAI = FIX / "openai_usage.jsonl"
AZURE = Path(__file__).parents[1] / "src" / "inferplan" / "data" / "demo" / "azure2023" / \
    "AzureLLMInferenceTrace_code.csv"
CLI = Path(sys.executable).with_name("inferplan")

# Amazon Bedrock, "Regional availability by endpoints" (bedrock-runtime column, checked 2026-12-02), plus the
# GovCloud and China regions: each must be accepted.
BEDROCK_REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "ca-west-1", "eu-central-1",
    "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "ap-east-2",
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2", "ap-southeast-1",
    "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
    "me-central-1", "me-south-1", "il-central-1", "sa-east-1", "mx-central-1", "us-gov-east-1", "us-gov-west-1",
    "cn-north-1", "cn-northwest-1",
)


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _billed_logs() -> list[dict]:
    return [r for r in _jsonl(LOGS) if not r.get("errorCode")]


def _has_key(obj: object, keys: tuple[str, ...]) -> bool:
    """Whether a key of `keys` appears anywhere in a parsed JSON record (a body may carry the tier)."""
    if isinstance(obj, dict):
        return any(k in keys or _has_key(v, keys) for k, v in obj.items())
    return isinstance(obj, list) and any(_has_key(v, keys) for v in obj)


def _note(notes: list[str], head: str) -> str:
    found = [n for n in notes if n.startswith(head)]
    assert len(found) == 1, notes
    return found[0]


# ---- the region list ------------------------------------------------------------------------------------------
def test_every_bedrock_region_is_known():
    assert set(BEDROCK_REGIONS) <= set(REGIONS)
    assert set(REGION_CODES) <= set(REGIONS)  # the CUR's location codes only ever give real regions


def test_catalog_rows_name_real_regions(catalog):
    rows = [*catalog.bedrock_prices, *catalog.rows("ec2_instances"), *catalog.rows("sagemaker_instances"),
            *catalog.provisioned_prices]
    assert {r.region for r in rows} - {"*"} <= set(REGIONS)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("typo", "first"), [("us-east1", "us-east-1"), ("useast1", "us-east-1"),
                                             ("US-EAST-1", "us-east-1"), ("us-gov-west1", "us-gov-west-1"),
                                             ("eu-west-4", "eu-west-3"), ("cn-north1", "cn-north-1")])
def test_closest_real_region_first(typo, first):
    assert closest(typo)[0] == first


def test_defaults_refuse_an_unknown_region():
    with pytest.raises(UnknownRegionError, match=r"--region: unknown AWS region 'mars-1'; closest real regions: "):
        Defaults(region="mars-1")
    assert Defaults(region="eu-west-1").region == "eu-west-1"


# ---- Bedrock invocation logs ----------------------------------------------------------------------------------
def test_bedrock_log_region_typo_is_a_bad_record_naming_line_and_closest(catalog, tmp_path):
    records = _jsonl(LOGS)
    billed = [i for i, r in enumerate(records) if not r.get("errorCode")]
    for i in billed[:2]:
        records[i]["region"] = "us-east1"
    records[billed[2]]["region"] = "mars-1"
    f = _write_jsonl(tmp_path / "logs.jsonl", records)
    with pytest.raises(InputError) as e:
        read_workload([f], catalog)
    assert str(e.value).startswith(f"{f}: line {billed[2] + 1}: unknown AWS region 'mars-1'; closest real regions: ")
    assert "(1 record(s) in all)" in str(e.value)
    records[billed[2]]["region"] = "us-east-1"
    _write_jsonl(f, records)
    with pytest.raises(InputError, match=rf"line {billed[0] + 1}: unknown AWS region 'us-east1'; closest real "
                                         r"regions: us-east-1, .* \(2 record\(s\) in all\)"):
        read_workload([f], catalog)
    wl = read_workload([f], catalog, options=ReadOptions(on_error="skip"))
    assert wl.skipped == {"bedrock log: unknown AWS region 'us-east1'": 2}
    assert wl.count() == len(billed) - 2
    assert set(wl.table.region.to_pyarrow().to_pylist()) <= set(REGIONS)


def test_canonical_region_typo_is_an_error_with_request_counts(catalog, tmp_path):
    """A source checked on its roll-up (canonical files): every unknown region, its requests, the closest."""
    rows = [("us-east1", 3), ("mars-1", 1), ("us-east-1", 2)]
    f = tmp_path / "w.csv"
    f.write_text("ts,model,region,input_tokens,output_tokens\n" + "".join(
        f"2026-01-05T00:00:0{i}Z,amazon.nova-pro-v1:0,{r},10,1\n" for r, n in rows for i in range(n)))
    with pytest.raises(UnknownRegionError) as e:
        read_workload([f], catalog, "canonical")
    msg = str(e.value)
    assert msg.startswith(f"{f}: unknown AWS regions 'us-east1' (3 requests): closest real regions us-east-1, ")
    assert "'mars-1' (1 request): closest real regions" in msg and "--on-error skip" in msg
    wl = read_workload([f], catalog, "canonical", ReadOptions(on_error="skip"))
    assert wl.skipped == {f"{f}: unknown AWS region 'us-east1'": 3, f"{f}: unknown AWS region 'mars-1'": 1}
    assert wl.count() == 2 and set(wl.table.region.to_pyarrow().to_pylist()) == {"us-east-1"}


def test_bedrock_log_notes_count_filled_tiers_and_call_types(catalog):
    billed = _billed_logs()
    no_tier = sum(1 for r in billed if not _has_key(r, ("serviceTier", "service_tier")))
    # the call type is requestMetadata's `call_type`, then `feature` (the default --call-type-key)
    no_ct = sum(1 for r in billed if not {"call_type", "feature"} & set(r.get("requestMetadata") or {}))
    assert 0 < no_tier < len(billed) and 0 < no_ct < len(billed)  # the fixture has both kinds
    wl = read_workload([LOGS], catalog)
    assert _note(wl.notes, "tier standard assumed") == (
        f"tier standard assumed for {no_tier} of {len(billed)} requests: {LOGS} has none for them (set it with "
        "analyze --tier, or a tier in the data)")
    assert _note(wl.notes, "call type untagged assumed").startswith(
        f"call type untagged assumed for {no_ct} of {len(billed)} requests: ")
    # the logs carry their region and profile ids: nothing assumed about them
    assert not [n for n in wl.notes if n.startswith(("region ", "scope ", "model "))]


# ---- gateways --------------------------------------------------------------------------------------------------
def test_litellm_spend_region_and_tier_noted_for_every_request(catalog):
    wl = read_workload([LITELLM], catalog, options=ReadOptions(defaults=Defaults(region="eu-west-1")))
    n = wl.count()
    assert n >= 2
    assert _note(wl.notes, "region ") == (f"region eu-west-1 assumed for {n} requests: {LITELLM} has none "
                                          "(set it with --region)")
    assert _note(wl.notes, "tier ").startswith(f"tier standard assumed for {n} requests: ")
    assert set(wl.table.region.to_pyarrow().to_pylist()) == {"eu-west-1"}  # and priced there


def test_openai_usage_partial_region_noted_and_typo_refused(catalog, tmp_path):
    records = _jsonl(OPENAI)
    billed = [r for r in records if not r.get("error") and "usage" in (r.get("response", {}).get("body") or r)]
    records[0]["region"] = "eu-west-1"
    f = _write_jsonl(tmp_path / "usage.jsonl", records)
    wl = read_workload([f], catalog)
    n = wl.count()
    assert n == len(billed)
    assert _note(wl.notes, "region ") == (f"region us-east-1 assumed for {n - 1} of {n} requests: {f} has none "
                                          "for them (set it with --region)")
    records[0]["region"] = "eu-west1"
    _write_jsonl(f, records)
    with pytest.raises(InputError, match=r"line 1: unknown AWS region 'eu-west1'; closest real regions: eu-west-1, "):
        read_workload([f], catalog)


# ---- traces ---------------------------------------------------------------------------------------------------
def test_trace_notes_model_region_tier_and_scope(catalog):
    with AZURE.open() as fh:
        rows = sum(1 for _ in csv.DictReader(fh))
    wl = read_workload([AZURE], catalog, "azure2023", ReadOptions(defaults=Defaults(model="claude-haiku-4.5")))
    assert wl.count() == rows
    assert _note(wl.notes, "model ").startswith(f"model claude-haiku-4.5 assumed for {rows:,} requests: ")
    assert _note(wl.notes, "region ").startswith(f"region us-east-1 assumed for {rows:,} requests: ")
    assert _note(wl.notes, "tier ").startswith(f"tier standard assumed for {rows:,} requests: ")
    assert _note(wl.notes, "scope ") == (
        f"scope in-region assumed for {rows:,} requests: the model id claude-haiku-4.5 names no inference profile "
        "(log a profile id such as us.<model id>, or pass one as --model)")
    profiled = read_workload([AZURE], catalog, "azure2023", ReadOptions(
        defaults=Defaults(model="us.anthropic.claude-haiku-4-5-20251001-v1:0", region="us-west-2")))
    assert not [n for n in profiled.notes if n.startswith("scope ")]  # a profile id names its scope
    assert _note(profiled.notes, "region ").startswith(f"region us-west-2 assumed for {rows:,} requests: ")


# ---- CUR -------------------------------------------------------------------------------------------------------
def test_cur_unknown_location_code_is_listed_with_dollars_not_defaulted(catalog, tmp_path):
    text = (FIX / "cur_sample.csv").read_text()
    line = text.splitlines()[1].replace("USE1-NovaPro-input-tokens", "XYZ9-NovaPro-input-tokens")
    f = tmp_path / "cur.csv"
    f.write_text(text + line.rsplit(",", 1)[0] + ",12.25\n")
    cur = read_cur([f], catalog)
    listed = [u for u in cur.unreconciled if u["usage_type"] == "XYZ9-NovaPro-input-tokens"]
    assert len(listed) == 1 and listed[0]["cost_usd"] == pytest.approx(12.25)
    assert set(cur.table.column("region").to_pylist()) <= set(REGIONS)


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, check=False)


def test_reconcile_json_notes_the_logs_defaults_and_refuses_a_typo():
    res = _run("reconcile", "--logs", str(LITELLM), "--cur", str(FIX / "cur_sample.csv"), "--json",
               "--region", "us-west-2")
    assert res.returncode == 0, res.stderr
    notes = json.loads(res.stdout)["notes"]
    assert _note(notes, "region ").startswith("region us-west-2 assumed for 2 requests: ")
    res = _run("reconcile", "--logs", str(LITELLM), "--cur", str(FIX / "cur_sample.csv"), "--json",
               "--region", "us-west2")
    assert res.returncode == 2 and res.stdout == ""
    assert "unknown AWS region 'us-west2'; closest real regions: us-west-2" in res.stderr


# ---- the console script --------------------------------------------------------------------------------------
def test_analyze_json_notes_through_the_console_script():
    res = _run("analyze", str(LITELLM), "--json")
    assert res.returncode == 0, res.stderr
    notes = json.loads(res.stdout)["notes"]
    assert _note(notes, "region ") == f"region us-east-1 assumed for 2 requests: {LITELLM} has none (set it with " \
        "--region)"


@pytest.mark.parametrize("command", ["analyze", "compare", "breakeven", "plan"])
def test_region_typo_on_every_reading_command(command):
    res = _run(command, str(LITELLM), "--region", "us-east1", "--json")
    assert res.returncode == 2 and res.stdout == "", res.stderr
    assert "error: --region: unknown AWS region 'us-east1'; closest real regions: us-east-1, " in res.stderr
    assert "Traceback" not in res.stderr


def test_compare_json_carries_the_reading_notes():
    res = _run("compare", str(LITELLM), "--json")
    assert res.returncode == 0, res.stderr
    assert _note(json.loads(res.stdout)["notes"], "region ").startswith("region us-east-1 assumed for 2 requests")


def test_prices_list_region_filter_refuses_a_typo():
    res = _run("prices", "list", "--region", "eu-west-9", "--json")
    assert res.returncode == 2 and res.stdout == ""
    assert "closest real regions: eu-west-3, eu-west-2, eu-west-1" in res.stderr


# ---- scenario files and demand series -------------------------------------------------------------------------
def test_scenario_region_typo_names_the_closest():
    ct = {"model": "amazon.nova-pro-v1:0", "per_hour": 1, "input_tokens": 10, "output_tokens": 1}
    msg = r"invalid traffic spec: region: Value error, unknown AWS region 'eu-central1'; closest real regions: eu-c"
    with pytest.raises(ConfigError, match=msg):
        synth.load_traffic({"traffic": {"region": "eu-central1", "call_types": {"x": ct}}})
    with pytest.raises(ConfigError, match=r"call_types.x.region: Value error, unknown AWS region 'mars-1'; closest"):
        synth.load_traffic({"traffic": {"call_types": {"x": {**ct, "region": "mars-1"}}}})
    assert synth.load_traffic({"traffic": {"region": "ap-southeast-7", "call_types": {"x": ct}}}).region \
        == "ap-southeast-7"


def test_demand_series_region_typo(catalog):
    with pytest.raises(UnknownRegionError, match="closest real regions: us-east-1"):
        read_demand([Path(__file__).parent / "fixtures" / "demand" / "demand.csv"], catalog, region="us-east1")


def test_notes_on_several_files_say_they_have_none(catalog, tmp_path):
    """One file "has none"; two files "have none" (the label names how many)."""
    records = _jsonl(OPENAI)
    a = _write_jsonl(tmp_path / "a.jsonl", records)
    b = _write_jsonl(tmp_path / "b.jsonl", records)
    note = _note(read_workload([a, b], catalog).notes, "region ")
    assert " files have none (set it with --region)" in note, note
