"""The recorder: a bounded queue between the caller's thread and the sinks, drained by one background thread.

The caller only builds a small `CallRecord` and puts it on the queue (it never waits: a full queue drops the
record and counts it). The worker writes batches to each sink; a sink that raises is counted and warned about
once, and never reaches the caller. `flush()` waits until everything queued so far is written; the process
flushes and closes every recorder on exit.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

log = logging.getLogger("inferplan.record")


@dataclass(slots=True)
class CallRecord:
    """One Bedrock Runtime call, as recorded: no prompt or completion text, ever."""

    ts: float  # epoch seconds when the call started
    operation: str
    model: str | None  # the model id as called: id, profile id or ARN
    region: str | None
    call_type: str
    tier: str
    request_id: str | None = None
    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0  # 5-minute TTL
    cache_write_1h_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float | None = None
    ttft_ms: float | None = None  # streams: time to the first content event
    error_code: str | None = None
    invoked_model: str | None = None  # a prompt router's choice, when the response names it
    metadata: dict[str, str] = field(default_factory=dict)
    otel_context: Any = field(default=None, repr=False)  # the caller's OpenTelemetry context (span parent)

    def canonical(self) -> dict[str, Any]:
        """The record as a canonical workload row (what `inferplan analyze` reads)."""
        tags = {"operation": self.operation}
        if self.ttft_ms is not None:
            tags["ttft_ms"] = f"{self.ttft_ms:.3f}"
        if self.error_code:
            tags["error_code"] = self.error_code
        if self.invoked_model:
            tags["model_id_called"] = self.model or ""
        tags.update(self.metadata)
        return {
            "ts": datetime.fromtimestamp(self.ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "request_id": self.request_id,
            "call_type": self.call_type,
            "model": self.invoked_model or self.model,
            "region": self.region,
            "tier": self.tier,
            "input_tokens": self.input_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_5m_tokens": self.cache_write_5m_tokens,
            "cache_write_1h_tokens": self.cache_write_1h_tokens,
            "output_tokens": self.output_tokens,
            "latency_ms": None if self.latency_ms is None else round(float(self.latency_ms), 3),
            "tags": tags,
        }


@runtime_checkable
class Sink(Protocol):
    """Where records go. `write` gets batches from the recorder's one worker thread (never concurrently)."""

    def write(self, records: list[CallRecord]) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


class _Marker:
    __slots__ = ("done", "stop")

    def __init__(self, stop: bool = False) -> None:
        self.done = threading.Event()
        self.stop = stop


