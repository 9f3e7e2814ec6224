"""The dashboard (Streamlit script): five views over the HTTP API, nothing else.

Run with ``python -m streamlit_app``. Each view's API calls per refresh are listed in
CALLS_PER_REFRESH (README and tests/test_dashboard_app.py keep them honest).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from streamlit_app import shaping
from streamlit_app.api import ApiClient, ApiError, query
from streamlit_app.config import DashSettings
from streamlit_app.geo import load_zones

log = logging.getLogger("streamlit_app")

S = DashSettings()
TZ = ZoneInfo("America/New_York")  # the city's day; the API speaks UTC
VIEWS = ("Live", "Trends", "Zones", "Data quality", "Pipeline")
# API calls one refresh of a view makes when nothing is cached; /v1/zones (borough and zone
# names) comes on top once per DASH_ZONES_TTL_S for every view.
CALLS_PER_REFRESH = {"Live": 6, "Trends": 1, "Zones": 2, "Data quality": 2, "Pipeline": 2}
REFRESH_CHOICES = (0, 10, 30, 60, 300)
MAX_DAYS = 31  # the API's longest span for aggregates
MAX_5M_DAYS = 2  # 5-minute buckets beyond this are too many points to read


@st.cache_data(ttl=S.cache_ttl_s, show_spinner=False, max_entries=1000)
def _fetch(api_url: str, path: str, params: tuple[tuple[str, str], ...], step: datetime) -> Any:
    # api_url is part of the cache key, so switching APIs never serves another API's answers;
    # the step too, so every answer of a step expires at its end, also those (like /v1/status)
    # whose parameters do not name the time: a viewer arriving later in the step costs 0 calls.
    return ApiClient(S).get(path, dict(params))


@st.cache_data(ttl=S.zones_ttl_s, show_spinner=False)
def _zone_table(api_url: str) -> pd.DataFrame:
    items = ApiClient(S).get("/v1/zones")["items"]
    return pd.DataFrame(items, columns=["zone_id", "borough", "zone"]).astype({"zone_id": "int64"})


def api(path: str, **params: Any) -> Any:
    """One (cached) API call."""
    return _fetch(S.api_url, path, tuple(sorted(query(params).items())), now_step())


def now_step() -> datetime:
    """Now, floored to the cache TTL: viewers within one step share every cached answer."""
    step = S.cache_ttl_s
    t = datetime.now(UTC).timestamp()
    return datetime.fromtimestamp(t - t % step, UTC)


def local_midnight(d: date) -> datetime:
    return datetime.combine(d, time(0), TZ).astimezone(UTC)


def show_error(exc: ApiError) -> None:
    st.error(f"**No data right now.** {exc}", icon=":material/cloud_off:")
    st.caption(f"API: `{S.api_url}` · the page tries again on the next refresh.")


def guarded(view: Callable[[], None]) -> None:
    """Run a view; any failure becomes a message on the page, never a traceback."""
    try:
        view()
    except ApiError as exc:
        show_error(exc)
    except Exception:
        log.exception("view failed")
        st.error(
            "**This view failed to draw.** The error was logged on the dashboard's server.",
            icon=":material/error:",
        )


# ---- filters -------------------------------------------------------------------------------


class Filters:
    """The sidebar's choices for the current run."""

    def __init__(self, view: str) -> None:
        self.service: str | None = None
        self.borough: str | None = None
        self.start = self.end = datetime.now(UTC)
        self.refresh_s = 0
        if view in ("Trends", "Zones", "Data quality"):
            self._dates()
        if view in ("Live", "Trends", "Zones"):
            self._scope()
        if view in ("Live", "Pipeline"):
            self.refresh_s = st.sidebar.selectbox(
                "Auto-refresh",
                REFRESH_CHOICES,
                index=REFRESH_CHOICES.index(S.refresh_s) if S.refresh_s in REFRESH_CHOICES else 2,
                format_func=lambda s: "paused" if s == 0 else f"every {s} s",
                key="refresh_s",
            )

    def _dates(self) -> None:
        today = datetime.now(TZ).date()
        picked = st.sidebar.date_input(
            "Dates (New York)",
            value=(today - timedelta(days=6), today),
            max_value=today,
            key="dates",
        )
        # While a range is being picked the widget holds one date only.
        days = list(picked) if isinstance(picked, tuple | list) else [picked]
        first, last = days[0], days[-1]
        if (last - first).days + 1 > MAX_DAYS:
            first = last - timedelta(days=MAX_DAYS - 1)
            st.sidebar.warning(f"At most {MAX_DAYS} days at once: showing from {first}.")
        self.start, self.end = local_midnight(first), local_midnight(last + timedelta(days=1))

    def _scope(self) -> None:
        service = st.sidebar.selectbox("Service", ("all", "yellow", "green"), key="service")
        self.service = None if service == "all" else service
        try:
            boroughs = sorted(_zone_table(S.api_url)["borough"].dropna().unique())
        except ApiError:
            boroughs = []  # the view itself reports the outage
        borough = st.sidebar.selectbox("Borough", ["all", *boroughs], key="borough")
        self.borough = None if borough == "all" else borough

    @property
    def scope(self) -> dict[str, Any]:
        return {"service": self.service, "borough": self.borough}


