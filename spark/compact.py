"""Compaction: merge a lake partition's many small Parquet files into one.

``python -m spark.compact --lake-uri s3://bucket --days-ago 1`` (also the EMR Serverless entry
script, scheduled nightly by terraform/modules/maintenance). The stream writes one object per
micro-batch and partition, so an hour holds hundreds of small files; Athena and DuckDB pay per
file. Rows are concatenated, never re-aggregated: zone_metrics rows are additive partials and
stay valid as they are.

Crash safety: the merged file ``compact-<digest>.parquet`` is written first (one atomic PUT) and
names its inputs in its Parquet metadata; the inputs are deleted after. A run that died in
between leaves both; the next run finishes the job (deletes the inputs the merged file names)
before it picks new inputs, so rows are never counted twice for longer than one crash.
Readers that list a partition while it is being swapped may briefly see both, as with any
in-place rewrite on S3. On S3, pyarrow's deletes leave a zero-byte directory marker
(``.../hour=05/``); Athena, DuckDB and Spark skip it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from pydantic_settings import BaseSettings, SettingsConfigDict

from contract.tables import TABLES, Table
from spark.config import StreamSettings
from spark.lake import LakeTarget, put
from spark.schemas import arrow_schema

META_KEY = b"compacted_from"
PREFIX = "compact-"


class CompactSettings(BaseSettings):
    """Knobs of the compaction; env vars ``COMPACT_*`` (S3 access comes from ``STREAM_*``)."""

    model_config = SettingsConfigDict(env_prefix="COMPACT_")

    # A partition with fewer Parquet files than this is left alone.
    min_files: int = 2
    tables: list[str] = [t.name for t in TABLES]


@dataclass
class PartitionResult:
    path: str
    inputs: int
    rows: int
    output: str | None  # None: nothing to do


def _parquet_files(fs: pafs.FileSystem, folder: str) -> dict[str, list[str]]:
    """Parquet files under ``folder`` grouped by their directory (one per partition)."""
    infos = fs.get_file_info(pafs.FileSelector(folder, recursive=True, allow_not_found=True))
    out: dict[str, list[str]] = {}
    for info in infos:
        if info.type == pafs.FileType.File and info.base_name.endswith(".parquet"):
            out.setdefault(info.path.rsplit("/", 1)[0], []).append(info.path)
    return {d: sorted(files) for d, files in sorted(out.items())}


def _compacted_from(fs: pafs.FileSystem, path: str) -> list[str]:
    with fs.open_input_file(path) as fh:
        meta = pq.read_metadata(fh).metadata or {}
    names: list[str] = json.loads(meta[META_KEY]) if META_KEY in meta else []
    return names


def _finish_interrupted(fs: pafs.FileSystem, folder: str, files: list[str]) -> list[str]:
    """Delete inputs that a merged file already holds; returns the files left."""
    present = {f.rsplit("/", 1)[1]: f for f in files}
    for name in [n for n in present if n.startswith(PREFIX)]:
        for done in _compacted_from(fs, present[name]):
            if done in present and done != name:
                fs.delete_file(present.pop(done))
    return sorted(present.values())


def compact_partition(
    fs: pafs.FileSystem, folder: str, files: list[str], table: Table, min_files: int
) -> PartitionResult:
    files = _finish_interrupted(fs, folder, files)
    if len(files) < min_files:
        return PartitionResult(folder, len(files), 0, None)
    schema = arrow_schema(table)
    parts = []
    for f in files:
        with fs.open_input_file(f) as fh:
            parts.append(pq.read_table(fh).select(schema.names).cast(schema))
    merged = pa.concat_tables(parts)
    names = [f.rsplit("/", 1)[1] for f in files]
    digest = hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]
    out = f"{folder}/{PREFIX}{digest}.parquet"
    merged = merged.replace_schema_metadata(
        {**(merged.schema.metadata or {}), META_KEY: json.dumps(names).encode()}
    )
    put(fs, out, lambda p: pq.write_table(merged, p, filesystem=fs))
    for f in files:
        if f != out:
            fs.delete_file(f)
    return PartitionResult(folder, len(files), merged.num_rows, out)


def compact_day(
    target: LakeTarget, day: date, settings: CompactSettings | None = None
) -> list[PartitionResult]:
    """Compact every partition of ``day`` (dt=YYYY-MM-DD) of the configured tables."""
    s = settings or CompactSettings()
    fs, base = target.filesystem()
    results = []
    for table in TABLES:
        if table.name not in s.tables:
            continue
        folder = f"{base}/{table.name}/dt={day.isoformat()}"
        for part, files in _parquet_files(fs, folder).items():
            results.append(compact_partition(fs, part, files, table, s.min_files))
    return results


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m spark.compact", description=__doc__.split("\n")[0])
    p.add_argument("--lake-uri", help="s3://bucket[/prefix], s3a:// or file:// (STREAM_LAKE_URI)")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--date", type=date.fromisoformat, help="the dt partition to compact")
    when.add_argument("--days-ago", type=int, default=1, help="dt = today (UTC) - N (default 1)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    stream = StreamSettings(**({"lake_uri": args.lake_uri} if args.lake_uri else {}))
    day = args.date or (datetime.now(UTC).date() - timedelta(days=args.days_ago))
    results = compact_day(LakeTarget.from_settings(stream), day)
    done = [r for r in results if r.output]
    for r in done:
        print(f"compacted {r.inputs} files ({r.rows} rows) -> {r.output}", flush=True)
    print(
        f"dt={day}: {len(done)} of {len(results)} partitions compacted, "
        f"{sum(r.inputs for r in done)} files merged",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
