"""`python -m inferplan` is the same command line as the `inferplan` script, and the command modules stand on
their own (none imports `inferplan.cli`: no cli <-> commands cycle)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

LITELLM = Path(__file__).parent / "fixtures" / "readers" / "litellm_spend.csv"
COMMANDS = Path(__file__).parents[1] / "src" / "inferplan" / "commands"


def _module(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inferplan", *args], capture_output=True, text=True, check=False)


def test_python_m_help_lists_every_command():
    res = _module("--help")
    assert res.returncode == 0, res.stderr
    assert "Usage: inferplan " in res.stdout
    for command in ("analyze", "demo", "prices", "compare", "plan", "reconcile", "synth"):
        assert f" {command} " in res.stdout


def test_python_m_runs_a_subcommand_like_the_script():
    res = _module("analyze", str(LITELLM), "--json")
    assert res.returncode == 0, res.stderr
    script = subprocess.run([str(Path(sys.executable).with_name("inferplan")), "analyze", str(LITELLM), "--json"],
                            capture_output=True, text=True, check=True)
    a, b = json.loads(res.stdout), json.loads(script.stdout)
    assert a["total_usd"] == b["total_usd"] and a["notes"] == b["notes"] and a["total_usd"] > 0
    bad = _module("analyze", str(LITELLM), "--region", "mars-1")
    assert bad.returncode == 2 and "unknown AWS region 'mars-1'" in bad.stderr


def test_no_command_module_imports_cli():
    for path in COMMANDS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert not (node.level == 2 and node.module == "cli"), path.name
                assert node.module != "inferplan.cli", path.name


def test_a_command_module_imports_without_cli():
    code = "import sys, inferplan.commands.plan, inferplan.commands.compare; assert 'inferplan.cli' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