# ---- views ---------------------------------------------------------------------------------


def kpi_row(current: dict[str, Any], reference: dict[str, Any], spark: pd.DataFrame) -> None:
    for col, k in zip(
        st.columns(len(shaping.KPI_METRICS)), shaping.kpis(current, reference), strict=True
    ):
        col.metric(
            k.label,
            k.value,
            k.delta,
            delta_color="normal" if k.metric in ("trips", "revenue", "tip_rate") else "off",
            chart_data=spark[k.metric].tolist() if k.metric in spark else None,
            border=True,
        )


def live(f: Filters) -> None:
    st.header("Live")
    every = f.refresh_s or None

    @st.fragment(run_every=every)
    def body() -> None:
        def draw() -> None:
            now = now_step()
            hour, day0 = now - timedelta(hours=1), local_midnight(now.astimezone(TZ).date())
            with st.spinner("Loading…"):
                last_h = api("/v1/summary", start=hour, end=now, **f.scope)
                prev_h = api("/v1/summary", start=hour - timedelta(hours=1), end=hour, **f.scope)
                today = api("/v1/summary", start=day0, end=now, **f.scope)
                yday = api(
                    "/v1/summary",
                    start=day0 - timedelta(days=1),
                    end=now - timedelta(days=1),
                    **f.scope,
                )
                series = shaping.points_frame(
                    api(
                        "/v1/timeseries",
                        start=now - timedelta(hours=3),
                        end=now,
                        interval="5m",
                        group_by="service",
                        **f.scope,
                    )
                )
                status = api("/v1/status", minutes=60)
            spark_all = series.groupby("bucket")[["trips", "revenue"]].sum()
            fresh = shaping.freshness(status, S.freshness_warn_s)
            if fresh.level != "ok":
                st.warning(fresh.text, icon=":material/schedule:")
            st.subheader("Last hour", help="Change vs the hour before.")
            kpi_row(last_h, prev_h, spark_all.tail(12))
            st.subheader("Today (New York)", help="Change vs yesterday up to the same time.")
            kpi_row(today, yday, spark_all)
            st.subheader("Trips per 5 minutes, last 3 hours")
            if series.empty:
                st.info("No trips in the last 3 hours for these filters.")
            else:
                st.altair_chart(shaping.series_chart(series, "trips", "service", 260))
            refresh = f"refreshes every {f.refresh_s} s" if f.refresh_s else "auto-refresh paused"
            st.caption(
                f"As of {now.astimezone(TZ):%H:%M:%S} New York · {refresh} · "
                f"{fresh.text if fresh.level == 'ok' else ''}"
            )

        guarded(draw)

    body()


TREND_INTERVALS = {"5 min": "5m", "1 hour": "1h", "1 day": "1d"}


