"""`s3://` prefixes are read in place, never downloaded: every input format, against moto's S3 server on the
loopback address (boto3 putting the objects in the layouts AWS and the tools write), each read equal to reading
the same files from disk; bad records named by their `s3://` key and line; S3's own failures said with the fix."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from inferplan.attribution import breakdown, totals
from inferplan.errors import InputError
from inferplan.pricing import price_workload
from inferplan.readers import ReadOptions, _s3, bedrock_logs, read_workload
from inferplan.readers.cur import read_cur
from inferplan.workload import Defaults
from tests.helpers import T0, make_catalog
from tests.s3_standin import put_tree

FIX = Path(__file__).parent / "fixtures" / "readers"
M = "test.claude-like-v1:0"
HOUR = "AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/2026/01/05/{:02d}"


def bedrock_tree(root: Path) -> Path:
    """A Bedrock invocation-log tree as AWS writes it: `AWSLogs/<account>/BedrockModelInvocationLogs/<region>/
    YYYY/MM/DD/HH/<time>_<id>.json.gz` (gzipped JSON lines), the `data/` folder of bodies over 100 KB beside
    the records (one here, shaped like an OpenAI-style output body with usage, that must not count as requests)
    and the permission-check object Bedrock writes when logging is set up."""
    h9, h10 = root / HOUR.format(9), root / HOUR.format(10)
    for d in (h9 / "data", h10):
        d.mkdir(parents=True)
    (h9 / "20260105T090012345Z_1a2b3c4d5e6f7a8b.json.gz").write_bytes(
        gzip.compress((FIX / "bedrock" / "invocations.jsonl").read_bytes()))
    (h10 / "20260105T100000123Z_9f8e7d6c5b4a3f2e.json.gz").write_bytes(
        gzip.compress((FIX / "bedrock" / "body_usage.jsonl").read_bytes()))
    (h10 / "20260105T100500999Z_0a1b2c3d4e5f6a7b.json.gz").write_bytes(
        gzip.compress((FIX / "bedrock" / "pretty_one_record.json").read_bytes()))
    body = {"id": "chatcmpl-big", "created": 1767603600, "model": "amazon.nova-pro-v1:0",
            "usage": {"prompt_tokens": 999999, "completion_tokens": 1}}
    (h9 / "data" / "r1_output.json.gz").write_bytes(gzip.compress(json.dumps(body).encode()))
    marker = root / "AWSLogs/123456789012/BedrockModelInvocationLogs/amazon-bedrock-logs-permission-check"
    marker.write_bytes(b"")
    return root


def _rows(wl) -> list[dict]:
    """Every request, sorted, with the columns that could differ by where the file was read from."""
    t = wl.table.to_pyarrow()
    rows = t.to_pylist()
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))


def _same_read(s3_url: str, local: Path, catalog, fmt: str = "auto", options: ReadOptions | None = None):
    """The prefix read from S3 and the same files read from disk hold the same requests, priced the same."""
    remote = read_workload([s3_url], catalog, fmt, options)
    here = read_workload([local], catalog, fmt, options)
    assert remote.count() == here.count() > 0
    assert _rows(remote) == _rows(here)
    assert remote.skipped == here.skipped
    a, b = totals(price_workload(remote, catalog)), totals(price_workload(here, catalog))
    assert (a.requests, round(a.total_usd, 9)) == (b.requests, round(b.total_usd, 9))
    assert all(s.startswith("s3://") for s in remote.sources)
    return remote


@pytest.fixture
def no_copies(monkeypatch, tmp_path):
    """Fail on any way an object could land on disk whole: boto3's transfers, fsspec's get, copyfileobj; and
    after the read, check that no file written to the temporary folders holds an object's bytes, raw or
    decompressed."""
    from boto3.s3 import inject

    def refuse(*a, **k):
        raise AssertionError("an S3 object was downloaded")

    for name in ("download_file", "download_fileobj"):
        monkeypatch.setattr(inject, name, refuse)
    monkeypatch.setattr(_s3.S3Files, "get_file", refuse)
    monkeypatch.setattr(shutil, "copyfileobj", refuse)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    fetched: list[tuple[str, int, int]] = []
    real = _s3._File._fetch_range

    def spy(self, start, end):
        fetched.append((self.path, start, end))
        return real(self, start, end)

    monkeypatch.setattr(_s3._File, "_fetch_range", spy)
    before = set(bedrock_logs._tmpdir().iterdir())

    def check(objects: dict[str, bytes]) -> None:
        bodies = {hashlib.sha256(b).hexdigest() for b in objects.values()}
        bodies |= {hashlib.sha256(gzip.decompress(b)).hexdigest() for b in objects.values() if b[:2] == b"\x1f\x8b"}
        written = [p for p in tmp.rglob("*") if p.is_file()]
        written += [p for p in bedrock_logs._tmpdir().iterdir() if p not in before]
        assert not any(hashlib.sha256(p.read_bytes()).hexdigest() in bodies for p in written)
        assert {p.split("/", 1)[1] for p, _, _ in fetched} <= set(objects)  # ranged GETs of listed objects only

    check.fetched = fetched
    return check


def _objects(client, bucket: str) -> dict[str, bytes]:
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {k: client.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}


def test_bedrock_logs_real_layout_streamed(s3, catalog, tmp_path, no_copies):
    root = bedrock_tree(tmp_path / "logs")
    s3.create_bucket(Bucket="acme-bedrock-logs")
    put_tree(s3, "acme-bedrock-logs", "", root)
    wl = _same_read("s3://acme-bedrock-logs/AWSLogs/", root, catalog)
    assert {r["request_id"] for r in _rows(wl)} >= {"r1", "r2", "r3", "r4", "p1", "invoke-body"}
    assert "chatcmpl-big" not in {r["request_id"] for r in _rows(wl)}  # the data/ body is no request
    assert any("left out 2 Bedrock large-payload object(s)" in n for n in wl.notes)
    assert sum(s.endswith(".json.gz") and "/data/" not in s for s in wl.sources) == 3
    no_copies(_objects(s3, "acme-bedrock-logs"))
    assert no_copies.fetched  # read by ranged GETs


@pytest.mark.parametrize(("local", "fmt", "options"), [
    ("openai_usage.jsonl", "auto", None),
    ("litellm_spend.csv", "auto", None),
    ("gateway_cache", "auto", None),
    ("batch/out", "auto", None),
    ("servegen_offline", "auto", ReadOptions(defaults=Defaults(model="claude-haiku-4.5"))),
    ("servegen", "auto", ReadOptions(defaults=Defaults(model="claude-haiku-4.5"), rate_scale=20.0, seed=4)),
])
def test_every_format_streams_equal_to_local(s3, catalog, tmp_path, no_copies, local, fmt, options):
    src = FIX / local
    root = tmp_path / "in"
    if src.is_dir():
        shutil.copytree(src, root, ignore=shutil.ignore_patterns("README.md"))
        if local == "batch/out":
            shutil.copy(FIX / "batch" / "jobs.json", root / "jobs.json")
    else:
        root.mkdir()
        shutil.copy(src, root / src.name)
    s3.create_bucket(Bucket="usage")
    put_tree(s3, "usage", "exports/", root)
    _same_read("s3://usage/exports/", root, catalog, fmt, options)
    no_copies(_objects(s3, "usage"))


def _canonical_rows(n: int) -> pa.Table:
    return pa.table({"ts": pa.array([T0.replace(minute=i % 60) for i in range(n)], pa.timestamp("us", tz="UTC")),
                     "model": [M] * n, "call_type": [f"c{i % 3}" for i in range(n)],
                     "input_tokens": pa.array([100 + i for i in range(n)], pa.int64()),
                     "output_tokens": pa.array([10] * n, pa.int64())})


def test_canonical_csv_and_json_stream(s3, tmp_path, no_copies):
    cat = make_catalog(tmp_path)
    root = tmp_path / "canonical"
    root.mkdir()
    t = _canonical_rows(30)
    con = duckdb.connect()
    con.register("t", t)
    con.execute(f"COPY (SELECT * FROM t WHERE call_type = 'c0') TO '{root / 'a.csv'}' (HEADER)")
    con.execute(f"COPY (SELECT * FROM t WHERE call_type = 'c1') TO '{root / 'b.csv.gz'}' (HEADER)")
    con.execute(f"COPY (SELECT * FROM t WHERE call_type = 'c2') TO '{root / 'c.jsonl'}' (FORMAT JSON)")
    s3.create_bucket(Bucket="usage")
    put_tree(s3, "usage", "canonical/", root)
    wl = _same_read("s3://usage/canonical/", root, cat)
    assert wl.count() == 30
    no_copies(_objects(s3, "usage"))


def test_parquet_prefix_scanned_in_place(s3, tmp_path, no_copies):
    cat = make_catalog(tmp_path)
    s3.create_bucket(Bucket="usage")
    for i in range(3):
        sink = pa.BufferOutputStream()
        pq.write_table(_canonical_rows(5).set_column(2, "call_type", pa.array([f"part{i}"] * 5)), sink)
        s3.put_object(Bucket="usage", Key=f"canonical/day={i}/part.parquet", Body=sink.getvalue().to_pybytes())
    s3.put_object(Bucket="usage", Key="canonical/.hidden", Body=b"x")
    wl = read_workload(["s3://usage/canonical/"], cat)
    assert wl.sources == ["s3://usage/canonical/"]
    assert any("3 Parquet object(s) streamed" in n for n in wl.notes)
    bill = price_workload(wl, cat)
    assert totals(bill).requests == 15
    by = {r["key"]: r["total_usd"] for r in breakdown(bill, "call_type")}
    # 5 requests x (100..104 input at $2/Mtok + 10 output at $10/Mtok)
    assert by == pytest.approx({f"part{i}": (sum(range(100, 105)) * 2 + 50 * 10) / 1e6 for i in range(3)},
                               abs=1e-12)
    no_copies(_objects(s3, "usage"))  # pyarrow scans the objects itself: nothing written to disk either



def test_parquet_objects_with_different_columns_lose_none(s3, catalog, tmp_path, no_copies):
    """The first object has the required columns only; later ones add cache reads, a call type and the old
    name of the 5-minute writes: read from S3 exactly as the same files read from disk."""
    from tests.test_engine_parity import _differing_parquets

    root = tmp_path / "w"
    root.mkdir()
    _differing_parquets(root)
    s3.create_bucket(Bucket="usage")
    put_tree(s3, "usage", "w/", root)
    wl = _same_read("s3://usage/w/", root, catalog)
    got = sorted(wl.table.select("ts", "cache_read_tokens", "cache_write_5m_tokens").to_pyarrow().to_pylist(),
                 key=lambda r: r["ts"])
    assert [(r["cache_read_tokens"], r["cache_write_5m_tokens"]) for r in got] == [(0, 0), (5000, 0), (0, 3000)]
    assert any("'cache_write_tokens', read as" in n for n in wl.notes)
    no_copies(_objects(s3, "usage"))


def test_an_s3_url_names_an_object_or_a_whole_folder_and_listed_objects_are_read_once(s3, tmp_path):
    """`w/day1` is the folder day1/, never day10.csv; `w/day1.csv` is that object, never day1.csv.bak; objects
    already listed (what expand_paths gives cache-curve and compare) are read as they are, not listed again."""
    from inferplan.readers import expand_paths

    cat = make_catalog(tmp_path)
    s3.create_bucket(Bucket="usage")
    body = f"ts,model,call_type,input_tokens,output_tokens\n{T0.isoformat()},{M},x,7,1\n".encode()
    for key in ("w/day1.csv", "w/day1.csv.bak", "w/day10.csv", "w/day1/a.csv", "w/day1/b.csv"):
        s3.put_object(Bucket="usage", Key=key, Body=body)
    def keys(url):
        return sorted(str(o) for o in expand_paths([url]))
    assert keys("s3://usage/w/day1.csv") == ["s3://usage/w/day1.csv"]
    assert keys("s3://usage/w/day1") == ["s3://usage/w/day1/a.csv", "s3://usage/w/day1/b.csv"]
    assert len(keys("s3://usage/w/")) == 5
    listed = expand_paths(["s3://usage/w/day1.csv", "s3://usage/w/day1"])
    wl = read_workload(listed, cat)
    assert wl.count() == 3 and len(wl.sources) == 3
    with pytest.raises(InputError, match="no object of that name"):
        read_workload(["s3://usage/w/day"], cat)

def test_mixed_prefix_reads_each_object_in_place(s3, tmp_path, no_copies):
    """Parquet beside another format: each object goes to its own reader, still read from S3."""
    cat = make_catalog(tmp_path)
    s3.create_bucket(Bucket="usage")
    sink = pa.BufferOutputStream()
    pq.write_table(_canonical_rows(2), sink)
    s3.put_object(Bucket="usage", Key="mixed/a.parquet", Body=sink.getvalue().to_pybytes())
    s3.put_object(Bucket="usage", Key="mixed/b.csv",
                  Body=f"ts,model,call_type,input_tokens,output_tokens\n{T0.isoformat()},{M},x,7,1\n".encode())
    wl = read_workload(["s3://usage/mixed/"], cat)
    assert wl.count() == 3
    assert sorted(wl.sources) == ["s3://usage/mixed/a.parquet", "s3://usage/mixed/b.csv"]
    no_copies(_objects(s3, "usage"))


@pytest.mark.parametrize("kind", ["csv.gz", "parquet"])
def test_cur_export_streams(s3, catalog, tmp_path, no_copies, kind):
    """CUR 2.0 data exports (`<prefix>/<export>/data/BILLING_PERIOD=YYYY-MM/<export>-00001.csv.gz` or
    `.snappy.parquet`) read from S3 equal to the same file on disk."""
    local = tmp_path / f"cur-00001.{kind}"
    if kind == "parquet":
        duckdb.sql(f"COPY (SELECT * FROM read_csv('{FIX / 'cur_sample.csv'}', header=true, all_varchar=true)) "
                   f"TO '{local}' (FORMAT PARQUET)")
    else:
        local.write_bytes(gzip.compress((FIX / "cur_sample.csv").read_bytes()))
    s3.create_bucket(Bucket="billing")
    s3.put_object(Bucket="billing", Key=f"cur2/acme/data/BILLING_PERIOD=2026-01/acme-00001.{kind}",
                  Body=local.read_bytes())
    remote, here = read_cur(["s3://billing/cur2/acme/"], catalog), read_cur([local], catalog)
    assert remote.table.num_rows == here.table.num_rows > 0
    assert remote.table.sort_by([(c, "ascending") for c in remote.table.column_names]).equals(
        here.table.sort_by([(c, "ascending") for c in here.table.column_names]))
    assert remote.unreconciled == here.unreconciled
    no_copies(_objects(s3, "billing"))


def test_bad_record_named_by_key_and_line(s3, catalog):
    lines = (FIX / "bedrock" / "invocations.jsonl").read_text().splitlines()
    lines[1] = lines[1][: len(lines[1]) // 2]
    key = HOUR.format(9) + "/20260105T090012345Z_1a2b3c4d5e6f7a8b.json.gz"
    s3.create_bucket(Bucket="acme-bedrock-logs")
    s3.put_object(Bucket="acme-bedrock-logs", Key=key, Body=gzip.compress(("\n".join(lines) + "\n").encode()))
    with pytest.raises(InputError, match=rf"s3://acme-bedrock-logs/{key}: line 2: invalid JSON"):
        read_workload(["s3://acme-bedrock-logs/AWSLogs/"], catalog)
    wl = read_workload(["s3://acme-bedrock-logs/AWSLogs/"], catalog, options=ReadOptions(on_error="skip"))
    assert wl.count() == 3 and sum(wl.skipped.values()) == 1


def test_bad_csv_line_named_by_key(s3, tmp_path):
    s3.create_bucket(Bucket="usage")
    s3.put_object(Bucket="usage", Key="canonical/a.csv", Body=(
        f"ts,model,call_type,input_tokens,output_tokens\n{T0.isoformat()},{M},x,7,1\n"
        f"{T0.isoformat()},{M},x,seven,1\n").encode())
    with pytest.raises(InputError, match=r"s3://usage/canonical/a.csv: line 3"):
        read_workload(["s3://usage/canonical/"], make_catalog(tmp_path))


def test_missing_bucket_prefix_and_credentials_are_clear_errors(s3, tmp_path, monkeypatch):
    cat = make_catalog(tmp_path)
    s3.create_bucket(Bucket="usage")
    with pytest.raises(InputError, match="s3://usage/nothing/: no object of that name and no objects in that folder"):
        read_workload(["s3://usage/nothing/"], cat)
    with pytest.raises(InputError, match="bucket 'no-such-bucket' does not exist"):
        read_workload(["s3://no-such-bucket/logs/"], cat)
    with pytest.raises(InputError, match="expected s3://bucket/prefix"):
        read_workload(["s3:///logs/"], cat)
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(k)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(InputError, match="no AWS credentials found; boto3 finds them in"):
        read_workload(["s3://usage/logs/"], cat)


def test_cli_reads_an_s3_prefix(s3, s3_endpoint, catalog, tmp_path):
    """The console script, as a user runs it: `inferplan analyze s3://...` (a `Path` argument would have folded
    the `//` of the URL), the same totals as the local tree read in this process."""
    root = bedrock_tree(tmp_path / "logs")
    s3.create_bucket(Bucket="acme-bedrock-logs")
    put_tree(s3, "acme-bedrock-logs", "", root)
    exe = Path(sys.executable).with_name("inferplan")
    p = subprocess.run([str(exe), "analyze", "s3://acme-bedrock-logs/AWSLogs/", "--json"], capture_output=True,
                       text=True, env={**os.environ, "AWS_ENDPOINT_URL": s3_endpoint}, timeout=120)
    assert p.returncode == 0, p.stderr
    remote = json.loads(p.stdout)
    here = totals(price_workload(read_workload([root], catalog), catalog))
    assert remote["requests"] == here.requests > 0
    assert remote["total_usd"] == pytest.approx(here.total_usd, abs=1e-9)


def test_parquet_objects_with_different_columns_keep_them_all(s3, tmp_path):
    """A column only later objects have (here `latency_ms`) is kept, null where an object lacks it: the scan's
    schema is every object's, not the first one's."""
    s3.create_bucket(Bucket="usage")
    first, second = _canonical_rows(4), _canonical_rows(3)
    second = second.append_column("latency_ms", pa.array([120.0, 80.0, 95.0]))
    for i, t in enumerate((first, second)):
        sink = pa.BufferOutputStream()
        pq.write_table(t, sink)
        s3.put_object(Bucket="usage", Key=f"canonical/part-{i}.parquet", Body=sink.getvalue().to_pybytes())
    rows = read_workload(["s3://usage/canonical/"], make_catalog(tmp_path)).table.to_pyarrow()
    assert rows.num_rows == 7
    assert sorted(v for v in rows.column("latency_ms").to_pylist() if v is not None) == [80.0, 95.0, 120.0]


@pytest.mark.parametrize("name", ["demand.csv", "cloudwatch_bedrock.json"])
def test_demand_series_stream(s3, catalog, name):
    """Demand series (`compare`, `breakeven`, `plan` inputs) from S3: the same series as from disk."""
    from inferplan.commands._serving_inputs import read_input

    local = Path(__file__).parent / "fixtures" / "demand" / name
    s3.create_bucket(Bucket="metrics")
    s3.put_object(Bucket="metrics", Key=f"exports/{name}", Body=local.read_bytes())
    (_, remote), (_, here) = (read_input([p], catalog, "auto", model="claude-haiku-4.5", region="us-east-1",
                                         on_error="raise") for p in ("s3://metrics/exports/", str(local)))
    assert remote is not None and [str(g) for g in remote.groups] == [str(g) for g in here.groups]
    assert remote.requests.tolist() == here.requests.tolist() and remote.requests.sum() > 0
    assert remote.bedrock_usd.round(9).tolist() == here.bedrock_usd.round(9).tolist()
