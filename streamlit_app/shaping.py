"""API JSON -> data frames -> figures. No Streamlit here, so all of it is unit-testable."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import altair as alt
import pandas as pd
import pydeck as pdk

# What a person reads, for every metric the API returns.
METRIC_LABELS = {
    "trips": "Trips",
    "revenue": "Revenue",
    "avg_fare": "Avg fare",
    "avg_distance": "Avg distance",
    "avg_duration_s": "Avg duration",
    "tip_rate": "Tip rate",
    "passengers": "Passengers",
    "pickups": "Pickups",
}
KPI_METRICS = ("trips", "revenue", "avg_fare", "avg_duration_s", "tip_rate")
SERIES_COLUMNS = ("trips", "revenue", "avg_fare", "avg_distance", "avg_duration_s", "tip_rate")


def fmt(metric: str, value: float | None) -> str:
    """A metric's value as a person reads it ("$1.2k", "12.5 min", "18.0 %")."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if metric in ("trips", "pickups", "passengers"):
        return f"{value:,.0f}"
    if metric == "revenue":
        return f"${value / 1e6:,.2f}M" if abs(value) >= 1e6 else f"${value:,.0f}"
    if metric == "avg_fare":
        return f"${value:,.2f}"
    if metric == "avg_duration_s":
        return f"{value / 60:,.1f} min"
    if metric == "avg_distance":
        return f"{value:,.2f} mi"
    if metric == "tip_rate":
        return f"{value * 100:,.1f} %"
    return f"{value:,.2f}"


@dataclass(frozen=True)
class Kpi:
    metric: str
    label: str
    value: str
    delta: str | None  # relative change vs the reference window, None when undefined


def kpis(current: dict[str, Any], reference: dict[str, Any]) -> list[Kpi]:
    """One KPI per metric of a /v1/summary answer, with the change vs ``reference``.

    Rates (tip rate) change in percentage points; everything else relatively.
    """
    out = []
    for m in KPI_METRICS:
        cur, ref = current.get(m), reference.get(m)
        delta: str | None = None
        if cur is not None and ref is not None:
            if m == "tip_rate":
                delta = f"{(cur - ref) * 100:+.1f} pp"
            elif ref:
                delta = f"{(cur - ref) / abs(ref) * 100:+.1f} %"
        out.append(Kpi(m, METRIC_LABELS[m], fmt(m, cur), delta))
    return out


def points_frame(resp: dict[str, Any]) -> pd.DataFrame:
    """/v1/timeseries points as a frame: bucket (UTC datetime), group (str), metrics (float)."""
    cols = ["bucket", "group", *SERIES_COLUMNS]
    df = pd.DataFrame(resp.get("points") or [], columns=cols)
    df["bucket"] = pd.to_datetime(df["bucket"], utc=True)
    df["group"] = df["group"].fillna("all").astype(str)
    for c in SERIES_COLUMNS:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    return df.sort_values(["bucket", "group"]).reset_index(drop=True)


def series_chart(df: pd.DataFrame, metric: str, group_title: str, height: int = 300) -> alt.Chart:
    """A line per group over time (points when there are few buckets, so one bucket shows)."""
    title = METRIC_LABELS.get(metric, metric)
    few = df["bucket"].nunique() < 3
    chart: alt.Chart = (
        alt.Chart(df, height=height)
        .mark_line(point=few)
        .encode(
            x=alt.X("bucket:T", title=None),
            y=alt.Y(f"{metric}:Q", title=title),
            color=alt.Color("group:N", title=group_title),
            tooltip=[
                alt.Tooltip("bucket:T", title="time", format="%Y-%m-%d %H:%M"),
                alt.Tooltip("group:N", title=group_title),
                alt.Tooltip(f"{metric}:Q", title=title, format=",.2f"),
            ],
        )
    )
    return chart


def per_minute(df: pd.DataFrame, bucket_minutes: int) -> pd.DataFrame:
    """Trips per minute per bucket (all groups summed): the pipeline's throughput."""
    tot = df.groupby("bucket", as_index=False)["trips"].sum()
    tot["trips_per_min"] = tot["trips"] / bucket_minutes
    return tot


def throughput_chart(df: pd.DataFrame) -> alt.Chart:
    chart: alt.Chart = (
        alt.Chart(df, height=220)
        .mark_area(opacity=0.6, line=True)
        .encode(
            x=alt.X("bucket:T", title=None),
            y=alt.Y("trips_per_min:Q", title="trips / min"),
            tooltip=[
                alt.Tooltip("bucket:T", title="5 min from", format="%H:%M"),
                alt.Tooltip("trips_per_min:Q", title="trips / min", format=",.1f"),
            ],
        )
    )
    return chart


