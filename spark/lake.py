"""Idempotent Parquet writes to the lake: one object per (table, partition, micro-batch).

An object's key is a function of the batch id and the partition values of its rows, so a
replayed micro-batch (same Kafka offsets -> same rows) rewrites exactly the same keys and can
leave no extra object behind, whatever the task layout of the retry. Each object is one S3 PUT
(atomic: readers see all of it or nothing). Readers that ignore Spark's ``_spark_metadata``
(Athena, DuckDB, pandas) therefore see every batch exactly once.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from pyspark.sql import DataFrame

from contract.tables import Table
from spark.config import StreamSettings
from spark.schemas import arrow_schema


@dataclass(frozen=True)
class LakeTarget:
    """Where the lake is and how to reach it; plain values so executors can rebuild the fs."""

    uri: str  # s3a://bucket/prefix, s3://bucket/prefix or file:///dir
    endpoint: str | None = None
    region: str = "us-east-1"
    access_key: str | None = None
    secret_key: str | None = None

    @classmethod
    def from_settings(cls, s: StreamSettings) -> LakeTarget:
        secret = s.aws_secret_access_key
        return cls(
            uri=s.lake_uri,
            endpoint=s.s3_endpoint,
            region=s.s3_region,
            access_key=s.aws_access_key_id,
            secret_key=secret.get_secret_value() if secret else None,
        )

    def filesystem(self) -> tuple[pafs.FileSystem, str]:
        """(pyarrow filesystem, base path inside it)."""
        u = urlsplit(self.uri)
        if u.scheme == "file":
            return pafs.LocalFileSystem(), u.path.rstrip("/")
        kw: dict[str, Any] = {"region": self.region}
        if self.endpoint:
            # With an endpoint override pyarrow addresses buckets path-style (what the twin needs).
            ep = urlsplit(self.endpoint)
            kw.update(endpoint_override=ep.netloc, scheme=ep.scheme or "https")
        if self.access_key and self.secret_key:
            kw.update(access_key=self.access_key, secret_key=self.secret_key)
        return pafs.S3FileSystem(**kw), f"{u.netloc}{u.path}".rstrip("/")


def object_name(batch_id: int, tag: str) -> str:
    """Sortable by batch; ``tag`` (the query id) keeps a new checkpoint from reusing names."""
    return f"batch-{batch_id:012d}-{tag}.parquet"


def partition_dir(table: Table, values: Sequence[Any]) -> str:
    parts = []
    for key, v in zip(table.partition_keys, values, strict=True):
        if v is None or v == "":
            raise ValueError(f"{table.name}: empty partition value for {key.name}")
        parts.append(f"{key.name}={v}")
    return "/".join((table.name, *parts))


def put(fs: pafs.FileSystem, path: str, write: Callable[[str], None]) -> None:
    """S3 PUTs are atomic already; on a local disk write aside and rename into place."""
    if isinstance(fs, pafs.LocalFileSystem):
        fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
        tmp = f"{path}.tmp-{uuid.uuid4().hex}"
        write(tmp)
        fs.move(tmp, path)
    else:
        write(path)


def put_json(target: LakeTarget, rel_path: str, obj: Any) -> str:
    fs, base = target.filesystem()
    path = f"{base}/{rel_path}"
    data = (json.dumps(obj, default=str) + "\n").encode()

    def write(p: str) -> None:
        with fs.open_output_stream(p) as out:
            out.write(data)

    put(fs, path, write)
    return path


def write_table(
    rows: pa.Table,
    table: Table,
    target: LakeTarget,
    batch_id: int,
    tag: str,
    order: Sequence[str] = (),
    threads: int = 8,
) -> list[tuple[str, int]]:
    """Write one micro-batch of ``table`` rows (columns + partition keys); [(path, rows)].

    Exactly one object per partition value set, so the key set is a function of the rows;
    sorting by ``order`` makes each object byte-identical when the batch is replayed.
    """
    if rows.num_rows == 0:
        return []
    keys = [k.name for k in table.partition_keys]
    schema = arrow_schema(table)
    rows = rows.sort_by([(c, "ascending") for c in (*keys, *order)])
    values = list(zip(*(rows.column(k).to_pylist() for k in keys), strict=True))
    runs: list[tuple[tuple[Any, ...], int, int]] = []  # (partition values, start, length)
    start = 0
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i] != values[start]:
            runs.append((values[start], start, i - start))
            start = i
    fs, base = target.filesystem()
    name = object_name(batch_id, tag)

    def write_run(run: tuple[tuple[Any, ...], int, int]) -> tuple[str, int]:
        part_values, offset, length = run
        part = rows.slice(offset, length).select(schema.names).cast(schema)
        path = f"{base}/{partition_dir(table, part_values)}/{name}"
        put(fs, path, lambda p: pq.write_table(part, p, filesystem=fs))
        return path, length

    # A replay of old files can touch hundreds of hours: upload them side by side.
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(write_run, runs))


def write_batch(
    df: DataFrame,
    table: Table,
    target: LakeTarget,
    batch_id: int,
    tag: str,
    order: Sequence[str] = (),
) -> list[tuple[str, int]]:
    """Collect a micro-batch's rows to the driver as Arrow and write them (see write_table).

    The batch is bounded by ``max_offsets_per_trigger``, so it fits the driver.
    """
    return write_table(df.toArrow(), table, target, batch_id, tag, order)
