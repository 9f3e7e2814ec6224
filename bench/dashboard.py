"""Issue "The dashboard": the Live view in a real browser over the API's lake of 10M trips.

1. The lake: bench/api.py's lake of N trips over the 30 days before today, hardlinked (not
   copied), plus the trips of today up to now made the same way. Live shows the last hour and
   today; the API suite's lake ends at today 00:00 UTC, which would leave both empty.
2. The real API (``python -m lambda_api``: uvicorn, DuckDB, its access log) and the dashboard
   (``python -m streamlit_app``) as fresh processes on free loopback ports; Debian's Chromium
   driven by Playwright, each viewer a new browser context (no cookies, no browser cache).
3. First meaningful render of Live: from navigation start until the ten KPI values (none
   "n/a") and the trips chart's marks are on screen, read in the page (performance.now()).
   Cold: fresh API and dashboard, first viewer. Warm: a new viewer in the same cache step as
   one before it. Also a first viewer of a new cache step with both processes warm.
4. API calls per refresh, counted in the API's access log: Live for a first and a second
   viewer, and one refresh of every view with the dashboard's cache cleared ("Reload data").
5. Peak RSS (VmHWM) of the API and of the dashboard process.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic_settings import BaseSettings, SettingsConfigDict

from bench.api import (
    GRID_S,
    ZONE_METRICS_SQL,
    ApiBenchSettings,
    LakeInfo,
    _dead_letters,
    _dt_hour,
    _epoch_s,
    _free_port,
    _trips_chunk,
    build_lake,
)
from bench.infra import BENCH_DIR, ROOT, log
from bench.procs import PeakRss
from bench.report import Result
from contract.tables import DEAD_LETTERS, TRIPS, ZONE_METRICS
from lambda_api.engines import PROGRESS_KEY
from producer.synthetic import Profile, SyntheticTrips
from spark.lake import LakeTarget, put_json, write_table
from streamlit_app.browser import CHROMIUM_ARGS
from streamlit_app.config import DashSettings

WORK = BENCH_DIR / "dashboard"
DAY = timedelta(days=1)
VIEWPORT = {"width": 1500, "height": 1100}


class DashBenchSettings(BaseSettings):
    """Sizes of this suite; env vars ``BENCH_DASH_*``."""

    model_config = SettingsConfigDict(env_prefix="BENCH_DASH_")

    goal_s: float = 3.0
    cold_full: int = 3  # fresh API + dashboard pairs
    cold_small: int = 2
    warm: int = 5  # viewers that find the caches warm
    timeout_s: float = 120.0  # per page render
    seed: int = 11


# ---- the lake --------------------------------------------------------------------------------


def _zone_metrics(trips: pa.Table, batch_id: int) -> pa.Table:
    """bench.api's zone_metrics aggregation; its ``connect(config=enable_progress_bar)`` is
    refused by DuckDB 1.5 ("not a global option"), so the option is set on the connection."""
    secs = _epoch_s(trips["pickup_at"].combine_chunks())
    window = pa.array((secs - secs % GRID_S) * 1_000_000, pa.timestamp("us", tz="UTC"))
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.register("chunk", trips.append_column("window_start", window))
    agg = con.execute(ZONE_METRICS_SQL, {"batch_id": batch_id}).fetch_arrow_table()
    con.close()
    dt, hour = _dt_hour(agg["window_start"].combine_chunks())
    return agg.append_column("dt", dt).append_column("hour", hour)


@dataclass(frozen=True)
class DashLake:
    root: Path
    base: LakeInfo
    today_trips: int  # trips added after the API suite's lake, up to ``cutoff``
    cutoff: datetime

    @property
    def trips(self) -> int:
        return self.base.trips + self.today_trips


def build_dash_lake(base: LakeInfo, seed: int) -> DashLake:
    """``base`` hardlinked under WORK/lake plus trips from its end up to now, at its daily rate.

    Rebuilt on every run: "now" moves, and a stale lake would show an empty last hour.
    """
    root = WORK / "lake"
    shutil.rmtree(root, ignore_errors=True)
    for src in base.root.rglob("*.parquet"):
        dst = root / src.relative_to(base.root)
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.link(src, dst)
    cutoff = datetime.now(UTC).replace(microsecond=0)
    per_day = round(base.trips / ((base.end - base.start) / DAY))
    target = LakeTarget(uri=root.as_uri())
    rng = np.random.default_rng(seed)
    added = 0
    day, batch = base.end, 1_000_000  # batch ids after the base lake's
    while day < cutoff:
        gen = SyntheticTrips(Profile.load(), seed=seed + batch)
        trips = _trips_chunk(gen, per_day, day, day + DAY, base.trips + added)
        # Only trips that have ended by now: what a running stream would have written.
        trips = trips.filter(pc.less(trips["dropoff_at"], pa.scalar(cutoff)))
        write_table(trips, TRIPS, target, batch, "dash", order=("pickup_at", "trip_id"))
        metrics = _zone_metrics(trips, batch)
        write_table(metrics, ZONE_METRICS, target, batch, "dash", order=("window_start",))
        dead = _dead_letters(rng, max(1, trips.num_rows // 1000), day, min(day + DAY, cutoff))
        write_table(dead, DEAD_LETTERS, target, batch, "dash")
        added += trips.num_rows
        day, batch = day + DAY, batch + 1
    put_json(
        target,
        PROGRESS_KEY,
        {
            "batch_id": batch - 1,
            "trigger_at": cutoff.isoformat(),
            "rows_in": per_day // 24,
            "accepted": per_day // 24,
            "rejected": per_day // 24_000,
            "duplicates_dropped": 0,
            "batch_ms": 900,
            "kafka_lag": 0,
        },
    )
    log(f"dashboard lake: {base.trips:,} trips linked + {added:,} up to {cutoff:%H:%M} UTC")
    return DashLake(root, base, added, cutoff)


# ---- processes -------------------------------------------------------------------------------


@dataclass
class Service:
    name: str
    proc: subprocess.Popen[bytes]
    url: str
    log_file: Path
    rss: PeakRss


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group this suite started, SIGKILL if it lingers."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


@contextmanager
def service(
    name: str, module: str, env: dict[str, str], url: str, health: str
) -> Iterator[Service]:
    """``python -m module`` in its own process group, logging to WORK/<name>.log, sampled for
    peak RSS from start to stop; yields once ``health`` answers 200."""
    log_file = WORK / f"{name}.log"
    with log_file.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        with PeakRss(proc.pid) as rss:
            deadline = time.monotonic() + 120
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited ({proc.returncode}); see {log_file}")
                try:
                    if httpx.get(f"{url}{health}", timeout=2, trust_env=False).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not answer {health} in 120 s; see {log_file}")
                time.sleep(0.2)
            yield Service(name, proc, url, log_file, rss)
    finally:
        _stop(proc)


@contextmanager
def api_and_dashboard(lake_root: Path, ttl_s: int) -> Iterator[tuple[Service, Service]]:
    """A fresh API over ``lake_root`` and a fresh dashboard reading it: both caches empty."""
    api_port, dash_port = _free_port(), _free_port()
    api_env = {
        "API_ENGINE": "duckdb",
        "API_LAKE_URI": lake_root.as_uri(),
        "API_HOST": "127.0.0.1",
        "API_PORT": str(api_port),
    }
    api_url = f"http://127.0.0.1:{api_port}"
    with service("api", "lambda_api", api_env, api_url, "/health") as api:
        dash_env = {
            "DASH_API_URL": api_url,
            "DASH_HOST": "127.0.0.1",
            "DASH_PORT": str(dash_port),
            "DASH_CACHE_TTL_S": str(ttl_s),
        }
        dash_url = f"http://127.0.0.1:{dash_port}"
        with service("dashboard", "streamlit_app", dash_env, dash_url, "/_stcore/health") as dash:
            log(f"API {api_url} (pid {api.proc.pid}), dashboard {dash_url} (pid {dash.proc.pid})")
            yield api, dash


# uvicorn's access log: INFO:     127.0.0.1:46194 - "GET /v1/summary?end=... HTTP/1.1" 200 OK
ACCESS = re.compile(r'"GET (?P<path>[^ ?"]+)\S* HTTP/[\d.]+" (?P<status>\d{3})')


class AccessLog:
    """Requests the API answered, read from its own access log between two marks."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def mark(self) -> None:
        self.offset = self.path.stat().st_size

    def since_mark(self) -> Counter[str]:
        with self.path.open("rb") as fh:
            fh.seek(self.offset)
            text = fh.read().decode(errors="replace")
        out: Counter[str] = Counter()
        for m in ACCESS.finditer(text):
            if m["path"] != "/health":  # this suite's own start-up polls
                out[m["path"] if m["status"] == "200" else f"{m['path']} ({m['status']})"] += 1
        return out


