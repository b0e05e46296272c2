"""botocore event handlers for the four Bedrock Runtime inference calls.

Per call, on the caller's thread: `before-parameter-build` notes the start (clocks, model id as called, region,
call type, requested tier, request metadata) in botocore's per-call request context; `after-call` reads the
usage from the parsed response (Converse), its headers (InvokeModel) or wraps the event stream so the usage is
taken from its last event as the caller reads it (the streams are never buffered); `after-call-error` records
a call that failed before any response. Every handler swallows its own errors (counted by the recorder):
recording never changes what the caller gets.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from . import _usage
from ._calltype import current
from ._recorder import CallRecord, Recorder
from ._usage import Usage

OPS = ("InvokeModel", "InvokeModelWithResponseStream", "Converse", "ConverseStream")
SERVICE = "bedrock-runtime"
_KEY = "inferplan.record"
_MAX_TAG = 256  # longer metadata values are left out: they may be text
# metadata keys that name text are left out too: the readers' rule (readers/_tags.py), kept here so the hook
# never imports the engine; a test checks the two lists agree
TEXT_KEYS = ("prompt", "prompts", "message", "messages", "content", "contents", "input", "inputs", "text",
             "system", "completion", "completions", "response", "responses", "output", "outputs", "query",
             "queries")
_TEXT_KEY = re.compile(r"(^|[^a-z])(" + "|".join(TEXT_KEYS) + r")([^a-z]|$)")
_HUMP = re.compile(r"([a-z0-9])([A-Z])")
_key_ok: dict[str, bool] = {}


def tag_key_ok(key: str) -> bool:
    """Whether a metadata key may be kept as a tag (not `prompt`, `system_prompt`, `userInput`, ...)."""
    ok = _key_ok.get(key)
    if ok is None:
        ok = not _TEXT_KEY.search(_HUMP.sub(r"\1_\2", key).lower())
        if len(_key_ok) < 10_000:
            _key_ok[key] = ok
    return ok
_perf = time.perf_counter
_wall = time.time


class _Call:
    """What `before` learnt about one call (kept in botocore's request context until the response)."""

    __slots__ = ("t0", "wall", "op", "model", "region", "call_type", "tier", "meta", "otel")

    def __init__(self, t0: float, wall: float, op: str, model: str | None, region: str | None, call_type: str,
                 tier: str, meta: dict[str, str], otel: Any) -> None:
        self.t0, self.wall, self.op, self.model, self.region = t0, wall, op, model, region
        self.call_type, self.tier, self.meta, self.otel = call_type, tier, meta, otel


def _error_code(exc: BaseException) -> str:
    resp = getattr(exc, "response", None)
    if isinstance(resp, Mapping):
        code = (resp.get("Error") or {}).get("Code")
        if code:
            return str(code)
    return type(exc).__name__


class Hook:
    """The handlers registered on a client or session; one per `install()`."""

    def __init__(self, recorder: Recorder, tags: Mapping[str, str] | None = None) -> None:
        self.recorder = recorder
        self.tags = {str(k): str(v) for k, v in (tags or {}).items()}
        self.keys = recorder.metadata_keys
        self.default = recorder.default_call_type

    # -- before the request ------------------------------------------------------------------------------
    def before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        try:
            t0, wall = _perf(), _wall()
            meta = params.get("requestMetadata")
            if isinstance(meta, str):  # InvokeModel: the X-Amzn-Bedrock-Request-Metadata header, JSON text
                try:
                    meta = json.loads(meta) if meta else None
                except ValueError:
                    meta = None
            if not isinstance(meta, dict):
                meta = None
            ct = None
            tags = self.tags  # shared, never mutated: copied only when the request adds metadata
            if meta:
                tags = dict(tags)
                for k in self.keys:
                    v = meta.get(k)
                    if isinstance(v, str) and v:
                        ct = v
                        break
                for k, v in meta.items():
                    if (k not in self.keys and isinstance(k, str) and isinstance(v, str) and len(v) <= _MAX_TAG
                            and tag_key_ok(k)):
                        tags[k] = v
            otel = None
            if self.recorder.wants_context:
                from opentelemetry import context as otel_context

                otel = otel_context.get_current()
            st = params.get("serviceTier")
            tier = (_usage.tier(st) or "standard") if st else "standard"
            context[_KEY] = _Call(t0, wall, model.name, params.get("modelId"), context.get("client_region"),
                                  ct or current() or self.default, tier, tags, otel)
        except Exception as exc:  # noqa: BLE001 - never break the caller
            self.recorder.hook_error(exc)

    # -- after the response --------------------------------------------------------------------------------
    def after(self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any],
              **_: Any) -> None:
        call = context.pop(_KEY, None)
        if call is None:
            return
        try:
            md = parsed.get("ResponseMetadata") or {}
            rid = md.get("RequestId")
            if http_response.status_code >= 300:
                code = (parsed.get("Error") or {}).get("Code") or str(http_response.status_code)
                self.emit(call, rid, None, call.tier, error=code)
                return
            op = call.op
            raw_tier = parsed.get("serviceTier")
            if op == "Converse":  # the usage dict (numbers only) is read by the writer thread, not here
                trace = parsed.get("trace")
                invoked = (trace.get("promptRouter") or {}).get("invokedModelId") if trace else None
                self.emit(call, rid, parsed.get("usage"), call.tier, kind="converse", raw_tier=raw_tier,
                          invoked=invoked)
                return
            tier = _usage.tier(raw_tier) or call.tier
            if op == "InvokeModel":
                headers = md.get("HTTPHeaders") or {}
                writes = headers.get(_usage.H_CW)
                body = parsed.get("body")
                if writes and writes != "0" and _is_botocore_body(body):
                    # the 1-hour part of the writes is only in the body: watch it as the caller reads it
                    usage = _usage.from_headers(headers)[0]
                    if usage is not None:
                        parsed["body"] = _body_tap(body, self, call, rid, usage, tier)
                        return
                # no writes, or a body we do not know (aiobotocore's): writes count as 5-minute
                self.emit(call, rid, headers, tier, kind="headers")
            elif op == "ConverseStream" and parsed.get("stream") is not None:
                parsed["stream"] = ConverseStreamTap(parsed["stream"], self, call, rid, tier)
            elif op == "InvokeModelWithResponseStream" and parsed.get("body") is not None:
                parsed["body"] = InvokeStreamTap(parsed["body"], self, call, rid, tier)
        except Exception as exc:  # noqa: BLE001
            self.recorder.hook_error(exc)

    def after_error(self, exception: BaseException, context: dict[str, Any], **_: Any) -> None:
        call = context.pop(_KEY, None)
        if call is None:
            return
        try:
            self.emit(call, None, None, call.tier, error=_error_code(exception))
        except Exception as exc:  # noqa: BLE001
            self.recorder.hook_error(exc)

    def emit(self, call: _Call, rid: str | None, usage: Any, tier: str, *, error: str | None = None,
             ttft: float | None = None, invoked: str | None = None, kind: str = "usage",
             raw_tier: Any = None) -> None:
        """Queue what the writer thread needs to build the record: the caller's thread only reads the clock."""
        self.recorder.record((_build, call, rid, kind, usage, tier, raw_tier, error, ttft, invoked, _perf()))


