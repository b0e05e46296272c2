"""`--json` through the installed console script: always one JSON object, dollars at full precision."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import ibis
import pytest
import yaml
from typer.testing import CliRunner

from inferplan.cli import app
from inferplan.engine import QUIET, connection
from inferplan.report.fmt import usd

from .helpers import TEST_MODELS, TEST_PRICES

CLI = Path(sys.executable).with_name("inferplan")

# DuckDB draws its bar once a query has run `progress_bar_time` ms (2,000 by default). This shim, loaded by the
# subprocess's interpreter (sitecustomize), lowers that threshold on every connection DuckDB opens, so the
# file below passes it on any machine, fast or loaded, and the test stays short. It changes nothing else.
SHIM = """
import duckdb
_connect = duckdb.connect
def connect(*a, **k):
    con = _connect(*a, **k)
    con.execute("SET progress_bar_time = 100")
    return con
duckdb.connect = connect
"""


def _catalog_file(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump({"bedrock_models": TEST_MODELS, "bedrock_prices": TEST_PRICES}))
    return path


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_every_connection_has_duckdbs_progress_bar_off():
    """Ours, Ibis's default backend (memtable-only expressions run there) and DuckDB's module default."""
    q = "SELECT name, value FROM duckdb_settings() WHERE name LIKE 'enable_progress_bar%'"
    for con in (connection().con, ibis.get_backend().con, duckdb.default_connection()):
        assert dict(con.execute(q).fetchall()) == {k: "false" for k in QUIET}


def test_json_is_one_object_when_a_query_passes_duckdbs_progress_threshold(tmp_path):
    big = tmp_path / "big.csv"
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"""COPY (SELECT TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_microseconds(i * 1000) AS ts,
        'tcl' AS model, (i % 5000)::BIGINT AS input_tokens, (i % 300)::BIGINT AS output_tokens
        FROM range(400000) t(i)) TO '{big}' (HEADER)""")
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(SHIM)
    res = _run("analyze", str(big), "--catalog", str(_catalog_file(tmp_path)), "--json",
               env={"PYTHONPATH": str(shim), "INFERPLAN_THREADS": "1"})
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)  # a progress bar on stdout would make this fail
    assert res.stdout.startswith("{") and res.stdout.count("\n") == 1
    assert out["requests"] == 400_000
    assert "\u2588" not in res.stderr  # and no DuckDB bar on stderr either (not a terminal: no spinner)


def test_json_keeps_sub_cent_dollars_whole_and_terminal_shows_them(tmp_path):
    # 3 input tokens of the nova-like model at $0.8/Mtok: $0.0000024, which 6-decimal rounding makes $0.000002
    f = tmp_path / "tiny.csv"
    f.write_text("ts,model,input_tokens,output_tokens\n2026-01-05T00:00:00Z,tnl,3,0\n")
    cat = str(_catalog_file(tmp_path))
    res = _run("analyze", str(f), "--catalog", cat, "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["total_usd"] == pytest.approx(3 * 0.8 / 1e6, rel=1e-12)
    assert out["usd_by_token_kind"]["input"] == pytest.approx(2.4e-6, rel=1e-12)
    assert out["by_model"]["test.nova-like-v1:0"] == pytest.approx(2.4e-6, rel=1e-12)
    assert out["breakdowns"]["call_type"][0]["input_usd"] == pytest.approx(2.4e-6, rel=1e-12)
    text = CliRunner().invoke(app, ["analyze", str(f), "--catalog", cat])
    assert text.exit_code == 0, text.output
    assert "$0.00000240" in text.stdout


@pytest.mark.parametrize(("x", "shown"), [
    (0.0, "$0.00"), (1234.5, "$1,234.50"), (0.01, "$0.01"), (0.0099, "$0.00990"), (0.000123456, "$0.000123"),
    (2.4e-6, "$0.00000240"), (-0.0005, "-$0.000500"), (1e-15, "<$0.000000000001"),
])
def test_usd_display_is_readable_below_a_cent(x, shown):
    assert usd(x) == shown
