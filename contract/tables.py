"""The lake's tables. Glue (via tables.json), Spark writers and API readers all use these."""

from __future__ import annotations

from dataclasses import dataclass

from contract.fields import TRIP_FIELDS, Field, FieldType

S, INT, B, D, T = (
    FieldType.STRING,
    FieldType.INT,
    FieldType.BIGINT,
    FieldType.DOUBLE,
    FieldType.TIMESTAMP,
)


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Field, ...]
    partition_keys: tuple[Field, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def glue_columns(self) -> list[dict[str, str]]:
        return [{"name": c.name, "type": c.type.glue, "comment": c.doc} for c in self.columns]

    def glue_partition_keys(self) -> list[dict[str, str]]:
        return [
            {"name": c.name, "type": c.type.glue, "comment": c.doc} for c in self.partition_keys
        ]


_DT = Field("dt", S, True, "UTC date, YYYY-MM-DD.")

TRIPS = Table(
    name="trips",
    doc="Accepted, deduplicated, zone-enriched trips; one row per trip_id.",
    columns=(
        *TRIP_FIELDS,
        Field("pickup_borough", S, False, "Borough of the pickup zone."),
        Field("pickup_zone", S, False, "Name of the pickup zone."),
        Field("dropoff_borough", S, False, "Borough of the dropoff zone."),
        Field("dropoff_zone", S, False, "Name of the dropoff zone."),
        Field("duration_s", B, True, "dropoff_at - pickup_at in seconds."),
        Field("kafka_partition", INT, True, "Kafka partition the record was read from."),
        Field("kafka_offset", B, True, "Kafka offset the record was read from."),
        Field("ingested_at", T, True, "When the stream read the record (Kafka timestamp), UTC."),
    ),
    partition_keys=(_DT, Field("hour", S, True, "UTC hour of pickup_at, 00..23.")),
)

# Additive partial aggregates per micro-batch: readers SUM them, then divide, so a late batch
# only adds rows and nothing is ever rewritten.
ZONE_METRICS = Table(
    name="zone_metrics",
    doc="Zone x 5-minute partial aggregates of trips by pickup time; sum rows, then divide.",
    columns=(
        Field("window_start", T, True, "Start of the 5-minute pickup window, UTC."),
        Field("service", S, True, "yellow or green."),
        Field("pickup_zone_id", INT, True, "Pickup zone id."),
        Field("pickup_borough", S, False, "Borough of the pickup zone."),
        Field("trips", B, True, "Trips."),
        Field("passengers", B, True, "Sum of passenger_count (nulls as 0)."),
        Field("revenue", D, True, "Sum of total_amount."),
        Field("fare_sum", D, True, "Sum of fare_amount."),
        Field("distance_sum", D, True, "Sum of trip_distance."),
        Field("duration_s_sum", B, True, "Sum of duration_s."),
        Field(
            "card_tip_sum", D, True, "Sum of tip_amount on card trips (cash tips are unrecorded)."
        ),
        Field(
            "card_fare_sum", D, True, "Sum of fare_amount on card trips; tip rate = tips / this."
        ),
        Field("batch_id", B, True, "Micro-batch that wrote the row."),
    ),
    partition_keys=(_DT, Field("hour", S, True, "UTC hour of window_start, 00..23.")),
)

DEAD_LETTERS = Table(
    name="dead_letters",
    doc="Records the stream rejected, with every reason; nothing is dropped silently.",
    columns=(
        Field(
            "raw_value", S, False, "The Kafka value as received (UTF-8, invalid bytes replaced)."
        ),
        Field("trip_id", S, False, "trip_id if it could be read."),
        Field("reasons", FieldType.STRING_ARRAY, True, "Reason codes (see docs/validation.md)."),
        Field("topic", S, True, "Kafka topic."),
        Field("kafka_partition", INT, True, "Kafka partition."),
        Field("kafka_offset", B, True, "Kafka offset."),
        Field("ingested_at", T, True, "When the stream read the record (Kafka timestamp), UTC."),
    ),
    partition_keys=(Field("dt", S, True, "UTC date of ingested_at, YYYY-MM-DD."),),
)

TABLES: tuple[Table, ...] = (TRIPS, ZONE_METRICS, DEAD_LETTERS)
