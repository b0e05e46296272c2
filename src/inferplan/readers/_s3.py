"""`s3://bucket/prefix` inputs.

Canonical Parquet is streamed, never copied: the objects are listed with boto3 (its credential chain, region and
endpoint: `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL` for a stand-in), then scanned in place. On DuckDB the scan
is a pyarrow dataset over `pyarrow.fs.S3FileSystem` (ranged GETs of the row groups and columns a query needs)
registered with DuckDB: DuckDB's own `httpfs` extension is downloaded at run time, which an offline machine
cannot do, and no PyPI package carries it for this DuckDB. On Spark the prefix is read as `s3a://` (Hadoop's S3A,
which needs the hadoop-aws jars on the cluster: EMR, Glue and Databricks have them).

Other formats (Bedrock invocation logs, CSV exports...) are read by path-based DuckDB SQL, so their objects are
downloaded to a temporary folder first (`download()`), as before; convert them once with `inferplan convert`.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError


@dataclass(frozen=True)
class Listing:
    """The objects under one `s3://` prefix (hidden names and folder markers left out), sorted by key."""

    url: str
    bucket: str
    keys: list[str]
    client: Any

    def head(self, key: str, n: int = 4096) -> bytes:
        """The first bytes of an object (a ranged GET: nothing else is fetched)."""
        body = self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{n - 1}")["Body"]
        return body.read()

    def all_parquet(self) -> bool:
        return all(self.head(k, 4) == b"PAR1" for k in self.keys)


def _clients() -> tuple[Any, Any]:
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        raise InputError("reading from S3 needs boto3: pip install 'inferplan[s3]'") from None
    return boto3, (BotoCoreError, ClientError)


def _split(url: str) -> tuple[str, str]:
    bucket, _, prefix = url[len("s3://"):].partition("/")
    if not bucket:
        raise InputError(f"{url}: expected s3://bucket/prefix")
    return bucket, prefix


def _region() -> str | None:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


def list_prefix(url: str) -> Listing:
    """Every object under the prefix, recursively (raises InputError when there is none)."""
    boto3, errors = _clients()
    bucket, prefix = _split(url)
    client = boto3.client("s3", region_name=_region())
    keys: list[str] = []
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                key = obj["Key"]
                if key.endswith("/") or Path(key).name.startswith("."):
                    continue
                keys.append(key)
    except errors as exc:
        raise InputError(f"{url}: cannot read from S3 ({exc})") from None
    if not keys:
        raise InputError(f"{url}: no objects under this prefix")
    return Listing(url=url, bucket=bucket, keys=sorted(keys), client=client)


def filesystem(client: Any) -> Any:
    """A pyarrow S3 filesystem with boto3's credentials, region and endpoint (so a stand-in works the same)."""
    from pyarrow import fs

    creds = client._request_signer._credentials  # the client's resolved credential chain
    frozen = creds.get_frozen_credentials() if creds is not None else None
    endpoint = client.meta.endpoint_url
    kwargs: dict[str, Any] = {"region": client.meta.region_name or "us-east-1"}
    if frozen is not None:
        kwargs.update(access_key=frozen.access_key, secret_key=frozen.secret_key, session_token=frozen.token)
    else:
        kwargs["anonymous"] = True
    if endpoint and not endpoint.rstrip("/").endswith("amazonaws.com"):
        scheme, _, host = endpoint.partition("://")
        kwargs.update(endpoint_override=host.rstrip("/"), scheme=scheme)
    return fs.S3FileSystem(**kwargs)


def parquet_dataset(listing: Listing) -> Any:
    """The prefix's Parquet objects as one lazily scanned pyarrow dataset (nothing is downloaded here)."""
    import pyarrow.dataset as ds

    return ds.dataset([f"{listing.bucket}/{k}" for k in listing.keys], filesystem=filesystem(listing.client),
                      format="parquet")


def s3a_urls(listing: Listing) -> list[str]:
    """The objects as `s3a://` URLs, for Spark's S3A connector."""
    return [f"s3a://{listing.bucket}/{k}" for k in listing.keys]


def download(url: str) -> list[Path]:
    """Every object under the prefix, downloaded; local paths, sorted (formats other than canonical Parquet)."""
    _, errors = _clients()
    listing = list_prefix(url)
    dest = Path(tempfile.mkdtemp(prefix="inferplan-s3-"))
    atexit.register(shutil.rmtree, dest, True)
    files: list[Path] = []
    try:
        for key in listing.keys:
            local = dest / key
            local.parent.mkdir(parents=True, exist_ok=True)
            listing.client.download_file(listing.bucket, key, str(local))
            files.append(local)
    except errors as exc:
        raise InputError(f"{url}: cannot read from S3 ({exc})") from None
    return sorted(files)
