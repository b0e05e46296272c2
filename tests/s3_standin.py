"""S3 on the loopback address for the S3 tests: moto's server mode (a real HTTP endpoint, so boto3 and pyarrow's
own C++ client both talk to it), with boto3's environment pointing there."""

from __future__ import annotations

import socket
import urllib.request
from pathlib import Path

import pytest

ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
       "AWS_EC2_METADATA_DISABLED": "true"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """One moto S3 server for the whole run, started by the first test that asks for it."""
    server_mod = pytest.importorskip("moto.server")
    port = free_port()
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint, monkeypatch):
    """A boto3 client on an emptied server, with the environment boto3's chain (and inferplan) will read."""
    import boto3

    urllib.request.urlopen(urllib.request.Request(f"{s3_endpoint}/moto-api/reset", method="POST")).read()
    for k, v in {**ENV, "AWS_ENDPOINT_URL": s3_endpoint}.items():
        monkeypatch.setenv(k, v)
    for k in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(k, raising=False)
    return boto3.client("s3", region_name="us-east-1")


def put_tree(client, bucket: str, prefix: str, root: Path) -> list[str]:
    """Every file under `root` put under `prefix` with its relative path as the rest of the key; the keys."""
    keys = []
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        key = f"{prefix}{f.relative_to(root).as_posix()}"
        client.put_object(Bucket=bucket, Key=key, Body=f.read_bytes())
        keys.append(key)
    return keys
