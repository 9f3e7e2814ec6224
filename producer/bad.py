"""Deliberately bad records, one kind per way real feeds break, each with the reason the stream
must give it. Used by ``synthetic --bad-fraction`` and by the tests' bad-input corpus."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from contract.record import encode

Record = dict[str, Any]


@dataclass(frozen=True)
class BadKind:
    name: str
    reason: str  # the reason code the stream must give (others may be added)
    make: Callable[[Record], bytes]


def _with(**changes: Any) -> Callable[[Record], bytes]:
    return lambda r: encode({**r, **changes})


def _without(field: str) -> Callable[[Record], bytes]:
    return lambda r: encode({k: v for k, v in r.items() if k != field})


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _shift_dropoff(delta: timedelta) -> Callable[[Record], bytes]:
    def make(r: Record) -> bytes:
        pickup = datetime.fromisoformat(r["pickup_at"])
        return encode({**r, "dropoff_at": _iso(pickup + delta)})

    return make


def _future(r: Record) -> bytes:
    start = datetime.now(UTC) + timedelta(days=30)
    return encode({**r, "pickup_at": _iso(start), "dropoff_at": _iso(start + timedelta(minutes=9))})


BAD_KINDS: tuple[BadKind, ...] = (
    BadKind("truncated_json", "malformed_json", lambda r: encode(r)[:37]),
    BadKind("binary", "malformed_json", lambda r: bytes(range(256))[::7] + b"\xff\xfe"),
    BadKind("json_array", "malformed_json", lambda r: orjson.dumps([r["trip_id"], 1, 2])),
    BadKind("plain_text", "malformed_json", lambda r: b"trip " + r["trip_id"].encode()),
    BadKind("missing_trip_id", "missing_field:trip_id", _without("trip_id")),
    BadKind("missing_pickup_at", "missing_field:pickup_at", _without("pickup_at")),
    BadKind("null_total_amount", "missing_field:total_amount", _with(total_amount=None)),
    BadKind("fare_as_text", "invalid_type:fare_amount", _with(fare_amount="twelve")),
    BadKind("zone_as_object", "invalid_type:pickup_zone_id", _with(pickup_zone_id={"id": 4})),
    BadKind("unparseable_time", "invalid_type:pickup_at", _with(pickup_at="yesterday at noon")),
    BadKind("dropoff_before_pickup", "dropoff_before_pickup", _shift_dropoff(-timedelta(hours=1))),
    BadKind("two_day_trip", "trip_longer_than_a_day", _shift_dropoff(timedelta(days=2))),
    BadKind("future_pickup", "pickup_in_future", _future),
    BadKind(
        "pickup_in_2001",
        "pickup_before_2009",
        _with(pickup_at="2001-01-01T00:00:00Z", dropoff_at="2001-01-01T00:10:00Z"),
    ),
    BadKind("unknown_pickup_zone", "unknown_pickup_zone", _with(pickup_zone_id=999)),
    BadKind("zero_dropoff_zone", "unknown_dropoff_zone", _with(dropoff_zone_id=0)),
    BadKind("negative_distance", "negative_distance", _with(trip_distance=-3.2)),
    BadKind("odometer_glitch", "implausible_distance", _with(trip_distance=73364.39)),
    BadKind("huge_total", "implausible_amount", _with(total_amount=98765.43)),
    BadKind("forty_passengers", "implausible_passenger_count", _with(passenger_count=40)),
    BadKind("blue_taxi", "unknown_service", _with(service="blue")),
    BadKind("schema_v2", "unsupported_schema_version", _with(schema_version=2)),
    BadKind("empty_trip_id", "invalid_trip_id", _with(trip_id="")),
    BadKind("bad_store_flag", "invalid_store_and_fwd_flag", _with(store_and_fwd_flag="maybe")),
    BadKind("oversized", "oversized_record", _with(source="x" * 70_000)),
)
BAD_BY_NAME = {k.name: k for k in BAD_KINDS}
