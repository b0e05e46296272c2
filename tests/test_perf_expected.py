"""The throughput model's validated error as data (inferplan.perf.expected_error): lookup, fallbacks, errors."""

from __future__ import annotations

import numpy as np
import pytest

from inferplan.errors import ConfigError
from inferplan.perf import expected_error
from inferplan.perf.expected import records

RECORDS = records()


def test_exact_match_aggregates_its_records(catalog):
    r = expected_error("p5.48xlarge", 1, catalog=catalog)
    mine = [x for x in RECORDS if x["accelerator"] == "h100" and x["tp"] == 1 and x["metric"] == "tokens_per_s"]
    assert r["validated"] and r["n"] == len(mine) > 0
    abs_err = np.abs([x["err"] for x in mine])
    assert r["median_abs_err"] == pytest.approx(np.median(abs_err))
    assert r["p90_abs_err"] >= r["median_abs_err"]
    assert sorted(r["errors"]) == pytest.approx(sorted(x["err"] for x in mine))
    assert r["source"]


@pytest.mark.parametrize("name", ["p5.48xlarge", "p5", "h100"])
def test_instance_family_and_accelerator_resolve_alike(catalog, name):
    assert expected_error(name, 1, catalog=catalog)["accelerator"] == "h100"


def test_unmeasured_tp_falls_back_and_says_so(catalog):
    measured = {x["tp"] for x in RECORDS if x["accelerator"] == "h100"}
    tp = next(t for t in (16, 32, 64) if t not in measured)
    r = expected_error("h100", tp, catalog=catalog)
    assert not r["validated"] and "other tensor-parallel" in r["basis"]


def test_unmeasured_gpu_uses_other_gpus_and_says_so(catalog):
    r = expected_error("g4dn.xlarge", 1, catalog=catalog)  # T4: never measured
    assert r["accelerator"] == "t4" and not r["validated"] and "t4 not measured" in r["basis"]
    assert r["n"] > 0


def test_cpu_and_unknown_names_are_clear_errors(catalog):
    with pytest.raises(ConfigError, match="unvalidated"):
        expected_error("c7g.xlarge", 1, catalog=catalog)
    with pytest.raises(ConfigError, match="not an instance type"):
        expected_error("p99.huge", 1, catalog=catalog)
    with pytest.raises(ConfigError, match="unknown metric"):
        expected_error("h100", 1, "latency", catalog=catalog)


def test_records_are_well_formed():
    assert RECORDS
    for x in RECORDS:
        assert x["metric"] in ("tokens_per_s", "tpot", "ttft") and x["tp"] >= 1 and np.isfinite(x["err"])
        assert x["err"] > -1  # a prediction is positive
