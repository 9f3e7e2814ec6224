"""Unit tests of the dashboard's data shaping (API JSON -> frames -> figures) and its client."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
import requests

from streamlit_app import shaping
from streamlit_app.api import ApiClient, ApiError, query
from streamlit_app.config import DashSettings
from streamlit_app.geo import ASSET, load_zones, simplify, simplify_ring

SUMMARY = {
    "trips": 1200,
    "revenue": 30_000.0,
    "avg_fare": 18.5,
    "avg_distance": 3.1,
    "avg_duration_s": 900.0,
    "tip_rate": 0.20,
}


def test_kpis_deltas_relative_and_in_points() -> None:
    ref = {**SUMMARY, "trips": 1000, "tip_rate": 0.18, "avg_fare": 0}
    by = {k.metric: k for k in shaping.kpis(SUMMARY, ref)}
    assert list(by) == list(shaping.KPI_METRICS)
    assert by["trips"].value == "1,200" and by["trips"].delta == "+20.0 %"
    assert by["tip_rate"].value == "20.0 %" and by["tip_rate"].delta == "+2.0 pp"
    assert by["avg_fare"].delta is None  # no relative change from zero
    assert by["avg_duration_s"].value == "15.0 min"


def test_kpis_empty_window() -> None:
    empty = dict.fromkeys(SUMMARY, None) | {"trips": 0}
    by = {k.metric: k for k in shaping.kpis(empty, SUMMARY)}
    assert by["trips"].delta == "-100.0 %"
    assert by["avg_fare"].value == "n/a" and by["avg_fare"].delta is None


@pytest.mark.parametrize(
    ("metric", "value", "text"),
    [
        ("revenue", 1_234_567.0, "$1.23M"),
        ("revenue", 999.4, "$999"),
        ("avg_fare", 12.345, "$12.35"),
        ("avg_distance", 2.5, "2.50 mi"),
        ("pickups", 12345, "12,345"),
        ("tip_rate", float("nan"), "n/a"),
    ],
)
def test_fmt(metric: str, value: float, text: str) -> None:
    assert shaping.fmt(metric, value) == text


def _points(group_by: str | None) -> dict[str, Any]:
    t0 = datetime(2025, 1, 15, 6, tzinfo=UTC)
    pts = []
    for i in range(3):
        for g in ("yellow", "green") if group_by else (None,):
            pts.append(
                {
                    "bucket": (t0 + timedelta(minutes=5 * i)).isoformat().replace("+00:00", "Z"),
                    "group": g,
                    "trips": 10 + i,
                    "revenue": 100.0 * (i + 1),
                    "avg_fare": 15.0,
                    "avg_distance": 2.0,
                    "avg_duration_s": 600.0,
                    "tip_rate": None,
                }
            )
    return {"interval": "5m", "group_by": group_by or "none", "points": pts[::-1]}


def test_points_frame_types_order_and_null_group() -> None:
    df = shaping.points_frame(_points(None))
    assert df["bucket"].is_monotonic_increasing
    assert str(df["bucket"].dt.tz) == "UTC"
    assert set(df["group"]) == {"all"}
    assert df["trips"].tolist() == [10.0, 11.0, 12.0]
    assert df["tip_rate"].isna().all()  # nulls stay missing, not zero


def test_points_frame_empty_still_has_columns() -> None:
    df = shaping.points_frame({"points": []})
    assert df.empty and {"bucket", "group", "trips", "tip_rate"} <= set(df.columns)


def test_series_chart_spec_carries_the_data() -> None:
    df = shaping.points_frame(_points("service"))
    spec = shaping.series_chart(df, "revenue", "service").to_dict()
    assert spec["encoding"]["y"]["field"] == "revenue"
    assert spec["encoding"]["color"]["field"] == "group"
    (values,) = spec["datasets"].values()
    assert len(values) == 6 and {v["group"] for v in values} == {"yellow", "green"}


def test_per_minute_sums_groups() -> None:
    df = shaping.per_minute(shaping.points_frame(_points("service")), 5)
    assert df["trips"].tolist() == [20, 22, 24]
    assert df["trips_per_min"].tolist() == pytest.approx([4.0, 4.4, 4.8])


TOP = {
    "metric": "pickups",
    "items": [
        {"zone_id": 132, "zone": "JFK Airport", "borough": "Queens", "pickups": 1000,
         "revenue": 70_000.0, "avg_fare": 60.0},
        {"zone_id": 237, "zone": "Upper East Side South", "borough": "Manhattan",
         "pickups": 10, "revenue": 150.0, "avg_fare": 12.0},
    ],
}  # fmt: skip


def test_color_zones_scales_and_greys_missing() -> None:
    zones = load_zones()
    top = shaping.top_zones_frame(TOP)
    colored = shaping.color_zones(zones, top, "pickups", selected=237)
    props = {f["properties"]["zone_id"]: f["properties"] for f in colored["features"]}
    assert props[132]["fill"] == shaping.ramp_color(1.0)  # the max is the darkest
    assert props[237]["fill"] == shaping.ramp_color(0.0)
    assert props[4]["fill"] == shaping.NO_DATA_COLOR and props[4]["pickups"] is None
    assert props[132]["revenue_text"] == "$70,000"
    assert props[237]["selected"] and not props[132]["selected"]
    assert "fill" not in zones["features"][0]["properties"]  # the shared asset is untouched


def test_color_zones_single_value_and_empty() -> None:
    one = shaping.top_zones_frame({"items": TOP["items"][:1]})
    props = shaping.color_zones(load_zones(), one, "avg_fare")["features"]
    assert [p["properties"]["fill"] for p in props if p["properties"]["zone_id"] == 132] == [
        shaping.ramp_color(1.0)
    ]
    empty = shaping.color_zones(load_zones(), shaping.top_zones_frame({"items": []}), "pickups")
    assert {tuple(f["properties"]["fill"]) for f in empty["features"]} == {
        tuple(shaping.NO_DATA_COLOR)
    }


def test_zone_deck_is_offline_by_default() -> None:
    colored = shaping.color_zones(load_zones(), shaping.top_zones_frame(TOP), "pickups")
    spec = json.loads(shaping.zone_deck(colored).to_json())
    # No provider and no style URL: Streamlit then draws no base map and fetches nothing.
    assert "mapProvider" not in spec and "http" not in str(spec.get("mapStyle"))
    (layer,) = spec["layers"]  # nothing selected: no outline layer
    assert layer["@@type"] == "GeoJsonLayer" and layer["pickable"]
    assert len(layer["data"]["features"]) == 263
    picked = shaping.color_zones(load_zones(), shaping.top_zones_frame(TOP), "pickups", 132)
    _, outline = json.loads(shaping.zone_deck(picked).to_json())["layers"]
    assert [f["properties"]["zone_id"] for f in outline["data"]["features"]] == [132]
    assert json.loads(shaping.zone_deck(colored, "light").to_json())["mapStyle"].startswith("https")


@pytest.mark.parametrize(
    ("selection", "zone"),
    [
        ({"selection": {"objects": {"zones": [{"properties": {"zone_id": 43}}]}}}, 43),
        ({"selection": {"objects": {"zones": [{"zone_id": 7}]}}}, 7),
        ({"selection": {"objects": {}}}, None),
        (None, None),
    ],
)
def test_picked_zone(selection: Any, zone: int | None) -> None:
    assert shaping.picked_zone(selection) == zone


def test_by_hour_chart_fills_all_hours() -> None:
    spec = shaping.by_hour_chart({"by_hour": [{"hour": 5, "trips": 3}]}).to_dict()
    (values,) = spec["datasets"].values()
    assert [v["hour"] for v in values] == list(range(24))
    assert [v["trips"] for v in values if v["trips"]] == [3]


def test_dead_letter_frames() -> None:
    pts, tot = shaping.dead_letter_frame(
        {
            "points": [
                {"bucket": "2025-01-15T07:00:00Z", "reason": "b", "count": 2},
                {"bucket": "2025-01-15T06:00:00Z", "reason": "a", "count": 5},
            ],
            "totals": [{"reason": "b", "count": 2}, {"reason": "a", "count": 5}],
        }
    )
    assert pts["reason"].tolist() == ["a", "b"]
    assert tot["reason"].tolist() == ["a", "b"] and tot["count"].tolist() == [5, 2]
    spec = shaping.dead_letter_chart(pts).to_dict()
    assert spec["encoding"]["color"]["field"] == "reason"


def test_samples_frame_joins_reasons() -> None:
    df = shaping.samples_frame(
        {
            "items": [
                {"raw_value": "{}", "reasons": ["x", "y"], "topic": "trips",
                 "kafka_partition": 0, "kafka_offset": 9, "ingested_at": "2025-01-15T06:00:00Z"}
            ]
        }
    )  # fmt: skip
    assert df.loc[0, "reasons"] == "x, y"
    assert df.loc[0, "ingested_at"] == pd.Timestamp("2025-01-15T06:00:00Z")


def test_freshness_levels() -> None:
    ok = shaping.freshness({"freshness_s": 30, "newest_pickup_at": "2025-01-15T06:00:00Z"}, 300)
    assert ok.level == "ok" and "30 s" in ok.text
    stale = shaping.freshness({"freshness_s": 7200}, 300)
    assert stale.level == "warning" and "stale" in stale.text and "2.0 h" in stale.text
    assert shaping.freshness({"freshness_s": None}, 300).level == "error"


def test_last_batch_and_age() -> None:
    status = {"last_batch": {"batch_id": 4, "trigger_at": "2025-01-15T06:00:00Z", "rows_in": 9}}
    frame = shaping.last_batch_frame(status)
    assert frame.set_index("field")["value"].to_dict() == {
        "batch": "4",
        "triggered at": "2025-01-15T06:00:00Z",
        "rows in": "9",
    }
    now = datetime(2025, 1, 15, 6, 1, tzinfo=UTC)
    assert shaping.batch_age_s(status, now) == 60
    assert shaping.last_batch_frame({"last_batch": None}).empty
    assert shaping.batch_age_s({"last_batch": None}, now) is None


# ---- zones asset -------------------------------------------------------------------------


def test_shipped_zones_asset_is_small_and_complete() -> None:
    assert ASSET.stat().st_size < 600_000
    zones = load_zones()
    ids = [f["properties"]["zone_id"] for f in zones["features"]]
    assert len(ids) == 263 == len(set(ids))
    for f in zones["features"]:
        for poly in f["geometry"]["coordinates"]:
            for ring in poly:
                assert len(ring) >= 4 and ring[0] == ring[-1]


def test_simplify_drops_collinear_points_and_keeps_tiny_rings() -> None:
    square = [[0.0, 0.0], [0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
    assert simplify_ring(square, 0.01) == [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]
    tiny = [[0.0, 0.0], [1e-6, 0.0], [1e-6, 1e-6], [0.0, 0.0]]
    assert len(simplify_ring(tiny, 1.0)) == 4  # would collapse: kept as it was
    fc = {
        "features": [
            {
                "properties": {"LocationID": 2, "zone": "b", "borough": "Q", "Shape_Leng": 1},
                "geometry": {"type": "Polygon", "coordinates": [square]},
            },
            {
                "properties": {"LocationID": 1, "zone": "a", "borough": "Q"},
                "geometry": {"type": "MultiPolygon", "coordinates": [[square], [square]]},
            },
        ]
    }
    out = simplify(fc, 0.01)
    assert [f["properties"] for f in out["features"]] == [
        {"zone_id": 1, "zone": "a", "borough": "Q"},
        {"zone_id": 2, "zone": "b", "borough": "Q"},
    ]
    assert {f["geometry"]["type"] for f in out["features"]} == {"MultiPolygon"}


# ---- API client --------------------------------------------------------------------------


def test_query_formats_instants_and_drops_none() -> None:
    t = datetime(2025, 1, 15, 1, tzinfo=UTC) + timedelta(hours=5)
    assert query({"start": t, "service": None, "limit": 5}) == {
        "start": "2025-01-15T06:00:00Z",
        "limit": "5",
    }


def test_client_errors_are_messages() -> None:
    with pytest.raises(ApiError, match="cannot be reached"):
        ApiClient(DashSettings(api_url="http://127.0.0.1:9")).get("/health")


class _Resp(requests.Response):
    def __init__(self, status: int, body: bytes) -> None:
        super().__init__()
        self.status_code = status
        self._content = body


class _Session(requests.Session):
    """Answers every GET with a fixed response and records what was asked."""

    def __init__(self, resp: _Resp) -> None:
        super().__init__()
        self.resp = resp
        self.asked: list[tuple[str, Any]] = []

    def get(self, url: str | bytes, **kw: Any) -> requests.Response:  # type: ignore[override]
        self.asked.append((str(url), kw.get("params")))
        return self.resp


@pytest.mark.parametrize(
    ("status", "body", "match"),
    [
        (401, b'{"detail": "missing key"}', "check DASH_API_KEY"),
        (
            422,
            b'{"detail": [{"msg": "bad interval"}]}',
            r"rejected the request \(422.*bad interval",
        ),
        (502, b"gateway", r"failed \(502"),
        (200, b"<html>", "not JSON"),
    ],
)
def test_client_status_mapping(status: int, body: bytes, match: str) -> None:
    client = ApiClient(
        DashSettings(api_url="http://x/", api_key="k"), _Session(_Resp(status, body))
    )
    with pytest.raises(ApiError, match=match):
        client.get("/v1/summary")


def test_client_sends_key_and_params() -> None:
    session = _Session(_Resp(200, b'{"ok": 1}'))
    client = ApiClient(DashSettings(api_url="http://x/base/", api_key="k"), session)
    assert client.get("/v1/status", {"minutes": 60}) == {"ok": 1}
    assert session.asked == [("http://x/base/v1/status", {"minutes": "60"})]
    assert session.headers["X-API-Key"] == "k"
