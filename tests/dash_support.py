"""Dashboard tests' world: a small lake around "now", the real API over it, the dashboard.

The lake is written with the stream's own writer (spark/lake.py write_table), so the API reads
exactly the layout production has; zone_metrics are aggregated from the same trips.
"""

from __future__ import annotations

import csv
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import requests

from contract.tables import DEAD_LETTERS, TRIPS, ZONE_METRICS
from spark.lake import LakeTarget, put_json, write_table
from spark.progress import PROGRESS_DIR

ROOT = Path(__file__).resolve().parent.parent
ZONES_CSV = ROOT / "contract" / "taxi_zone_lookup.csv"
REASONS = ("unknown_pickup_zone", "negative_fare", "dropoff_before_pickup", "invalid_json")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def zone_table() -> dict[int, tuple[str, str]]:
    with ZONES_CSV.open() as fh:
        return {int(r["LocationID"]): (r["Borough"], r["Zone"]) for r in csv.DictReader(fh)}


@dataclass
class Lake:
    uri: str
    now: datetime
    trips: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)

    def trips_between(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        return [t for t in self.trips if start <= t["pickup_at"] < end]


def _partitioned(rows: list[dict[str, Any]], ts: str, hour: bool = True) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        t = r[ts]
        extra = {"dt": t.strftime("%Y-%m-%d")}
        if hour:
            extra["hour"] = t.strftime("%H")
        out.append({**r, **extra})
    return out


def _zone_metrics(trips: list[dict[str, Any]]) -> list[dict[str, Any]]:
    acc: dict[tuple[Any, ...], dict[str, Any]] = {}
    for t in trips:
        p = t["pickup_at"]
        w = p.replace(minute=p.minute - p.minute % 5, second=0, microsecond=0)
        key = (w, t["service"], t["pickup_zone_id"], t["pickup_borough"])
        m = acc.setdefault(
            key,
            dict(
                window_start=w, service=t["service"], pickup_zone_id=t["pickup_zone_id"],
                pickup_borough=t["pickup_borough"], trips=0, passengers=0, revenue=0.0,
                fare_sum=0.0, distance_sum=0.0, duration_s_sum=0, card_tip_sum=0.0,
                card_fare_sum=0.0, batch_id=1,
            ),
        )  # fmt: skip
        m["trips"] += 1
        m["passengers"] += t["passenger_count"] or 0
        m["revenue"] += t["total_amount"]
        m["fare_sum"] += t["fare_amount"]
        m["distance_sum"] += t["trip_distance"]
        m["duration_s_sum"] += t["duration_s"]
        if t["payment_type"] == 1:
            m["card_tip_sum"] += t["tip_amount"]
            m["card_fare_sum"] += t["fare_amount"]
    return list(acc.values())


def _table(rows: list[dict[str, Any]], names: list[str]) -> pa.Table:
    return pa.table({n: [r.get(n) for r in rows] for n in names})


def build_lake(root: Path, now: datetime | None = None, seed: int = 7) -> Lake:
    """~1,500 trips over the last 3 days (a third in the last 3 hours), 60 dead letters and
    the stream's latest progress record, under ``root``."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    rng = random.Random(seed)
    zones = zone_table()
    popular = [132, 138, 161, 162, 186, 230, 236, 237, 48, 79, 7, 74, 75, 41, 1]
    lake = Lake(uri=f"file://{root}", now=now)
    for i in range(1500):
        ago = rng.uniform(0, 3 * 3600) if i % 3 == 0 else rng.uniform(0, 3 * 86400)
        pickup = now - timedelta(seconds=ago + 60)
        duration = rng.randint(180, 3600)
        pu = rng.choice(popular) if rng.random() < 0.7 else rng.randint(1, 263)
        do = rng.choice(popular) if rng.random() < 0.5 else rng.randint(1, 263)
        fare = round(3 + rng.uniform(0.5, 3.5) * duration / 60 / 2, 2)
        card = rng.random() < 0.7
        tip = round(fare * rng.uniform(0.1, 0.25), 2) if card else 0.0
        lake.trips.append(
            dict(
                schema_version=1, trip_id=f"t{i:06d}", service=rng.choice(("yellow", "green")),
                source="synthetic", vendor_id=2, pickup_at=pickup,
                dropoff_at=pickup + timedelta(seconds=duration), pickup_zone_id=pu,
                dropoff_zone_id=do, passenger_count=rng.randint(1, 4),
                trip_distance=round(duration / 300, 2), rate_code_id=1, store_and_fwd_flag="N",
                payment_type=1 if card else 2, fare_amount=fare, extra=1.0, mta_tax=0.5,
                tip_amount=tip, tolls_amount=0.0, improvement_surcharge=1.0,
                total_amount=round(fare + tip + 2.5, 2), congestion_surcharge=0.0,
                airport_fee=0.0, cbd_congestion_fee=0.0, ehail_fee=None, trip_type=None,
                pickup_borough=zones[pu][0], pickup_zone=zones[pu][1],
                dropoff_borough=zones[do][0], dropoff_zone=zones[do][1], duration_s=duration,
                kafka_partition=i % 4, kafka_offset=i,
                ingested_at=pickup + timedelta(seconds=duration),
            )
        )  # fmt: skip
    for i in range(60):
        at = now - timedelta(seconds=rng.uniform(60, 2 * 86400))
        reasons = [REASONS[i % len(REASONS)]] + (["negative_fare"] if i % 10 == 0 else [])
        lake.dead_letters.append(
            dict(
                raw_value=f'{{"trip_id": "bad{i}", "fare_amount": -{i}}}', trip_id=f"bad{i}",
                reasons=sorted(set(reasons)), topic="trips", kafka_partition=i % 4,
                kafka_offset=10_000 + i, ingested_at=at,
            )
        )  # fmt: skip
    target = LakeTarget(uri=lake.uri)
    trip_rows = _partitioned(lake.trips, "pickup_at")
    write_table(_table(trip_rows, [*TRIPS.column_names, "dt", "hour"]), TRIPS, target, 1, "test")
    zm = _partitioned(_zone_metrics(lake.trips), "window_start")
    write_table(
        _table(zm, [*ZONE_METRICS.column_names, "dt", "hour"]), ZONE_METRICS, target, 1, "test"
    )
    dl = _partitioned(lake.dead_letters, "ingested_at", hour=False)
    write_table(_table(dl, [*DEAD_LETTERS.column_names, "dt"]), DEAD_LETTERS, target, 1, "test")
    put_json(
        target,
        f"{PROGRESS_DIR}/latest.json",
        {
            "batch_id": 41, "query_id": "q", "run_id": "r",
            "trigger_at": (now - timedelta(seconds=20)).isoformat().replace("+00:00", "Z"),
            "rows_in": 1560, "accepted": 1500, "rejected": 60, "duplicates_dropped": 3,
            "late_dropped": 0, "batch_ms": 812, "processed_rows_per_s": 1921.2, "kafka_lag": 0,
        },
    )  # fmt: skip
    return lake


class CountingApp:
    """ASGI wrapper that counts the requests the API answered, per path."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.calls: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            with self.lock:
                self.calls[scope["path"]] += 1
        await self.app(scope, receive, send)

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()

    def data_calls(self) -> int:
        """Calls a refresh makes: everything but the zone list (cached for an hour)."""
        with self.lock:
            return sum(n for p, n in self.calls.items() if p != "/v1/zones")


@contextmanager
def serve_api(lake_uri: str, api_key: str | None = None) -> Iterator[tuple[str, CountingApp]]:
    """The real API (lambda_api) under uvicorn on a free loopback port, in this process."""
    import uvicorn

    from lambda_api.app import create_app
    from lambda_api.config import ApiSettings

    settings = ApiSettings(lake_uri=lake_uri, engine="duckdb", cache_ttl_s=0, api_key=api_key)
    counting = CountingApp(create_app(settings))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(counting, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API did not start")
        time.sleep(0.05)
    try:
        yield url, counting
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def run_dashboard(api_url: str, log: Path, **env: str) -> Iterator[str]:
    """``python -m streamlit_app`` as a child process on a free port; yields its URL."""
    port = free_port()
    full_env = {
        **os.environ,
        "DASH_API_URL": api_url,
        "DASH_PORT": str(port),
        "DASH_HOST": "127.0.0.1",
        **env,
    }
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit_app"],
            cwd=ROOT,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"dashboard exited {proc.returncode}: {log.read_text()}")
            try:
                if requests.get(f"{url}/_stcore/health", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"dashboard not healthy in 60 s: {log.read_text()}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
