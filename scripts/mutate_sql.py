"""Mutation testing for arithmetic written as SQL inside Python strings, which mutmut leaves alone (it
mutates Python operators and makes strings "XX...XX", which only ever break the query).

Each mutant changes one occurrence of one SQL operator or token in the module (`>=` -> `>`, `-` -> `+`,
`least` -> `greatest`, a convention name swapped, `0` -> `1` in a coalesce...), runs the given tests with
`-x`, and counts it killed when they fail. The module is restored after every mutant. Prints each survivor
and, on the last line, JSON: {"module", "mutants", "killed", "survived"}.

    python scripts/mutate_sql.py src/inferplan/readers/_usage.py tests/test_readers_cache_buckets.py
    python scripts/mutate_sql.py src/inferplan/readers/bedrock_logs.py:120-135 tests/test_readers_bedrock.py
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

# (pattern, replacement): applied one occurrence at a time
MUTATIONS = [
    (r" >= ", " > "), (r" > ", " >= "), (r" <= ", " < "), (r" < ", " <= "), (r" = ", " <> "),
    (r" - ", " + "), (r" \+ ", " - "), (r"\bleast\(", "greatest("), (r"\bgreatest\(", "least("),
    (r"'no_writes'", "'uncached'"), (r"'uncached'", "'inclusive'"), (r"'inclusive'", "'no_writes'"),
    (r", 0\)", ", 1)"), (r"\bAND\b", "OR"), (r"\bOR\b", "AND"), (r"NOT \(", "("), (r"IS NOT NULL", "IS NULL"),
    (r"_d1, 0\)", "_d5, 0)"), (r"> 1\)", "> 0)"),
]
PYTHON = {r"> 1\)"}  # patterns that are Python code, mutated outside strings too


def _docstring_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of docstrings and comments: prose, not code, so never mutated."""
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    spans = []
    for node in ast.walk(ast.parse(text)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and \
                isinstance(getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str):
            d = body[0]
            spans.append((starts[d.lineno - 1] + d.col_offset, starts[d.end_lineno - 1] + d.end_col_offset))
    spans += [(m.start(), m.end()) for m in re.finditer(r"#[^\n]*", text)]
    return spans


def mutants(text: str, lines: tuple[int, int] | None = None):
    prose = _docstring_spans(text)
    for pat, rep in MUTATIONS:
        for m in re.finditer(pat, text):
            if any(a <= m.start() < b for a, b in prose):
                continue
            if lines and not lines[0] <= text.count("\n", 0, m.start()) + 1 <= lines[1]:
                continue
            line_start = text.rfind("\n", 0, m.start()) + 1
            if pat not in PYTHON and text.count('"', line_start, m.start()) % 2 == 0:
                continue  # outside a string literal: Python, not SQL
            mutated = text[:m.start()] + re.sub(pat, rep, m.group(0)) + text[m.end():]
            yield f"{pat!r}->{rep!r} at char {m.start()}", mutated


def main(module: str, *tests: str) -> None:
    lines = None
    if module.count(":") == 1:  # module.py:FIRST-LAST mutates those lines only
        module, span = module.split(":")
        first, last = span.split("-")
        lines = (int(first), int(last))
    path = Path(module)
    original = path.read_text()
    killed, survived = 0, []
    try:
        for label, text in mutants(original, lines):
            path.write_text(text)
            rc = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:warnings", *tests],
                                capture_output=True).returncode
            if rc == 0:
                line = original[:int(label.rsplit(" ", 1)[1])].count("\n") + 1
                survived.append(f"{label} (line {line})")
                print("survived:", survived[-1], flush=True)
            else:
                killed += 1
    finally:
        path.write_text(original)
    print(json.dumps({"module": module, "mutants": killed + len(survived), "killed": killed,
                      "survived": len(survived)}))


if __name__ == "__main__":
    main(*sys.argv[1:])
