"""Each endpoint over a small lake with known contents, on the embedded DuckDB engine."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lambda_api.app import create_app
from lambda_api.config import ApiSettings
from lambda_api.engines import DuckDBEngine, Row
from spark.lake import LakeTarget
from tests.api_lake import NOW, PROGRESS, T0, Lake, expected_summary, in_range, write_lake

END = T0 + timedelta(hours=3)
RANGE = {"start": "2025-01-15T05:00:00Z", "end": "2025-01-15T08:00:00Z"}


class CountingEngine(DuckDBEngine):
    """The real engine, counting the statements it runs (to see the cache work)."""

    calls = 0

    def query(self, sql: str) -> list[Row]:
        self.calls += 1
        return super().query(sql)


@pytest.fixture(scope="module")
def lake_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Lake]:
    d = tmp_path_factory.mktemp("api-lake")
    return str(d), write_lake(LakeTarget(uri=f"file://{d}"))


@pytest.fixture(scope="module")
def lake(lake_dir: tuple[str, Lake]) -> Lake:
    return lake_dir[1]


@pytest.fixture(scope="module")
def client(lake_dir: tuple[str, Lake]) -> TestClient:
    settings = ApiSettings(lake_uri=lake_dir[0], cache_ttl_s=0)
    return TestClient(create_app(settings, clock=lambda: NOW))


def get(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    r = client.get(path, params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_summary_matches_the_trips(client: TestClient, lake: Lake) -> None:
    body = get(client, "/v1/summary", **RANGE)
    expected = expected_summary(in_range(lake.trips, T0, END))
    assert expected["trips"] == len(lake.trips)
    assert {k: body[k] for k in expected} == expected
    assert (body["start"], body["end"]) == ("2025-01-15T05:00:00Z", "2025-01-15T08:00:00Z")


@pytest.mark.parametrize(
    ("params", "keep"),
    [
        ({"service": "green"}, lambda t: t["service"] == "green"),
        ({"borough": "Queens"}, lambda t: t["pickup_borough"] == "Queens"),
        ({"start": "2025-01-15T06:00:00Z", "end": "2025-01-15T07:00:00Z"}, None),
    ],
)
def test_summary_filters(client: TestClient, lake: Lake, params: dict[str, str], keep: Any) -> None:
    query = {**RANGE, **params}
    body = get(client, "/v1/summary", **query)
    if keep is None:
        rows = in_range(lake.trips, T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    else:
        rows = [t for t in lake.trips if keep(t)]
    expected = expected_summary(rows)
    assert 0 < expected["trips"] < len(lake.trips)
    assert {k: body[k] for k in expected} == expected


def test_summary_snaps_to_the_five_minute_grid(client: TestClient) -> None:
    body = get(client, "/v1/summary", start="2025-01-15T05:02:00Z", end="2025-01-15T07:58:00Z")
    assert (body["start"], body["end"]) == ("2025-01-15T05:00:00Z", "2025-01-15T08:00:00Z")


def test_timeseries_hourly_by_service(client: TestClient, lake: Lake) -> None:
    body = get(client, "/v1/timeseries", **RANGE, interval="1h", group_by="service")
    got = {(p["bucket"], p["group"]): p["trips"] for p in body["points"]}
    expected = Counter(
        (t["pickup_at"].strftime("%Y-%m-%dT%H:00:00Z"), t["service"]) for t in lake.trips
    )
    assert got == dict(expected)
    one = next(p for p in body["points"] if p["group"] == "yellow")
    rows = [
        t
        for t in lake.trips
        if t["service"] == "yellow"
        and t["pickup_at"].strftime("%Y-%m-%dT%H:00:00Z") == one["bucket"]
    ]
    assert {k: one[k] for k in expected_summary(rows)} == expected_summary(rows)


def test_timeseries_five_minutes_and_zones(client: TestClient, lake: Lake) -> None:
    body = get(client, "/v1/timeseries", **RANGE, interval="5m")
    assert all(p["group"] is None for p in body["points"])
    assert sum(p["trips"] for p in body["points"]) == len(lake.trips)
    windows = {
        t["pickup_at"].replace(minute=t["pickup_at"].minute // 5 * 5, second=0) for t in lake.trips
    }
    assert len(body["points"]) == len(windows)
    zones = get(client, "/v1/timeseries", **RANGE, interval="1d", group_by="zone")
    got = {p["group"]: p["trips"] for p in zones["points"]}
    assert got == {str(k): v for k, v in Counter(t["pickup_zone_id"] for t in lake.trips).items()}


@pytest.mark.parametrize("metric", ["pickups", "revenue", "avg_fare"])
def test_top_zones(client: TestClient, lake: Lake, metric: str) -> None:
    body = get(client, "/v1/zones/top", **RANGE, metric=metric, limit=3)
    by_zone: dict[int, list[dict[str, Any]]] = {}
    for t in lake.trips:
        by_zone.setdefault(t["pickup_zone_id"], []).append(t)
    score = {
        "pickups": lambda ts: len(ts),
        "revenue": lambda ts: sum(t["total_amount"] for t in ts),
        "avg_fare": lambda ts: sum(t["fare_amount"] for t in ts) / len(ts),
    }[metric]
    ranked = sorted(by_zone, key=lambda z: (-score(by_zone[z]), z))[:3]
    assert [i["zone_id"] for i in body["items"]] == ranked
    first = body["items"][0]
    assert first["pickups"] == len(by_zone[ranked[0]])
    assert first["revenue"] == round(sum(t["total_amount"] for t in by_zone[ranked[0]]), 2)
    assert first["zone"] and first["borough"]


def test_zone_detail(client: TestClient, lake: Lake) -> None:
    body = get(client, "/v1/zones/132", **RANGE)
    mine = [t for t in lake.trips if t["pickup_zone_id"] == 132]
    assert (body["zone"], body["borough"]) == ("JFK Airport", "Queens")
    assert body["summary"]["trips"] == len(mine)
    hours = Counter(t["pickup_at"].hour for t in mine)
    assert [h["trips"] for h in body["by_hour"]] == [hours.get(h, 0) for h in range(24)]
    drops = Counter(t["dropoff_zone_id"] for t in mine)
    assert {d["zone_id"]: d["trips"] for d in body["top_dropoffs"]} == dict(drops)
    counts = [d["trips"] for d in body["top_dropoffs"]]
    assert counts == sorted(counts, reverse=True)


def test_trips_pages_walk_every_trip_once_in_order(client: TestClient, lake: Lake) -> None:
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {**RANGE, "limit": 7}
        if cursor:
            params["cursor"] = cursor
        body = get(client, "/v1/trips", **params)
        seen += [t["trip_id"] for t in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    expected = [
        t["trip_id"] for t in sorted(lake.trips, key=lambda t: (t["pickup_at"], t["trip_id"]))
    ]
    assert seen == expected
    assert pages == -(-len(expected) // 7)


@pytest.mark.parametrize(
    ("params", "keep"),
    [
        ({"service": "yellow"}, lambda t: t["service"] == "yellow"),
        ({"pickup_zone_id": 236}, lambda t: t["pickup_zone_id"] == 236),
        ({"dropoff_zone_id": 1}, lambda t: t["dropoff_zone_id"] == 1),
        ({"borough": "Manhattan"}, lambda t: t["pickup_borough"] == "Manhattan"),
        ({"payment_type": 2}, lambda t: t["payment_type"] == 2),
    ],
)
def test_trips_filters(client: TestClient, lake: Lake, params: dict[str, Any], keep: Any) -> None:
    body = get(client, "/v1/trips", **RANGE, **params, limit=1000)
    expected = sorted(t["trip_id"] for t in lake.trips if keep(t))
    assert 0 < len(expected) < len(lake.trips)
    assert sorted(t["trip_id"] for t in body["items"]) == expected
    assert body["next_cursor"] is None


def test_trip_by_id(client: TestClient, lake: Lake) -> None:
    t = lake.trips[5]
    body = get(client, f"/v1/trips/{t['trip_id']}", date=t["dt"])
    assert body["trip_id"] == t["trip_id"]
    assert body["fare_amount"] == t["fare_amount"]
    assert body["pickup_zone"] == t["pickup_zone"]
    assert body["pickup_at"] == t["pickup_at"].strftime("%Y-%m-%dT%H:%M:%SZ")
    # Without the hint the last days before the clock are searched: NOW is the same day.
    assert get(client, f"/v1/trips/{t['trip_id']}")["trip_id"] == t["trip_id"]
    r = client.get(f"/v1/trips/{t['trip_id']}", params={"date": "2025-01-14"})
    assert r.status_code == 404 and "2025-01-14" in r.json()["detail"]
    assert client.get("/v1/trips/nope'--").status_code == 404


def test_status(client: TestClient, lake: Lake) -> None:
    body = get(client, "/v1/status", minutes=60)
    newest = max(t["pickup_at"] for t in lake.trips)
    assert body["newest_pickup_at"] == newest.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert body["freshness_s"] == (NOW - newest).total_seconds()
    since = NOW - timedelta(minutes=60)
    assert body["trips_last_minutes"] == sum(t["pickup_at"] >= since for t in lake.trips) > 0
    assert body["dead_letters_last_hour"] == sum(d["ingested_at"] >= since for d in lake.dead)
    assert body["last_batch"] == PROGRESS


def test_dead_letters(client: TestClient, lake: Lake) -> None:
    body = get(client, "/v1/quality/dead-letters", **RANGE)
    reasons = Counter(r for d in lake.dead for r in d["reasons"])
    assert {t["reason"]: t["count"] for t in body["totals"]} == dict(reasons)
    assert body["totals"][0] == {"reason": "negative_fare", "count": 3}
    per_hour = Counter(
        (d["ingested_at"].strftime("%Y-%m-%dT%H:00:00Z"), r)
        for d in lake.dead
        for r in d["reasons"]
    )
    assert {(p["bucket"], p["reason"]): p["count"] for p in body["points"]} == dict(per_hour)


def test_samples(client: TestClient, lake: Lake) -> None:
    body = get(client, "/v1/quality/samples", **RANGE, reason="negative_fare", limit=2)
    want = sorted(
        (d for d in lake.dead if "negative_fare" in d["reasons"]),
        key=lambda d: d["ingested_at"],
        reverse=True,
    )[:2]
    assert [i["kafka_offset"] for i in body["items"]] == [d["kafka_offset"] for d in want]
    assert [i["reasons"] for i in body["items"]] == [d["reasons"] for d in want]
    assert get(client, "/v1/quality/samples", **RANGE)["items"].__len__() == len(lake.dead)


def test_zones_list(client: TestClient) -> None:
    items = get(client, "/v1/zones")["items"]
    assert len(items) == 265
    assert items[131] == {
        "zone_id": 132,
        "borough": "Queens",
        "zone": "JFK Airport",
        "service_zone": "Airports",
    }


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/v1/trips?limit=0", 422, "limit"),
        ("/v1/trips?limit=1001", 422, "limit"),
        ("/v1/trips?start=2025-01-10T00:00:00Z&end=2025-01-15T00:00:00Z", 422, "at most 2 days"),
        ("/v1/summary?start=2024-01-01&end=2025-01-01", 422, "at most 31 days"),
        ("/v1/summary?start=2025-01-15T08:00:00Z&end=2025-01-15T07:00:00Z", 422, "before end"),
        ("/v1/summary?start=0001-01-01T00:00:00Z", 422, "between"),
        # Instants with no UTC equivalent in datetime's range (an OverflowError, once a 500).
        ("/v1/summary?start=0001-01-01T00:00:00%2B01:00", 422, "between"),
        ("/v1/summary?end=9999-12-31T23:59:59-01:00", 422, "between"),
        ("/v1/trips/x?date=9999-12-31", 422, "date"),
        ("/v1/summary?service=blue", 422, "service"),
        ("/v1/summary?borough=Atlantis", 422, "borough"),
        ("/v1/summary?service=yellow&service=green", 422, "given 2 times"),
        ("/v1/timeseries?interval=7m", 422, "interval"),
        ("/v1/timeseries?group_by=zone&interval=5m", 422, "points"),
        ("/v1/zones/top?metric=tips", 422, "metric"),
        ("/v1/zones/top?limit=266", 422, "limit"),
        ("/v1/zones/0", 404, "zone ids"),
        ("/v1/zones/266", 404, "zone ids"),
        ("/v1/zones/abc", 422, "zone_id"),
        ("/v1/trips?cursor=bm90LWpzb24", 422, "cursor"),
        ("/v1/trips?pickup_zone_id=999", 422, "pickup_zone_id"),
        ("/v1/trips?payment_type=9", 422, "payment_type"),
        ("/v1/trips/x?date=2025-13-01", 422, "date"),
        ("/v1/quality/samples?reason=a%27%20OR%201%3D1", 422, "reason"),
        ("/v1/quality/samples?reason=--", 422, "reason"),
        ("/v1/quality/dead-letters?interval=5m", 422, "interval"),
        ("/v1/status?minutes=0", 422, "minutes"),
    ],
)
def test_bad_input_is_a_4xx_that_says_what_to_fix(
    client: TestClient, path: str, status: int, says: str
) -> None:
    r = client.get(path)
    assert r.status_code == status, r.text
    assert says in r.json()["detail"]
    assert r.headers["cache-control"] == "no-store"


def test_api_key(lake_dir: tuple[str, Lake]) -> None:
    settings = ApiSettings(lake_uri=lake_dir[0], api_key="s3cret")
    c = TestClient(create_app(settings, clock=lambda: NOW))
    r = c.get("/v1/summary", params=RANGE)
    assert r.status_code == 401 and "X-API-Key" in r.json()["detail"]
    assert "trips" not in r.text
    assert c.get("/v1/summary", params=RANGE, headers={"X-API-Key": "wrong"}).status_code == 401
    assert c.get("/v1/summary", params=RANGE, headers={"X-API-Key": "s3cret"}).status_code == 200
    for open_path in ("/health", "/openapi.json", "/docs"):
        assert c.get(open_path).status_code == 200


def test_hot_reads_are_cached(lake_dir: tuple[str, Lake]) -> None:
    settings = ApiSettings(lake_uri=lake_dir[0], cache_ttl_s=60)
    engine = CountingEngine(settings)
    c = TestClient(create_app(settings, engine=engine, clock=lambda: NOW))
    first = c.get("/v1/summary", params=RANGE)
    assert first.headers["cache-control"] == "private, max-age=60"
    calls = engine.calls
    assert c.get("/v1/summary", params=RANGE).json() == first.json()
    assert engine.calls == calls
    c.get("/v1/summary", params={**RANGE, "service": "green"})
    assert engine.calls == calls + 1


def test_empty_lake_answers_zeros(tmp_path: Any) -> None:
    c = TestClient(create_app(ApiSettings(lake_uri=str(tmp_path)), clock=lambda: NOW))
    body = get(c, "/v1/summary", **RANGE)
    assert (body["trips"], body["revenue"], body["avg_fare"]) == (0, 0.0, None)
    assert get(c, "/v1/trips", **RANGE)["items"] == []
    status = get(c, "/v1/status")
    assert (status["newest_pickup_at"], status["last_batch"]) == (None, None)