def _build(call: _Call, rid: str | None, kind: str, src: Any, tier: str, raw_tier: Any, error: str | None,
           ttft: float | None, invoked: str | None, t_end: float) -> CallRecord:
    """The record of one call, built on the writer thread from what `emit` queued. `kind` says what `src` is:
    a Converse `usage` dict, InvokeModel's response headers, a stream's last chunk (bytes, 1-hour writes), or a
    `Usage`."""
    if kind == "converse":
        usage = _usage.converse(src)
    elif kind == "headers":
        usage = _usage.from_headers(src)[0]
    elif kind == "metrics":
        data, w1h = src
        m = json.loads(data)["amazon-bedrock-invocationMetrics"]
        usage = _usage.with_1h(_usage.invocation_metrics(m), w1h)
    else:
        usage = src
    if raw_tier is not None:
        tier = _usage.tier(raw_tier) or tier
    if usage is None and error is None:
        error = "UsageMissing"  # a success whose usage we could not see: $0 here, so say so
    u = usage or Usage()
    return CallRecord(
        ts=call.wall, operation=call.op, model=call.model, region=call.region, call_type=call.call_type,
        tier=tier, request_id=rid, input_tokens=u.input, cache_read_tokens=u.cache_read,
        cache_write_5m_tokens=u.cache_write_5m, cache_write_1h_tokens=u.cache_write_1h, output_tokens=u.output,
        latency_ms=(t_end - call.t0) * 1000.0,
        ttft_ms=None if ttft is None else (ttft - call.t0) * 1000.0, error_code=error,
        invoked_model=invoked if invoked and invoked != call.model else None, metadata=call.meta,
        otel_context=call.otel)


# -- InvokeModel body with cache writes: the 1-hour split is read as the caller reads the body -------------------
def _is_botocore_body(body: Any) -> bool:
    from botocore.response import StreamingBody

    return isinstance(body, StreamingBody) and hasattr(body, "_raw_stream")


def _body_tap(body: Any, hook: Hook, call: _Call, rid: str | None, usage: Usage, tier: str) -> Any:
    from botocore.response import StreamingBody

    class BodyTap(StreamingBody):  # a StreamingBody still, for callers that check
        def __init__(self) -> None:
            super().__init__(body._raw_stream, body._content_length)
            self._seen = bytearray()
            self._done = False
            self._len = int(body._content_length) if body._content_length is not None else None

        def read(self, amt: int | None = None) -> bytes:
            data = super().read(amt)
            if not self._done:
                self._seen += data
                if amt is None or not data or (self._len is not None and self._amount_read >= self._len):
                    self._finish(_usage.one_hour_in(bytes(self._seen)))
            return data

        def close(self) -> None:
            try:
                super().close()
            finally:
                self._finish(None)

        def _finish(self, w1h: int | None) -> None:
            if self._done:
                return
            self._done = True
            self._seen = bytearray()
            try:  # not read through: the writes stay counted 5-minute
                hook.emit(call, rid, usage if w1h is None else _usage.with_1h(usage, w1h), tier)
            except Exception as exc:  # noqa: BLE001
                hook.recorder.hook_error(exc)

        def __del__(self) -> None:
            self._finish(None)

    return BodyTap()