def top_zones_frame(resp: dict[str, Any]) -> pd.DataFrame:
    """/v1/zones/top items, ordered as the API ranked them."""
    cols = ["zone_id", "zone", "borough", "pickups", "revenue", "avg_fare"]
    df = pd.DataFrame(resp.get("items") or [], columns=cols)
    df["zone_id"] = pd.to_numeric(df["zone_id"]).astype("int64")
    for c in ("pickups", "revenue", "avg_fare"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    return df


# A sequential ramp (light yellow -> dark red): readable on a white page and on dark tiles.
_RAMP = ((255, 255, 204), (254, 217, 118), (253, 141, 60), (227, 26, 28), (128, 0, 38))
NO_DATA_COLOR = [210, 210, 210, 90]


def ramp_color(x: float) -> list[int]:
    """x in [0, 1] -> RGBA on the ramp."""
    x = min(1.0, max(0.0, x)) * (len(_RAMP) - 1)
    i = min(int(x), len(_RAMP) - 2)
    f = x - i
    a, b = _RAMP[i], _RAMP[i + 1]
    return [round(a[k] + (b[k] - a[k]) * f) for k in range(3)] + [200]


def color_zones(
    zones: dict[str, Any], values: pd.DataFrame, metric: str, selected: int | None = None
) -> dict[str, Any]:
    """A copy of the zone FeatureCollection with the metric, a colour and the selection per zone.

    Counts (pickups, revenue) are skewed by a few airports and Midtown, so they are coloured on
    a log scale; averages linearly. Zones without data are grey.
    """
    by_id = values.set_index("zone_id")
    col = by_id[metric].dropna() if metric in by_id else pd.Series(dtype=float)
    log = metric in ("pickups", "revenue")
    scaled = col.clip(lower=0).map(math.log1p) if log else col
    lo, hi = (float(scaled.min()), float(scaled.max())) if len(scaled) else (0.0, 0.0)
    out = copy.deepcopy(zones)
    for f in out["features"]:
        p = f["properties"]
        zid = p["zone_id"]
        for m in ("pickups", "revenue", "avg_fare"):
            v = by_id[m].get(zid) if m in by_id else None
            p[m] = None if v is None or pd.isna(v) else float(v)
            p[f"{m}_text"] = fmt(m, p[m])
        if zid in scaled.index:
            s = float(scaled[zid])
            p["fill"] = ramp_color((s - lo) / (hi - lo) if hi > lo else 1.0)
        else:
            p["fill"] = NO_DATA_COLOR
        p["selected"] = zid == selected
    return out


# The five boroughs and EWR at a zoom that shows them all.
NYC_VIEW = pdk.ViewState(latitude=40.70, longitude=-73.94, zoom=9.4, pitch=0)


def zone_deck(colored: dict[str, Any], map_style: str | None = None) -> pdk.Deck:
    """The zones as filled polygons; without ``map_style`` no tiles are fetched (offline).

    Only the selected zone is outlined: stroking all 263 zones (a path layer of ~15k points)
    stalled software WebGL (SwiftShader) on a busy 2-core machine, while fills alone render
    at full frame rate; neighbouring zones stay apart by their colours.
    """
    zones = pdk.Layer(
        "GeoJsonLayer",
        colored,
        id="zones",
        pickable=True,
        stroked=False,
        filled=True,
        get_fill_color="properties.fill",
        auto_highlight=True,
    )
    selected = [f for f in colored["features"] if f["properties"].get("selected")]
    outline = pdk.Layer(
        "GeoJsonLayer",
        {"type": "FeatureCollection", "features": selected},
        id="selected",
        stroked=True,
        filled=False,
        get_line_color=[20, 20, 20, 255],
        line_width_min_pixels=3,
    )
    tooltip = {
        "html": "<b>{zone}</b> ({borough}) #{zone_id}<br/>pickups {pickups_text}"
        "<br/>revenue {revenue_text}<br/>avg fare {avg_fare_text}",
    }
    layers = [zones, outline] if selected else [zones]
    if map_style is None:
        # No provider: pydeck sends its "default style" marker, on which Streamlit draws no
        # base map. (map_style=None alone makes Streamlit fetch Carto's style from the web.)
        return pdk.Deck(
            layers=layers, initial_view_state=NYC_VIEW, map_provider=None, tooltip=tooltip
        )
    return pdk.Deck(
        layers=layers, initial_view_state=NYC_VIEW, map_style=map_style, tooltip=tooltip
    )


def picked_zone(selection: Any) -> int | None:
    """The zone id a click on the map picked (Streamlit's pydeck selection state), if any."""
    try:
        objects = selection["selection"]["objects"].get("zones") or []
    except (KeyError, TypeError, AttributeError):
        return None
    for obj in objects:
        props = obj.get("properties", obj) if isinstance(obj, dict) else {}
        if props.get("zone_id") is not None:
            return int(props["zone_id"])
    return None


def by_hour_chart(profile: dict[str, Any]) -> alt.Chart:
    """A zone's trips by hour of day (0..23, all 24 shown even when empty)."""
    df = pd.DataFrame(profile.get("by_hour") or [], columns=["hour", "trips"])
    df = (
        pd.DataFrame({"hour": range(24)})
        .merge(df.astype({"hour": "int64"}), on="hour", how="left")
        .fillna({"trips": 0})
    )
    chart: alt.Chart = (
        alt.Chart(df, height=220)
        .mark_bar()
        .encode(
            x=alt.X("hour:O", title="hour of day (UTC)"),
            y=alt.Y("trips:Q", title="trips"),
            tooltip=["hour", "trips"],
        )
    )
    return chart


def dropoffs_frame(profile: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(
        profile.get("top_dropoffs") or [], columns=["zone_id", "zone", "borough", "trips"]
    )


def dead_letter_frame(resp: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(points: bucket, reason, count; totals: reason, count descending)."""
    pts = pd.DataFrame(resp.get("points") or [], columns=["bucket", "reason", "count"])
    pts["bucket"] = pd.to_datetime(pts["bucket"], utc=True)
    pts["count"] = pd.to_numeric(pts["count"]).astype("int64")
    tot = pd.DataFrame(resp.get("totals") or [], columns=["reason", "count"])
    tot["count"] = pd.to_numeric(tot["count"]).astype("int64")
    tot = tot.sort_values(["count", "reason"], ascending=[False, True]).reset_index(drop=True)
    return pts.sort_values(["bucket", "reason"]).reset_index(drop=True), tot


def dead_letter_chart(points: pd.DataFrame) -> alt.Chart:
    chart: alt.Chart = (
        alt.Chart(points, height=300)
        .mark_bar()
        .encode(
            x=alt.X("bucket:T", title=None),
            y=alt.Y("count:Q", title="rejected records", stack=True),
            color=alt.Color("reason:N", title="reason"),
            tooltip=[
                alt.Tooltip("bucket:T", title="from", format="%Y-%m-%d %H:%M"),
                "reason:N",
                "count:Q",
            ],
        )
    )
    return chart


def samples_frame(resp: dict[str, Any]) -> pd.DataFrame:
    cols = ["ingested_at", "reasons", "raw_value", "topic", "kafka_partition", "kafka_offset"]
    df = pd.DataFrame(resp.get("items") or [], columns=cols)
    df["reasons"] = df["reasons"].map(lambda r: ", ".join(r) if isinstance(r, list) else r)
    df["ingested_at"] = pd.to_datetime(df["ingested_at"], utc=True)
    return df


@dataclass(frozen=True)
class Freshness:
    level: str  # "ok", "warning" (older than the threshold) or "error" (no data at all)
    text: str
    age_s: float | None


def age_text(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def freshness(status: dict[str, Any], warn_s: float) -> Freshness:
    """How old the newest trip in the lake is, and whether that deserves a warning."""
    age = status.get("freshness_s")
    if age is None:
        return Freshness("error", "No trips in the lake yet: is the stream running?", None)
    newest = status.get("newest_pickup_at") or "?"
    text = f"Newest trip picked up {age_text(float(age))} ago ({newest})."
    if age > warn_s:
        return Freshness(
            "warning",
            f"Data is stale: {text} The stream may be stopped or lagging "
            f"(warning past {age_text(warn_s)}).",
            float(age),
        )
    return Freshness("ok", text, float(age))


BATCH_FIELDS = (
    ("batch_id", "batch"),
    ("trigger_at", "triggered at"),
    ("rows_in", "rows in"),
    ("accepted", "accepted"),
    ("rejected", "rejected"),
    ("duplicates_dropped", "duplicates dropped"),
    ("late_dropped", "late dropped"),
    ("batch_ms", "batch time (ms)"),
    ("processed_rows_per_s", "processed rows / s"),
    ("kafka_lag", "Kafka lag (records)"),
)


def last_batch_frame(status: dict[str, Any]) -> pd.DataFrame:
    """The stream's last progress record as a two-column table (empty when none yet)."""
    batch = status.get("last_batch") or {}
    rows = [(label, batch[k]) for k, label in BATCH_FIELDS if batch.get(k) is not None]
    return pd.DataFrame(
        {"field": [r[0] for r in rows], "value": [str(r[1]) for r in rows]},
        columns=["field", "value"],
    )


def batch_age_s(status: dict[str, Any], now: datetime) -> float | None:
    """Seconds since the last micro-batch was triggered, if the API reported one."""
    at = (status.get("last_batch") or {}).get("trigger_at")
    if not at:
        return None
    t = datetime.fromisoformat(str(at).replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return (now - t).total_seconds()
