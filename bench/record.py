"""What `inferplan.record` adds to a Bedrock call: time and CPU per call, hook on versus off, in the same run.

Real boto3 against the loopback stand-in (`tests/bedrock_standin.py`, in its own process so its CPU is not
counted), for the four operations. Three measures:

- end to end: calls alternate between a hooked client and a plain one (same endpoint, same requests); the
  median wall time and caller-thread CPU of each, and the median of the paired differences;
- the hook alone: the handlers run on a real call's captured arguments (and the stream taps over a real
  call's events) against the same work without them, no network in between: the precise per-call cost;
- process CPU per call over blocks of hooked and plain calls, which includes the background writer
  (JSON lines to a temporary folder).

Goal: under 100 microseconds added at the median. JSON on the last line.

    python bench/record.py [--calls 1500] [--blocks 6]
"""

from __future__ import annotations

import argparse
import copy
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from pathlib import Path

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import inferplan.record as rec  # noqa: E402
from inferplan.record._hook import Hook  # noqa: E402
from inferplan.record._recorder import Recorder  # noqa: E402
from tests.bedrock_standin import serve_forever  # noqa: E402

HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
NOVA = "amazon.nova-pro-v1:0"
BODY = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64,
                   "messages": [{"role": "user", "content": "in=1200 out=80 read=300 deltas=20"}]})
MSGS = [{"role": "user", "content": [{"text": "in=1200 out=80 read=300 deltas=20"}]}]


def ops(c):
    def converse():
        c.converse(modelId=NOVA, messages=MSGS, requestMetadata={"call_type": "bench", "team": "perf"})

    def invoke():
        c.invoke_model(modelId=HAIKU, body=BODY)["body"].read()

    def converse_stream():
        for _ in c.converse_stream(modelId=NOVA, messages=MSGS)["stream"]:
            pass

    def invoke_stream():
        for _ in c.invoke_model_with_response_stream(modelId=HAIKU, body=BODY)["body"]:
            pass

    return {"Converse": converse, "InvokeModel": invoke, "ConverseStream": converse_stream,
            "InvokeModelWithResponseStream": invoke_stream}


def timed(fn) -> tuple[int, int]:
    w, t = time.perf_counter_ns(), time.thread_time_ns()
    fn()
    return time.perf_counter_ns() - w, time.thread_time_ns() - t


def end_to_end(plain, hooked, calls: int) -> dict[str, dict[str, float]]:
    """Hooked versus plain, paired call by call; `hooked` may be a second plain client (the noise floor)."""
    out = {}
    p_ops, h_ops = ops(plain), ops(hooked)
    for name in p_ops:
        for _ in range(50):  # warm both connections and code paths
            p_ops[name]()
            h_ops[name]()
        pw, pc, hw, hc = [], [], [], []
        for i in range(calls):
            first, second = (p_ops[name], h_ops[name]) if i % 2 else (h_ops[name], p_ops[name])
            a, b = timed(first), timed(second)
            (p, h) = (a, b) if i % 2 else (b, a)
            pw.append(p[0])
            pc.append(p[1])
            hw.append(h[0])
            hc.append(h[1])
        us = 1e-3
        out[name] = {
            "plain_median_us": statistics.median(pw) * us, "hooked_median_us": statistics.median(hw) * us,
            "added_wall_median_us": (statistics.median(hw) - statistics.median(pw)) * us,
            "added_wall_paired_median_us": statistics.median(h - p for h, p in zip(hw, pw, strict=True)) * us,
            "added_cpu_median_us": (statistics.median(hc) - statistics.median(pc)) * us,
            "ratio_wall": statistics.median(hw) / statistics.median(pw),
        }
    return out


def capture(c) -> dict[str, tuple]:
    """One real call of each operation: the arguments botocore hands the handlers, and the stream events."""
    got: dict[str, dict] = {}

    def before(params, model, context, **kw):
        got.setdefault(model.name, {})["before"] = (copy.deepcopy(params), model, dict(context))

    def after(http_response, parsed, model, context, **kw):
        d = got.setdefault(model.name, {})
        d["after"] = (http_response, parsed, model)

    for op in ("Converse", "InvokeModel", "ConverseStream", "InvokeModelWithResponseStream"):
        c.meta.events.register(f"before-parameter-build.bedrock-runtime.{op}", before)
        c.meta.events.register(f"after-call.bedrock-runtime.{op}", after)
    c.converse(modelId=NOVA, messages=MSGS, requestMetadata={"call_type": "bench", "team": "perf"})
    c.invoke_model(modelId=HAIKU, body=BODY)["body"].read()
    got["ConverseStream"]["events"] = list(c.converse_stream(modelId=NOVA, messages=MSGS)["stream"])
    got["InvokeModelWithResponseStream"]["events"] = list(
        c.invoke_model_with_response_stream(modelId=HAIKU, body=BODY)["body"])
    return got