def data_calls(calls: Counter[str]) -> int:
    """Calls a refresh makes: all but the zone list (cached for DASH_ZONES_TTL_S)."""
    return sum(n for path, n in calls.items() if path != "/v1/zones")


# ---- the browser -----------------------------------------------------------------------------

# True (as ms since navigation start) once Live's ten KPI values are filled (no "n/a", the
# placeholder for a missing value) and the trips chart's marks have a size; checked every frame.
LIVE_READY = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  if (!main) return false;
  const values = [...main.querySelectorAll('[data-testid="stMetricValue"]')];
  if (values.length < 10) return false;
  if (values.some(v => !v.textContent.trim() || v.textContent.includes('n/a'))) return false;
  const marks = main.querySelector('[data-testid="stVegaLiteChart"] .marks');
  const box = marks && marks.getBoundingClientRect();
  return box && box.width > 0 && box.height > 0 ? performance.now() : false;
}"""
# Resolves once the script run started after this call has finished (stApp's script state).
RUN_DONE = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  window.__benchRan = false;
  window.__benchDone = false;
  new MutationObserver(() => {
    const state = app.getAttribute('data-test-script-state');
    if (state === 'running') window.__benchRan = true;
    else if (window.__benchRan) window.__benchDone = true;
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""


def chromium() -> str:
    """Debian's Chromium (installed by streamlit_app/install_browser.sh if missing)."""
    path = shutil.which("chromium")
    if not path:
        log("chromium missing: bash streamlit_app/install_browser.sh")
        subprocess.run(["bash", str(ROOT / "streamlit_app" / "install_browser.sh")], check=True)
        path = shutil.which("chromium")
    if not path:
        raise RuntimeError("chromium is not installed: run bash streamlit_app/install_browser.sh")
    return path


