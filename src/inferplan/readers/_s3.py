"""`s3://bucket/prefix` inputs, read where they lie: nothing is downloaded or copied to disk.

The prefix is listed with boto3, whose chain finds the credentials (environment, `AWS_PROFILE`, SSO, an instance
or task role...), the region and the endpoint (`AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL` for a stand-in). Each
object becomes an `S3Object`, which stands where the readers take a local `Path`, so every format reads from S3
as it reads from disk:

- the readers' DuckDB SQL (`read_json`, `read_csv`, `read_parquet`, `read_text`) reads `s3://bucket/key` paths
  through `S3Files`, an fsspec filesystem registered with the readers' DuckDB connection: ranged GETs by the same
  boto3 client, a read-ahead block at a time (`BLOCK` bytes), sizes known from the listing (no HEAD per object);
- Python code that reads a head to sniff, or a small document (a batch manifest, a job list), opens the same way;
- a prefix of canonical Parquet only is scanned as a pyarrow dataset over `pyarrow.fs.S3FileSystem` (the row
  groups and columns a query needs; `read_workload`); on Spark as `s3a://` URLs where the cluster has Hadoop's
  S3A connector, else through inferplan's Python data source (`_s3_spark`).

Not used, and why: DuckDB's `httpfs` extension is downloaded at run time (an offline machine cannot), and the
PyPI packages that carry it (`duckdb-extension-httpfs`, `duckdb-ext-httpfs`) stop at DuckDB 1.5.5 while an
extension loads only into the DuckDB version it was built for; `s3fs` needs `aiobotocore`, which pins an older
botocore than the boto3 inferplan runs.
"""

from __future__ import annotations

import io
import os
import posixpath
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
from fsspec.spec import AbstractBufferedFile, AbstractFileSystem
from pyarrow import fs as pafs

from ..engine import connection
from ..errors import InputError

# bytes fetched per ranged GET as a file is read front to back: most log objects take one GET
BLOCK = 8 * 2**20
_HINT = ("boto3 finds them in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE (~/.aws), SSO or an instance/"
         "task role")


def _boto() -> tuple[Any, Any]:
    try:
        import boto3
        import botocore.exceptions as errors
    except ImportError:
        raise InputError("reading from S3 needs boto3: pip install 'inferplan[s3]'") from None
    return boto3, errors


def explain(url: str, exc: Exception, client: Any = None) -> str:
    """What went wrong talking to S3, said with the fix (botocore's own words kept for the rest)."""
    _, errors = _boto()
    if isinstance(exc, errors.NoCredentialsError | errors.PartialCredentialsError):
        return f"{url}: no AWS credentials found; {_HINT}"
    if isinstance(exc, errors.EndpointConnectionError):
        return f"{url}: cannot reach S3 at {exc.kwargs.get('endpoint_url', '?')} (AWS_ENDPOINT_URL, network)"
    if isinstance(exc, errors.ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        bucket = split(url)[0]
        if code == "NoSuchBucket":
            return f"{url}: bucket {bucket!r} does not exist (check the name and the account/endpoint)"
        if code in ("AccessDenied", "403", "AllAccessDisabled"):
            return (f"{url}: access denied; the credentials need s3:ListBucket on arn:aws:s3:::{bucket} and "
                    f"s3:GetObject on its objects")
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"):
            return f"{url}: S3 refused the credentials ({code}); {_HINT}"
        if code in ("NoSuchKey", "404"):
            return f"{url}: the object is gone (deleted after it was listed?)"
    return f"{url}: cannot read from S3 ({exc})"


def split(url: str) -> tuple[str, str]:
    bucket, _, prefix = url[len("s3://"):].partition("/")
    if not bucket:
        raise InputError(f"{url}: expected s3://bucket/prefix")
    return bucket, prefix


class _File(AbstractBufferedFile):
    """One object read front to back (or at random, for Parquet) by ranged GETs of `BLOCK` bytes."""

    def _fetch_range(self, start: int, end: int) -> bytes:
        if start >= end:
            return b""
        bucket, key = self.path.split("/", 1)
        try:
            got = self.fs.client.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{end - 1}")
        except Exception as exc:  # noqa: BLE001 - botocore's errors, said with the fix
            raise OSError(explain(f"s3://{self.path}", exc)) from None
        return got["Body"].read()


class S3Files(AbstractFileSystem):
    """fsspec filesystem over one boto3 S3 client, for DuckDB (`register_filesystem`) and the readers' Python.

    Read only. Object sizes come from the listings (`remember`), so opening an object costs no request."""

    protocol = ("s3",)
    cachable = False

    def __init__(self, client: Any):
        super().__init__()
        self.client = client
        self.sizes: dict[str, int] = {}
        self.times: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def remember(self, bucket: str, key: str, size: int, modified: datetime | None = None) -> None:
        with self._lock:
            self.sizes[f"{bucket}/{key}"] = size
            if modified is not None:
                self.times[f"{bucket}/{key}"] = modified

    @classmethod
    def _strip_protocol(cls, path: Any) -> str:
        path = str(path)
        return path[len("s3://"):] if path.startswith("s3://") else path.lstrip("/")

    def info(self, path: Any, **kwargs: Any) -> dict[str, Any]:
        path = self._strip_protocol(path)
        if path in self.sizes:
            return {"name": path, "size": self.sizes[path], "type": "file"}
        bucket, _, key = path.partition("/")
        try:
            head = self.client.head_object(Bucket=bucket, Key=key)
        except Exception as exc:  # noqa: BLE001
            raise FileNotFoundError(explain(f"s3://{path}", exc)) from None
        self.remember(bucket, key, int(head["ContentLength"]), head.get("LastModified"))
        return {"name": path, "size": int(head["ContentLength"]), "type": "file"}

    def modified(self, path: Any) -> datetime:
        path = self._strip_protocol(path)
        if path not in self.times:
            self.info(path)
        return self.times.get(path) or datetime.fromtimestamp(0, UTC)

    def ls(self, path: Any, detail: bool = True, **kwargs: Any) -> list[Any]:
        path = self._strip_protocol(path).rstrip("/")
        bucket, _, prefix = path.partition("/")
        out: list[dict[str, Any]] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=f"{prefix}/" if prefix else "", Delimiter="/")
            for page in pages:
                out += [{"name": f"{bucket}/{p['Prefix'].rstrip('/')}", "size": 0, "type": "directory"}
                        for p in page.get("CommonPrefixes", [])]
                out += [{"name": f"{bucket}/{o['Key']}", "size": int(o["Size"]), "type": "file"}
                        for o in page.get("Contents", [])]
        except Exception as exc:  # noqa: BLE001
            raise OSError(explain(f"s3://{path}", exc)) from None
        return out if detail else [o["name"] for o in out]

    def _open(self, path: str, mode: str = "rb", block_size: Any = None, autocommit: bool = True,
              cache_options: Any = None, **kwargs: Any) -> _File:
        if mode != "rb":
            raise OSError(f"s3://{path}: inferplan reads S3, it never writes there")
        path = self._strip_protocol(path)
        return _File(self, path, mode, block_size=block_size or BLOCK, cache_type="readahead",
                     size=self.info(path)["size"])