# -- streams: wrap the event stream, take the usage from its last event ---------------------------------------
class _StreamTap:
    """Iterates the botocore EventStream for the caller; everything else is delegated to it.

    Per event it does as little as it can: until the first token it looks at each event (time to first token,
    Anthropic's `message_start`), after that it only keeps a reference to the latest one. The usage is read
    from the last event when the stream ends (or the caller stops reading): the metadata event is always last.
    """

    def __init__(self, inner: Any, hook: Hook, call: _Call, rid: str | None, tier: str) -> None:
        self._inner = inner
        self._hook = hook
        self._call = call
        self._rid = rid
        self._tier = tier
        self._first: float | None = None
        self._done = False

    def __iter__(self) -> Iterator[dict[str, Any]]:
        it = iter(self._inner)
        last = None
        ended = False
        try:
            if self._first is None:
                for event in it:
                    last = event
                    if self._early(event):
                        self._first = _perf()
                        yield event
                        break
                    yield event
            for event in it:
                last = event
                yield event
            ended = True
        except GeneratorExit:
            raise
        except Exception as exc:
            self._finish(None, error=_error_code(exc))  # an exception event (throttling, model error)
            raise
        finally:
            self._end(last, ended)

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._aiter()

    async def _aiter(self) -> AsyncIterator[dict[str, Any]]:
        """The same for an asynchronous stream (aiobotocore's `async for`)."""
        last = None
        ended = False
        try:
            async for event in self._inner:
                last = event
                if self._first is None and self._early(event):
                    self._first = _perf()
                yield event
            ended = True
        except GeneratorExit:
            raise
        except Exception as exc:
            self._finish(None, error=_error_code(exc))
            raise
        finally:
            self._end(last, ended)

    def _early(self, event: dict[str, Any]) -> bool:
        """Look at an event before the first token; True when it carries the first token."""
        raise NotImplementedError

    def _usage(self, last: dict[str, Any]) -> tuple[str, Any, Any, str | None] | None:
        """(kind, source, raw tier, invoked model) of the usage in the stream's last event (read by the writer
        thread), or None when that event has none."""
        raise NotImplementedError

    def _end(self, last: dict[str, Any] | None, ended: bool) -> None:
        if self._done:
            return
        try:
            got = self._usage(last) if last is not None else None
        except Exception as exc:  # noqa: BLE001
            self._done = True
            self._hook.recorder.hook_error(exc)
            return
        if got is None:
            self._finish(None, error="UsageMissing" if ended else "IncompleteStream")
        else:
            self._finish(got[1], kind=got[0], raw_tier=got[2], invoked=got[3])

    def _finish(self, usage: Any, *, error: str | None = None, kind: str = "usage", raw_tier: Any = None,
                invoked: str | None = None) -> None:
        if self._done:
            return
        self._done = True
        try:
            self._hook.emit(self._call, self._rid, usage, self._tier, error=error, ttft=self._first,
                            invoked=invoked, kind=kind, raw_tier=raw_tier)
        except Exception as exc:  # noqa: BLE001
            self._hook.recorder.hook_error(exc)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._finish(None, error="IncompleteStream")

    def __getattr__(self, name: str) -> Any:  # only for what the tap does not have: the stream's own API
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._inner, name)

    def __del__(self) -> None:
        try:
            self._finish(None, error="IncompleteStream")
        except Exception:  # noqa: BLE001
            pass


class ConverseStreamTap(_StreamTap):
    """ConverseStream: the first `contentBlockDelta` is the first token; the usage is in the `metadata` event."""

    def _early(self, event: dict[str, Any]) -> bool:
        return "contentBlockDelta" in event

    def _usage(self, last: dict[str, Any]) -> tuple[str, Any, Any, str | None] | None:
        m = last.get("metadata")
        if m is None or not m.get("usage"):
            return None
        trace = m.get("trace")
        invoked = (trace.get("promptRouter") or {}).get("invokedModelId") if trace else None
        return "converse", m["usage"], m.get("serviceTier"), invoked


class InvokeStreamTap(_StreamTap):
    """InvokeModelWithResponseStream: the first chunk that is not a start marker is the first token; the usage
    is the last chunk's `amazon-bedrock-invocationMetrics`; the 1-hour writes are in the first chunk (Anthropic's
    `message_start`)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._w1h: int | None = None

    def _early(self, event: dict[str, Any]) -> bool:
        data = (event.get("chunk") or {}).get("bytes") or b""
        if self._w1h is None:
            self._w1h = _usage.one_hour_in(data)
        head = data[:48]
        return b'_start"' not in head and b'Start"' not in head

    def _usage(self, last: dict[str, Any]) -> tuple[str, Any, Any, str | None] | None:
        data = (last.get("chunk") or {}).get("bytes") or b""
        if b"amazon-bedrock-invocationMetrics" not in data:
            return None
        return "metrics", (data, self._w1h or 0), None, None
