"""Every dashboard view in Streamlit's AppTest against the real API over a small lake.

Also the cost of a refresh: the API counts the requests it answers, and each view must cost
exactly what streamlit_app.app.CALLS_PER_REFRESH (and the package README) says.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from streamlit_app.app import CALLS_PER_REFRESH, VIEWS
from streamlit_app.shaping import fmt
from tests.dash_support import CountingApp, Lake, build_lake, free_port, serve_api

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app" / "app.py")
README = Path(APP).with_name("README.md")
STEP_S = 300  # the tests' cache TTL: "now" is floored to 5 min, the API's own grid


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lake, CountingApp]]:
    lake = build_lake(tmp_path_factory.mktemp("lake"))
    with serve_api(lake.uri) as (url, counting):
        old = {k: os.environ.get(k) for k in ("DASH_API_URL", "DASH_CACHE_TTL_S")}
        os.environ.update(DASH_API_URL=url, DASH_CACHE_TTL_S=str(STEP_S))
        try:
            yield lake, counting
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def open_view(view: str) -> AppTest:
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["view"] = view
    return at.run()


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def charts(at: AppTest, kind: str = "vega_lite_chart") -> list[Any]:
    return list(at.get(kind))


def chart_rows(chart: Any) -> int:
    """Rows in a Vega-Lite chart's datasets (what Streamlit sends the browser)."""
    blobs = [d.data.data for d in chart.proto.datasets]
    if chart.proto.data.data:
        blobs.append(chart.proto.data.data)
    return sum(pa.ipc.open_stream(b).read_all().num_rows for b in blobs if b)


def metrics(at: AppTest) -> list[tuple[str, str, str]]:
    return [(m.label, m.value, m.delta) for m in at.metric]


def step(t: datetime) -> datetime:
    ts = t.timestamp()
    return datetime.fromtimestamp(ts - ts % STEP_S, UTC)


def test_live_kpis_match_the_lake(world: tuple[Lake, CountingApp]) -> None:
    lake, _ = world
    before = step(datetime.now(UTC))
    at = open_view("Live")
    after = step(datetime.now(UTC))
    assert_clean(at)
    expected = {
        fmt("trips", len(lake.trips_between(s - timedelta(hours=1), s))) for s in (before, after)
    }
    got = metrics(at)
    assert [m[0] for m in got] == ["Trips", "Revenue", "Avg fare", "Avg duration", "Tip rate"] * 2
    assert got[0][1] in expected and got[0][1] != "0"
    assert all(m[2] for m in got[:2]), "trips and revenue show a change vs the hour before"
    (series,) = charts(at)
    assert chart_rows(series) > 0


def test_trends_by_borough(world: tuple[Lake, CountingApp]) -> None:
    lake, _ = world
    at = open_view("Trends")
    at.radio(key="group_by").set_value("borough").run()
    at.radio(key="interval").set_value("1 day").run()
    assert_clean(at)
    assert charts(at) and all(chart_rows(c) > 0 for c in charts(at))
    table = at.dataframe[0].value
    boroughs = {t["pickup_borough"] for t in lake.trips}
    assert set(table["borough"]) <= boroughs and len(table) >= 3
    assert int(table["trips"].sum()) == len(lake.trips)  # the range covers the whole lake


def test_zones_map_table_and_profile(world: tuple[Lake, CountingApp]) -> None:
    lake, _ = world
    at = open_view("Zones")
    assert_clean(at)
    (deck,) = charts(at, "deck_gl_json_chart")
    spec = json.loads(deck.proto.json)
    assert spec["layers"][0]["@@type"] == "GeoJsonLayer"
    assert "mapProvider" not in spec, "no base map by default: nothing to fetch from the web"
    filled = [f for f in spec["layers"][0]["data"]["features"] if f["properties"]["pickups"]]
    assert len(filled) == len({t["pickup_zone_id"] for t in lake.trips} - {264, 265})
    top = at.dataframe[0].value
    counts: dict[int, int] = {}
    for t in lake.trips:
        counts[t["pickup_zone_id"]] = counts.get(t["pickup_zone_id"], 0) + 1
    assert top["pickups"].iloc[0] == max(counts.values())
    # The profile follows the select box.
    at.selectbox(key="zone_pick").set_value(138).run()
    assert_clean(at)
    assert any("zone #138" in h.value for h in at.subheader)
    assert dict((m.label, m.value) for m in at.metric)["Trips"] == fmt("trips", counts[138])
    assert chart_rows(charts(at)[-1]) == 24  # by hour of day


