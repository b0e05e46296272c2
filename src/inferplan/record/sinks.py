"""Sinks: canonical workload files (JSON lines or Parquet, rotated by time and size), a plain function, and
OpenTelemetry (`OtelSink`, in `inferplan.record.otel`, with the `otel` extra).

Files are the canonical workload (DESIGN.md): `inferplan analyze FOLDER` reads them as they are. The model id
is kept as called (the catalog resolves profile ids and ARNs when reading); the operation, time to first token,
error code and the request's metadata are tags. A failed call is a row with zero tokens (Bedrock bills none) and
`tags.error_code`.

JSON lines are appended whole, batch by batch, to a file under its final name (readable while it grows);
Parquet is written under a hidden `.NAME.part` name (`inferplan analyze` skips hidden files) and renamed when
the file is finished: at rotation, `flush()` or exit.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from ._recorder import CallRecord

FORMATS = ("jsonl", "parquet")
_seq = itertools.count()


def parquet_schema() -> Any:
    """The canonical columns the recorder writes, with the canonical workload's types."""
    import pyarrow as pa

    return pa.schema([
        ("ts", pa.timestamp("us", tz="UTC")), ("request_id", pa.string()), ("call_type", pa.string()),
        ("model", pa.string()), ("region", pa.string()), ("tier", pa.string()),
        ("input_tokens", pa.int64()), ("cache_read_tokens", pa.int64()), ("cache_write_5m_tokens", pa.int64()),
        ("cache_write_1h_tokens", pa.int64()), ("output_tokens", pa.int64()), ("latency_ms", pa.float64()),
        ("tags", pa.map_(pa.string(), pa.string())),
    ])


class CanonicalSink:
    """Canonical usage files in `folder`, one file per `max_age_s` seconds or `max_bytes` bytes, whichever
    comes first. Names: `<prefix>-<UTC start>-<pid>-<n>.jsonl|.parquet`."""

    def __init__(self, folder: str | os.PathLike[str], *, format: Literal["jsonl", "parquet"] = "jsonl",
                 max_bytes: int = 64 * 2**20, max_age_s: float = 3600.0, prefix: str = "inferplan-usage",
                 row_group_size: int = 10_000) -> None:
        if format not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, not {format!r}")
        if max_bytes <= 0 or max_age_s <= 0:
            raise ValueError("max_bytes and max_age_s must be positive")
        self.folder = Path(folder)
        self.format = format
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self.prefix = prefix
        self.row_group_size = row_group_size
        self.name = f"canonical:{self.folder}"
        self.files: list[Path] = []  # finished (or, for JSON lines, started) files
        self._path: Path | None = None  # the file being written
        self._fh: Any = None
        self._writer: Any = None  # pyarrow ParquetWriter
        self._rows: list[CallRecord] = []  # Parquet rows waiting for a row group
        self._opened = 0.0
        self._bytes = 0
        self._owner = os.getpid()

    # -- Sink ------------------------------------------------------------------------------------------------
    def write(self, records: list[CallRecord]) -> None:
        if self._owner != os.getpid():  # a forked child: the open file and pending rows are the parent's
            self._fh = self._writer = self._path = None
            self._rows = []
            self._owner = os.getpid()
        self._rotate_if_due()
        if self.format == "jsonl":
            self._open()
            data = "".join(json.dumps(r.canonical(), separators=(",", ":"), ensure_ascii=False) + "\n"
                           for r in records).encode()
            self._fh.write(data)
            self._fh.flush()
            self._bytes += len(data)
        else:
            self._open()  # the file's age counts from its first record
            self._rows.extend(records)
            if len(self._rows) >= self.row_group_size:
                self._write_row_group()

    def flush(self) -> None:
        """Everything written so far is readable: JSON lines flushed, the Parquet file finished."""
        if self._owner != os.getpid():
            return
        if self.format == "jsonl":
            if self._fh is not None:
                self._fh.flush()
        else:
            self._finish()

    def close(self) -> None:
        if self._owner == os.getpid():
            self._finish()

    def tick(self) -> None:
        """Called by the recorder when idle: rotate an old file even when no call comes."""
        self._rotate_if_due()

    # -- files -----------------------------------------------------------------------------------------------
    def _rotate_if_due(self) -> None:
        if self._path is None:
            return
        size = self._bytes + (self._pending_bytes() if self.format == "parquet" else 0)
        if size >= self.max_bytes or time.monotonic() - self._opened >= self.max_age_s:
            self._finish()

    def _pending_bytes(self) -> int:
        return 120 * len(self._rows)  # rough size of rows not yet in a row group

    def _open(self) -> None:
        if self._path is not None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        name = f"{self.prefix}-{stamp}-{os.getpid()}-{next(_seq):04d}.{self.format}"
        self._path = self.folder / name
        self._opened = time.monotonic()
        self._bytes = 0
        if self.format == "jsonl":
            self._fh = open(self._path, "ab")  # noqa: SIM115 - kept open across batches
            self.files.append(self._path)
        else:
            import pyarrow.parquet as pq

            self._fh = open(self._part(self._path), "wb")  # noqa: SIM115
            self._writer = pq.ParquetWriter(self._fh, parquet_schema(), compression="zstd")

    @staticmethod
    def _part(path: Path) -> Path:
        return path.with_name(f".{path.name}.part")

    def _write_row_group(self) -> None:
        if not self._rows:
            return
        import pyarrow as pa

        self._open()
        recs, self._rows = self._rows, []
        rows = [r.canonical() for r in recs]
        schema = parquet_schema()
        cols: dict[str, Any] = {f.name: [row[f.name] for row in rows] for f in schema}
        cols["ts"] = pa.array([round(r.ts * 1_000_000) for r in recs], pa.int64()).cast(schema.field("ts").type)
        cols["tags"] = [list(t.items()) for t in cols["tags"]]
        self._writer.write_table(pa.table(cols, schema=schema))
        self._bytes = self._fh.tell()

    def _finish(self) -> None:
        """Close the current file (Parquet: write the footer and rename it to its final name)."""
        if self.format == "parquet":
            if self._rows:
                self._write_row_group()
            if self._writer is not None:
                self._writer.close()
                self._fh.close()
                self._part(self._path).rename(self._path)  # type: ignore[arg-type]
                self.files.append(self._path)  # type: ignore[arg-type]
        elif self._fh is not None:
            self._fh.close()
        self._writer = None
        self._fh = None
        self._path = None


class FunctionSink:
    """Hands each batch of records to a function (a queue of your own, a log line, a test)."""

    def __init__(self, fn: Callable[[list[CallRecord]], Any], name: str | None = None) -> None:
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "function")

    def write(self, records: list[CallRecord]) -> None:
        self.fn(records)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass
