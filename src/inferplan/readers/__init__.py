"""Readers turn each source format into the canonical workload.

Each format is a module with `NAME`, `sniff(path, head) -> bool` (recognise a file from its first bytes)
and `read(paths, options) -> Raw` (an Ibis table in the reader's raw shape plus what it skipped); the types
they share (`ReadOptions`, `Raw`) and file helpers are in `readers.base`, which every reader imports.
`read_workload()` picks the format (or detects it), reads, then `workload.finalize()` resolves models and
casts to the canonical schema, and `workload.validate()` checks values.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import ibis
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import engine
from ..catalog import Catalog
from ..errors import EmptyFileError, InputError, UnknownFormatError
from ..regions import REGIONS, check_regions, unknown
from ..workload import (
    IBIS_SCHEMA,
    Workload,
    check,
    prepared,
    remap,
    remember_resolution,
    remember_rollup,
    resolve,
    resolve_ids,
)
from . import (
    _filled,
    _s3,
    azure,
    bedrock_batch,
    bedrock_logs,
    burstgpt,
    canonical,
    cur,
    litellm,
    mooncake,
    openai_usage,
    servegen,
    servegen_offline,
)
from ._csv import explain_duckdb_error
from .base import OnError, Raw, ReadOptions, expand_paths, head_bytes, read_options

__all__ = ["FORMATS", "OnError", "Raw", "ReadOptions", "detect", "expand_paths", "head_bytes", "read_options",
           "read_workload"]

# Order matters for detection: specific formats before the generic canonical one.
FORMATS: dict[str, ModuleType] = {
    bedrock_logs.NAME: bedrock_logs,
    cur.NAME: cur,
    openai_usage.NAME: openai_usage,
    litellm.NAME: litellm,
    bedrock_batch.NAME: bedrock_batch,
    servegen_offline.NAME: servegen_offline,  # before mooncake: both have hash_ids
    mooncake.NAME: mooncake,
    burstgpt.NAME: burstgpt,
    servegen.NAME: servegen,
    azure.NAME: azure,
    canonical.NAME: canonical,
}


def detect(path: Path) -> str:
    """The format name of a file, from its content."""
    head = head_bytes(path)
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n"):
        raise EmptyFileError(f"{path}: the file is empty: no requests to read (an export that wrote nothing?)")
    for name, mod in FORMATS.items():
        if mod.sniff(path, head):
            return name
    raise UnknownFormatError(f"{path}: unrecognised format; pass --format one of {', '.join(FORMATS)}")


def _requests_by(roll: pa.Table, column: str) -> dict[str | None, int]:
    """Requests per value of one roll-up column (the roll-up has one row per group, not per request)."""
    g = roll.group_by(column, use_threads=False).aggregate([("requests", "sum")])
    return dict(zip(g.column(column).to_pylist(), g.column("requests_sum").to_pylist(), strict=True))


def _real_regions(pre: ibis.Table, roll: pa.Table, bad: dict[str, int], label: str, on_error: OnError
                  ) -> tuple[ibis.Table, pa.Table, dict[str, int]]:
    """Refuse requests in a region that is not an AWS region (they would price at the `*` row), or with
    on_error="skip" drop and count them; the check is on the roll-up's groups, not on requests."""
    by_region = _requests_by(roll, "region")
    wrong = unknown(by_region)
    if not wrong:
        return pre, roll, bad
    if on_error != "skip":
        check_regions(by_region, label, "fix the region in the data, or pass --on-error skip to skip and count "
                      "those requests")
    keep = pc.invert(pc.is_in(roll.column("region"), value_set=pa.array(list(wrong), pa.string())))
    skipped = {**bad, **{f"{label}: unknown AWS region {r!r}": n for r, n in wrong.items()}}
    return pre.filter(pre.region.isin(list(REGIONS))), roll.filter(keep), skipped


