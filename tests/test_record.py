"""inferplan.record: real boto3 against a loopback Bedrock Runtime stand-in; the recorded files read back by
`inferplan analyze` (the installed console script) give the exact dollars and call types of the calls made."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import threading
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer

import inferplan.record as rec
from inferplan.errors import ConfigError
from inferplan.record.sinks import CanonicalSink, parquet_schema

from .bedrock_standin import COMPLETION, ROUTED, StandIn, event, frame

ROOT = Path(__file__).resolve().parents[1]
INFERPLAN = ROOT / ".venv" / "bin" / "inferplan"
HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
NOVA = "amazon.nova-pro-v1:0"
AV = "bedrock-2023-05-31"


@pytest.fixture(scope="module")
def standin():
    with StandIn() as s:
        yield s


def client(standin, retries: int = 1):
    return boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=standin.endpoint,
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": retries, "mode": "standard"}))


def msgs(text: str) -> list[dict]:
    return [{"role": "user", "content": [{"text": text}]}]


def anthropic_body(text: str) -> str:
    return json.dumps({"anthropic_version": AV, "max_tokens": 64, "messages": [{"role": "user", "content": text}]})


def analyze(path: Path, *extra: str) -> dict:
    """`inferplan analyze PATH --json` through the installed console script."""
    out = subprocess.run([str(INFERPLAN), "analyze", str(path), "--json", *extra], capture_output=True, text=True)
    assert out.returncode == 0, f"inferplan analyze failed ({out.returncode}): {out.stderr[-2000:]}"
    return json.loads(out.stdout)


def analyze_here(path: Path, catalog, tags: tuple[str, ...] = ()) -> dict:
    """The same job in this process (the console script costs seconds of imports per run)."""
    from inferplan.analysis import analyze as run

    return run([path], catalog, tags=tags)


def rows(folder: Path) -> list[dict]:
    return [json.loads(line) for f in sorted(folder.glob("*.jsonl")) for line in f.read_text().splitlines()]


# -- the stand-in speaks real event-stream framing -------------------------------------------------------------
def test_frames_parse_with_botocores_own_decoder_and_checksums_are_real():
    data = event("metadata", {"usage": {"inputTokens": 3, "outputTokens": 2, "totalTokens": 5}})
    buf = EventStreamBuffer()
    buf.add_data(data)
    msg = next(iter(buf))
    assert msg.headers == {":event-type": "metadata", ":content-type": "application/json", ":message-type": "event"}
    assert json.loads(msg.payload)["usage"]["inputTokens"] == 3
    bad = bytearray(frame({":message-type": "event", ":event-type": "chunk"}, b'{"bytes":""}'))
    bad[-6] ^= 0xFF  # one payload byte flipped: the message CRC no longer matches
    buf = EventStreamBuffer()
    buf.add_data(bytes(bad))
    with pytest.raises(ChecksumMismatch):
        next(iter(buf))


# -- end to end: four operations, three ways to name a call type, exact dollars ------------------------------
def _make_calls(c) -> None:
    @rec.call_type("nightly-summary")
    def summarise() -> None:
        r = c.invoke_model_with_response_stream(modelId=HAIKU, body=anthropic_body("in=900 out=120 read=4000 w1h=2000"))
        assert sum(1 for _ in r["body"]) == 8

    with rec.call_type("rag-answer"):
        r = c.converse(modelId=HAIKU, messages=msgs("in=1200 out=80 read=5000 w5m=300 w1h=700"))
        assert r["output"]["message"]["content"][0]["text"] == COMPLETION
        r = c.invoke_model(modelId=HAIKU, body=anthropic_body("in=400 out=60 read=100 w5m=50 w1h=25"))
        assert json.loads(r["body"].read())["usage"]["cache_creation"]["ephemeral_1h_input_tokens"] == 25
        # the request's own metadata wins over the block; other metadata keys become tags
        r = c.converse_stream(modelId=NOVA, messages=msgs("in=2000 out=300 read=1000"),
                              requestMetadata={"call_type": "ticket-triage", "team": "support"},
                              serviceTier={"type": "flex"})
        assert [list(e)[0] for e in r["stream"]][-1] == "metadata"
        summarise()
        r = c.invoke_model(modelId=NOVA, body=json.dumps({"messages": msgs("in=333 out=44")}))
        assert json.loads(r["body"].read())["usage"]["inputTokens"] == 333
    r = c.converse(modelId=NOVA, messages=msgs("in=10 out=5"))  # outside any block
    with pytest.raises(c.exceptions.ThrottlingException), rec.call_type("rag-answer"):
        c.converse(modelId=HAIKU, messages=msgs("error=ThrottlingException"))


def _expected(catalog) -> dict[str, float]:
    """Tokens of each call times the catalog's rates, added up by hand per call type."""
    h = catalog.price("anthropic.claude-haiku-4-5-20251001-v1:0", "us", "us-east-1", "standard")
    n = catalog.price(NOVA, "in-region", "us-east-1", "standard")
    nf = catalog.price(NOVA, "in-region", "us-east-1", "flex")

    def usd(p, i=0, o=0, r=0, w5=0, w1=0):
        return (i * p.input_usd_per_mtok + o * p.output_usd_per_mtok + r * p.cache_read_usd_per_mtok
                + w5 * p.cache_write_5m_usd_per_mtok + w1 * (p.cache_write_1h_usd_per_mtok or 0)) / 1e6

    return {
        "rag-answer": usd(h, 1200, 80, 5000, 300, 700) + usd(h, 400, 60, 100, 50, 25) + usd(n, 333, 44),
        "ticket-triage": usd(nf, 2000, 300, 1000),
        "nightly-summary": usd(h, 900, 120, 4000, 0, 2000),
        "untagged": usd(n, 10, 5),
    }


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_recorded_files_give_exact_dollars_and_call_types(standin, tmp_path, catalog, fmt):
    c = client(standin)
    recorder = rec.install(c, sink=tmp_path, format=fmt, tags={"service": "api"})
    _make_calls(c)
    assert rec.flush()
    assert recorder.stats()["recorded"] == 7 and recorder.stats()["dropped"] == 0
    assert recorder.stats()["hook_errors"] == 0
    files = list(tmp_path.iterdir())
    assert files and all(f.suffix == f".{fmt}" for f in files)
    out = analyze(tmp_path, "--by-tag", "error_code") if fmt == "jsonl" else analyze_here(tmp_path, catalog,
                                                                                          ("error_code",))
    want = _expected(catalog)
    assert out["requests"] == 7
    # the JSON rounds dollars to 6 decimals: equal to within half of its last digit
    assert out["by_call_type"] == pytest.approx(want, rel=0, abs=5.01e-7)
    assert out["total_usd"] == pytest.approx(sum(want.values()), rel=0, abs=5.01e-7)
    assert set(out["by_call_type"]) == set(want)
    assert out["tokens"]["cache_write_1h"] == 700 + 25 + 2000
    assert out["tokens"]["cache_write_5m"] == 300 + 50
    errors = {r["key"]: r for r in out["breakdowns"]["tag:error_code"]}
    assert errors["ThrottlingException"]["requests"] == 1 and errors["ThrottlingException"]["total_usd"] == 0
    for f in files:  # no prompt or completion text anywhere
        blob = f.read_bytes()
        assert COMPLETION.encode() not in blob and b"in=1200" not in blob
    rec.uninstall(c)
    recorder.close()


