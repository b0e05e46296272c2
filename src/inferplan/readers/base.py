"""What every reader shares: the options it is given, the raw table it returns, and how it finds and peeks
at its files. Its own module, so that each reader imports these at the top and the package (which imports
every reader) is never needed by one.

A reader's file is an `InputFile`: a local `Path`, or an `S3Object` under an `s3://` prefix, which reads in
place (see `_s3`): readers put `str(file)` in their DuckDB SQL and `file.open()` in Python either way."""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import ibis

from ..errors import InferplanError, InputError
from ..workload import Defaults
from ._s3 import S3Object, list_prefix

InputFile = Path | S3Object
OnError = Literal["raise", "skip"]


@dataclass(frozen=True)
class ReadOptions:
    """What the user told us about the input."""

    defaults: Defaults = Defaults()
    on_error: OnError = "raise"
    call_type_key: str | None = None
    # traces with relative times start here (Mooncake, BurstGPT, ServeGen)
    trace_start: datetime = datetime(2026, 1, 5, tzinfo=UTC)
    # source model name -> model id, for traces whose models are not Bedrock's (BurstGPT)
    model_map: Mapping[str, str] | None = None
    # drawn traces (ServeGen): random seed and the fraction of the published rate to draw
    seed: int = 0
    rate_scale: float = 0.01


@dataclass
class Raw:
    """A reader's output before canonicalisation."""

    table: ibis.Table
    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    parquet: str | None = None  # the one local Parquet file whose rows the table is, in order (see engine.file_rows)



def read_options(*, model: str | None, region: str, tier: str = "standard", on_error: str = "raise",
                 call_type_key: str | None = None) -> ReadOptions:
    """ReadOptions from the common reading flags (CLI and Python API), with `on_error` checked."""
    if on_error not in ("raise", "skip"):
        raise InferplanError(f"--on-error must be raise or skip, not {on_error!r}")
    return ReadOptions(defaults=Defaults(model=model, region=region, tier=tier), on_error=on_error,  # type: ignore[arg-type]
                       call_type_key=call_type_key)


def as_file(p: str | Path | S3Object) -> InputFile:
    """A path as the readers take it (an `S3Object` stays one)."""
    return p if isinstance(p, S3Object) else Path(p)


def expand_paths(paths: Iterable[str | Path | S3Object]) -> list[InputFile]:
    """Files as given; folders expanded recursively (sorted, hidden files skipped); `s3://` prefixes listed
    (every object under them, sorted by key; nothing is downloaded)."""
    out: list[InputFile] = []
    for p in paths:
        if isinstance(p, S3Object):
            out.append(p)
        elif str(p).startswith("s3://"):
            out.extend(list_prefix(str(p)).objects)
        elif (q := Path(p)).is_dir():
            out.extend(sorted(f for f in q.rglob("*") if f.is_file() and not f.name.startswith(".")))
        elif q.is_file():
            out.append(q)
        else:
            raise InputError(f"{p}: no such file or folder")
    if not out:
        raise InputError("no input files found")
    return out


def head_bytes(path: InputFile, n: int = 4096) -> bytes:
    """The first bytes of a file, decompressed if gzipped (an S3 object's are fetched once, then kept)."""
    if isinstance(path, S3Object) and n in path.heads:
        return path.heads[n]
    try:
        with path.open("rb") if isinstance(path, Path) else path.open("rb", block_size=n) as fh:
            head = fh.read(n)
            if head[:2] == b"\x1f\x8b":
                fh.seek(0)
                with gzip.GzipFile(fileobj=fh) as gz:
                    head = gz.read(n)
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None
    if isinstance(path, S3Object):
        path.heads[n] = head
    return head
