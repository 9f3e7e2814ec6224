"""What each endpoint computes: validated values in, SQL from ``queries``, response models out.

Hot reads go through a small TTL cache keyed by the rendered SQL text, so equal requests (and
the default "last 24 h" within the same minute) hit the engine once per TTL.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cachetools import TTLCache

from lambda_api import queries
from lambda_api.config import ApiSettings
from lambda_api.engines import PROGRESS_KEY, Engine, Row
from lambda_api.models import (
    DeadLetterPoint,
    DeadLetters,
    DeadLetterSample,
    DeadLetterSamples,
    Dropoff,
    GroupBy,
    HourTrips,
    Interval,
    Metric,
    ReasonCount,
    Status,
    Summary,
    Timeseries,
    TimeseriesPoint,
    TopZone,
    TopZones,
    TripRow,
    TripsPage,
    ZoneDetail,
)
from lambda_api.params import (
    GRID,
    InvalidParam,
    TimeRange,
    ceil_to,
    day_range,
    decode_cursor,
    encode_cursor,
    time_range,
)
from lambda_api.zones import boroughs, zones

UNITS: dict[str, tuple[str, timedelta]] = {
    "5m": ("minute", GRID),  # window_start is on the 5-minute grid already
    "1h": ("hour", timedelta(hours=1)),
    "1d": ("day", timedelta(days=1)),
}
TOP_DROPOFFS = 10


class NotFound(LookupError):
    pass


def _div(num: float | None, den: float | None, digits: int = 4) -> float | None:
    return round(num / den, digits) if num is not None and den else None


def _ratios(r: Row) -> dict[str, Any]:
    """The additive sums of zone_metrics -> the API's averages and rates."""
    trips = int(r.get("trips") or 0)
    return {
        "trips": trips,
        "passengers": int(r.get("passengers") or 0),
        "revenue": round(float(r.get("revenue") or 0.0), 2),
        "avg_fare": _div(r.get("fare_sum"), trips),
        "avg_distance": _div(r.get("distance_sum"), trips),
        "avg_duration_s": _div(r.get("duration_s_sum"), trips, 1),
        "tip_rate": _div(r.get("card_tip_sum"), r.get("card_fare_sum")),
    }