def test_record_fields(standin, tmp_path):
    c = client(standin)
    recorder = rec.install(c, sink=tmp_path)
    _make_calls(c)
    recorder.flush()
    got = rows(tmp_path)
    by_op = {}
    for r in got:
        by_op.setdefault(r["tags"]["operation"], []).append(r)
    cs = by_op["ConverseStream"][0]
    assert cs["call_type"] == "ticket-triage" and cs["tier"] == "flex" and cs["tags"]["team"] == "support"
    assert "call_type" not in cs["tags"]
    assert 0 < float(cs["tags"]["ttft_ms"]) <= cs["latency_ms"]
    ims = by_op["InvokeModelWithResponseStream"][0]
    assert (ims["cache_write_5m_tokens"], ims["cache_write_1h_tokens"], ims["cache_read_tokens"]) == (0, 2000, 4000)
    assert "ttft_ms" in ims["tags"]
    assert {r["model"] for r in got} == {HAIKU, NOVA}
    assert all(r["region"] == "us-east-1" and r["request_id"] for r in got)
    failed = [r for r in got if "error_code" in r["tags"]]
    assert len(failed) == 1 and failed[0]["input_tokens"] == 0 and failed[0]["call_type"] == "rag-answer"
    assert all("ttft_ms" not in r["tags"] for r in by_op["Converse"] + by_op["InvokeModel"])
    recorder.close()


