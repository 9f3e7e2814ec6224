"""Fields of one trip record on Kafka; every engine's type is derived from one logical type."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

SCHEMA_VERSION = 1


class FieldType(StrEnum):
    """Logical types; every engine-specific type below is derived from these."""

    STRING = "string"
    INT = "int"
    BIGINT = "bigint"
    DOUBLE = "double"
    TIMESTAMP = "timestamp"  # an instant, always UTC
    DATE = "date"
    STRING_ARRAY = "array<string>"

    @property
    def glue(self) -> str:
        """Hive/Glue/Athena DDL type."""
        return self.value

    @property
    def spark(self) -> str:
        """Spark SQL DDL type (also valid in ``try_cast``)."""
        return self.value

    @property
    def duckdb(self) -> str:
        return {
            FieldType.STRING: "VARCHAR",
            FieldType.INT: "INTEGER",
            FieldType.BIGINT: "BIGINT",
            FieldType.DOUBLE: "DOUBLE",
            FieldType.TIMESTAMP: "TIMESTAMP",
            FieldType.DATE: "DATE",
            FieldType.STRING_ARRAY: "VARCHAR[]",
        }[self]


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    required: bool
    doc: str
    tlc: tuple[str, ...] = ()  # TLC column names (any case) this field is read from on replay


S, INT, D, T = FieldType.STRING, FieldType.INT, FieldType.DOUBLE, FieldType.TIMESTAMP

# The order here is the column order of the Kafka JSON, the Spark schema and the Glue table.
TRIP_FIELDS: tuple[Field, ...] = (
    Field("schema_version", INT, True, "Contract version the producer wrote; only 1 exists."),
    Field("trip_id", S, True, "Stable id: content+position hash on replay, seeded on synthetic."),
    Field("service", S, True, "yellow or green."),
    Field("source", S, False, "Where the record came from: synthetic or replay:<file name>."),
    Field("vendor_id", INT, False, "TPEP/LPEP provider code (1, 2, 6, 7 seen).", ("VendorID",)),
    Field(
        "pickup_at",
        T,
        True,
        "Meter engaged, UTC.",
        ("tpep_pickup_datetime", "lpep_pickup_datetime"),
    ),
    Field(
        "dropoff_at",
        T,
        True,
        "Meter disengaged, UTC.",
        ("tpep_dropoff_datetime", "lpep_dropoff_datetime"),
    ),
    Field("pickup_zone_id", INT, True, "TLC taxi zone id 1..265 of the pickup.", ("PULocationID",)),
    Field(
        "dropoff_zone_id", INT, True, "TLC taxi zone id 1..265 of the dropoff.", ("DOLocationID",)
    ),
    Field("passenger_count", INT, False, "Driver-entered; null and 0 occur.", ("passenger_count",)),
    Field("trip_distance", D, True, "Miles reported by the taximeter.", ("trip_distance",)),
    Field("rate_code_id", INT, False, "Final rate code; 99 occurs (unknown).", ("RatecodeID",)),
    Field(
        "store_and_fwd_flag",
        S,
        False,
        "Y if held in vehicle memory before sending.",
        ("store_and_fwd_flag",),
    ),
    Field("payment_type", INT, False, "1 card, 2 cash, ...; 0 = flex fare.", ("payment_type",)),
    Field("fare_amount", D, True, "Time-and-distance fare; negative on refunds.", ("fare_amount",)),
    Field("extra", D, False, "Extras and surcharges.", ("extra",)),
    Field("mta_tax", D, False, "MTA tax.", ("mta_tax",)),
    Field("tip_amount", D, False, "Card tips.", ("tip_amount",)),
    Field("tolls_amount", D, False, "Tolls.", ("tolls_amount",)),
    Field("improvement_surcharge", D, False, "Improvement surcharge.", ("improvement_surcharge",)),
    Field(
        "total_amount", D, True, "Charged to the passenger, without cash tips.", ("total_amount",)
    ),
    Field("congestion_surcharge", D, False, "NYS congestion surcharge.", ("congestion_surcharge",)),
    Field("airport_fee", D, False, "LGA/JFK pickup fee.", ("airport_fee",)),
    Field("cbd_congestion_fee", D, False, "MTA CBD toll (2025+).", ("cbd_congestion_fee",)),
    Field("ehail_fee", D, False, "Green only; always null in recent data.", ("ehail_fee",)),
    Field("trip_type", INT, False, "Green only: 1 street hail, 2 dispatch.", ("trip_type",)),
)

FIELD_BY_NAME = {f.name: f for f in TRIP_FIELDS}
REQUIRED = tuple(f.name for f in TRIP_FIELDS if f.required)
SERVICES = ("yellow", "green")
