"""A small lake with known contents for the API tests, and the expected numbers in plain Python.

Trips are generated deterministically; zone_metrics are their 5-minute aggregates written in two
micro-batches (so windows repeat and the API must sum them); dead letters carry reason arrays.
Everything is written with ``spark.lake.write_table``: the layout the stream job writes.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from contract.tables import DEAD_LETTERS, TRIPS, ZONE_METRICS
from lambda_api.zones import zones
from spark.lake import LakeTarget, put_json, write_table

T0 = datetime(2025, 1, 15, 5, 0, tzinfo=UTC)  # trips from 05:00 to 08:00 UTC
NOW = datetime(2025, 1, 15, 8, 30, tzinfo=UTC)  # the app's clock in tests
ZONE_IDS = (1, 132, 138, 161, 236, 237, 264)
N_TRIPS = 60
PROGRESS = {"batch_id": 7, "rows_in": 60, "accepted": 57, "rejected": 3, "kafka_lag": 0}


@dataclass
class Lake:
    trips: list[dict[str, Any]]
    dead: list[dict[str, Any]]


def make_trips(n: int = N_TRIPS, seed: int = 7) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    zs = zones()
    out = []
    for i in range(n):
        pickup = T0 + timedelta(seconds=rnd.randrange(0, 3 * 3600))
        duration = rnd.randrange(120, 2400)
        pu, do = rnd.choice(ZONE_IDS), rnd.choice(ZONE_IDS)
        fare = round(rnd.uniform(5, 60), 2)
        payment = rnd.choice((1, 1, 2))
        tip = round(fare * 0.2, 2) if payment == 1 else 0.0
        service = rnd.choice(("yellow", "green"))
        out.append(
            {
                "schema_version": 1,
                "trip_id": f"t{i:04d}",
                "service": service,
                "source": "synthetic",
                "vendor_id": 2,
                "pickup_at": pickup,
                "dropoff_at": pickup + timedelta(seconds=duration),
                "pickup_zone_id": pu,
                "dropoff_zone_id": do,
                "passenger_count": rnd.choice((None, 1, 2)),
                "trip_distance": round(rnd.uniform(0.5, 12), 2),
                "rate_code_id": 1,
                "store_and_fwd_flag": "N",
                "payment_type": payment,
                "fare_amount": fare,
                "extra": 1.0,
                "mta_tax": 0.5,
                "tip_amount": tip,
                "tolls_amount": 0.0,
                "improvement_surcharge": 1.0,
                "total_amount": round(fare + tip + 2.5, 2),
                "congestion_surcharge": 2.5 if service == "yellow" else None,
                "airport_fee": None,
                "cbd_congestion_fee": 0.75,
                "ehail_fee": None,
                "trip_type": 1 if service == "green" else None,
                "pickup_borough": zs[pu].borough,
                "pickup_zone": zs[pu].zone,
                "dropoff_borough": zs[do].borough,
                "dropoff_zone": zs[do].zone,
                "duration_s": duration,
                "kafka_partition": i % 3,
                "kafka_offset": i,
                "ingested_at": pickup + timedelta(seconds=5),
                "dt": pickup.strftime("%Y-%m-%d"),
                "hour": pickup.strftime("%H"),
            }
        )
    return out


def window(ts: datetime) -> datetime:
    return ts.replace(minute=ts.minute - ts.minute % 5, second=0, microsecond=0)


def zone_metrics(trips: list[dict[str, Any]], batch_id: int) -> list[dict[str, Any]]:
    """What the stream writes per batch: sums per (5-min window, service, pickup zone)."""
    acc: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(
        lambda: dict.fromkeys(
            (
                "trips",
                "passengers",
                "revenue",
                "fare_sum",
                "distance_sum",
                "duration_s_sum",
                "card_tip_sum",
                "card_fare_sum",
            ),
            0,
        )
    )
    for t in trips:
        a = acc[(window(t["pickup_at"]), t["service"], t["pickup_zone_id"], t["pickup_borough"])]
        a["trips"] += 1
        a["passengers"] += t["passenger_count"] or 0
        a["revenue"] += t["total_amount"]
        a["fare_sum"] += t["fare_amount"]
        a["distance_sum"] += t["trip_distance"]
        a["duration_s_sum"] += t["duration_s"]
        if t["payment_type"] == 1:
            a["card_tip_sum"] += t["tip_amount"]
            a["card_fare_sum"] += t["fare_amount"]
    rows = []
    for (w, service, zone_id, borough), a in sorted(acc.items()):
        rows.append(
            {
                "window_start": w,
                "service": service,
                "pickup_zone_id": zone_id,
                "pickup_borough": borough,
                **{k: float(v) for k, v in a.items()},
                "trips": a["trips"],
                "passengers": a["passengers"],
                "duration_s_sum": a["duration_s_sum"],
                "batch_id": batch_id,
                "dt": w.strftime("%Y-%m-%d"),
                "hour": w.strftime("%H"),
            }
        )
    return rows


def make_dead_letters() -> list[dict[str, Any]]:
    specs = [
        (T0 + timedelta(minutes=10), ["negative_fare"]),
        (T0 + timedelta(minutes=20), ["unknown_pickup_zone", "negative_fare"]),
        (T0 + timedelta(hours=1, minutes=5), ["unparseable"]),
        (T0 + timedelta(hours=2, minutes=59), ["negative_fare"]),
    ]
    return [
        {
            "raw_value": f'{{"n": {i}}}',
            "trip_id": None,
            "reasons": reasons,
            "topic": "trips",
            "kafka_partition": 0,
            "kafka_offset": 1000 + i,
            "ingested_at": at,
            "dt": at.strftime("%Y-%m-%d"),
        }
        for i, (at, reasons) in enumerate(specs)
    ]


def write_lake(target: LakeTarget) -> Lake:
    trips = make_trips()
    half = len(trips) // 2
    write_table(pa.Table.from_pylist(trips[:half]), TRIPS, target, 1, "a")
    write_table(pa.Table.from_pylist(trips[half:]), TRIPS, target, 2, "a")
    for batch, part in ((1, trips[:half]), (2, trips[half:])):
        write_table(
            pa.Table.from_pylist(zone_metrics(part, batch)), ZONE_METRICS, target, batch, "a"
        )
    dead = make_dead_letters()
    write_table(pa.Table.from_pylist(dead), DEAD_LETTERS, target, 1, "a")
    put_json(target, "_pipeline/progress/latest.json", PROGRESS)
    return Lake(trips=trips, dead=dead)


def in_range(trips: list[dict[str, Any]], start: datetime, end: datetime) -> list[dict[str, Any]]:
    return [t for t in trips if start <= t["pickup_at"] < end]


def expected_summary(trips: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(trips)
    card = [t for t in trips if t["payment_type"] == 1]
    card_fare = sum(t["fare_amount"] for t in card)
    return {
        "trips": n,
        "passengers": sum(t["passenger_count"] or 0 for t in trips),
        "revenue": round(sum(t["total_amount"] for t in trips), 2),
        "avg_fare": round(sum(t["fare_amount"] for t in trips) / n, 4) if n else None,
        "avg_distance": round(sum(t["trip_distance"] for t in trips) / n, 4) if n else None,
        "avg_duration_s": round(sum(t["duration_s"] for t in trips) / n, 1) if n else None,
        "tip_rate": round(sum(t["tip_amount"] for t in card) / card_fare, 4) if card_fare else None,
    }