class Service:
    def __init__(
        self,
        engine: Engine,
        settings: ApiSettings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.s = settings
        self.clock = clock
        self._cache: TTLCache[str, list[Row]] = TTLCache(
            maxsize=max(settings.cache_size, 1), ttl=max(settings.cache_ttl_s, 0.001)
        )
        self._lock = threading.Lock()
        # Every template parsed now, not by the first requests: concurrent first requests each
        # parsed them all (functools.cache does not serialize), 11% of a cold run's samples.
        queries.load_all()

    # ---- plumbing -----------------------------------------------------------------------------

    def rows(self, name: str, **params: Any) -> list[Row]:
        sql = queries.get(name).render(**params)
        if self.s.cache_size and self.s.cache_ttl_s:
            with self._lock:
                hit = self._cache.get(sql)
            if hit is not None:
                return hit
        result = self.engine.query(sql)
        if self.s.cache_size and self.s.cache_ttl_s:
            with self._lock:
                self._cache[sql] = result
        return result

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    def _aggregate_range(self, start: datetime | None, end: datetime | None) -> TimeRange:
        span = timedelta(days=self.s.max_aggregate_span_days)
        return time_range(start, end, self.now(), span, grid=GRID)

    def _raw_range(self, start: datetime | None, end: datetime | None) -> TimeRange:
        return time_range(start, end, self.now(), timedelta(days=self.s.max_raw_span_days))

    # ---- endpoints ----------------------------------------------------------------------------

    def status(self, minutes: int) -> Status:
        now = self.now()
        end = ceil_to(now, timedelta(minutes=1))
        day = TimeRange(end - timedelta(hours=24), end)
        trips = self.rows("status_trips", **day.sql(), since=now - timedelta(minutes=minutes))[0]
        hour = TimeRange(now - timedelta(hours=1), end)
        dead = self.rows("status_dead_letters", **hour.sql(hours=False))[0]
        newest = trips.get("newest_pickup_at")
        return Status(
            now=now,
            newest_pickup_at=newest,
            freshness_s=round((now - newest).total_seconds(), 3) if newest else None,
            trips_last_minutes=int(trips.get("trips_since") or 0),
            minutes=minutes,
            dead_letters_last_hour=int(dead.get("dead_letters") or 0),
            last_batch=self.engine.read_json(PROGRESS_KEY),
        )

    def trips(
        self,
        start: datetime | None,
        end: datetime | None,
        service: str | None,
        pickup_zone_id: int | None,
        dropoff_zone_id: int | None,
        borough: str | None,
        payment_type: int | None,
        limit: int,
        cursor: str | None,
    ) -> TripsPage:
        rng = self._raw_range(start, end)
        cursor_at, cursor_id = decode_cursor(cursor) if cursor else (None, None)
        rows = self.rows(
            "trips_page",
            **rng.sql(),
            service=service,
            pickup_zone_id=pickup_zone_id,
            dropoff_zone_id=dropoff_zone_id,
            borough=borough,
            payment_type=payment_type,
            cursor_at=cursor_at,
            cursor_id=cursor_id,
            limit=limit + 1,  # one more than asked: tells whether a next page exists
        )
        items = [TripRow.model_validate(r) for r in rows[:limit]]
        last = rows[limit - 1] if len(rows) > limit else None
        next_cursor = encode_cursor(last["pickup_at"], last["trip_id"]) if last else None
        return TripsPage(items=items, next_cursor=next_cursor)

    def trip(self, trip_id: str, day: date | None) -> Any:
        if day is not None:
            rng = day_range(day)
        else:
            end = ceil_to(self.now(), timedelta(minutes=1))
            rng = TimeRange(end - timedelta(days=self.s.trip_lookup_days), end)
        rows = self.rows("trip_by_id", **rng.sql(), trip_id=trip_id)
        if not rows:
            hint = "" if day else "; pass date=YYYY-MM-DD (its pickup date) to search older days"
            raise NotFound(
                f"no trip {trip_id!r} picked up between {rng.start:%Y-%m-%dT%H:%MZ} and "
                f"{rng.end:%Y-%m-%dT%H:%MZ}{hint}"
            )
        return TripRow.model_validate(rows[0])

    def summary(
        self,
        start: datetime | None,
        end: datetime | None,
        service: str | None,
        borough: str | None,
        zone_id: int | None = None,
    ) -> Summary:
        rng = self._aggregate_range(start, end)
        r = self.rows("summary", **rng.sql(), service=service, borough=borough, zone_id=zone_id)
        return Summary(**_ratios(r[0] if r else {}), start=rng.start, end=rng.end)

    def timeseries(
        self,
        start: datetime | None,
        end: datetime | None,
        interval: Interval,
        group_by: GroupBy,
        service: str | None,
        borough: str | None,
    ) -> Timeseries:
        rng = self._aggregate_range(start, end)
        unit, step = UNITS[interval]
        groups = {"none": 1, "service": 2, "borough": len(boroughs()), "zone": len(zones())}
        buckets = math.ceil((rng.end - rng.start) / step)
        if buckets * groups[group_by] > self.s.max_points:
            raise InvalidParam(
                "interval",
                f"{buckets} buckets x up to {groups[group_by]} groups exceeds "
                f"{self.s.max_points} points; use a coarser interval, a shorter range or "
                "another group_by",
            )
        rows = self.rows(
            "timeseries",
            **rng.sql(),
            unit=unit,
            group_by=group_by,
            service=service,
            borough=borough,
        )
        points = [TimeseriesPoint(bucket=r["bucket"], group=r["grp"], **_ratios(r)) for r in rows]
        return Timeseries(
            interval=interval, group_by=group_by, start=rng.start, end=rng.end, points=points
        )

    def top_zones(
        self,
        start: datetime | None,
        end: datetime | None,
        metric: Metric,
        limit: int,
        service: str | None,
        borough: str | None,
    ) -> TopZones:
        rng = self._aggregate_range(start, end)
        rows = self.rows(
            "top_zones", **rng.sql(), metric=metric, service=service, borough=borough, limit=limit
        )
        known = zones()
        items = []
        for r in rows:
            z = known.get(r["zone_id"])
            items.append(
                TopZone(
                    zone_id=r["zone_id"],
                    borough=z.borough if z else None,
                    zone=z.zone if z else None,
                    pickups=int(r["pickups"]),
                    revenue=round(float(r["revenue"]), 2),
                    avg_fare=_div(r["fare_sum"], r["pickups"]),
                )
            )
        return TopZones(metric=metric, start=rng.start, end=rng.end, items=items)

    def zone(self, zone_id: int, start: datetime | None, end: datetime | None) -> ZoneDetail:
        z = zones().get(zone_id)
        if z is None:
            raise NotFound(f"no zone {zone_id}; zone ids are 1..{max(zones())}")
        rng = self._aggregate_range(start, end)
        summary = self.summary(rng.start, rng.end, None, None, zone_id=zone_id)
        hours = {
            int(r["hour_of_day"]): int(r["trips"])
            for r in self.rows("zone_by_hour", **rng.sql(), zone_id=zone_id)
        }
        # Dropoff zones are only in raw trips, which are read for at most max_raw_span_days.
        raw = TimeRange(max(rng.start, rng.end - timedelta(days=self.s.max_raw_span_days)), rng.end)
        drops = self.rows("zone_top_dropoffs", **raw.sql(), zone_id=zone_id, limit=TOP_DROPOFFS)
        known = zones()
        return ZoneDetail(
            zone_id=zone_id,
            borough=z.borough,
            zone=z.zone,
            summary=summary,
            by_hour=[HourTrips(hour=h, trips=hours.get(h, 0)) for h in range(24)],
            top_dropoffs=[
                Dropoff(
                    zone_id=r["zone_id"],
                    zone=known[r["zone_id"]].zone if r["zone_id"] in known else None,
                    borough=known[r["zone_id"]].borough if r["zone_id"] in known else None,
                    trips=int(r["trips"]),
                )
                for r in drops
            ],
            top_dropoffs_start=raw.start,
            top_dropoffs_end=raw.end,
        )

    def dead_letters(
        self, start: datetime | None, end: datetime | None, interval: str
    ) -> DeadLetters:
        rng = self._aggregate_range(start, end)
        unit, _ = UNITS[interval]
        rows = self.rows("dead_letter_counts", **rng.sql(hours=False), unit=unit)
        points = [
            DeadLetterPoint(bucket=r["bucket"], reason=r["reason"], count=int(r["records"]))
            for r in rows
        ]
        totals: dict[str, int] = {}
        for p in points:
            totals[p.reason] = totals.get(p.reason, 0) + p.count
        ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
        return DeadLetters(
            interval=interval,  # type: ignore[arg-type]
            start=rng.start,
            end=rng.end,
            points=points,
            totals=[ReasonCount(reason=k, count=v) for k, v in ranked],
        )

    def samples(
        self, start: datetime | None, end: datetime | None, reason: str | None, limit: int
    ) -> DeadLetterSamples:
        rng = self._aggregate_range(start, end)
        rows = self.rows("dead_letter_samples", **rng.sql(hours=False), reason=reason, limit=limit)
        items = [
            DeadLetterSample.model_validate({**r, "reasons": json.loads(r["reasons_json"])})
            for r in rows
        ]
        return DeadLetterSamples(items=items)
