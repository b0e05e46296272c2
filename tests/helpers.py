"""Tiny hand-built catalogs and workloads for exact arithmetic tests."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import yaml

from inferplan.catalog import Catalog, load_catalog
from inferplan.workload import Defaults, finalize

SRC = {"source": "hand-built test row", "checked": "2026-11-01"}

# A made-up model with round prices so every expected cost can be computed by hand.
TEST_MODELS = [
    {"model": "test.claude-like-v1:0", "provider": "test", "name": "Test Claude-like", "aliases": ["tcl"],
     "billing_names": ["TestClaudeLike"], "cache_min_tokens": 1024, "cache_ttls_s": [300, 3600], **SRC},
    {"model": "test.nova-like-v1:0", "provider": "test", "name": "Test Nova-like", "aliases": ["tnl"],
     "cache_min_tokens": 1000, "cache_ttls_s": [300], **SRC},
]
TEST_PRICES = [
    # standard, in-region, any region: 2 / 10 / 0.2 / 2.5 / 4 $ per Mtok; long context above 1000 tokens doubles
    {"model": "test.claude-like-v1:0", "scope": "in-region", "region": "*", "tier": "standard",
     "input_usd_per_mtok": 2, "output_usd_per_mtok": 10, "cache_read_usd_per_mtok": 0.2,
     "cache_write_5m_usd_per_mtok": 2.5, "cache_write_1h_usd_per_mtok": 4,
     "lc_threshold_tokens": 1000, "lc_input_usd_per_mtok": 4, "lc_output_usd_per_mtok": 15,
     "lc_cache_read_usd_per_mtok": 0.4, "lc_cache_write_5m_usd_per_mtok": 5, "lc_cache_write_1h_usd_per_mtok": 8,
     **SRC},
    # eu-west-1 in-region costs more
    {"model": "test.claude-like-v1:0", "scope": "in-region", "region": "eu-west-1", "tier": "standard",
     "input_usd_per_mtok": 3, "output_usd_per_mtok": 12, **SRC},
    # global profile is cheaper, us geo profile +10%
    {"model": "test.claude-like-v1:0", "scope": "global", "region": "*", "tier": "standard",
     "input_usd_per_mtok": 1.5, "output_usd_per_mtok": 7.5, **SRC},
    {"model": "test.claude-like-v1:0", "scope": "us", "region": "*", "tier": "standard",
     "input_usd_per_mtok": 2.2, "output_usd_per_mtok": 11, **SRC},
    {"model": "test.claude-like-v1:0", "scope": "in-region", "region": "*", "tier": "batch",
     "input_usd_per_mtok": 1, "output_usd_per_mtok": 5, **SRC},
    {"model": "test.claude-like-v1:0", "scope": "in-region", "region": "*", "tier": "flex",
     "input_usd_per_mtok": 1, "output_usd_per_mtok": 5, **SRC},
    {"model": "test.claude-like-v1:0", "scope": "in-region", "region": "*", "tier": "priority",
     "input_usd_per_mtok": 3.5, "output_usd_per_mtok": 17.5, **SRC},
    {"model": "test.nova-like-v1:0", "scope": "in-region", "region": "*", "tier": "standard",
     "input_usd_per_mtok": 0.8, "output_usd_per_mtok": 3.2, "cache_read_usd_per_mtok": 0.2,
     "cache_write_5m_usd_per_mtok": 0.8, **SRC},
]


def make_catalog(tmp_path: Path, extra: dict[str, list[dict[str, Any]]] | None = None) -> Catalog:
    doc: dict[str, list[dict[str, Any]]] = {"bedrock_models": list(TEST_MODELS), "bedrock_prices": list(TEST_PRICES)}
    for k, v in (extra or {}).items():
        doc.setdefault(k, []).extend(v)
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(doc))
    return load_catalog(path, warn_stale=False)



def layered_catalog(tmp_path: Path, path: Path) -> Catalog:
    """The hand-built catalog (`make_catalog(tmp_path)` first) as the user's config file, then `path` as
    --catalog over it: the two user layers merge as they do for a user."""
    cfg = tmp_path / "cfg"
    cfg.mkdir(exist_ok=True)
    (cfg / "catalog.yaml").write_text((tmp_path / "catalog.yaml").read_text())
    old = os.environ["INFERPLAN_CONFIG_DIR"]
    os.environ["INFERPLAN_CONFIG_DIR"] = str(cfg)
    try:
        return load_catalog(path, warn_stale=False)
    finally:
        os.environ["INFERPLAN_CONFIG_DIR"] = old

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def rows_table(rows: list[dict[str, Any]], catalog: Catalog, defaults: Defaults | None = None) -> ibis.Table:
    """Canonical table from dicts; missing token columns are 0, `ts` defaults to T0 + i seconds."""
    cols = ["ts", "model", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_5m_tokens",
            "cache_write_1h_tokens"]
    full = []
    for i, r in enumerate(rows):
        r = dict(r)
        r.setdefault("ts", T0 + timedelta(seconds=i))
        for c in cols[2:]:
            r.setdefault(c, 0)
        full.append(r)
    keys = sorted({k for r in full for k in r})
    data = {k: [r.get(k) for r in full] for k in keys}
    types = {"ts": pa.timestamp("us", tz="UTC")}
    arrays = {k: pa.array(v, type=types.get(k, pa.int64() if k.endswith("_tokens") else None))
              for k, v in data.items()}
    raw = ibis.memtable(pa.table(arrays))
    return finalize(raw, catalog, defaults or Defaults())
