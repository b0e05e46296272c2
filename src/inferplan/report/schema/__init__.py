"""The JSON Schema of every command's `--json` output (`inferplan.schema.json`, shipped in the package)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from ...errors import InputError

SCHEMA_FILE = "inferplan.schema.json"


@cache
def schema() -> dict[str, Any]:
    """The schema, as a dict (Draft 2020-12)."""
    return json.loads((resources.files(__package__) / SCHEMA_FILE).read_text(encoding="utf-8"))


def errors(obj: Any) -> list[str]:
    """Every way `obj` breaks the schema, as `path: message` lines (empty when valid)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())
    out = []
    for e in sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in e.absolute_path) or "(top)"
        out.append(f"{where}: {e.message[:300]}")
    return out


def validate(obj: Any, what: str = "JSON") -> None:
    """Raise InputError naming the first problems when `obj` is not a valid inferplan output."""
    problems = errors(obj)
    if problems:
        raise InputError(f"{what} is not a valid inferplan --json output (schema {SCHEMA_FILE}): "
                         + "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else ""))
