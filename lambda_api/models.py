"""Response bodies. The trip row is the contract's ``Trip`` plus the TRIPS table's columns."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field, create_model

from contract.fields import TRIP_FIELDS, FieldType
from contract.record import Trip
from contract.tables import TRIPS

_PY: dict[FieldType, Any] = {
    FieldType.STRING: str,
    FieldType.INT: int,
    FieldType.BIGINT: int,
    FieldType.DOUBLE: float,
    FieldType.TIMESTAMP: AwareDatetime,
}
_TRIP_NAMES = {f.name for f in TRIP_FIELDS}

# The Kafka record's fields (contract.record.Trip) + what the stream adds in the trips table.
TripRow: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "TripRow",
    __base__=Trip,
    __doc__="One row of the lake's trips table (contract TRIPS).",
    **{
        c.name: (_PY[c.type] if c.required else _PY[c.type] | None, ... if c.required else None)
        for c in TRIPS.columns
        if c.name not in _TRIP_NAMES
    },
)

Interval = Literal["5m", "1h", "1d"]
GroupBy = Literal["none", "service", "borough", "zone"]
Metric = Literal["pickups", "revenue", "avg_fare"]


class Health(BaseModel):
    status: Literal["ok"]
    engine: str
    version: str


class Status(BaseModel):
    now: datetime
    newest_pickup_at: datetime | None = Field(description="Newest pickup in the last 24 h.")
    freshness_s: float | None = Field(description="now - newest_pickup_at.")
    trips_last_minutes: int
    minutes: int
    dead_letters_last_hour: int
    last_batch: dict[str, Any] | None = Field(
        description="The stream's latest progress record (_pipeline/progress/latest.json)."
    )


class TripsPage(BaseModel):
    items: list[TripRow]  # type: ignore[valid-type]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last.")


class Summary(BaseModel):
    trips: int
    revenue: float
    avg_fare: float | None
    avg_distance: float | None
    avg_duration_s: float | None
    tip_rate: float | None = Field(description="Card tips / card fares (cash tips are unrecorded).")
    passengers: int
    start: datetime = Field(description="Effective start (floored to the 5-minute grid).")
    end: datetime = Field(description="Effective end, exclusive (ceiled to the 5-minute grid).")


class TimeseriesPoint(BaseModel):
    bucket: datetime
    group: str | None
    trips: int
    passengers: int
    revenue: float
    avg_fare: float | None
    avg_distance: float | None
    avg_duration_s: float | None
    tip_rate: float | None


class Timeseries(BaseModel):
    interval: Interval
    group_by: GroupBy
    start: datetime
    end: datetime
    points: list[TimeseriesPoint]


class TopZone(BaseModel):
    zone_id: int
    borough: str | None
    zone: str | None
    pickups: int
    revenue: float
    avg_fare: float | None


class TopZones(BaseModel):
    metric: Metric
    start: datetime
    end: datetime
    items: list[TopZone]


class HourTrips(BaseModel):
    hour: int = Field(ge=0, le=23)
    trips: int


class Dropoff(BaseModel):
    zone_id: int
    zone: str | None
    borough: str | None
    trips: int


class ZoneDetail(BaseModel):
    zone_id: int
    borough: str
    zone: str
    summary: Summary
    by_hour: list[HourTrips]
    top_dropoffs: list[Dropoff]
    top_dropoffs_start: datetime = Field(
        description="Dropoffs come from raw trips: at most the last days of the range."
    )
    top_dropoffs_end: datetime


class DeadLetterPoint(BaseModel):
    bucket: datetime
    reason: str
    count: int


class ReasonCount(BaseModel):
    reason: str
    count: int


class DeadLetters(BaseModel):
    interval: Literal["1h", "1d"]
    start: datetime
    end: datetime
    points: list[DeadLetterPoint]
    totals: list[ReasonCount]


class DeadLetterSample(BaseModel):
    raw_value: str | None
    reasons: list[str]
    topic: str
    kafka_partition: int
    kafka_offset: int
    ingested_at: datetime


class DeadLetterSamples(BaseModel):
    items: list[DeadLetterSample]


class ZoneItem(BaseModel):
    zone_id: int
    borough: str
    zone: str
    service_zone: str


class Zones(BaseModel):
    items: list[ZoneItem]


class Problem(BaseModel):
    detail: str
