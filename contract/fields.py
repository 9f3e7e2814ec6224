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

    @property
    def text_pattern(self) -> str | None:
        """The text a JSON value of this type must match before any engine casts it (anchored;
        valid in Java and RE2 regex). Each engine's own cast is lenient in its own way: Spark
        reads "12.5d" as 12.5 and "06:30:00" as today, DuckDB reads "1_000" as 1000 and "epoch"
        as 1970; both read "NaN". Gating both on one pattern keeps their verdicts equal."""
        return _TEXT_PATTERNS.get(self)


# Numbers may arrive as JSON numbers or as strings holding one (both are accepted).
_TEXT_PATTERNS: dict[FieldType, str] = {
    FieldType.INT: r"^-?[0-9]+\z",  # no fraction: 12.5 is not 12
    FieldType.BIGINT: r"^-?[0-9]+\z",
    # At most 20 integer digits and a 2-digit exponent: always finite, never Infinity.
    FieldType.DOUBLE: r"^-?[0-9]{1,20}(\.[0-9]+)?([eE][-+]?[0-9]{1,2})?\z",
    # ISO-8601 date and time; no offset = UTC; offsets of real zones (-12:00..+14:00) only.
    FieldType.TIMESTAMP: (
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
        r"(\.[0-9]{1,9})?(Z|[-+](0[0-9]|1[0-4]):[0-5][0-9])?\z"
    ),
}
# Instants every lake reader stores (year 0 and 10000 are not); the same bounds in both engines.
# This also keeps `pickup_at + INTERVAL 1 DAY` in the rules from overflowing.
MIN_TIMESTAMP, MAX_TIMESTAMP = "0001-01-01 00:00:00", "9999-12-31 23:59:59"


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