@dataclass(frozen=True, order=True)
class S3Object:
    """One object under an `s3://` prefix, where the readers take a local `Path`: `str()` is its `s3://` URL
    (what DuckDB reads and what errors name), `open()` streams it. Deliberately no `__fspath__`: code that would
    treat it as a local file fails loudly instead of reading a wrong path."""

    bucket: str
    key: str
    size: int = field(default=0, compare=False)
    modified: datetime | None = field(default=None, compare=False)
    files: S3Files | None = field(default=None, compare=False, repr=False)
    heads: dict[int, bytes] = field(default_factory=dict, compare=False, repr=False)  # head_bytes' cache

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def name(self) -> str:
        return posixpath.basename(self.key)

    @property
    def stem(self) -> str:
        return posixpath.splitext(self.name)[0]

    @property
    def suffix(self) -> str:
        return posixpath.splitext(self.name)[1]

    @property
    def parent(self) -> S3Object:
        return S3Object(self.bucket, posixpath.dirname(self.key.rstrip("/")), files=self.files)

    def __truediv__(self, name: str) -> S3Object:
        return S3Object(self.bucket, f"{self.key.rstrip('/')}/{name}".lstrip("/"), files=self.files)

    @property
    def parents(self) -> list[S3Object]:
        out, p = [], self.parent
        while p.key:
            out.append(p)
            p = p.parent
        return out

    def is_file(self) -> bool:
        return bool(self.name)

    def is_dir(self) -> bool:
        return False

    def stat(self) -> SimpleNamespace:
        mtime = self.modified.timestamp() if self.modified else 0.0
        return SimpleNamespace(st_size=self.size, st_mtime=mtime)

    def open(self, mode: str = "rb", encoding: str | None = None, errors: str | None = None,
             block_size: int | None = None) -> Any:
        if self.files is None:
            raise InputError(f"{self}: not listed through inferplan's S3 reader")
        fh = self.files.open(f"{self.bucket}/{self.key}", "rb", block_size=block_size)
        return fh if "b" in mode else io.TextIOWrapper(fh, encoding=encoding or "utf-8", errors=errors)

    def read_bytes(self) -> bytes:
        with self.open("rb") as fh:
            return fh.read()

    def read_text(self, encoding: str = "utf-8", errors: str | None = None) -> str:
        return self.read_bytes().decode(encoding, errors or "strict")