# -- streams: not buffered, errors, abandoned -------------------------------------------------------------------
def test_stream_is_handed_through_event_by_event(standin, tmp_path):
    c = client(standin)
    seen: list = []
    recorder = rec.install(c, sink=seen.extend)
    r = c.converse_stream(modelId=NOVA, messages=msgs("in=5 out=5 deltas=4"))
    it = iter(r["stream"])
    assert list(next(it)) == ["messageStart"]
    recorder.flush()
    assert seen == []  # nothing recorded before the metadata event arrives
    rest = [list(e)[0] for e in it]
    assert rest == ["contentBlockDelta"] * 4 + ["contentBlockStop", "messageStop", "metadata"]
    recorder.flush()
    assert len(seen) == 1 and seen[0].output_tokens == 5 and seen[0].error_code is None
    recorder.close()


def test_stream_errors_and_abandoned_streams(standin):
    c = client(standin)
    seen: list = []
    recorder = rec.install(c, sink=seen.extend)
    r = c.converse_stream(modelId=NOVA, messages=msgs("stream_error=modelStreamErrorException"))
    with pytest.raises(Exception, match="modelStreamErrorException"):
        for _ in r["stream"]:
            pass
    r = c.invoke_model_with_response_stream(modelId=HAIKU, body=anthropic_body("in=5 out=5 deltas=5"))
    for i, _ in enumerate(r["body"]):
        if i == 2:
            break
    del r
    recorder.flush()
    assert sorted(s.error_code for s in seen) == ["IncompleteStream", "modelStreamErrorException"]
    assert all(s.output_tokens == 0 for s in seen)
    recorder.close()


# -- production safety ------------------------------------------------------------------------------------------
class Boom:
    name = "boom"

    def write(self, records):
        raise OSError("disk full")

    def flush(self):
        pass

    def close(self):
        pass


def test_failing_sink_never_breaks_the_call_and_warns_once(standin, tmp_path, caplog):
    c = client(standin)
    recorder = rec.install(c, sink=[Boom(), tmp_path])
    with caplog.at_level(logging.WARNING, logger="inferplan.record"):
        for _ in range(3):
            assert c.converse(modelId=NOVA, messages=msgs("in=1 out=1"))["usage"]["inputTokens"] == 1
            recorder.flush()
    assert recorder.stats()["sink_errors"] == {"boom": 3}
    assert len([r for r in caplog.records if "boom" in r.getMessage()]) == 1
    assert len(rows(tmp_path)) == 3  # the other sink still got every record
    recorder.close()


def test_full_queue_drops_and_counts_without_blocking(standin):
    gate = threading.Event()
    got: list = []

    def slow(records):
        gate.wait(10)
        got.extend(records)

    c = client(standin)
    recorder = rec.install(c, sink=slow, queue_size=2, batch_size=1)
    for _ in range(8):
        c.converse(modelId=NOVA, messages=msgs("in=1 out=1"))
    s = recorder.stats()
    assert s["dropped"] >= 5 and s["recorded"] + s["dropped"] == 8
    gate.set()
    recorder.flush()
    assert len(got) == s["recorded"]
    recorder.close()


def test_threads_keep_their_own_call_types(standin):
    c = client(standin)
    seen: list = []
    recorder = rec.install(c, sink=seen.extend)

    def work(i: int) -> None:
        with rec.call_type(f"type-{i % 3}"):
            for _ in range(5):
                c.converse(modelId=NOVA, messages=msgs("in=2 out=1"))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    recorder.flush()
    counts: dict[str, int] = {}
    for s in seen:
        counts[s.call_type] = counts.get(s.call_type, 0) + 1
    assert counts == {"type-0": 10, "type-1": 10, "type-2": 10}
    recorder.close()


def test_async_decorator_and_nesting():
    @rec.call_type("outer")
    async def outer():
        assert rec.current() == "outer"
        with rec.call_type("inner"):
            assert rec.current() == "inner"
        return rec.current()

    assert asyncio.run(outer()) == "outer"
    assert rec.current() is None


