"""`s3://bucket/prefix` inputs: list the objects with boto3 and download them to a temporary folder, which
the readers then treat as local files (DuckDB streams them from there)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from ..errors import InputError


def download(url: str) -> list[Path]:
    """Every object under the prefix (recursively, hidden names skipped), downloaded; local paths, sorted."""
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        raise InputError(f"{url}: reading from S3 needs boto3: pip install 'inferplan[s3]'") from None
    bucket, _, prefix = url[len("s3://"):].partition("/")
    if not bucket:
        raise InputError(f"{url}: expected s3://bucket/prefix")
    dest = Path(tempfile.mkdtemp(prefix="inferplan-s3-"))
    atexit.register(shutil.rmtree, dest, True)
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    client = boto3.client("s3", region_name=region)
    files: list[Path] = []
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                key = obj["Key"]
                if key.endswith("/") or Path(key).name.startswith("."):
                    continue
                local = dest / key
                local.parent.mkdir(parents=True, exist_ok=True)
                client.download_file(bucket, key, str(local))
                files.append(local)
    except (BotoCoreError, ClientError) as exc:
        raise InputError(f"{url}: cannot read from S3 ({exc})") from None
    if not files:
        raise InputError(f"{url}: no objects under this prefix")
    return sorted(files)