def read_workload(
    paths: Sequence[str | Path],
    catalog: Catalog,
    fmt: str = "auto",
    options: ReadOptions | None = None,
) -> Workload:
    """Read files of one or more formats into one canonical workload.

    `s3://` prefixes are read in place, never downloaded (`_s3`): a prefix of canonical Parquet only is scanned
    as a pyarrow dataset (or `s3a://` on Spark); any other is listed and each object read as a file would be.
    """
    options = options or ReadOptions()
    streamed: list[tuple[str, Raw]] = []
    if fmt in ("auto", canonical.NAME) and any(str(p).startswith("s3://") for p in paths):
        paths, streamed = _stream_s3(paths)
    files = expand_paths(paths) if paths or not streamed else []
    groups: dict[str, list[Path]] = {}
    notes: list[str] = []
    explicit = {Path(p) for p in paths if not str(p).startswith("s3://") and Path(p).is_file()}
    ignored: list[str] = []
    empty: list[str] = []
    payloads = 0
    for f in files:
        if f not in explicit and bedrock_logs.side_object(f):
            payloads += 1  # a large body or the permission check Bedrock writes beside its logs: no records
            continue
        if fmt == "auto" and f not in explicit:
            try:  # a file found in a folder (LICENSE, README...) that is no usage format is left out, and said
                name = detect(f)
            except EmptyFileError:
                empty.append(f.name)
                continue
            except InputError:
                ignored.append(f.name)
                continue
        else:
            name = detect(f) if fmt == "auto" else fmt
        if name not in FORMATS:
            raise InputError(f"unknown format {name!r}; known: auto, {', '.join(FORMATS)}")
        groups.setdefault(name, []).append(f)
    if fmt == "auto":
        notes += [f"format {name}: {len(fs)} file(s)" for name, fs in groups.items()]
    if payloads:
        notes.append(f"left out {payloads} Bedrock large-payload object(s) (data/: bodies over 100 KB, counted in "
                     "their records) or permission-check object(s)")
    if ignored:
        notes.append(f"left out {len(ignored)} file(s) in no known format: " + ", ".join(sorted(set(ignored))[:5]))
    if empty:
        notes.append(f"left out {len(empty)} empty file(s): " + ", ".join(sorted(set(empty))[:5]))
    if not groups and not streamed:
        raise InputError(f"no usage file in a known format among {len(files)} file(s); pass --format one of "
                         f"{', '.join(FORMATS)}")
    tables = []
    rollups = []
    pres = []
    resolved: dict = {}
    fixed: list[dict] = []
    skipped: dict[str, int] = {}
    if engine.name() != "duckdb" and set(groups) - {canonical.NAME}:
        raise InputError(f"format {', '.join(sorted(set(groups) - {canonical.NAME}))}: {canonical.SPARK_HINT}")
    raws = list(streamed)
    for name, fs in groups.items():
        label = str(fs[0]) if len(fs) == 1 else f"{len(fs)} {name} files"
        try:
            raws.append((label, FORMATS[name].read(fs, options)))
        except duckdb.Error as exc:  # the engine could not read the input at all: say so, with where and why
            raise InputError(explain_duckdb_error(label, exc)) from None
    for label, raw in raws:
        pre, constants = prepared(raw.table, options.defaults, source=label)
        pre, bad, roll = check(pre, source=label, on_error=options.on_error, thresholds=catalog.lc_thresholds,
                               constants=constants, periods=catalog.price_periods_us)
        pre, roll, bad = _real_regions(pre, roll, bad, label, options.on_error)
        ids = resolve_ids(set(roll.column("model").to_pylist()), catalog, label)
        notes += _filled.notes(label, options.defaults, _filled.source_nulls(raw.table, options.defaults), roll,
                               ids, catalog, dropped=sum(bad.values()))
        tables.append(resolve(pre, ids))
        pres.append(pre)
        resolved.update(ids)
        fixed.append(constants)
        rollups.append(remap(roll, ids))
        for k, v in {**raw.skipped, **bad}.items():
            skipped[k] = skipped.get(k, 0) + v
        notes += raw.notes
    table = tables[0] if len(tables) == 1 else ibis.union(*tables)
    # the validation scan's roll-up, remapped to catalog models, is the resolved table's: pricing reuses it
    # (sources of several formats roll up the same columns, not always in the same order)
    remember_rollup(table, catalog.lc_thresholds, pa.concat_tables([r.select(rollups[0].column_names)
                                                                    for r in rollups]), catalog.price_periods_us)
    # and the table before resolution, which later roll-ups group by logged id (workload.rollup_by)
    same = {k: v for k, v in fixed[0].items() if all(k in f and f[k] == v for f in fixed[1:])}
    remember_resolution(table, pres[0] if len(pres) == 1 else ibis.union(*pres), resolved, same)
    if len(raws) == 1 and raws[0][1].parquet is not None:
        _remember_file_rows(table, raws[0][1].parquet, rollups[0])
    sources = [*(u for u, _ in streamed), *(str(f) for f in files)]
    return Workload(table=table, sources=sources, skipped=skipped, notes=notes)