def trends(f: Filters) -> None:
    st.header("Trends")
    c1, c2, c3 = st.columns(3)
    label = c1.radio("Interval", tuple(TREND_INTERVALS), index=1, horizontal=True, key="interval")
    group = c2.radio("By", ("service", "borough"), horizontal=True, key="group_by")
    metric = c3.selectbox(
        "Metric",
        shaping.SERIES_COLUMNS,
        format_func=lambda m: shaping.METRIC_LABELS[m],
        key="trend_metric",
    )
    interval = TREND_INTERVALS[label]
    start = f.start
    if interval == "5m" and f.end - start > timedelta(days=MAX_5M_DAYS):
        start = f.end - timedelta(days=MAX_5M_DAYS)
        st.info(f"5-minute buckets: showing the last {MAX_5M_DAYS} days of the range.")

    def draw() -> None:
        with st.spinner("Loading…"):
            resp = api(
                "/v1/timeseries",
                start=start,
                end=f.end,
                interval=interval,
                group_by=group,
                **f.scope,
            )
        df = shaping.points_frame(resp)
        if df.empty:
            st.info("No trips in this range for these filters.")
            return
        st.altair_chart(shaping.series_chart(df, metric, group))
        if metric != "trips":
            st.altair_chart(shaping.series_chart(df, "trips", group, 180))
        totals = df.groupby("group", as_index=False)[["trips", "revenue"]].sum()
        st.dataframe(totals.rename(columns={"group": group}), hide_index=True)

    guarded(draw)


ZONE_METRICS = ("pickups", "revenue", "avg_fare")


def zone_label(zones: pd.DataFrame) -> Callable[[int], str]:
    names = {int(r.zone_id): f"{r.zone} ({r.borough})" for r in zones.itertuples()}
    return lambda z: f"{names.get(z, '?')} · #{z}"


def zones_view(f: Filters) -> None:
    st.header("Zones")
    metric = st.radio(
        "Colour by",
        ZONE_METRICS,
        horizontal=True,
        format_func=lambda m: shaping.METRIC_LABELS[m],
        key="zone_metric",
    )

    def draw() -> None:
        zones = _zone_table(S.api_url)
        with st.spinner("Loading…"):
            top = shaping.top_zones_frame(
                api(
                    "/v1/zones/top",
                    start=f.start,
                    end=f.end,
                    metric=metric,
                    limit=len(zones),
                    **f.scope,
                )
            )
        # A click on the map picks a zone; it then becomes the select box's choice.
        clicked = shaping.picked_zone(st.session_state.get("zone_map"))
        if clicked is not None and clicked != st.session_state.get("zone_clicked"):
            st.session_state["zone_clicked"] = clicked
            st.session_state["zone_pick"] = clicked
        ids = [*top["zone_id"].tolist(), *sorted(set(zones["zone_id"]) - set(top["zone_id"]))]
        map_col, table_col = st.columns([3, 2])
        with table_col:
            st.subheader(f"Top zones by {shaping.METRIC_LABELS[metric].lower()}")
            if top.empty:
                st.info("No trips in this range for these filters.")
            st.dataframe(
                top.head(15)[["zone", "borough", "pickups", "revenue", "avg_fare"]],
                hide_index=True,
                column_config={
                    "revenue": st.column_config.NumberColumn(format="dollar"),
                    "avg_fare": st.column_config.NumberColumn("avg fare", format="$%.2f"),
                    "pickups": st.column_config.NumberColumn(format="localized"),
                },
            )
            picked = st.selectbox(
                "Zone profile", ids, format_func=zone_label(zones), key="zone_pick"
            )
        with map_col:
            colored = shaping.color_zones(load_zones(), top, metric, selected=picked)
            st.pydeck_chart(
                shaping.zone_deck(colored, S.map_style),
                on_select="rerun",
                selection_mode="single-object",
                key="zone_map",
                height=520,
            )
            st.caption("Colour: light = low, dark red = high; grey = no trips. Click a zone.")
        zone_profile(picked, f)

    guarded(draw)


def zone_profile(zone_id: int, f: Filters) -> None:
    prof = api(f"/v1/zones/{zone_id}", start=f.start, end=f.end)
    st.subheader(f"{prof.get('zone')} ({prof.get('borough')}) · zone #{zone_id}")
    summary = prof.get("summary") or {}
    for col, m in zip(st.columns(len(shaping.KPI_METRICS)), shaping.KPI_METRICS, strict=True):
        col.metric(shaping.METRIC_LABELS[m], shaping.fmt(m, summary.get(m)), border=True)
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Pickups by hour of day**")
        st.altair_chart(shaping.by_hour_chart(prof))
    with c2:
        st.markdown("**Top drop-off zones**")
        st.dataframe(shaping.dropoffs_frame(prof), hide_index=True)


