"""Shared fixtures. Real data lives in ../shared/data beside the checkout (CI lays a copy there too)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

from tests.s3_standin import s3, s3_endpoint  # noqa: F401 - fixtures: S3 on the loopback (moto's server)

ROOT = Path(__file__).resolve().parents[1]

# Never read a real user's catalog (~/.config/inferplan/catalog.yaml): the config folder is an empty temporary
# one for the whole run, subprocesses (the console script) included.
os.environ["INFERPLAN_CONFIG_DIR"] = tempfile.mkdtemp(prefix="inferplan-config-")

# Property tests draw the same examples on every run (`make test` and CI are reproducible: a failure is not luck);
# HYPOTHESIS_PROFILE=explore draws fresh, and more, examples to hunt for new failures.
settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, max_examples=1000, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


def shared_data_dir() -> Path:
    env = os.environ.get("INFERPLAN_SHARED_DATA")
    path = Path(env) if env else ROOT.parent / "shared" / "data"
    if not path.is_dir():
        raise RuntimeError(f"real test data not found at {path}: put the project's shared/ folder beside the "
                           "checkout or set INFERPLAN_SHARED_DATA")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data: fails loudly (never skips) when missing, so CI cannot pass by skipping."""
    return shared_data_dir()


@pytest.fixture(scope="session")
def catalog():
    from inferplan.catalog import load_catalog

    return load_catalog(warn_stale=False)