@dataclass
class Viewer:
    render_s: float  # navigation start -> Live drawn
    frontend_s: float  # navigation start -> DOMContentLoaded: Streamlit's page and scripts
    calls: Counter[str]  # what the API received meanwhile


def first_render(browser: Any, url: str, access: AccessLog, timeout_s: float) -> Viewer:
    """A new viewer (a fresh browser context) opening Live; the API calls its load caused."""
    ctx = browser.new_context(viewport=VIEWPORT)
    access.mark()
    try:
        page = ctx.new_page()
        page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
        try:
            ready = page.wait_for_function(LIVE_READY, polling="raf", timeout=timeout_s * 1000)
        except Exception as exc:
            page.screenshot(path=WORK / "failed.png")
            msg = f"Live not drawn in {timeout_s:.0f} s; see {WORK / 'failed.png'}"
            raise RuntimeError(msg) from exc
        render_ms = float(ready.json_value())
        dcl_ms = float(
            page.evaluate(
                "() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"
            )
        )
    finally:
        ctx.close()
    time.sleep(0.3)  # uvicorn writes the access log line as the response goes out
    return Viewer(render_ms / 1000, dcl_ms / 1000, access.since_mark())


def view_calls(browser: Any, url: str, access: AccessLog, timeout_s: float) -> dict[str, int]:
    """Data calls of one refresh of each view with the dashboard's cache cleared: the view is
    opened, then "Reload data" (which clears st.cache_data) reruns it."""
    ctx = browser.new_context(viewport=VIEWPORT)
    out: dict[str, int] = {}
    try:
        page = ctx.new_page()
        page.set_default_timeout(timeout_s * 1000)
        page.goto(url)
        page.wait_for_function(LIVE_READY, polling="raf")
        for view in documented_calls():
            if view != "Live":
                page.evaluate(RUN_DONE)
                page.locator('[data-testid="stSidebar"] label').filter(has_text=view).first.click()
                page.wait_for_function("() => window.__benchDone")
            page.evaluate(RUN_DONE)
            access.mark()
            page.get_by_role("button", name="Reload data").click()
            page.wait_for_function("() => window.__benchDone")
            time.sleep(0.3)  # the access log line follows the response by a moment
            calls = access.since_mark()
            out[view] = data_calls(calls)
            log(f"  {view}: {out[view]} data calls after Reload data ({dict(calls)})")
    finally:
        ctx.close()
    return out


