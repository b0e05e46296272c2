"""A local stand-in for Bedrock Runtime on the loopback address, for boto3 tests and `bench/record.py`.

It answers the four inference calls as Bedrock does: JSON bodies (Converse; InvokeModel with an Anthropic Messages
or a Nova body) with the usage headers InvokeModel carries, and AWS event-stream framing (prelude with total and
header lengths, prelude CRC32, typed headers, payload, message CRC32) for ConverseStream and
InvokeModelWithResponseStream, chunked over HTTP/1.1. Errors come as Bedrock sends them: a status code with
`x-amzn-errortype`, or an exception message in the middle of a stream.

What a call returns is read from the request text, so a test states it where it makes the call:
`in=1200 out=80 read=500 w5m=100 w1h=300` (token counts), `error=ThrottlingException` (fail with 429),
`stream_error=modelStreamErrorException` (fail after two stream events), `deltas=N` (stream events).
Every answer contains the text `COMPLETION-TEXT` so tests can check that no completion text is recorded.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import struct
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

COMPLETION = "COMPLETION-TEXT"
ROUTED = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1:0"
_ERRORS = {"ThrottlingException": 429, "ValidationException": 400, "AccessDeniedException": 403,
           "ServiceUnavailableException": 503, "ModelTimeoutException": 408}


# -- AWS event-stream framing (the vnd.amazon.eventstream binary format) -------------------------------------
def _header(name: str, value: str) -> bytes:
    n, v = name.encode(), value.encode()
    return struct.pack("!B", len(n)) + n + struct.pack("!BH", 7, len(v)) + v  # type 7: string


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message: prelude (total length, headers length, CRC32 of those 8 bytes), headers,
    payload, CRC32 of everything before it."""
    hb = b"".join(_header(k, v) for k, v in headers.items())
    total = 4 + 4 + 4 + len(hb) + len(payload) + 4
    prelude = struct.pack("!II", total, len(hb))
    prelude += struct.pack("!I", binascii.crc32(prelude) & 0xFFFFFFFF)
    body = prelude + hb + payload
    return body + struct.pack("!I", binascii.crc32(body) & 0xFFFFFFFF)


def event(kind: str, payload: dict[str, Any]) -> bytes:
    return frame({":event-type": kind, ":content-type": "application/json", ":message-type": "event"},
                 json.dumps(payload).encode())


def exception(kind: str, message: str) -> bytes:
    return frame({":exception-type": kind, ":content-type": "application/json", ":message-type": "exception"},
                 json.dumps({"message": message}).encode())


# -- what the request asks for -----------------------------------------------------------------------------
def _ask(body: bytes) -> dict[str, Any]:
    text = body.decode("utf-8", "replace")

    def num(key: str, default: int = 0) -> int:
        m = re.search(rf"\b{key}=(\d+)", text)
        return int(m.group(1)) if m else default

    def word(key: str) -> str | None:
        m = re.search(rf"\b{key}=([A-Za-z]+)", text)
        return m.group(1) if m else None

    return {"in": num("in", 10), "out": num("out", 5), "read": num("read"), "w5m": num("w5m"), "w1h": num("w1h"),
            "deltas": num("deltas", 3), "error": word("error"), "stream_error": word("stream_error")}


def _tier(body: bytes, headers: Any, op: str) -> str | None:
    if op in ("invoke", "invoke-with-response-stream"):
        return headers.get("X-Amzn-Bedrock-Service-Tier")
    try:
        st = json.loads(body).get("serviceTier")
    except (ValueError, AttributeError):
        return None
    return st.get("type") if isinstance(st, dict) else None


def _converse_usage(a: dict[str, Any]) -> dict[str, Any]:
    w = a["w5m"] + a["w1h"]
    u: dict[str, Any] = {"inputTokens": a["in"], "outputTokens": a["out"],
                         "totalTokens": a["in"] + a["out"] + a["read"] + w}
    if a["read"] or w:
        u["cacheReadInputTokens"] = a["read"]
        u["cacheWriteInputTokens"] = w
    if w:  # sorted by TTL, 1h before 5m; only TTLs that were written
        u["cacheDetails"] = [d for d in ({"ttl": "1h", "inputTokens": a["w1h"]}, {"ttl": "5m", "inputTokens": a["w5m"]})
                             if d["inputTokens"]]
    return u