def test_quality_counts_and_samples(world: tuple[Lake, CountingApp]) -> None:
    lake, _ = world
    at = open_view("Data quality")
    assert_clean(at)
    totals = at.dataframe[0].value
    reasons: dict[str, int] = {}
    for d in lake.dead_letters:
        for r in d["reasons"]:
            reasons[r] = reasons.get(r, 0) + 1
    assert dict(zip(totals["reason"], totals["count"], strict=True)) == reasons
    assert chart_rows(charts(at)[0]) > 0
    at.selectbox[0].set_value("invalid_json").run()
    samples = at.dataframe[1].value
    assert len(samples) == reasons["invalid_json"]
    assert samples["reasons"].str.contains("invalid_json").all()


def test_pipeline_freshness_and_batch(world: tuple[Lake, CountingApp]) -> None:
    at = open_view("Pipeline")
    assert_clean(at)
    assert at.success and "Newest trip" in at.success[0].value
    batch = dict(zip(*at.dataframe[0].value.T.values, strict=True))
    assert batch["batch"] == "41" and batch["rows in"] == "1560"
    assert chart_rows(charts(at)[0]) > 0


def test_stale_data_warns(world: tuple[Lake, CountingApp]) -> None:
    os.environ["DASH_FRESHNESS_WARN_S"] = "1"  # every lake is older than a second
    try:
        at = open_view("Pipeline")
    finally:
        del os.environ["DASH_FRESHNESS_WARN_S"]
    assert at.warning and "stale" in at.warning[0].value
    assert not at.exception


@pytest.mark.parametrize("view", VIEWS)
def test_api_calls_per_refresh(view: str, world: tuple[Lake, CountingApp]) -> None:
    _, counting = world
    open_view(view)  # warms the zone list
    for _ in range(2):  # a cold refresh costs the documented calls; a step can tick between
        st.cache_data.clear()
        at = AppTest.from_file(APP, default_timeout=120)
        at.session_state["view"] = view
        t0 = step(datetime.now(UTC))
        counting.reset()
        at.run()
        cold = counting.data_calls()
        counting.reset()
        at.run()  # within the TTL: every answer comes from the cache
        warm = counting.data_calls()
        if step(datetime.now(UTC)) == t0:
            break
        time.sleep(1)
    assert_clean(at)
    assert cold == CALLS_PER_REFRESH[view]
    assert warm == 0
    row = re.search(rf"^\| {view} \| (\d+) \|", README.read_text(), re.M)
    assert row and int(row.group(1)) == cold, "README's table of calls per refresh is stale"


def test_api_down_shows_a_message_not_a_traceback(world: tuple[Lake, CountingApp]) -> None:
    os.environ["DASH_API_URL"], url = f"http://127.0.0.1:{free_port()}", os.environ["DASH_API_URL"]
    try:
        for view in VIEWS:
            at = open_view(view)
            assert not at.exception
            assert at.error and "cannot be reached" in at.error[0].value, view
    finally:
        os.environ["DASH_API_URL"] = url


def test_wrong_api_key_is_explained(tmp_path: Path) -> None:
    lake = build_lake(tmp_path, seed=1)
    with serve_api(lake.uri, api_key="right") as (url, _):
        old = os.environ.get("DASH_API_URL")
        os.environ.update(DASH_API_URL=url, DASH_API_KEY="wrong")
        try:
            at = open_view("Trends")
            assert at.error and "DASH_API_KEY" in at.error[0].value
            os.environ["DASH_API_KEY"] = "right"
            assert_clean(open_view("Trends"))
        finally:
            del os.environ["DASH_API_KEY"]
            if old is not None:
                os.environ["DASH_API_URL"] = old