# ---- the suite -------------------------------------------------------------------------------


def documented_calls() -> dict[str, int]:
    """CALLS_PER_REFRESH of streamlit_app/app.py, read from its source: importing the script
    outside a Streamlit server starts its caches without a runtime."""
    tree = ast.parse((ROOT / "streamlit_app" / "app.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "CALLS_PER_REFRESH" for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            return {str(k): int(v) for k, v in value.items()}
    raise RuntimeError("CALLS_PER_REFRESH not found in streamlit_app/app.py")


def next_step(ttl_s: int) -> None:
    """Sleep until just after the dashboard's next cache step (app.now_step floors to it)."""
    time.sleep(ttl_s - time.time() % ttl_s + 0.2)


def step_of(ttl_s: int) -> int:
    return int(time.time() // ttl_s)


@dataclass
class Pair:
    """A first viewer and a second one right after it. The second shares the first one's cache
    step when both loads ran inside one step (each script run falls within its own load)."""

    first: Viewer
    second: Viewer
    same_step: bool


def pair(browser: Any, url: str, access: AccessLog, ttl_s: int, timeout_s: float) -> Pair:
    step = step_of(ttl_s)
    first = first_render(browser, url, access, timeout_s)
    second = first_render(browser, url, access, timeout_s)
    return Pair(first, second, step_of(ttl_s) == step)


def _text(v: Viewer) -> str:
    return f"{v.render_s:.2f} s ({data_calls(v.calls)} data calls)"


def _secs(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def run(scale: str) -> list[Result]:
    cfg = DashBenchSettings()
    api_cfg = ApiBenchSettings()
    n = api_cfg.trips_full if scale == "full" else api_cfg.trips_small
    cold_runs = cfg.cold_full if scale == "full" else cfg.cold_small
    WORK.mkdir(parents=True, exist_ok=True)
    lake = build_dash_lake(build_lake(n, api_cfg), cfg.seed)
    ttl = DashSettings().cache_ttl_s
    documented = documented_calls()
    load_start = os.getloadavg()[0]
    cold: list[Viewer] = []
    warm: list[Viewer] = []
    fresh: list[Viewer] = []  # first viewer of a new cache step, both processes warm
    views: dict[str, int] = {}
    api_rss = dash_rss = 0.0
    path = chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            browser.new_context().close()  # the browser's own start-up is no viewer's wait
            for i in range(cold_runs):
                with api_and_dashboard(lake.root, ttl) as (api, dash):
                    access = AccessLog(api.log_file)
                    # From a step's start, so that the second viewer may share it.
                    next_step(ttl)
                    pr = pair(browser, dash.url, access, ttl, cfg.timeout_s)
                    cold.append(pr.first)
                    log(
                        f"cold {i + 1}/{cold_runs}: {_text(pr.first)} {dict(pr.first.calls)}; "
                        f"a second viewer {_text(pr.second)}"
                        + ("" if pr.same_step else ", not in the same cache step")
                    )
                    if pr.same_step:
                        warm.append(pr.second)
                    tries = 0
                    while i == 0 and len(warm) < cfg.warm and tries < 3 * cfg.warm:
                        tries += 1
                        next_step(ttl)
                        pr = pair(browser, dash.url, access, ttl, cfg.timeout_s)
                        fresh.append(pr.first)
                        log(
                            f"new cache step: first viewer {_text(pr.first)}, second "
                            f"{_text(pr.second)}"
                            + ("" if pr.same_step else ", not in the same step: dropped")
                        )
                        if pr.same_step:
                            warm.append(pr.second)
                    if i == 0:
                        log("one refresh of each view with the dashboard's cache cleared:")
                        views = view_calls(browser, dash.url, access, cfg.timeout_s)
                # Read after both stopped: the samplers ran to the end.
                api_rss = max(api_rss, api.rss.mib)
                dash_rss = max(dash_rss, dash.rss.mib)
        finally:
            browser.close()
    load_end = os.getloadavg()[0]
    lake_note = (
        f"lake of {lake.trips:,} trips ({lake.base.trips:,} over 30 days + {lake.today_trips:,} "
        f"of today up to {lake.cutoff:%H:%M} UTC), embedded DuckDB API"
    )
    box = f"2 shared cores, 1-min load {load_start:.1f} at start, {load_end:.1f} at end"
    goal = f"<= {cfg.goal_s:g} s"

    def render(name: str, vs: list[Viewer], what: str) -> list[Result]:
        if not vs:
            log(f"no {name} viewer was measured")
            return []
        times = [v.render_s for v in vs]
        front = statistics.median(v.frontend_s for v in vs)
        return [
            Result(f"dashboard Live first render {name} p50", statistics.median(times), "s"),
            Result(
                f"dashboard Live first render {name} (worst)",
                max(times),
                "s",
                goal=goal,
                met=max(times) <= cfg.goal_s,
                note=f"{what}; {len(vs)} runs: {_secs(times)} s (Streamlit's page loaded, "
                f"DOMContentLoaded, at p50 {front:.2f} s); navigation start -> 10 KPI values "
                f"and the trips chart drawn, Chromium (SwiftShader); {lake_note}; {box}",
            ),
        ]

    out = render("cold", cold, "fresh API and dashboard processes, their first viewer")
    out += render("warm", warm, "a new viewer (browser context) in the viewer before's cache step")
    out += render(
        "new cache step",
        fresh,
        f"first viewer after the {ttl} s cache step moved on: processes warm, the dashboard's "
        "cache empty for the new 'now'",
    )
    live = documented["Live"]
    first = [data_calls(v.calls) for v in cold]
    second = [data_calls(v.calls) for v in warm]
    stepped = [data_calls(v.calls) for v in fresh]
    late = sum((v.calls for v in warm), Counter[str]())
    out.append(
        Result(
            "dashboard Live API calls, first viewer (cold)",
            max(first),
            "calls",
            reference=live,
            reference_name="CALLS_PER_REFRESH",
            goal=f"== {live}",
            met=all(n == live for n in first),
            note=f"API access log, per cold run: {first}; plus /v1/zones (zone list, cached "
            f"{DashSettings().zones_ttl_s} s): {[v.calls['/v1/zones'] for v in cold]}; "
            f"{dict(cold[0].calls)}",
        )
    )
    if warm:
        out.append(
            Result(
                "dashboard Live API calls, second viewer within the TTL",
                max(second),
                "calls",
                goal="== 0",
                met=max(second) == 0,
                note=f"API access log, {len(second)} viewers: {second} ({dict(late)}); "
                f"st.cache_data TTL {ttl} s, 'now' floored to it"
                + (
                    "; /v1/status?minutes=60 has no 'now' in its cache key, so its entry "
                    "expires whenever its own TTL ends, not with the step"
                    if late["/v1/status"]
                    else ""
                ),
            )
        )
    if fresh:
        out.append(
            Result(
                "dashboard Live API calls, first viewer of a new cache step",
                max(stepped),
                "calls",
                reference=live,
                reference_name="CALLS_PER_REFRESH",
                goal=f"<= {live}",
                met=max(stepped) <= live,
                note=f"API access log, {len(stepped)} steps: {stepped}",
            )
        )
    for view, n_calls in views.items():
        out.append(
            Result(
                f"dashboard {view} API calls per refresh (cache cleared)",
                n_calls,
                "calls",
                reference=documented[view],
                reference_name="CALLS_PER_REFRESH",
                goal=f"== {documented[view]}",
                met=n_calls == documented[view],
                note="API access log; the view's Reload data button clears st.cache_data, "
                "/v1/zones not counted",
            )
        )
    out += [
        Result(
            "dashboard streamlit peak RSS",
            dash_rss,
            "MiB",
            note=f"python -m streamlit_app, worst of {len(cold)} runs; {lake_note}",
        ),
        Result(
            "dashboard API peak RSS",
            api_rss,
            "MiB",
            note=f"python -m lambda_api (uvicorn), worst of {len(cold)} runs; {lake_note}",
        ),
    ]
    return out