# -- files: rotation, Parquet visibility, flush at exit -----------------------------------------------------------
def test_rotation_by_size_and_time(standin, tmp_path, catalog):
    c = client(standin)
    sink = CanonicalSink(tmp_path / "size", max_bytes=600)
    recorder = rec.install(c, sink=sink, batch_size=1)
    for _ in range(6):
        c.converse(modelId=NOVA, messages=msgs("in=3 out=2"))
        recorder.flush()
    assert len(list((tmp_path / "size").iterdir())) >= 3
    assert analyze_here(tmp_path / "size", catalog)["requests"] == 6
    recorder.close()
    timed = CanonicalSink(tmp_path / "time", format="parquet", max_age_s=0.05)
    recorder = rec.install(c, sink=timed, interval_s=0.02)
    c.converse(modelId=NOVA, messages=msgs("in=3 out=2"))
    deadline = threading.Event()
    for _ in range(100):  # the idle worker rotates (finishes) the Parquet file without a flush
        if list((tmp_path / "time").glob("*.parquet")):
            break
        deadline.wait(0.02)
    assert [f.name for f in (tmp_path / "time").iterdir() if not f.name.startswith(".")]
    recorder.close()


def test_parquet_is_hidden_until_finished_and_schema_is_canonical(standin, tmp_path):
    from inferplan.workload import SCHEMA

    for f in parquet_schema():
        assert SCHEMA.field(f.name).type == f.type
    c = client(standin)
    recorder = rec.install(c, sink=tmp_path, format="parquet")
    c.converse(modelId=NOVA, messages=msgs("in=3 out=2"))
    assert not list(tmp_path.glob("*.parquet"))  # still being written: only the hidden .part file
    recorder.flush()
    assert len(list(tmp_path.glob("*.parquet"))) == 1 and not list(tmp_path.glob(".*"))
    recorder.close()


