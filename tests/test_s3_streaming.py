"""`s3://` prefixes of canonical Parquet are scanned in place (ranged GETs), not downloaded: tested against
moto's S3 server on the loopback address, with boto3 putting the objects."""

from __future__ import annotations

import socket

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from inferplan.attribution import breakdown, totals
from inferplan.pricing import price_workload
from inferplan.readers import _s3, read_workload
from tests.helpers import T0, make_catalog

M = "test.claude-like-v1:0"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server():
    server_mod = pytest.importorskip("moto.server")
    port = _free_port()
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server, monkeypatch):
    import boto3

    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                 "AWS_ENDPOINT_URL": s3_server}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket="usage")
    return client


def _part(i: int, n: int) -> bytes:
    t = pa.table({"ts": pa.array([T0.replace(hour=i)] * n, pa.timestamp("us", tz="UTC")),
                  "model": [M] * n, "call_type": [f"part{i}"] * n,
                  "input_tokens": pa.array([100 * (i + 1)] * n, pa.int64()),
                  "output_tokens": pa.array([10] * n, pa.int64())})
    sink = pa.BufferOutputStream()
    pq.write_table(t, sink)
    return sink.getvalue().to_pybytes()


def test_parquet_prefix_streamed_not_downloaded(s3, tmp_path, monkeypatch):
    cat = make_catalog(tmp_path)
    for i in range(3):
        s3.put_object(Bucket="usage", Key=f"canonical/day={i}/part.parquet", Body=_part(i, 5))
    s3.put_object(Bucket="usage", Key="canonical/.hidden", Body=b"x")

    def no_download(url):  # the old way: a full copy of the prefix
        raise AssertionError(f"{url} was downloaded")

    monkeypatch.setattr(_s3, "download", no_download)
    wl = read_workload(["s3://usage/canonical/"], cat)
    assert wl.sources == ["s3://usage/canonical/"]
    assert any("3 Parquet object(s) streamed" in n for n in wl.notes)
    bill = price_workload(wl, cat)
    assert totals(bill).requests == 15
    by = {r["key"]: r["total_usd"] for r in breakdown(bill, "call_type")}
    # 5 requests x (100(i+1) input at $2/Mtok + 10 output at $10/Mtok)
    assert by == pytest.approx({f"part{i}": 5 * (100 * (i + 1) * 2 + 10 * 10) / 1e6 for i in range(3)}, abs=1e-12)


def test_mixed_prefix_falls_back_to_download(s3, tmp_path):
    """A prefix with objects of another format is read as files (downloaded), as the path readers need."""
    cat = make_catalog(tmp_path)
    s3.put_object(Bucket="usage", Key="mixed/a.parquet", Body=_part(0, 2))
    s3.put_object(Bucket="usage", Key="mixed/b.csv",
                  Body=f"ts,model,call_type,input_tokens,output_tokens\n{T0.isoformat()},{M},x,7,1\n".encode())
    wl = read_workload(["s3://usage/mixed/"], cat)
    assert wl.count() == 3
    assert all(not s.startswith("s3://") for s in wl.sources)


def test_missing_prefix_is_a_clear_error(s3, tmp_path):
    from inferplan.errors import InputError

    with pytest.raises(InputError, match="no objects under this prefix"):
        read_workload(["s3://usage/nothing/"], make_catalog(tmp_path))
