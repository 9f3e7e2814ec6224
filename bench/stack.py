"""Issue 8: the whole local stack's memory, as `make local` runs it (goal <= 6 GiB RSS).

``python -m localstack up`` (the run command itself: broker, twin with the API's Lambda,
Terraform, the Spark stream, the dashboard and the demo feed), then for a while: a browser
viewer on the dashboard's Live view, which calls the API, which runs on the twin. Every
``interval_s`` the resident memory of each part's process tree is read from /proc; the result is
the largest sum seen at one instant (not a sum of per-process peaks from different moments).
A stack that was already running is measured and left running; one this suite started is
stopped with ``python -m localstack down``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from typing import Any

import httpx
from pydantic_settings import BaseSettings, SettingsConfigDict

from bench.infra import ROOT, log
from bench.report import Result
from localstack.procs import tree_rss_mib
from localstack.stack import Stack, StackSettings
from streamlit_app.browser import CHROMIUM_ARGS
from streamlit_app.config import DashSettings

GOAL_MIB = 6 * 1024


class StackBenchSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BENCH_STACK_")

    seconds_full: float = 300
    seconds_small: float = 60
    interval_s: float = 2.0
    view_every_s: float = 30.0  # a new viewer opens the dashboard this often
    up_timeout_s: float = 1800


def _wait_healthy(url: str, timeout_s: float = 180) -> None:
    """The dashboard imports its libraries before it listens (seconds on a busy machine)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"the dashboard at {url} did not become healthy in {timeout_s:.0f} s")


def _viewers(url: str, every_s: float, stop: threading.Event) -> None:
    """A new viewer of the Live view every ``every_s`` until ``stop``: each waits for the KPIs,
    so the dashboard calls the API, which runs on the twin (Lambda + Athena)."""
    from playwright.sync_api import Error, sync_playwright

    chromium = shutil.which("chromium")
    if not chromium:
        log("no chromium (make browser): memory measured without a dashboard viewer")
        return
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            while not stop.is_set():
                t0 = time.monotonic()
                ctx = b.new_context()
                try:
                    page = ctx.new_page()
                    page.goto(url)
                    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=300_000)
                    log(f"viewer: Live drawn in {time.monotonic() - t0:.1f} s")
                except Error as exc:
                    log(f"viewer: {exc.message.splitlines()[0]}")
                finally:
                    ctx.close()
                stop.wait(every_s)
        finally:
            b.close()


def run(scale: str) -> list[Result]:
    cfg = StackBenchSettings()
    seconds = cfg.seconds_full if scale == "full" else cfg.seconds_small
    stack = Stack(StackSettings())
    was_up = any(stack.pids().values())
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    t0 = time.monotonic()
    up = subprocess.run(
        [sys.executable, "-m", "localstack", "up"],
        cwd=ROOT,
        env=env,
        timeout=cfg.up_timeout_s,
        capture_output=True,
        text=True,
    )
    up_s = time.monotonic() - t0
    if up.returncode != 0:
        raise RuntimeError(f"localstack up failed:\n{up.stdout[-3000:]}\n{up.stderr[-3000:]}")
    log(f"stack up in {up_s:.0f} s ({'already running' if was_up else 'started'})")
    dash = DashSettings()
    dash_url = f"http://{dash.host}:{dash.port}" if stack.pids()["dashboard"] else None
    peak_total = 0.0
    peak: dict[str, float] = {}
    stop = threading.Event()
    viewer: threading.Thread | None = None
    try:
        if dash_url:
            _wait_healthy(dash_url)
            args = (dash_url, cfg.view_every_s, stop)
            viewer = threading.Thread(target=_viewers, args=args, daemon=True)
            viewer.start()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            now = {n: tree_rss_mib(pid) for n, pid in stack.pids().items() if pid}
            peak_total = max(peak_total, sum(now.values()))
            for n, mib in now.items():
                peak[n] = max(peak.get(n, 0.0), mib)
            time.sleep(cfg.interval_s)
    finally:
        stop.set()
        if viewer:
            viewer.join(330)  # a viewer may still be waiting for its KPIs
        if not was_up:
            subprocess.run([sys.executable, "-m", "localstack", "down"], cwd=ROOT, env=env)
    log(f"peak {peak_total:,.0f} MiB; per part: {peak}")
    note: dict[str, Any] = {"seconds": seconds, "viewer": bool(dash_url), "warm": was_up}
    return [
        Result(
            "whole local stack peak RSS",
            peak_total,
            "MiB",
            goal=f"<= {GOAL_MIB} MiB",
            met=peak_total <= GOAL_MIB,
            note=f"largest sum at one instant over {seconds:.0f} s of `make local` "
            f"with a dashboard viewer every {cfg.view_every_s:.0f} s; {note}",
        ),
        *[
            Result(f"stack {name} peak RSS", mib, "MiB", note="its process tree")
            for name, mib in sorted(peak.items())
        ],
        Result(
            "make local: up until trips in the lake",
            up_s,
            "s",
            note="stack already running" if was_up else "cold processes, warm caches",
        ),
    ]