def _anthropic_usage(a: dict[str, Any], output: int) -> dict[str, Any]:
    return {"input_tokens": a["in"], "cache_creation_input_tokens": a["w5m"] + a["w1h"],
            "cache_read_input_tokens": a["read"],
            "cache_creation": {"ephemeral_5m_input_tokens": a["w5m"], "ephemeral_1h_input_tokens": a["w1h"]},
            "output_tokens": output}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, chunked streams
    disable_nagle_algorithm = True

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        m = re.fullmatch(r"/model/(.+)/(converse|converse-stream|invoke|invoke-with-response-stream)", self.path)
        if not m:
            return self._json(404, {"message": "unknown path"}, error="ResourceNotFoundException")
        model, op = unquote(m.group(1)), m.group(2)
        a = _ask(body)
        self.server.calls.append({"op": op, "model": model, "ask": a})  # type: ignore[attr-defined]
        if a["error"]:
            return self._json(_ERRORS.get(a["error"], 400), {"message": "stand-in error"}, error=a["error"])
        tier = _tier(body, self.headers, op)
        anthropic = "anthropic." in model
        if op == "converse":
            out = {"output": {"message": {"role": "assistant", "content": [{"text": COMPLETION}]}},
                   "stopReason": "end_turn", "usage": _converse_usage(a), "metrics": {"latencyMs": 7}}
            if tier:
                out["serviceTier"] = {"type": tier}
            if "prompt-router" in model:  # a prompt router says which model it chose
                out["trace"] = {"promptRouter": {"invokedModelId": ROUTED}}
            return self._json(200, out)
        if op == "invoke":
            if anthropic:
                out = {"id": "msg_bdrk_01", "type": "message", "role": "assistant", "model": "claude",
                       "content": [{"type": "text", "text": COMPLETION}], "stop_reason": "end_turn",
                       "stop_sequence": None, "usage": _anthropic_usage(a, a["out"])}
            else:  # Nova
                out = {"output": {"message": {"role": "assistant", "content": [{"text": COMPLETION}]}},
                       "stopReason": "end_turn", "usage": {"inputTokens": a["in"], "outputTokens": a["out"],
                                                           "totalTokens": a["in"] + a["out"]}}
            h = {"X-Amzn-Bedrock-Input-Token-Count": a["in"], "X-Amzn-Bedrock-Output-Token-Count": a["out"],
                 "X-Amzn-Bedrock-Invocation-Latency": 7}
            if a["read"] or a["w5m"] or a["w1h"]:
                h["X-Amzn-Bedrock-Cache-Read-Input-Token-Count"] = a["read"]
                h["X-Amzn-Bedrock-Cache-Write-Input-Token-Count"] = a["w5m"] + a["w1h"]
            if tier:
                h["X-Amzn-Bedrock-Service-Tier"] = tier
            return self._json(200, out, headers=h)
        frames = self._converse_events(a, tier) if op == "converse-stream" else self._invoke_events(a, anthropic)
        self._stream(frames, a, invoke=op == "invoke-with-response-stream", tier=tier)

    # -- answers -----------------------------------------------------------------------------------------
    def _json(self, status: int, obj: dict[str, Any], *, error: str | None = None,
              headers: dict[str, Any] | None = None) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if error:
            self.send_header("x-amzn-ErrorType", f"{error}:http://internal.amazon.com/coral/com.amazon.bedrock/")
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        self.wfile.write(data)

    def _converse_events(self, a: dict[str, Any], tier: str | None) -> list[bytes]:
        p = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"  # Bedrock pads events with a `p` field
        ev = [event("messageStart", {"p": p[:7], "role": "assistant"})]
        ev += [event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": f"{COMPLETION} {i}"},
                                            "p": p[:5]}) for i in range(a["deltas"])]
        ev += [event("contentBlockStop", {"contentBlockIndex": 0, "p": p[:9]}),
               event("messageStop", {"stopReason": "end_turn", "p": p[:3]})]
        meta: dict[str, Any] = {"usage": _converse_usage(a), "metrics": {"latencyMs": 9}, "p": p[:11]}
        if tier:
            meta["serviceTier"] = {"type": tier}
        return [*ev, event("metadata", meta)]

    def _invoke_events(self, a: dict[str, Any], anthropic: bool) -> list[bytes]:
        def chunk(obj: dict[str, Any]) -> bytes:
            return event("chunk", {"bytes": base64.b64encode(json.dumps(obj).encode()).decode(), "p": "abcd"})

        metrics = {"inputTokenCount": a["in"], "outputTokenCount": a["out"], "invocationLatency": 9,
                   "firstByteLatency": 3, "cacheReadInputTokenCount": a["read"],
                   "cacheWriteInputTokenCount": a["w5m"] + a["w1h"]}
        if anthropic:
            ev = [chunk({"type": "message_start", "message": {
                "id": "msg_bdrk_01", "type": "message", "role": "assistant", "model": "claude", "content": [],
                "stop_reason": None, "stop_sequence": None, "usage": _anthropic_usage(a, 1)}}),
                  chunk({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})]
            ev += [chunk({"type": "content_block_delta", "index": 0,
                          "delta": {"type": "text_delta", "text": f"{COMPLETION} {i}"}}) for i in range(a["deltas"])]
            ev += [chunk({"type": "content_block_stop", "index": 0}),
                   chunk({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                          "usage": {"output_tokens": a["out"]}}),
                   chunk({"type": "message_stop", "amazon-bedrock-invocationMetrics": metrics})]
            return ev
        ev = [chunk({"messageStart": {"role": "assistant"}})]
        ev += [chunk({"contentBlockDelta": {"delta": {"text": f"{COMPLETION} {i}"}, "contentBlockIndex": 0}})
               for i in range(a["deltas"])]
        return [*ev, chunk({"contentBlockStop": {"contentBlockIndex": 0}}),
                chunk({"messageStop": {"stopReason": "end_turn"}, "amazon-bedrock-invocationMetrics": metrics})]

    def _stream(self, frames: list[bytes], a: dict[str, Any], *, invoke: bool, tier: str | None) -> None:
        if a["stream_error"]:
            frames = [*frames[:2], exception(a["stream_error"], "stand-in stream error")]
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.amazon.eventstream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if invoke:
            self.send_header("X-Amzn-Bedrock-Content-Type", "application/json")
            if tier:
                self.send_header("X-Amzn-Bedrock-Service-Tier", tier)
        self.end_headers()
        for f in frames:
            self.wfile.write(f"{len(f):x}\r\n".encode() + f + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class StandIn:
    """The server on 127.0.0.1 (a free port), in a daemon thread; `endpoint` is its URL."""

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.calls = []  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def calls(self) -> list[dict[str, Any]]:
        return self.server.calls  # type: ignore[attr-defined]

    def __enter__(self) -> StandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve_forever(port_out: Any) -> None:
    """Run the stand-in in this process (for a benchmark's separate server process); sends the port."""
    s = StandIn()
    port_out.put(s.server.server_address[1])
    s.server.serve_forever()
