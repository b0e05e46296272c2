"""Scenario files: one YAML reader for every section (`traffic:`, `levers:`, `compare:`, `economics:`, ...), so a
bad file gets the same clear error whichever command reads it first."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError


def read(scenario: str | Path | Mapping[str, Any] | None) -> dict[str, Any]:
    """The whole scenario as a dict: {} for None, a mapping as given, a path read as YAML (a mapping at the top)."""
    if scenario is None:
        return {}
    if isinstance(scenario, Mapping):
        return dict(scenario)
    try:
        doc = yaml.safe_load(Path(scenario).read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read scenario file {scenario}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"scenario file {scenario} is not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{scenario}: expected a mapping at the top level")
    return doc


def section(scenario: str | Path | Mapping[str, Any] | None, name: str) -> dict[str, Any]:
    """One top-level section of a scenario ({} when absent), checked to be a mapping."""
    sec = read(scenario).get(name) or {}
    if not isinstance(sec, dict):
        raise ConfigError(f"scenario {scenario}: `{name}:` must be a mapping")
    return sec
