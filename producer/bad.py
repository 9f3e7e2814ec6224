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


def _renamed(old: str, new: str) -> Callable[[Record], bytes]:
    return lambda r: encode({(new if k == old else k): v for k, v in r.items()})


def _raw_field(field: str, literal: bytes) -> Callable[[Record], bytes]:
    """The record with ``field`` set to ``literal`` as written (what orjson cannot write)."""

    def make(r: Record) -> bytes:
        marker = "\x00marker\x00"
        return encode({**r, field: marker}).replace(orjson.dumps(marker), literal)

    return make


def _trailing_comma(r: Record) -> bytes:
    return encode(r)[:-1] + b",}"


def _repeated_key(r: Record) -> bytes:
    # Both values are valid: which one a reader takes decides the fare.
    return encode(r)[:-1] + b',"fare_amount":' + orjson.dumps(r["fare_amount"] + 100) + b"}"


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
    # Not JSON, or not strict JSON in UTF-8.
    BadKind("empty_value", "malformed_json", lambda r: b""),
    BadKind("json_null", "malformed_json", lambda r: b"null"),
    BadKind("bare_string", "malformed_json", lambda r: orjson.dumps(r["trip_id"])),
    BadKind("utf8_bom", "malformed_json", lambda r: b"\xef\xbb\xbf" + encode(r)),
    BadKind("invalid_utf8", "malformed_json", _raw_field("source", b'"synthetic \xc3\x28"')),
    BadKind("lone_surrogate", "malformed_json", _raw_field("source", rb'"synthetic \ud800"')),
    BadKind("nan_literal", "malformed_json", _raw_field("fare_amount", b"NaN")),
    BadKind("trailing_comma", "malformed_json", _trailing_comma),
    BadKind("split_array_tail", "malformed_json", lambda r: encode(r) + b"]"),
    # Keys outside the contract.
    BadKind("misspelt_field", "unexpected_field", _renamed("tip_amount", "tip_amout")),
    BadKind("tlc_column_name", "unexpected_field", _renamed("pickup_zone_id", "PULocationID")),
    BadKind("repeated_key", "duplicate_field", _repeated_key),
    # Times: far future and past, and forms that are not an instant.
    BadKind(
        "pickup_in_9999",
        "pickup_in_future",
        _with(pickup_at="9999-12-31T23:40:00Z", dropoff_at="9999-12-31T23:50:00Z"),
    ),
    BadKind(
        "epoch_zero",
        "pickup_before_2009",
        _with(pickup_at="1970-01-01T00:00:00Z", dropoff_at="1970-01-01T00:12:00Z"),
    ),
    BadKind("epoch_millis_time", "invalid_type:pickup_at", _with(pickup_at=1736931600000)),
    BadKind("time_without_date", "invalid_type:pickup_at", _with(pickup_at="06:30:00")),
    # Numbers that are not numbers of the field's type.
    BadKind(
        "zone_id_overflow",
        "invalid_type:pickup_zone_id",
        _raw_field("pickup_zone_id", b"340282366920938463463374607431768211456"),  # 2**128
    ),
    BadKind("fare_as_boolean", "invalid_type:fare_amount", _with(fare_amount=True)),
    BadKind("infinite_total", "invalid_type:total_amount", _raw_field("total_amount", b"1e400")),
    BadKind("nan_tip_text", "invalid_type:tip_amount", _with(tip_amount="NaN")),
    # Unicode that looks right.
    BadKind("homoglyph_service", "unknown_service", _with(service="y\u0435llow")),  # Cyrillic e
    BadKind("zero_width_service", "unknown_service", _with(service="yellow\u200b")),
    BadKind(
        "fullwidth_zone_id",
        "invalid_type:pickup_zone_id",
        _with(pickup_zone_id="\uff11\uff13\uff12"),
    ),
)
BAD_BY_NAME = {k.name: k for k in BAD_KINDS}
