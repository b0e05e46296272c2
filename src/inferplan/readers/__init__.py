"""Readers turn each source format into the canonical workload.

Each format is a module with `NAME`, `sniff(path, head) -> bool` (recognise a file from its first bytes)
and `read(paths, options) -> Raw` (an Ibis table in the reader's raw shape plus what it skipped).
`read_workload()` picks the format (or detects it), reads, then `workload.finalize()` resolves models and
casts to the canonical schema, and `workload.validate()` checks values.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Literal

import ibis
import pyarrow as pa

from ..catalog import Catalog
from ..errors import InputError
from ..workload import Defaults, Workload, check, finalize
from . import azure, bedrock_logs, canonical, cur, openai_usage

OnError = Literal["raise", "skip"]


@dataclass(frozen=True)
class ReadOptions:
    """What the user told us about the input."""

    defaults: Defaults = Defaults()
    on_error: OnError = "raise"
    call_type_key: str | None = None


@dataclass
class Raw:
    """A reader's output before canonicalisation."""

    table: ibis.Table
    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# Order matters for detection: specific formats before the generic canonical one.
FORMATS: dict[str, ModuleType] = {
    bedrock_logs.NAME: bedrock_logs,
    cur.NAME: cur,
    openai_usage.NAME: openai_usage,
    azure.NAME: azure,
    canonical.NAME: canonical,
}


def register(module: ModuleType, *, first: bool = True) -> None:
    """Add a format module (used by reader modules that live in their own files)."""
    global FORMATS
    items = list(FORMATS.items())
    items = [(module.NAME, module), *items] if first else [*items, (module.NAME, module)]
    FORMATS = dict(items)


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; folders expanded recursively (sorted, hidden files skipped)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")))
        elif p.is_file():
            out.append(p)
        else:
            raise InputError(f"{p}: no such file or folder")
    if not out:
        raise InputError("no input files found")
    return out


def head_bytes(path: Path, n: int = 4096) -> bytes:
    """The first bytes of a file, decompressed if gzipped."""
    with path.open("rb") as fh:
        start = fh.read(2)
    opener = gzip.open if start == b"\x1f\x8b" else open
    try:
        with opener(path, "rb") as fh:  # type: ignore[operator]
            return fh.read(n)
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None


def detect(path: Path) -> str:
    """The format name of a file, from its content."""
    head = head_bytes(path)
    for name, mod in FORMATS.items():
        if mod.sniff(path, head):
            return name
    raise InputError(f"{path}: unrecognised format; pass --format one of {', '.join(FORMATS)}")


def read_workload(
    paths: Sequence[str | Path],
    catalog: Catalog,
    fmt: str = "auto",
    options: ReadOptions | None = None,
) -> Workload:
    """Read files of one or more formats into one canonical workload."""
    options = options or ReadOptions()
    files = expand_paths(paths)
    groups: dict[str, list[Path]] = {}
    notes: list[str] = []
    for f in files:
        name = detect(f) if fmt == "auto" else fmt
        if name not in FORMATS:
            raise InputError(f"unknown format {name!r}; known: auto, {', '.join(FORMATS)}")
        groups.setdefault(name, []).append(f)
    if fmt == "auto":
        notes += [f"format {name}: {len(fs)} file(s)" for name, fs in groups.items()]
    tables = []
    rollups = []
    skipped: dict[str, int] = {}
    for name, fs in groups.items():
        raw = FORMATS[name].read(fs, options)
        label = str(fs[0]) if len(fs) == 1 else f"{len(fs)} {name} files"
        canon = finalize(raw.table, catalog, options.defaults, source=label)
        canon, bad, roll = check(canon, source=label, on_error=options.on_error,
                                    thresholds=catalog.lc_thresholds)
        tables.append(canon)
        rollups.append(roll)
        for k, v in {**raw.skipped, **bad}.items():
            skipped[k] = skipped.get(k, 0) + v
        notes += raw.notes
    table = tables[0] if len(tables) == 1 else ibis.union(*tables)
    return Workload(table=table, sources=[str(f) for f in files], skipped=skipped, notes=notes,
                    rollup=pa.concat_tables(rollups), rollup_thresholds=catalog.lc_thresholds)
