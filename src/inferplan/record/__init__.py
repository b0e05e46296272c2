"""Live usage records from boto3: one line in the application, canonical usage files for `inferplan analyze`.

    import boto3, inferplan.record
    client = boto3.client("bedrock-runtime")
    inferplan.record.install(client, sink="usage/")       # or a boto3 Session, or boto3 itself

    with inferplan.record.call_type("rag-answer"):       # or @inferplan.record.call_type("rag-answer")
        client.converse(modelId="us.anthropic.claude-haiku-4-5-20251001-v1:0", messages=[...])

It hooks botocore's events for InvokeModel, InvokeModelWithResponseStream, Converse and ConverseStream and
records per call: start time, request id, model id as called, region, call type, token usage (cache reads,
5-minute and 1-hour cache writes), service tier, latency, time to first token (streams), the error code of a
failed call. Never prompt or completion text. It imports only the standard library and botocore (pyarrow for
Parquet, OpenTelemetry for `OtelSink`), not the planner.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from ..errors import ConfigError
from ._calltype import call_type, current
from ._hook import OPS, SERVICE, Hook
from ._recorder import CallRecord, Recorder, Sink, all_recorders
from .sinks import CanonicalSink, FunctionSink

__all__ = ["install", "uninstall", "flush", "stats", "call_type", "current", "CanonicalSink", "FunctionSink",
           "CallRecord", "Recorder", "Sink"]

ENV_DIR = "INFERPLAN_RECORD_DIR"
_UID = "inferplan.record"
_EVENTS = ("before-parameter-build", "after-call", "after-call-error")


def _emitter(target: Any) -> Any:
    """The botocore event emitter of a client, a boto3 or botocore session, or boto3 itself (its default
    session); a client must be a bedrock-runtime one."""
    if target is None or getattr(target, "__name__", None) == "boto3":
        import boto3

        target = boto3._get_default_session()  # what boto3.client(...) uses
    meta = getattr(target, "meta", None)
    if meta is not None and hasattr(meta, "events") and hasattr(meta, "service_model"):
        name = meta.service_model.service_name
        if name != SERVICE:
            raise ConfigError(f"inferplan.record.install: this is a {name!r} client; pass a bedrock-runtime client "
                              "(boto3.client('bedrock-runtime')) or a session")
        return meta.events
    events = getattr(target, "events", None)  # boto3.Session
    if events is not None and hasattr(events, "register"):
        return events
    if hasattr(target, "register") and hasattr(target, "unregister"):  # botocore Session or an emitter
        return target
    raise ConfigError(f"inferplan.record.install: cannot hook a {type(target).__name__}; pass a bedrock-runtime "
                      "client, a boto3.Session, a botocore session or the boto3 module")


def _sinks(sink: Any, fmt: str) -> list[Sink]:
    if sink is None:
        sink = os.environ.get(ENV_DIR)
        if not sink:
            raise ConfigError(f"inferplan.record.install: pass sink= (a folder for usage files, or a sink object), "
                              f"or set {ENV_DIR}")
    items = list(sink) if isinstance(sink, list | tuple) else [sink]
    out: list[Sink] = []
    for s in items:
        if isinstance(s, str | os.PathLike):
            out.append(CanonicalSink(s, format=fmt))  # type: ignore[arg-type]
        elif all(hasattr(s, m) for m in ("write", "flush", "close")):
            out.append(s)
        elif callable(s):
            out.append(FunctionSink(s))
        else:
            raise ConfigError(f"inferplan.record.install: sink {s!r} is not a folder, a sink (write/flush/close) "
                              "or a function")
    return out


def install(target: Any = None, sink: str | os.PathLike[str] | Sink | Callable[[list[CallRecord]], Any]
            | Iterable[Any] | None = None, *, format: str = "jsonl", tags: dict[str, str] | None = None,
            queue_size: int = 10_000, batch_size: int = 1_000, interval_s: float = 1.0,
            default_call_type: str = "untagged", metadata_keys: tuple[str, ...] = ("call_type", "feature"),
            ) -> Recorder:
    """Record every Bedrock Runtime inference call made through `target` into `sink`; returns the recorder.

    `target`: a bedrock-runtime client (calls on it from now on), a boto3/botocore session (clients created
    from it afterwards) or the boto3 module (its default session). `sink`: a folder (canonical files, `format`
    "jsonl" or "parquet"), a sink object, a function taking a list of `CallRecord`, or a list of these;
    default: the folder in $INFERPLAN_RECORD_DIR. `tags` are added to every record (service, team).
    The call type is the request's `requestMetadata[k]` for the first of `metadata_keys` present, else the
    innermost `call_type(...)` block, else `default_call_type`. Installing again on the same target replaces
    the earlier hook.
    """
    if format not in ("jsonl", "parquet"):
        raise ConfigError(f"inferplan.record.install: format must be jsonl or parquet, not {format!r}")
    emitter = _emitter(target)
    recorder = Recorder(_sinks(sink, format), queue_size=queue_size, batch_size=batch_size, interval_s=interval_s,
                        default_call_type=default_call_type, metadata_keys=tuple(metadata_keys))
    hook = Hook(recorder, tags)
    _unregister(emitter)
    for op in OPS:
        for ev, handler in zip(_EVENTS, (hook.before, hook.after, hook.after_error), strict=True):
            emitter.register(f"{ev}.{SERVICE}.{op}", handler, unique_id=f"{_UID}:{ev}:{op}")
    return recorder


def _unregister(emitter: Any) -> None:
    for op in OPS:
        for ev in _EVENTS:
            emitter.unregister(f"{ev}.{SERVICE}.{op}", unique_id=f"{_UID}:{ev}:{op}")


def uninstall(target: Any = None) -> None:
    """Stop recording calls through `target` (what is queued is still written)."""
    _unregister(_emitter(target))


def flush(timeout: float = 10.0) -> bool:
    """Write out everything queued by every recorder; True when all finished within `timeout` seconds each."""
    return all([r.flush(timeout) for r in all_recorders()])


def stats() -> dict[str, Any]:
    """Counts over all recorders: recorded, written, dropped (queue full), hook_errors, sink_errors by sink."""
    out: dict[str, Any] = {"recorded": 0, "written": 0, "dropped": 0, "hook_errors": 0, "queued": 0,
                           "sink_errors": {}}
    for r in all_recorders():
        s = r.stats()
        for k in ("recorded", "written", "dropped", "hook_errors", "queued"):
            out[k] += s[k]
        for k, v in s["sink_errors"].items():
            out["sink_errors"][k] = out["sink_errors"].get(k, 0) + v
    return out
