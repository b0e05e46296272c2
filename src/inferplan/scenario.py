"""Scenario files: one YAML reader for every section (`traffic:`, `levers:`, `compare:`, `economics:`, ...), so a
bad file gets the same clear error whichever command reads it first."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .errors import ConfigError

# Every top-level section a command reads; any other key is a misspelling that would otherwise be ignored.
SECTIONS: dict[str, str] = {
    "traffic": "synth: the traffic to generate",
    "levers": "analyze --levers, plan, breakeven: the workload levers' options",
    "compare": "compare, breakeven, plan: the serving options",
    "economics": "breakeven, plan: engineering, pricing and risk of self-hosting",
    "uncertainty": "breakeven, plan: the Monte Carlo",
    "plan": "plan, breakeven: the break-even curve",
    "current": "plan: how the traffic is served today",
    "model_levers": "plan: quantization and distillation",
    "provisioned_units": "analyze: Bedrock Provisioned Throughput units bought",
}


def read(scenario: str | Path | Mapping[str, Any] | None) -> dict[str, Any]:
    """The whole scenario as a dict: {} for None, a mapping as given, a path read as YAML (a mapping at the top)."""
    if scenario is None:
        return {}
    if isinstance(scenario, Mapping):
        check_sections(scenario, "(a mapping)")
        return dict(scenario)
    try:
        doc = yaml.safe_load(Path(scenario).read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read scenario file {scenario}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"scenario file {scenario} is not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{scenario}: expected a mapping at the top level")
    check_sections(doc, str(scenario))
    return doc


def check_sections(doc: Mapping[str, Any], where: str) -> None:
    """Refuse a top-level key no command reads (`levrs:` would silently run with default levers)."""
    bad = [str(k) for k in doc if k not in SECTIONS and not str(k).startswith(("x-", "_"))]  # x-/_: anchors
    if not bad:
        return
    hints = []
    for k in bad:
        near = difflib.get_close_matches(k, list(SECTIONS), n=1, cutoff=0.6)
        hints.append(f"`{k}:`" + (f" (did you mean `{near[0]}:`?)" if near else ""))
    raise ConfigError(f"scenario {where}: unknown top-level key{'s' if len(bad) > 1 else ''} "
                      f"{', '.join(hints)}; the sections are {', '.join(SECTIONS)}")


def section(scenario: str | Path | Mapping[str, Any] | None, name: str) -> dict[str, Any]:
    """One top-level section of a scenario ({} when absent), checked to be a mapping."""
    sec = read(scenario).get(name) or {}
    if not isinstance(sec, dict):
        raise ConfigError(f"scenario {scenario}: `{name}:` must be a mapping")
    return sec


def where(scenario: str | Path | Mapping[str, Any] | None) -> str | None:
    """How errors name the scenario: its file; None for none or a mapping."""
    return str(scenario) if isinstance(scenario, str | Path) else None


def invalid(exc: ValidationError, name: str, scenario: str | Path | Mapping[str, Any] | None = None,
            flags: Mapping[str, str] | None = None, label: str | None = None) -> ConfigError:
    """One error for a section that failed validation ("invalid <label, default name> options"): each problem
    under `name.key` (in the scenario file, named), or under its command-line flag where `flags` (field -> flag)
    says the value came from one."""
    parts = []
    for e in exc.errors():
        loc = [str(x) for x in e["loc"]]
        if loc and flags and loc[0] in flags:
            parts.append(f"{flags[loc[0]]} {e.get('input')}: {e['msg']}")
        else:
            parts.append(f"{'.'.join([name, *loc])}: {e['msg']}")
    at = where(scenario)
    return ConfigError(f"{at + ': ' if at else ''}invalid {label or name} options: {'; '.join(parts)}")