def hook_alone(got: dict, n: int) -> dict[str, float]:
    """Median time of the handlers (and taps over the stream's events) minus the same loop without them."""
    recorder = Recorder([rec.FunctionSink(lambda records: None)], queue_size=1_000_000)
    hook = Hook(recorder)
    out = {}
    for op, d in got.items():
        params, model, ctx0 = d["before"]
        http, parsed0, _ = d["after"]
        events = d.get("events")
        key = "stream" if op == "ConverseStream" else "body"
        samples, base = [], []
        for _ in range(n):
            parsed = dict(parsed0)
            if events is not None:
                parsed[key] = iter(events)
            ctx = dict(ctx0)
            t = time.perf_counter_ns()
            hook.before(params=params, model=model, context=ctx)
            hook.after(http_response=http, parsed=parsed, model=model, context=ctx)
            if events is not None:
                for _ in parsed[key]:
                    pass
            samples.append(time.perf_counter_ns() - t)
            parsed = dict(parsed0)
            if events is not None:
                parsed[key] = iter(events)
            t = time.perf_counter_ns()
            if events is not None:
                for _ in parsed[key]:
                    pass
            base.append(time.perf_counter_ns() - t)
        out[op] = (statistics.median(samples) - statistics.median(base)) / 1000.0
    recorder.close()
    return out


def writer_cpu(n: int) -> dict[str, float]:
    """CPU the background writer spends per record (canonical JSON lines and Parquet), batches of 1,000."""
    from inferplan.record._recorder import CallRecord

    recs = [CallRecord(ts=time.time(), operation="Converse", model=NOVA, region="us-east-1", call_type="bench",
                       tier="standard", request_id="0f8e5c1e-9d7b-4b8e-a3c2-1d2e3f4a5b6c", input_tokens=1200,
                       cache_read_tokens=300, output_tokens=80, latency_ms=812.5, metadata={"team": "perf"})
            for _ in range(1000)]
    out = {}
    with tempfile.TemporaryDirectory() as d:
        for fmt in ("jsonl", "parquet"):
            sink = rec.CanonicalSink(Path(d) / fmt, format=fmt)
            t = time.process_time()
            for _ in range(max(n // 1000, 1)):
                sink.write(recs)
            sink.close()
            out[f"{fmt}_us_per_record"] = (time.process_time() - t) / (max(n // 1000, 1) * 1000) * 1e6
    return out


def process_cpu(plain, hooked, blocks: int, per_block: int) -> dict[str, float]:
    """Process CPU per call (caller + background writer; the server is another process), blocks alternating."""
    p_ops, h_ops = ops(plain), ops(hooked)
    names = list(p_ops)
    cpu = {"plain": 0.0, "hooked": 0.0}
    n = {"plain": 0, "hooked": 0}
    for b in range(blocks):
        for kind, o in (("hooked", h_ops), ("plain", p_ops)) if b % 2 else (("plain", p_ops), ("hooked", h_ops)):
            t = time.process_time()
            for i in range(per_block):
                o[names[i % 4]]()
            if kind == "hooked":
                rec.flush()  # the writer's work for this block is counted in it
            cpu[kind] += time.process_time() - t
            n[kind] += per_block
    per = {k: cpu[k] / n[k] * 1e6 for k in cpu}
    return {"plain_cpu_us_per_call": per["plain"], "hooked_cpu_us_per_call": per["hooked"],
            "added_cpu_us_per_call": per["hooked"] - per["plain"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=1500, help="calls per operation and variant (end to end)")
    ap.add_argument("--blocks", type=int, default=6, help="alternating blocks for process CPU")
    ap.add_argument("--alone", type=int, default=20000, help="repetitions of the hook-alone measure")
    args = ap.parse_args()
    ctx = mp.get_context("spawn")
    port_q = ctx.Queue()
    server = ctx.Process(target=serve_forever, args=(port_q,), daemon=True)
    server.start()
    endpoint = f"http://127.0.0.1:{port_q.get(timeout=60)}"
    cfg = Config(retries={"max_attempts": 1, "mode": "standard"})

    def client():
        return boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=endpoint,
                            aws_access_key_id="bench", aws_secret_access_key="bench", config=cfg)

    plain, hooked, probe = client(), client(), client()
    with tempfile.TemporaryDirectory() as d:
        recorder = rec.install(hooked, sink=d)
        e2e = end_to_end(plain, hooked, args.calls)
        floor = end_to_end(plain, probe, args.calls // 2)  # plain against plain: what the machine's noise is
        cpu = process_cpu(plain, hooked, args.blocks, max(args.calls // 4, 100))
        alone = hook_alone(capture(probe), args.alone)
        writer = writer_cpu(20_000)
        rec.flush()
        stats = recorder.stats()
        written = sum(1 for f in Path(d).glob("*.jsonl") for _ in f.open())
        recorder.close()
    server.terminate()
    worst = max(alone.values())
    result = {"benchmark": "record", "calls_per_op_and_variant": args.calls, "end_to_end": e2e,
              "noise_floor_plain_vs_plain": {op: {k: v[k] for k in ("plain_median_us", "added_wall_paired_median_us",
                                                                  "added_cpu_median_us")}
                                             for op, v in floor.items()},
              "hook_alone_us": alone, "writer_cpu": writer, "process_cpu": cpu,
              "records": {**stats, "lines_in_files": written},
              "goal_us": 100, "worst_hook_alone_median_us": worst, "within_goal": worst < 100}
    for op, v in e2e.items():
        print(f"{op:32s} plain {v['plain_median_us']:8.1f} us  hooked {v['hooked_median_us']:8.1f} us  "
              f"added (paired median) {v['added_wall_paired_median_us']:6.1f} us  (plain vs plain "
              f"{floor[op]['added_wall_paired_median_us']:6.1f} us)  caller CPU added "
              f"{v['added_cpu_median_us']:6.1f} us "
              f"(plain vs plain {floor[op]['added_cpu_median_us']:6.1f} us)  hook alone {alone[op]:5.1f} us",
              file=sys.stderr)
    print(f"writer CPU per record: {writer}", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
