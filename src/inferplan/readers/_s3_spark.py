"""`s3://` canonical Parquet on Spark without Hadoop's S3A connector: a Python data source (Spark 4's
`pyspark.sql.datasource`) whose partitions are the listed objects, each read on an executor by pyarrow's S3
client with that executor's own boto3 credential chain, and handed to Spark as Arrow record batches.

Spark reads `s3a://` natively where the cluster has hadoop-aws and its AWS SDK (EMR, Glue and Databricks ship
them); pyspark from PyPI does not, and they come only from Maven. This route needs nothing but what inferplan
already needs (pyarrow, boto3, and inferplan itself on the executors). Nothing secret travels in the plan: the
options are the bucket, the keys, the region and the endpoint; credentials are found where the read runs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition
from pyspark.sql.pandas.types import from_arrow_schema

from . import _s3

NAME = "inferplan_s3_parquet"
# objects per Spark partition: enough to keep tasks from being tiny, few enough to spread a month over a cluster
PER_PARTITION = 8


def _filesystem(options: dict[str, str]) -> Any:
    import boto3

    client = boto3.client("s3", region_name=options.get("region") or None,
                          endpoint_url=options.get("endpoint") or None)
    return _s3.filesystem(client)


class S3Parquet(DataSource):
    """Options: `bucket`, `keys` (a JSON list), `schema` (the unified Arrow schema, serialized), `region`,
    `endpoint` (empty for AWS's own)."""

    @classmethod
    def name(cls) -> str:
        return NAME

    def _arrow_schema(self) -> pa.Schema:
        return pa.ipc.read_schema(pa.py_buffer(bytes.fromhex(self.options["schema"])))

    def schema(self) -> Any:
        return from_arrow_schema(self._arrow_schema(), prefer_timestamp_ntz=False)

    def reader(self, schema: Any) -> DataSourceReader:
        return _Reader(dict(self.options), self._arrow_schema())


class _Reader(DataSourceReader):
    def __init__(self, options: dict[str, str], schema: pa.Schema):
        self.options = options
        self.arrow = schema

    def partitions(self) -> list[InputPartition]:
        keys = json.loads(self.options["keys"])
        return [InputPartition(keys[i:i + PER_PARTITION]) for i in range(0, len(keys), PER_PARTITION)]

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        fs = _filesystem(self.options)
        bucket = self.options["bucket"]
        for key in partition.value:
            with fs.open_input_file(f"{bucket}/{key}") as fh:
                for batch in pq.ParquetFile(fh).iter_batches(batch_size=65536):
                    yield _conform(batch, self.arrow)


def _conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """A batch with the prefix's unified columns, in order (a column an object lacks is null)."""
    cols = [batch.column(f.name).cast(f.type) if f.name in batch.schema.names else pa.nulls(batch.num_rows, f.type)
            for f in schema]
    return pa.RecordBatch.from_arrays(cols, schema=schema)


def read(session: Any, listing: _s3.Listing) -> Any:
    """The prefix's Parquet objects as one Spark DataFrame, read on the executors (schema from the footers)."""
    found = _s3.parquet_dataset(listing).schema  # every object's columns
    # as Spark types them back to Arrow: dictionary-encoded strings (as DuckDB and pyarrow write them) plain
    schema = pa.schema([f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f for f in found])
    session.dataSource.register(S3Parquet)
    endpoint = listing.client.meta.endpoint_url
    aws = endpoint.rstrip("/").endswith("amazonaws.com")
    return (session.read.format(NAME)
            .option("bucket", listing.bucket).option("keys", json.dumps(listing.keys))
            .option("schema", schema.serialize().to_pybytes().hex())
            .option("region", listing.client.meta.region_name or os.environ.get("AWS_REGION") or "")
            .option("endpoint", "" if aws else endpoint)
            .load())
