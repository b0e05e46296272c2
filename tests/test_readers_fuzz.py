"""Random bytes and mutated records: every reader returns rows or raises a clear inferplan error, never
anything else; one bad record is one skipped record ("skip") or an error naming its line ("raise")."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inferplan.errors import InferplanError
from inferplan.readers import ReadOptions, read_workload

FIX = Path(__file__).parent / "fixtures" / "readers"
SOURCES = [FIX / "bedrock" / "invocations.jsonl", FIX / "openai_usage.jsonl", FIX / "litellm_spend.csv"]
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _try(catalog, path: Path, fmt: str = "auto", on_error: str = "raise") -> None:
    try:
        w = read_workload([path], catalog, fmt, ReadOptions(on_error=on_error))  # type: ignore[arg-type]
        w.table.to_pyarrow()
    except InferplanError:
        pass


@SETTINGS
@given(data=st.binary(max_size=400), fmt=st.sampled_from(["auto", "bedrock-logs", "openai-usage", "litellm",
                                                           "mooncake"]))
def test_random_bytes(catalog, tmp_path, data, fmt):
    f = tmp_path / "x.jsonl"
    f.write_bytes(data)
    _try(catalog, f, fmt)


_VALUES = [None, -1, "x", 1.5, [], {}, 10**20, True]


def _mutate(obj, rng: random.Random):
    """Replace or delete one value somewhere in a nested record."""
    if isinstance(obj, dict) and obj:
        k = rng.choice(list(obj))
        action = rng.random()
        if action < 0.3:
            return {kk: v for kk, v in obj.items() if kk != k}
        if action < 0.6 or not isinstance(obj[k], dict | list):
            return {**obj, k: rng.choice(_VALUES)}
        return {**obj, k: _mutate(obj[k], rng)}
    if isinstance(obj, list) and obj:
        i = rng.randrange(len(obj))
        return [*obj[:i], _mutate(obj[i], rng), *obj[i + 1:]]
    return rng.choice(_VALUES)


FORMATS = ["bedrock-logs", "openai-usage"]
# the one error a well-formed record may still raise in either mode: its model is not in the catalog
_CATALOG_MISS = "unknown model id"


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), which=st.sampled_from([0, 1]), truncate=st.booleans(),
       on_error=st.sampled_from(["raise", "skip"]))
def test_mutated_records(catalog, tmp_path, seed, which, truncate, on_error):
    """One mutated record: with "skip", no error and at most one record skipped (exactly one when the record
    is truncated, which is never valid JSON); with "raise", any error names the line."""
    rng = random.Random(seed)
    src = SOURCES[which]
    lines = src.read_text().splitlines()
    i = rng.randrange(len(lines))
    if truncate:
        lines[i] = lines[i][: rng.randrange(len(lines[i]))]
    else:
        lines[i] = json.dumps(_mutate(json.loads(lines[i]), rng))
    f = tmp_path / src.name
    f.write_text("\n".join(lines) + "\n")
    try:
        w = read_workload([f], catalog, FORMATS[which], ReadOptions(on_error=on_error))  # type: ignore[arg-type]
        w.table.to_pyarrow()
    except InferplanError as exc:
        msg = str(exc)
        if _CATALOG_MISS in msg:
            return
        assert on_error == "raise", f"skip mode raised: {msg}"
        assert re.search(rf"{re.escape(f.name)}: line {i + 1}: ", msg), msg
        return
    n_skipped = sum(w.skipped.values())
    if on_error == "skip" and truncate and lines[i].strip():
        assert n_skipped == 1, w.skipped
    else:
        assert n_skipped <= 1, w.skipped
    if on_error == "raise":
        assert n_skipped == 0, w.skipped
