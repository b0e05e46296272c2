"""OpenTelemetry sink: one CLIENT span per call and the GenAI client metrics, per the OpenTelemetry GenAI semantic
conventions (AWS Bedrock flavour; development status, as of semantic-conventions 1.37+).

Span `chat {model}` (or `embeddings {model}`), kind CLIENT, from the call's start to its end, with
`gen_ai.operation.name`, `gen_ai.provider.name` = `aws.bedrock`, `gen_ai.request.model`,
`gen_ai.usage.input_tokens` (all input, cached included, as the conventions ask),
`gen_ai.usage.output_tokens`, `gen_ai.usage.cache_read.input_tokens`, `gen_ai.usage.cache_creation.input_tokens`,
`gen_ai.response.model` for a prompt router's choice, `aws.request_id`, `cloud.region`, `error.type` and an
error status for a failed call; inferplan's own `inferplan.call_type`, `inferplan.service_tier` and
`inferplan.usage.cache_creation_1h.input_tokens`. Metrics: `gen_ai.client.token.usage` (histogram, `{token}`,
`gen_ai.token.type` input/output), `gen_ai.client.operation.duration` (s) and, for streams,
`gen_ai.client.operation.time_to_first_chunk` (s). Spans are children of the span that was current where the
call was made. Never prompt or completion text (the opt-in content attributes are not written).

Needs `opentelemetry-api` (`pip install 'inferplan[otel]'`); the application's SDK decides where it all goes.
"""

from __future__ import annotations

from typing import Any

from ._recorder import CallRecord

PROVIDER = "aws.bedrock"
TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]
DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]


class OtelSink:
    """Spans and GenAI metrics for every recorded call, through the given (or the global) providers."""

    name = "otel"
    wants_context = True  # the recorder captures the caller's context so spans get the right parent

    def __init__(self, tracer_provider: Any = None, meter_provider: Any = None) -> None:
        try:
            from opentelemetry import metrics, trace
        except ImportError as exc:  # pragma: no cover - depends on the environment
            from ..errors import ConfigError

            raise ConfigError("OtelSink needs OpenTelemetry: pip install 'inferplan[otel]'") from exc
        from opentelemetry.trace import SpanKind, Status, StatusCode

        from .. import __version__

        self._kind, self._status, self._code = SpanKind.CLIENT, Status, StatusCode
        self.tracer = (tracer_provider or trace.get_tracer_provider()).get_tracer("inferplan.record", __version__)
        meter = (meter_provider or metrics.get_meter_provider()).get_meter("inferplan.record", __version__)
        self.tokens = _histogram(meter, "gen_ai.client.token.usage", "{token}",
                                 "Number of input and output tokens used.", TOKEN_BUCKETS)
        self.duration = _histogram(meter, "gen_ai.client.operation.duration", "s", "GenAI operation duration.",
                                   DURATION_BUCKETS)
        self.ttfc = _histogram(meter, "gen_ai.client.operation.time_to_first_chunk", "s",
                               "Time to receive the first chunk of a streamed response.", DURATION_BUCKETS)

    def write(self, records: list[CallRecord]) -> None:
        for r in records:
            self._one(r)

    def _one(self, r: CallRecord) -> None:
        op = "embeddings" if r.model and "embed" in r.model.lower() else "chat"
        base: dict[str, Any] = {"gen_ai.operation.name": op, "gen_ai.provider.name": PROVIDER,
                                "gen_ai.request.model": r.model or "unknown", "inferplan.call_type": r.call_type}
        if r.error_code:
            base["error.type"] = r.error_code
        cache_w = r.cache_write_5m_tokens + r.cache_write_1h_tokens
        total_in = r.input_tokens + r.cache_read_tokens + cache_w
        attrs = dict(base)
        attrs.update({"cloud.region": r.region or "", "inferplan.service_tier": r.tier,
                      "aws.bedrock.operation": r.operation})
        if r.request_id:
            attrs["aws.request_id"] = r.request_id
        if r.invoked_model:
            attrs["gen_ai.response.model"] = r.invoked_model
        if not r.error_code:
            attrs.update({"gen_ai.usage.input_tokens": total_in, "gen_ai.usage.output_tokens": r.output_tokens,
                          "gen_ai.usage.cache_read.input_tokens": r.cache_read_tokens,
                          "gen_ai.usage.cache_creation.input_tokens": cache_w,
                          "inferplan.usage.cache_creation_1h.input_tokens": r.cache_write_1h_tokens})
        start = int(r.ts * 1e9)
        end = start + int((r.latency_ms or 0.0) * 1e6)
        span = self.tracer.start_span(f"{op} {r.model}", context=r.otel_context, kind=self._kind, attributes=attrs,
                                      start_time=start)
        if r.error_code:
            span.set_status(self._status(self._code.ERROR, r.error_code))
        span.end(end_time=end)
        if not r.error_code:
            self.tokens.record(total_in, {**base, "gen_ai.token.type": "input"})
            self.tokens.record(r.output_tokens, {**base, "gen_ai.token.type": "output"})
        if r.latency_ms is not None:
            self.duration.record(r.latency_ms / 1000.0, base)
        if r.ttft_ms is not None:
            self.ttfc.record(r.ttft_ms / 1000.0, base)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def _histogram(meter: Any, name: str, unit: str, description: str, buckets: list[float]) -> Any:
    try:
        return meter.create_histogram(name, unit=unit, description=description,
                                      explicit_bucket_boundaries_advisory=buckets)
    except TypeError:  # an API older than the bucket advisory
        return meter.create_histogram(name, unit=unit, description=description)