class Recorder:
    """Queue + worker + sinks. Safe to call from any thread; `record()` never blocks and never raises."""

    def __init__(self, sinks: list[Sink], *, queue_size: int = 10_000, batch_size: int = 1_000,
                 interval_s: float = 1.0, default_call_type: str = "untagged",
                 metadata_keys: tuple[str, ...] = ("call_type", "feature")) -> None:
        if queue_size < 1 or batch_size < 1 or interval_s <= 0:
            raise ValueError("queue_size and batch_size must be >= 1 and interval_s > 0")
        self.sinks = list(sinks)
        self.queue_size = queue_size
        self.batch_size = batch_size
        self.interval_s = interval_s
        self.default_call_type = default_call_type
        self.metadata_keys = metadata_keys
        self.wants_context = any(getattr(s, "wants_context", False) for s in self.sinks)
        self._lock = threading.Lock()
        # a deque, not a queue.Queue: appending wakes no thread; the worker wakes every `interval_s`, or when a
        # batch is full, or on flush/close
        self._buf: deque[CallRecord] = deque()
        self._wake = threading.Event()
        self._markers: list[_Marker] = []
        self._worker: threading.Thread | None = None
        self._pid = -1
        self._started = False  # cleared in a forked child (os.register_at_fork below)
        self._closed = False
        self._warned: set[str] = set()
        self.counts: dict[str, int] = {"recorded": 0, "dropped": 0, "written": 0, "hook_errors": 0}
        self.sink_errors: dict[str, int] = {}
        _RECORDERS.append(self)

    # -- caller side ---------------------------------------------------------------------------------------
    def record(self, rec: Any) -> None:
        """Queue one record (a CallRecord, or a tuple `(build, *args)` the worker turns into one with
        `build(*args)`, so the caller's thread does not); drop and count it when the queue is full or the
        recorder is closed."""
        if not self._started:  # first use, or a forked child: (re)start the worker here
            self._start()
        buf = self._buf
        if self._closed or len(buf) >= self.queue_size:
            with self._lock:
                self.counts["dropped"] += 1
            self._warn_once("queue", f"inferplan.record: queue full ({self.queue_size}) or recorder closed; "
                            "dropping records (counted in stats()['dropped'])")
            return
        buf.append(rec)
        with self._lock:
            self.counts["recorded"] += 1
        if len(buf) >= self.batch_size:
            self._wake.set()

    def hook_error(self, exc: BaseException) -> None:
        """A bug or an unexpected response shape in the hook: counted and warned once, never raised."""
        with self._lock:
            self.counts["hook_errors"] += 1
        self._warn_once("hook", f"inferplan.record: could not record a call ({type(exc).__name__}: {exc}); "
                        "the call itself went through (counted in stats()['hook_errors'])")

    def flush(self, timeout: float = 10.0) -> bool:
        """Write out everything queued so far; True when done within `timeout` seconds."""
        if self._closed or self._worker is None or self._pid != os.getpid():
            return self._closed or self._worker is None
        return self._send(_Marker(), timeout)

    def close(self, timeout: float = 10.0) -> bool:
        """Flush, close the sinks (files are finished and renamed) and stop the worker."""
        if self._closed:
            return True
        ok = True
        if self._worker is not None and self._pid == os.getpid() and self._worker.is_alive():
            ok = self._send(_Marker(stop=True), timeout)
            self._worker.join(timeout)
        else:
            self._write_all()
            self._close_sinks()
        self._closed = True
        return ok

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {**self.counts, "queued": len(self._buf), "sink_errors": dict(self.sink_errors)}

    # -- worker side ---------------------------------------------------------------------------------------
    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            if self._pid != -1:  # forked: the parent's records and thread are not ours
                self._buf = deque()
                self._markers = []
                self._wake = threading.Event()
            self._pid = os.getpid()
            self._started = True
            self._worker = threading.Thread(target=self._run, name="inferplan-record", daemon=True)
            self._worker.start()

    def _send(self, marker: _Marker, timeout: float) -> bool:
        with self._lock:
            self._markers.append(marker)
        self._wake.set()
        return marker.done.wait(timeout)

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval_s)
            self._wake.clear()
            with self._lock:
                markers, self._markers = self._markers, []
            try:
                self._write_all()  # after taking the markers: whatever was queued before a flush() is in this
                self._tick()
            except Exception as exc:  # noqa: BLE001 - the writer must outlive its own bugs
                self.hook_error(exc)
            for m in markers:
                if m.stop:
                    self._close_sinks()
                    for other in markers:
                        other.done.set()
                    return
                self._each("flush")
                m.done.set()

    def _write_all(self) -> None:
        buf = self._buf
        while buf:
            batch = []
            while buf and len(batch) < self.batch_size:
                item = buf.popleft()
                if not isinstance(item, CallRecord):
                    try:
                        item = item[0](*item[1:])
                    except Exception as exc:  # noqa: BLE001 - an unexpected response shape
                        self.hook_error(exc)
                        continue
                batch.append(item)
            self._write(batch)

    def _write(self, batch: list[CallRecord]) -> None:
        if not batch:
            return
        for s in self.sinks:
            try:
                s.write(batch)
            except Exception as exc:  # noqa: BLE001 - a sink must never break the application
                self._sink_failed(s, exc, len(batch))
        with self._lock:
            self.counts["written"] += len(batch)

    def _tick(self) -> None:
        for s in self.sinks:
            tick = getattr(s, "tick", None)
            if tick is not None:
                try:
                    tick()
                except Exception as exc:  # noqa: BLE001
                    self._sink_failed(s, exc, 0)

    def _each(self, method: str) -> None:
        for s in self.sinks:
            try:
                getattr(s, method)()
            except Exception as exc:  # noqa: BLE001
                self._sink_failed(s, exc, 0)

    def _close_sinks(self) -> None:
        self._each("flush")
        self._each("close")

    def _sink_failed(self, sink: Sink, exc: BaseException, n: int) -> None:
        name = getattr(sink, "name", type(sink).__name__)
        with self._lock:
            self.sink_errors[name] = self.sink_errors.get(name, 0) + max(n, 1)
        self._warn_once(f"sink:{name}", f"inferplan.record: sink {name} failed ({type(exc).__name__}: {exc}); "
                        "records it could not take are counted in stats()['sink_errors']")

    def _warn_once(self, key: str, message: str) -> None:
        if key in self._warned:
            return
        self._warned.add(key)
        log.warning(message)


_RECORDERS: list[Recorder] = []  # strong references: a recorder lives until the process ends, to flush at exit


def all_recorders() -> list[Recorder]:
    return list(_RECORDERS)


def _after_fork_in_child() -> None:
    """In a forked child, every recorder starts afresh: what the parent had queued is the parent's to write."""
    for r in _RECORDERS:
        r._started = False
        r._worker = None
        r._buf = deque()
        r._markers = []
        r._wake = threading.Event()
        r._lock = threading.Lock()  # the parent's may have been held by another thread at the fork


os.register_at_fork(after_in_child=_after_fork_in_child)


@atexit.register
def _close_all() -> None:
    for r in all_recorders():
        try:
            r.close(timeout=5.0)
        except Exception:  # noqa: BLE001 - exiting: never raise from here
            pass
