"""Engine schemas derived from the contract: never a field list typed by hand."""

from __future__ import annotations

import pyarrow as pa
from pyspark.sql.types import StringType, StructField, StructType

from contract.fields import TRIP_FIELDS, FieldType
from contract.tables import Table

_ARROW: dict[FieldType, pa.DataType] = {
    FieldType.STRING: pa.string(),
    FieldType.INT: pa.int32(),
    FieldType.BIGINT: pa.int64(),
    FieldType.DOUBLE: pa.float64(),
    # What Spark itself writes for TimestampType: an instant (isAdjustedToUTC) in microseconds.
    FieldType.TIMESTAMP: pa.timestamp("us", tz="UTC"),
    FieldType.DATE: pa.date32(),
    FieldType.STRING_ARRAY: pa.list_(pa.string()),
}


def raw_json_schema() -> StructType:
    """Every trip field as STRING, so any JSON scalar (or object) survives as its text."""
    return StructType([StructField(f.name, StringType()) for f in TRIP_FIELDS])


def arrow_type(ftype: FieldType) -> pa.DataType:
    return _ARROW[ftype]


def arrow_schema(table: Table) -> pa.Schema:
    """The Parquet file schema of a lake table: its columns only (partition keys are paths)."""
    return pa.schema([pa.field(c.name, arrow_type(c.type)) for c in table.columns])


def spark_ddl(table: Table, with_partitions: bool = True) -> str:
    cols = table.columns + (table.partition_keys if with_partitions else ())
    return ", ".join(f"`{c.name}` {c.type.spark}" for c in cols)