def quality(f: Filters) -> None:
    st.header("Data quality")
    interval = "1h" if f.end - f.start <= timedelta(days=2) else "1d"

    def draw() -> None:
        with st.spinner("Loading…"):
            points, totals = shaping.dead_letter_frame(
                api("/v1/quality/dead-letters", start=f.start, end=f.end, interval=interval)
            )
        if totals.empty:
            st.success("No rejected records in this range.", icon=":material/check_circle:")
            return
        left, right = st.columns([3, 1])
        with left:
            st.subheader(f"Rejected records per {'hour' if interval == '1h' else 'day'}")
            st.altair_chart(shaping.dead_letter_chart(points))
        with right:
            st.subheader("By reason")
            st.dataframe(totals, hide_index=True)
        reason = st.selectbox("Sample rejected records", ["any reason", *totals["reason"]])
        samples = shaping.samples_frame(
            api(
                "/v1/quality/samples",
                start=f.start,
                end=f.end,
                limit=20,
                reason=None if reason == "any reason" else reason,
            )
        )
        st.dataframe(samples, hide_index=True, width="stretch")

    guarded(draw)


def pipeline(f: Filters) -> None:
    st.header("Pipeline")

    @st.fragment(run_every=f.refresh_s or None)
    def body() -> None:
        def draw() -> None:
            now = now_step()
            with st.spinner("Loading…"):
                status = api("/v1/status", minutes=60)
                series = shaping.points_frame(
                    api(
                        "/v1/timeseries",
                        start=now - timedelta(hours=3),
                        end=now,
                        interval="5m",
                        group_by="none",
                    )
                )
            fresh = shaping.freshness(status, S.freshness_warn_s)
            if fresh.level == "ok":
                st.success(fresh.text, icon=":material/check_circle:")
            elif fresh.level == "warning":
                st.warning(fresh.text, icon=":material/schedule:")
            else:
                st.error(fresh.text, icon=":material/error:")
            minutes = status.get("minutes") or 60
            batch_age = shaping.batch_age_s(status, datetime.now(UTC))
            c = st.columns(4)
            c[0].metric(
                "Freshness",
                shaping.age_text(fresh.age_s) if fresh.age_s is not None else "n/a",
                border=True,
            )
            c[1].metric(
                f"Trips / min (last {minutes} min)",
                f"{(status.get('trips_last_minutes') or 0) / minutes:,.1f}",
                border=True,
            )
            c[2].metric(
                "Rejected (last hour)",
                f"{status.get('dead_letters_last_hour') or 0:,}",
                border=True,
            )
            c[3].metric(
                "Last batch",
                f"{shaping.age_text(batch_age)} ago" if batch_age is not None else "n/a",
                border=True,
            )
            st.subheader("Throughput: trips per minute, last 3 hours (by pickup time)")
            tput = shaping.per_minute(series, 5)
            if tput.empty:
                st.info("No trips in the last 3 hours.")
            else:
                st.altair_chart(shaping.throughput_chart(tput))
            st.subheader("Last micro-batch")
            batch = shaping.last_batch_frame(status)
            if batch.empty:
                st.info("The stream has not reported a batch yet.")
            else:
                st.dataframe(batch, hide_index=True)
            st.caption(f"As of {now.astimezone(TZ):%H:%M:%S} New York.")

        guarded(draw)

    body()


def main() -> None:
    st.set_page_config(page_title="NYC taxi trips", page_icon=":taxi:", layout="wide")
    st.sidebar.title(":material/local_taxi: NYC taxi trips")
    view = st.sidebar.radio("View", VIEWS, key="view")
    f = Filters(view)
    if st.sidebar.button("Reload data", help="Drop cached API answers and fetch again."):
        _fetch.clear()
        _zone_table.clear()
    st.sidebar.caption(f"API `{S.api_url}`")
    {"Live": live, "Trends": trends, "Zones": zones_view, "Data quality": quality}.get(
        view, pipeline
    )(f)


if __name__ == "__main__":  # streamlit runs the script as __main__; tests import it
    main()
