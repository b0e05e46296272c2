"""Benchmark: reading an `s3://` prefix in place against reading the same files from disk.

Generates Bedrock invocation logs in AWS's layout (`AWSLogs/<account>/BedrockModelInvocationLogs/<region>/
YYYY/MM/DD/HH/*.json.gz`, gzipped JSON lines, about 1 MB of JSON an object) from the test fixture's real-shaped
records (new request ids and times), plus the same requests as canonical Parquet; puts both on moto's S3 server,
started as its own process on 127.0.0.1 (loopback: no network latency, so this measures inferplan's side of the
reading, not S3's); then, each in a fresh child process, reads and prices them (`read_workload` +
`price_workload` + totals) from S3 and from a local copy, and reports wall time and the child's peak RSS.
Totals must be equal.

    nice -n 10 .venv/bin/python bench/s3_read.py [--mb 100]

Prints JSON on its last line: per case, the JSON MB, objects, requests, local_s, s3_s, s3/local, peak RSS.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "readers" / "bedrock" / "invocations.jsonl"
HOUR = "AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/{:%Y/%m/%d/%H}"


def _vary(body: object, words: str) -> bool:
    """Append `words` to the first text of a request body (so objects compress like real logs, not 100x)."""
    if isinstance(body, dict):
        if isinstance(body.get("text"), str):
            body["text"] += " " + words
            return True
        return any(_vary(v, words) for v in body.values())
    if isinstance(body, list):
        return any(_vary(v, words) for v in body)
    return False


def generate(root: Path, mb: float) -> tuple[int, int]:
    """Bedrock log objects of about 1 MB of JSON each, `mb` MB in all; (objects, records)."""
    records = [json.loads(line) for line in FIX.read_text().splitlines()]
    rng = random.Random(0)
    vocab = [f"w{i}" for i in range(5000)]
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    n = objects = 0
    total = 0
    while total < mb * 2**20:
        lines = []
        size = 0
        while size < 2**20:
            rec = json.loads(json.dumps(records[n % len(records)]))
            rec.update(requestId=f"req-{n:09d}", timestamp=(t0 + timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%SZ"))
            _vary(rec.get("input", {}).get("inputBodyJson"), " ".join(rng.choices(vocab, k=120)))
            line = json.dumps(rec, separators=(",", ":"))
            lines.append(line)
            size += len(line) + 1
            n += 1
        when = t0 + timedelta(seconds=n)
        d = root / HOUR.format(when)
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{when:%Y%m%dT%H%M%S}000Z_{objects:016x}.json.gz").write_bytes(gzip.compress("\n".join(lines).encode()))
        total += size
        objects += 1
    return objects, n


def child(url: str) -> None:
    """One read in this fresh process: time, totals, peak RSS (JSON on stdout)."""
    from inferplan.attribution import totals
    from inferplan.catalog import load_catalog
    from inferplan.pricing import price_workload
    from inferplan.readers import read_workload

    cat = load_catalog(warn_stale=False)
    t = time.perf_counter()
    tot = totals(price_workload(read_workload([url], cat), cat))
    s = time.perf_counter() - t
    print(json.dumps({"s": round(s, 3), "requests": tot.requests, "usd": round(tot.total_usd, 6),
                      "rss_mb": peak_rss_mb()}))


def peak_rss_mb() -> int:
    """This process's peak RSS (VmHWM: its own; ru_maxrss would carry the parent's across fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def run_child(url: str, env: dict) -> dict:
    p = subprocess.run([sys.executable, __file__, "--child", url], capture_output=True, text=True, env=env,
                       check=False)
    if p.returncode:
        raise SystemExit(p.stderr)
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=100.0, help="MB of Bedrock log JSON (before gzip)")
    ap.add_argument("--child")
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    import boto3

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint, "AWS_EC2_METADATA_DISABLED": "true"}
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench",
                              aws_secret_access_key="bench")
        client.create_bucket(Bucket="bench")
        with tempfile.TemporaryDirectory(prefix="inferplan-s3-bench-") as tmp:
            logs = Path(tmp) / "logs"
            objects, records = generate(logs, args.mb)
            gz_bytes = 0
            for f in sorted(logs.rglob("*.json.gz")):
                body = f.read_bytes()
                gz_bytes += len(body)
                client.put_object(Bucket="bench", Key=f.relative_to(logs).as_posix(), Body=body)
            parquet = Path(tmp) / "canonical.parquet"
            from inferplan.catalog import load_catalog
            from inferplan.readers import read_workload
            from inferplan.readers.canonical import write

            write(read_workload([logs], load_catalog(warn_stale=False)).table, parquet)
            client.put_object(Bucket="bench", Key="canonical/part-0.parquet", Body=parquet.read_bytes())
            results = {}
            for case, local, url in (("bedrock-logs", logs, "s3://bench/AWSLogs/"),
                                     ("canonical-parquet", parquet, "s3://bench/canonical/")):
                here = run_child(str(local), env)
                remote = run_child(url, env)
                assert (here["requests"], here["usd"]) == (remote["requests"], remote["usd"]), (here, remote)
                results[case] = {"local_s": here["s"], "s3_s": remote["s"],
                                 "s3/local": round(remote["s"] / here["s"], 2), "local_rss_mb": here["rss_mb"],
                                 "s3_rss_mb": remote["rss_mb"], "requests": here["requests"]}
            results["bedrock-logs"].update(json_mb=round(args.mb), gz_mb=round(gz_bytes / 2**20, 1),
                                           objects=objects)
            results["canonical-parquet"]["parquet_mb"] = round(parquet.stat().st_size / 2**20, 1)
    finally:
        server.terminate()
        server.wait()
    print(json.dumps({"records": records, **results}))


if __name__ == "__main__":
    main()
