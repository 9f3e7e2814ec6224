"""Request validation: every parameter becomes a typed, bounded value before any SQL exists.

A violation raises :class:`InvalidParam`, answered as 422 with a message saying what to fix.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

# Instants outside this range are typos (and would overflow date arithmetic near year 9999).
EARLIEST = datetime(2009, 1, 1, tzinfo=UTC)  # the TLC records start in 2009
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
GRID = timedelta(minutes=5)  # zone_metrics' window
_US = timedelta(microseconds=1)
# A trip id is 1..128 characters (contract rule invalid_trip_id) with no control character: a
# NUL cannot be carried by SQL text at all (DuckDB ends the statement there), CR/LF have no
# place in a URL path. Kept as escapes, so the OpenAPI document shows a readable pattern.
TRIP_ID_PATTERN = r"^[^\x00-\x1f\x7f]{1,128}$"
_TRIP_ID = re.compile(TRIP_ID_PATTERN)


class InvalidParam(ValueError):
    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param


def utc(value: datetime) -> datetime:
    """Naive instants are taken as UTC (the API's only zone)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def bounded_utc(name: str, value: datetime) -> datetime:
    """``value`` in UTC, or InvalidParam outside [EARLIEST, LATEST)."""
    try:
        at = utc(value)
    except OverflowError:  # 0001-01-01T00:00+01:00 or 9999-12-31T23:59-01:00: no UTC instant
        at = None
    if at is None or not EARLIEST <= at < LATEST:
        raise InvalidParam(name, f"must be between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}")
    return at


def floor_to(value: datetime, step: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((value - epoch) // step) * step


def ceil_to(value: datetime, step: timedelta) -> datetime:
    floored = floor_to(value, step)
    return floored if floored == value else floored + step


@dataclass(frozen=True)
class TimeRange:
    """[start, end) in UTC."""

    start: datetime
    end: datetime

    def partition_bounds(self) -> dict[str, str]:
        """dt/hour of the first and the last instant inside the range (SQL pruning values)."""
        last = self.end - _US
        return {
            "start_dt": self.start.strftime("%Y-%m-%d"),
            "end_dt": last.strftime("%Y-%m-%d"),
            "start_hour": self.start.strftime("%H"),
            "end_hour": last.strftime("%H"),
        }

    def sql(self, hours: bool = True) -> dict[str, Any]:
        """start, end and the partition bounds as query parameters."""
        bounds = self.partition_bounds()
        if not hours:
            bounds = {k: v for k, v in bounds.items() if k.endswith("_dt")}
        return {"start": self.start, "end": self.end, **bounds}


def time_range(
    start: datetime | None,
    end: datetime | None,
    now: datetime,
    max_span: timedelta,
    default_span: timedelta = timedelta(hours=24),
    grid: timedelta | None = None,
) -> TimeRange:
    """Defaults (the last ``default_span`` up to now), bounds and the maximum span.

    With ``grid`` (aggregates) start is floored and end ceiled to it: the 5-minute windows are
    the resolution of zone_metrics, and the effective range is returned to the client.
    """
    e = bounded_utc("end", end) if end is not None else ceil_to(utc(now), timedelta(minutes=1))
    s = bounded_utc("start", start) if start is not None else e - min(default_span, max_span)
    if grid is not None:
        s, e = floor_to(s, grid), ceil_to(e, grid)
    if s >= e:
        raise InvalidParam("start", "must be before end (end is exclusive)")
    if e - s > max_span:
        raise InvalidParam(
            "end", f"the range may span at most {_span_text(max_span)}; narrow start/end"
        )
    return TimeRange(s, e)


def day_range(day: date, param: str = "date") -> TimeRange:
    """The UTC day ``day`` as [00:00, next 00:00)."""
    start = bounded_utc(param, datetime(day.year, day.month, day.day))
    return TimeRange(start, start + timedelta(days=1))  # LATEST is a midnight: no overflow


def _span_text(span: timedelta) -> str:
    if span % timedelta(days=1) == timedelta(0):
        return f"{span.days} days"
    return f"{span.total_seconds() / 3600:g} hours"


# ---- keyset cursor ---------------------------------------------------------------------------


def encode_cursor(pickup_at: datetime, trip_id: str) -> str:
    raw = json.dumps([utc(pickup_at).isoformat(), trip_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    fix = "pass the next_cursor of the previous page unchanged"
    try:
        # validate: a character outside the alphabet is refused, not silently skipped.
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        doc = json.loads(raw)
        if not (isinstance(doc, list) and len(doc) == 2 and all(isinstance(v, str) for v in doc)):
            raise TypeError(doc)
        at, trip_id = doc
        pickup_at = utc(datetime.fromisoformat(at))
    except (binascii.Error, ValueError, TypeError, OverflowError) as exc:
        raise InvalidParam("cursor", f"not a cursor of this API; {fix}") from exc
    if not EARLIEST <= pickup_at < LATEST or not _TRIP_ID.fullmatch(trip_id):
        raise InvalidParam("cursor", f"out of range; {fix}")
    return pickup_at, trip_id
