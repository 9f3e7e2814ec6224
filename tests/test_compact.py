"""spark.compact on a file:// lake written with the stream's own writer (spark.lake.write_table)."""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from contract.fields import FieldType
from contract.tables import DEAD_LETTERS, ZONE_METRICS, Table
from localstack.twin import Twin
from spark.compact import META_KEY, CompactSettings, compact_day, main
from spark.lake import LakeTarget, write_table
from spark.schemas import arrow_type

DAY = date(2026, 1, 2)
SAMPLE: dict[FieldType, Any] = {
    FieldType.STRING: "x",
    FieldType.INT: 7,
    FieldType.BIGINT: 70,
    FieldType.DOUBLE: 1.5,
    FieldType.TIMESTAMP: 1_767_312_000_000_000,
    FieldType.DATE: 20_455,
    FieldType.STRING_ARRAY: ["r"],
}


def rows(table: Table, n: int, batch: int, hours: list[int]) -> pa.Table:
    """n rows per hour; the first BIGINT column carries (batch, i) so every row is distinct."""
    cols: dict[str, pa.Array] = {}
    total = n * len(hours)
    marked = False
    for c in table.columns:
        if c.type is FieldType.BIGINT and not marked:
            values: list[Any] = [batch * 1000 + i for i in range(total)]
            marked = True
        else:
            values = [SAMPLE[c.type]] * total
        cols[c.name] = pa.array(values, arrow_type(c.type))
    for k in table.partition_keys:
        if k.name == "dt":
            cols["dt"] = pa.array([DAY.isoformat()] * total)
        else:
            cols[k.name] = pa.array([f"{h:02d}" for h in hours for _ in range(n)])
    return pa.table(cols)


def read_all(lake: Path, table: Table) -> tuple[list[Path], list[tuple[Any, ...]]]:
    files = sorted((lake / table.name).rglob("*.parquet"))
    out: list[tuple[Any, ...]] = []
    for f in files:
        t = pq.read_table(f)
        out.extend(zip(*(t.column(n).to_pylist() for n in t.column_names), strict=True))
    return files, sorted(out, key=repr)


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    target = LakeTarget(uri=f"file://{tmp_path}")
    for batch in range(5):
        write_table(rows(ZONE_METRICS, 3, batch, [3, 4]), ZONE_METRICS, target, batch, "t")
        write_table(rows(DEAD_LETTERS, 2, batch, [0]), DEAD_LETTERS, target, batch, "t")
    return tmp_path


def test_each_partition_becomes_one_file_with_the_same_rows(lake: Path) -> None:
    before = {t.name: read_all(lake, t) for t in (ZONE_METRICS, DEAD_LETTERS)}
    assert len(before["zone_metrics"][0]) == 10  # 5 batches x 2 hours

    results = compact_day(LakeTarget(uri=f"file://{lake}"), DAY)

    assert sorted(r.inputs for r in results) == [5, 5, 5]
    for table in (ZONE_METRICS, DEAD_LETTERS):
        files, got = read_all(lake, table)
        assert got == before[table.name][1], table.name
        assert all(f.name.startswith("compact-") for f in files)
        assert len({f.parent for f in files}) == len(files)  # one per partition
    hours = sorted(p.parent.name for p in (lake / "zone_metrics").rglob("*.parquet"))
    assert hours == ["hour=03", "hour=04"]


def test_a_second_run_changes_nothing(lake: Path) -> None:
    target = LakeTarget(uri=f"file://{lake}")
    compact_day(target, DAY)
    files = sorted(lake.rglob("*.parquet"))
    assert all(r.output is None for r in compact_day(target, DAY))
    assert sorted(lake.rglob("*.parquet")) == files


def test_late_files_are_merged_into_the_compacted_one(lake: Path) -> None:
    target = LakeTarget(uri=f"file://{lake}")
    compact_day(target, DAY)
    write_table(rows(ZONE_METRICS, 3, 9, [3]), ZONE_METRICS, target, 9, "t")
    compact_day(target, DAY, CompactSettings(tables=["zone_metrics"]))
    files, got = read_all(lake, ZONE_METRICS)
    assert len(files) == 2 and len(got) == 5 * 6 + 3


def test_a_run_that_died_after_writing_is_finished_not_doubled(lake: Path) -> None:
    _, expected = read_all(lake, ZONE_METRICS)
    target = LakeTarget(uri=f"file://{lake}")
    hour = next((lake / "zone_metrics").rglob("hour=03"))
    inputs = {f.name: f.read_bytes() for f in hour.glob("*.parquet")}
    compact_day(target, DAY, CompactSettings(tables=["zone_metrics"]))
    # The state a kill between the merged file's PUT and the deletes leaves: both are there.
    for name, data in inputs.items():
        (hour / name).write_bytes(data)
    files, doubled = read_all(lake, ZONE_METRICS)
    assert len(doubled) == len(expected) + 5 * 3
    merged = [f for f in files if f.name.startswith("compact-") and f.parent == hour]
    assert len(merged) == 1
    assert sorted(json.loads(pq.read_metadata(merged[0]).metadata[META_KEY])) == sorted(inputs)

    compact_day(target, DAY, CompactSettings(tables=["zone_metrics"]))
    files, got = read_all(lake, ZONE_METRICS)
    assert got == expected
    assert len(files) == 2


def test_min_files_leaves_small_partitions_alone(lake: Path) -> None:
    results = compact_day(LakeTarget(uri=f"file://{lake}"), DAY, CompactSettings(min_files=6))
    assert all(r.output is None for r in results)
    assert len(read_all(lake, ZONE_METRICS)[0]) == 10


def test_cli_compacts_the_given_day(lake: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lake-uri", f"file://{lake}", "--date", DAY.isoformat()]) == 0
    assert "3 of 3 partitions compacted, 15 files merged" in capsys.readouterr().out
    assert len(read_all(lake, DEAD_LETTERS)[0]) == 1


@pytest.mark.twin
def test_compacts_a_lake_on_the_twins_s3(twin: Twin) -> None:
    """The same run against S3 (listing, PUT, delete through pyarrow's S3 client)."""
    bucket = f"compact-{uuid.uuid4().hex[:8]}"
    s3 = boto3.client("s3", **twin.client_kwargs())
    s3.create_bucket(Bucket=bucket)
    kw = twin.client_kwargs()
    target = LakeTarget(
        uri=f"s3a://{bucket}/lake",
        endpoint=twin.endpoint_url,
        access_key=kw["aws_access_key_id"],
        secret_key=kw["aws_secret_access_key"],
    )
    for batch in range(4):
        write_table(rows(ZONE_METRICS, 3, batch, [5]), ZONE_METRICS, target, batch, "t")

    results = compact_day(target, DAY, CompactSettings(tables=["zone_metrics"]))

    # pyarrow's delete leaves a zero-byte directory marker (".../hour=05/"); readers skip it.
    objects = s3.list_objects_v2(Bucket=bucket)["Contents"]
    keys = [o["Key"] for o in objects if not (o["Key"].endswith("/") and o["Size"] == 0)]
    assert [r.inputs for r in results] == [4]
    assert len(keys) == 1
    assert keys[0].startswith(f"lake/zone_metrics/dt={DAY}/hour=05/compact-")
    body = s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read()
    assert pq.read_table(pa.BufferReader(body)).num_rows == 12