def test_flush_at_exit(standin, tmp_path, catalog):
    script = f"""
import boto3, sys
sys.path.insert(0, {str(ROOT)!r})
import inferplan.record as rec
c = boto3.client("bedrock-runtime", region_name="eu-west-1", endpoint_url={standin.endpoint!r},
                 aws_access_key_id="t", aws_secret_access_key="t")
rec.install(c, sink={str(tmp_path)!r}, format="parquet")
with rec.call_type("exit-test"):
    c.converse(modelId={NOVA!r}, messages=[{{"role": "user", "content": [{{"text": "in=7 out=3"}}]}}])
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    out = analyze_here(tmp_path, catalog)
    assert out["requests"] == 1 and list(out["by_call_type"]) == ["exit-test"]


# -- installing --------------------------------------------------------------------------------------------------
def test_install_on_a_session_and_bad_targets(standin, tmp_path):
    session = boto3.Session(aws_access_key_id="t", aws_secret_access_key="t", region_name="us-west-2")
    seen: list = []
    recorder = rec.install(session, sink=seen.extend)
    c = session.client("bedrock-runtime", endpoint_url=standin.endpoint)
    c.converse(modelId=NOVA, messages=msgs("in=3 out=2"))
    recorder.flush()
    assert len(seen) == 1 and seen[0].region == "us-west-2"
    rec.uninstall(session)
    session.client("bedrock-runtime", endpoint_url=standin.endpoint).converse(modelId=NOVA, messages=msgs("in=1"))
    recorder.flush()
    assert len(seen) == 1
    with pytest.raises(ConfigError, match="bedrock-runtime"):
        rec.install(boto3.client("s3", region_name="us-east-1"), sink=tmp_path)
    with pytest.raises(ConfigError, match="sink"):
        rec.install(client(standin), sink=None)
    recorder.close()


def test_installing_twice_replaces_the_hook(standin):
    c = client(standin)
    first: list = []
    second: list = []
    r1 = rec.install(c, sink=first.extend)
    r2 = rec.install(c, sink=second.extend)
    c.converse(modelId=NOVA, messages=msgs("in=1 out=1"))
    rec.flush()
    assert (len(first), len(second)) == (0, 1)
    r1.close()
    r2.close()


# -- OpenTelemetry ------------------------------------------------------------------------------------------------
def test_otel_spans_and_token_metric_follow_the_genai_conventions(standin):
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind, StatusCode

    from inferplan.record.otel import OtelSink

    spans, reader = InMemorySpanExporter(), InMemoryMetricReader()
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(spans))
    mp = MeterProvider(metric_readers=[reader])
    c = client(standin)
    recorder = rec.install(c, sink=OtelSink(tracer_provider=tp, meter_provider=mp))
    with tp.get_tracer("app").start_as_current_span("handle-request") as parent, rec.call_type("rag-answer"):
        c.converse(modelId=HAIKU, messages=msgs("in=100 out=20 read=300 w5m=40 w1h=60"))
        r = c.converse_stream(modelId=NOVA, messages=msgs("in=7 out=3"))
        list(r["stream"])
        with pytest.raises(c.exceptions.ThrottlingException):
            c.converse(modelId=NOVA, messages=msgs("error=ThrottlingException"))
    recorder.flush()
    got = {s.attributes["aws.bedrock.operation"] + ("!" if s.attributes.get("error.type") else ""): s
           for s in spans.get_finished_spans() if s.name != "handle-request"}
    conv = got["Converse"]
    assert conv.name == f"chat {HAIKU}" and conv.kind == SpanKind.CLIENT
    assert conv.parent.span_id == parent.get_span_context().span_id
    a = conv.attributes
    assert a["gen_ai.provider.name"] == "aws.bedrock" and a["gen_ai.operation.name"] == "chat"
    assert a["gen_ai.request.model"] == HAIKU and a["inferplan.call_type"] == "rag-answer"
    assert a["gen_ai.usage.input_tokens"] == 100 + 300 + 40 + 60  # all input, cached included
    assert (a["gen_ai.usage.cache_read.input_tokens"], a["gen_ai.usage.cache_creation.input_tokens"]) == (300, 100)
    assert a["gen_ai.usage.output_tokens"] == 20 and a["cloud.region"] == "us-east-1" and a["aws.request_id"]
    assert conv.end_time > conv.start_time
    err = got["Converse!"]
    assert err.status.status_code == StatusCode.ERROR and err.attributes["error.type"] == "ThrottlingException"
    assert "gen_ai.usage.input_tokens" not in err.attributes
    points = {}
    for rm in reader.get_metrics_data().resource_metrics:
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                for p in m.data.data_points:
                    points[(m.name, m.unit, p.attributes.get("gen_ai.token.type"),
                            p.attributes["gen_ai.request.model"], p.attributes.get("error.type"))] = p
    assert points[("gen_ai.client.token.usage", "{token}", "input", HAIKU, None)].sum == 500
    assert points[("gen_ai.client.token.usage", "{token}", "output", NOVA, None)].sum == 3
    assert points[("gen_ai.client.operation.duration", "s", None, NOVA, None)].count == 1
    assert points[("gen_ai.client.operation.duration", "s", None, NOVA, "ThrottlingException")].count == 1
    assert points[("gen_ai.client.operation.time_to_first_chunk", "s", None, NOVA, None)].count == 1
    assert not [k for k in points if k[0] == "gen_ai.client.token.usage" and k[4]]  # no usage for a failure
    for s in spans.get_finished_spans():
        assert COMPLETION not in json.dumps(dict(s.attributes or {}))
    recorder.close()


# -- smaller shapes ------------------------------------------------------------------------------------------------
def test_invoke_metadata_header_router_text_keys_and_unread_body(standin):
    c = client(standin)
    seen: list = []
    recorder = rec.install(c, sink=seen.extend)
    meta = {"call_type": "classify", "team": "risk", "userPrompt": "short but text", "system": "x", "n": "1" * 300}
    c.invoke_model(modelId=NOVA, body=json.dumps({"messages": msgs("in=3 out=2")}), requestMetadata=json.dumps(meta))
    router = "arn:aws:bedrock:us-east-1:123456789012:default-prompt-router/anthropic.claude:1"
    c.converse(modelId=router, messages=msgs("in=4 out=2"))
    r = c.invoke_model(modelId=HAIKU, body=anthropic_body("in=5 out=2 w5m=3 w1h=4"))
    r["body"].close()  # never read: the 1-hour part is unknown, all writes count as 5-minute
    recorder.flush()
    inv, routed, unread = seen
    assert inv.call_type == "classify" and inv.metadata == {"team": "risk"}
    assert routed.canonical()["model"] == ROUTED and routed.canonical()["tags"]["model_id_called"] == router
    assert (unread.cache_write_5m_tokens, unread.cache_write_1h_tokens) == (7, 0) and unread.error_code is None
    recorder.close()


def test_text_keys_agree_with_the_readers():
    from inferplan.readers import _tags
    from inferplan.record import _hook

    assert _hook.TEXT_KEYS == _tags.TEXT_KEYS and _hook._MAX_TAG == _tags.MAX_VALUE
    assert [k for k in ("team", "systemPrompt", "user_input", "feature", "tenant", "query_id") if _hook.tag_key_ok(k)] \
        == ["team", "feature", "tenant"]


def test_async_streams_are_tapped_too(standin):
    """aiobotocore hands out streams to `async for`: the tap iterates them the same way (events here are a real
    ConverseStream's, parsed by botocore, replayed through an async iterator)."""
    from inferplan.record._hook import ConverseStreamTap, Hook, _Call

    c = client(standin)
    events = list(c.converse_stream(modelId=NOVA, messages=msgs("in=11 out=4"))["stream"])
    seen: list = []
    recorder = rec.Recorder([rec.FunctionSink(seen.extend)])

    async def replay():
        for e in events:
            yield e

    async def consume():
        call = _Call(0.0, 1.7e9, "ConverseStream", NOVA, "us-east-1", "async-test", "standard", {}, None)
        tap = ConverseStreamTap(replay(), Hook(recorder), call, "rid-1", "standard")
        return [list(e)[0] async for e in tap]

    kinds = asyncio.run(consume())
    recorder.flush()
    assert kinds == [list(e)[0] for e in events]
    assert len(seen) == 1 and (seen[0].input_tokens, seen[0].output_tokens) == (11, 4)
    assert seen[0].call_type == "async-test" and seen[0].ttft_ms is not None
    recorder.close()


def test_any_usage_is_recorded_in_disjoint_buckets_for_every_operation(standin):
    """Property: whatever counts the service reports, each operation records exactly those buckets."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    c = client(standin)
    seen: list = []
    recorder = rec.install(c, sink=seen.extend)
    counts = st.integers(0, 10**7)

    @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
    @given(i=counts, o=counts, r=counts, w5=counts, w1=counts, op=st.sampled_from(
        ["converse", "converse_stream", "invoke", "invoke_stream"]))
    def check(i, o, r, w5, w1, op):
        text = f"in={i} out={o} read={r} w5m={w5} w1h={w1} deltas=1"
        if op == "converse":
            c.converse(modelId=HAIKU, messages=msgs(text))
        elif op == "converse_stream":
            list(c.converse_stream(modelId=HAIKU, messages=msgs(text))["stream"])
        elif op == "invoke":
            c.invoke_model(modelId=HAIKU, body=anthropic_body(text))["body"].read()
        else:
            list(c.invoke_model_with_response_stream(modelId=HAIKU, body=anthropic_body(text))["body"])
        recorder.flush()
        got = seen.pop()
        assert (got.input_tokens, got.output_tokens, got.cache_read_tokens, got.cache_write_5m_tokens,
                got.cache_write_1h_tokens, got.error_code) == (i, o, r, w5, w1, None)

    check()
    recorder.close()


def test_a_forked_child_records_into_its_own_files(standin, tmp_path, catalog):
    import os

    c = client(standin)
    recorder = rec.install(c, sink=tmp_path, format="parquet")
    with rec.call_type("parent"):
        c.converse(modelId=NOVA, messages=msgs("in=5 out=1"))
    pid = os.fork()
    if pid == 0:  # the child: a call of its own, then exit without atexit handlers
        code = 1
        try:
            child = client(standin)
            rec.install(child, sink=tmp_path, format="parquet")
            with rec.call_type("child"):
                child.converse(modelId=NOVA, messages=msgs("in=7 out=2"))
            code = 0 if rec.flush() and all(r.close() for r in rec._recorder.all_recorders()) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    recorder.close()
    out = analyze_here(tmp_path, catalog)
    assert out["requests"] == 2 and set(out["by_call_type"]) == {"parent", "child"}
    assert out["tokens"]["input"] == 12