def _remember_file_rows(table: ibis.Table, path: str, roll: pa.Table) -> None:
    """Say that `table` is the rows of the one Parquet file it was read from, in order (`engine.file_rows`),
    when it is: every row kept (the validation roll-up counts as many as the file's footer) and the file's
    `prefix` already of the canonical type (else the engine casts it, and only its values are canonical)."""
    schema = pq.read_schema(path)
    want = IBIS_SCHEMA["prefix"].to_pyarrow()
    if "prefix" in schema.names and schema.field("prefix").type != want:
        return
    kept = int(pc.sum(roll.column("requests")).as_py() or 0) if roll.num_rows else 0
    if kept == pq.ParquetFile(path).metadata.num_rows:
        engine.remember_file_rows(table, path)


def _stream_s3(paths: Sequence[str | Path]) -> tuple[list[str | Path | _s3.S3Object], list[tuple[str, Raw]]]:
    """Split off the `s3://` prefixes that hold canonical Parquet only, as tables scanned in place on the chosen
    engine (DuckDB: a pyarrow S3 dataset; Spark: s3a); the other inputs are returned to be read as files (the
    objects of the other prefixes, listed once)."""
    rest: list[str | Path | _s3.S3Object] = []
    out: list[tuple[str, Raw]] = []
    for p in paths:
        if not str(p).startswith("s3://") or isinstance(p, _s3.S3Object):  # an object listed already: as it is
            rest.append(p)
            continue
        listing = _s3.list_prefix(str(p))
        if not listing.all_parquet():
            rest.extend(listing.objects)  # other formats: each object read in place by its reader
            continue
        how = ""
        schemas = _s3.parquet_schemas(listing)
        old_names = canonical.check_each([f"s3://{listing.bucket}/{k}" for k in listing.keys], schemas)
        if engine.name() == "duckdb":
            con = engine.connection()
            view = f"_s3_{len(out)}_{id(listing)}"
            con.con.register(view, _s3.parquet_dataset(listing, schemas))
            table = con.table(view)
        else:
            table, how = _spark_s3(str(p), listing, schemas)
        table = canonical.aligned(canonical.with_canonical_names(table, {}))
        out.append((str(p), Raw(table=table, notes=[f"{p}: {len(listing.keys)} Parquet object(s) streamed{how}",
                                                    *canonical.rename_notes(old_names)])))
    return rest, out


_S3A_FIX = ("the cluster needs Hadoop's S3A connector (hadoop-aws and its AWS SDK jars, present on EMR, Glue and "
            "Databricks; elsewhere --packages org.apache.hadoop:hadoop-aws:<Spark's Hadoop version>), or pyspark 4+, "
            "whose Python data sources inferplan reads S3 through without it")


def _spark_s3(url: str, listing: _s3.Listing, schemas: list[Any]) -> tuple[ibis.Table, str]:
    """A Parquet prefix on Spark: `s3a://` where the cluster has the S3A connector; else (pyspark from PyPI has
    none) inferplan's Python data source, which reads each object on an executor by ranged GETs."""
    try:
        return canonical.engine_parquet(_s3.s3a_urls(listing), schemas), " (Spark s3a)"
    except Exception as exc:  # noqa: BLE001 - Spark's own error (py4j), said with the fix
        first = str(exc).splitlines()[0][:200]
        if "s3a" not in str(exc).lower() or not ("No FileSystem for scheme" in str(exc) or "S3AFileSystem" in str(exc)):
            raise InputError(f"{url}: Spark cannot read it as s3a:// ({first}); {_S3A_FIX}") from None
    try:
        from . import _s3_spark  # pyspark 4+ only (Python data sources); pyspark is optional
    except ImportError:
        raise InputError(f"{url}: Spark has no S3A connector ({first}); {_S3A_FIX}") from None
    return engine.spark_table(_s3_spark.read(engine.spark()._session, listing)), \
        " (Spark, inferplan's S3 data source: no S3A connector on this cluster)"