@dataclass(frozen=True)
class Listing:
    """The objects under one `s3://` prefix (hidden names and folder markers left out), sorted by key."""

    url: str
    bucket: str
    objects: list[S3Object]
    client: Any

    @property
    def keys(self) -> list[str]:
        return [o.key for o in self.objects]

    def all_parquet(self) -> bool:
        return all(head(o, 4) == b"PAR1" for o in self.objects)

    @property
    def size(self) -> int:
        return sum(o.size for o in self.objects)


_state: dict[str, Any] = {}
_state_lock = threading.Lock()


def _region() -> str | None:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


def files() -> S3Files:
    """The process's S3 filesystem, made again when boto3's configuration (endpoint, region, keys) changed."""
    boto3, errors = _boto()
    session = boto3.Session(region_name=_region())
    try:
        creds = session.get_credentials()
    except errors.BotoCoreError as exc:  # e.g. a profile that does not exist
        raise InputError(f"S3: {exc}; {_HINT}") from None
    config = (os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL"), session.region_name,
              creds.access_key if creds else None, os.environ.get("AWS_PROFILE"))
    with _state_lock:
        if _state.get("config") != config:
            _state.update(config=config, files=S3Files(session.client("s3")))
        return _state["files"]


def register(con: Any) -> None:
    """Make a DuckDB connection read `s3://` paths through `files()` (again if it changed)."""
    fs = files()
    with _state_lock:
        if _state.get(("registered", id(con))) is fs and con.filesystem_is_registered("s3"):
            return
        if con.filesystem_is_registered("s3"):
            con.unregister_filesystem("s3")
        con.register_filesystem(fs)
        _state[("registered", id(con))] = fs


def list_prefix(url: str) -> Listing:
    """The object the URL names, or every object in the folder it names, recursively (an InputError when there is
    none, or S3 refuses). A folder is a whole path segment: `s3://b/w/day1` is `w/day1/...`, never `w/day10.csv`,
    and `s3://b/w/day1.csv` is that object, never `w/day1.csv.bak` too."""
    _, errors = _boto()
    bucket, prefix = split(url)
    fs = files()
    objects: list[S3Object] = []
    folder = prefix if prefix == "" or prefix.endswith("/") else prefix + "/"
    try:
        for page in fs.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                key = obj["Key"]
                if key.endswith("/") or posixpath.basename(key).startswith("."):
                    continue
                if key != prefix and not key.startswith(folder):
                    continue  # another object or folder that merely starts with the same characters
                fs.remember(bucket, key, int(obj["Size"]), obj.get("LastModified"))
                objects.append(S3Object(bucket, key, int(obj["Size"]), obj.get("LastModified"), fs))
    except (errors.BotoCoreError, errors.ClientError) as exc:
        raise InputError(explain(url, exc)) from None
    exact = [o for o in objects if o.key == prefix]
    objects = exact or objects  # a key that is also a folder's name: the object named
    if not objects:
        raise InputError(f"{url}: no object of that name and no objects in that folder (check the bucket and "
                         "prefix; a folder is listed recursively, by whole path segments)")
    register(connection().con)  # the readers' DuckDB connection reads s3:// through the same client
    return Listing(url=url, bucket=bucket, objects=sorted(objects), client=fs.client)


def head(obj: S3Object, n: int = 4096) -> bytes:
    """The first `n` bytes of an object (one ranged GET)."""
    with obj.open("rb", block_size=1) as fh:  # read-ahead of one byte: fetch what is asked for, no more
        return fh.read(n)


def filesystem(client: Any) -> Any:
    """A pyarrow S3 filesystem with boto3's credentials, region and endpoint (so a stand-in works the same)."""
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
    return pafs.S3FileSystem(**kwargs)


def parquet_schemas(listing: Listing) -> list[pa.Schema]:
    """Each Parquet object's schema, from its footer (ranged GETs, a few objects at a time): objects written at
    different times may carry different optional columns, and a dataset would otherwise take the first one's."""
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow.parquet as pq

    fsys = filesystem(listing.client)
    with ThreadPoolExecutor(8) as pool:
        return [sc.remove_metadata() for sc in
                pool.map(lambda k: pq.read_schema(f"{listing.bucket}/{k}", filesystem=fsys), listing.keys)]


def parquet_dataset(listing: Listing, schemas: list[pa.Schema] | None = None) -> Any:
    """The prefix's Parquet objects as one lazily scanned pyarrow dataset on the union of every object's
    columns (an optional column only later objects have is kept, not dropped as the first object's schema
    alone would; an object without it reads nulls there); nothing is downloaded here."""
    schemas = parquet_schemas(listing) if schemas is None else schemas
    unified = pa.unify_schemas(schemas, promote_options="permissive")
    return ds.dataset([f"{listing.bucket}/{k}" for k in listing.keys], filesystem=filesystem(listing.client),
                      format="parquet", schema=unified)


def s3a_urls(listing: Listing) -> list[str]:
    """The objects as `s3a://` URLs, for Spark's S3A connector."""
    return [f"s3a://{listing.bucket}/{k}" for k in listing.keys]
