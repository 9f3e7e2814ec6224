"""The dashboard in a real browser (Debian's Chromium driven by Playwright) over the real API.

Each view must draw its charts with data (checked on the chart's own pixels: an empty chart has
only grey axes), the map must show coloured zones, nothing may be fetched from outside this
machine, and an API outage must read as a message. Screenshots: test-output/dashboard/.
"""

from __future__ import annotations

import io
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from PIL import Image

from streamlit_app.browser import CHROMIUM_ARGS
from tests.dash_support import build_lake, free_port, run_dashboard, serve_api

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "test-output" / "dashboard"
# Vega renders an svg or a canvas, both with class "marks" (not the toolbar's icons).
VEGA = '[data-testid="stVegaLiteChart"] .marks'
DECK = '[data-testid="stDeckGlJsonChart"] canvas'
TIMEOUT_MS = 90_000


def colourful_pixels(png: bytes) -> int:
    """Pixels with a clear hue: chart marks and map fills, not axes, text or background."""
    img = Image.open(io.BytesIO(png)).convert("RGB")
    n = 0
    for r, g, b in img.getdata():  # type: ignore[misc]
        hi, lo = max(r, g, b), min(r, g, b)
        if hi > 60 and (hi - lo) / hi > 0.35:
            n += 1
    return n


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium")
    if not path:
        pytest.fail("chromium is not installed: run bash streamlit_app/install_browser.sh")
    return path


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    lake = build_lake(tmp_path_factory.mktemp("lake"))
    with (
        serve_api(lake.uri) as (api_url, _),
        run_dashboard(api_url, tmp_path_factory.mktemp("dash") / "dash.log") as url,
    ):
        yield url


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Page:
    """A page that refuses (and records) every request that leaves this machine."""

    def __init__(self, browser: Any, url: str) -> None:
        self.outside: list[str] = []
        self.page = browser.new_page(viewport={"width": 1500, "height": 1100})
        self.page.set_default_timeout(TIMEOUT_MS)
        self.page.route("**/*", self._only_local)
        self.page.goto(url)
        self.page.wait_for_selector('[data-testid="stSidebar"]')

    def _only_local(self, route: Any) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if route.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def view(self, name: str) -> None:
        self.page.locator('[data-testid="stSidebar"] label').filter(has_text=name).first.click()
        self.page.get_by_role("heading", name=name).first.wait_for()

    def drawn(self, selector: str, min_pixels: int, index: int = 0) -> int:
        """Wait until the chart at ``selector`` has coloured marks; return how many pixels."""
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        n = 0
        while time.monotonic() < deadline:
            # Located afresh each time: a rerun replaces the element. A page screenshot of its
            # box, since an element screenshot waits for a WebGL canvas to be "stable".
            el = self.page.locator(selector).nth(index)
            el.wait_for()
            box = el.bounding_box()
            if box and box["width"] > 0 and box["height"] > 0:
                n = colourful_pixels(self.page.screenshot(clip=box))
                if n >= min_pixels:
                    return n
            time.sleep(0.5)
        return n

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def page(browser: Any, dashboard: str) -> Iterator[Page]:
    p = Page(browser, dashboard)
    yield p
    p.close()
    assert not p.outside, f"the page tried to reach the internet: {p.outside[:5]}"


def test_live(page: Page) -> None:
    page.view("Live")
    page.page.locator('[data-testid="stMetric"]').nth(9).wait_for()
    assert page.drawn(VEGA, 200) >= 200
    page.shot("live")
    text = page.page.locator('[data-testid="stMain"]').inner_text()
    assert "Last hour" in text and "Today (New York)" in text and "No data" not in text


def test_trends(page: Page) -> None:
    page.view("Trends")
    page.page.locator('[data-testid="stMain"] label').filter(has_text="borough").first.click()
    assert page.drawn(VEGA, 200) >= 200
    page.shot("trends")


def test_zones_map(page: Page) -> None:
    page.view("Zones")
    assert page.drawn(DECK, 2000) >= 2000, "the map shows no coloured zones"
    assert page.drawn(VEGA, 100) >= 100  # the picked zone's pickups by hour
    page.shot("zones")


def test_quality(page: Page) -> None:
    page.view("Data quality")
    assert page.drawn(VEGA, 200) >= 200
    page.page.get_by_text("Sample rejected records").wait_for()
    page.shot("quality")


def test_pipeline(page: Page) -> None:
    page.view("Pipeline")
    page.page.get_by_text("Newest trip picked up").first.wait_for()
    assert page.drawn(VEGA, 200) >= 200
    page.shot("pipeline")


def test_api_outage_reads_as_a_message(browser: Any, tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with run_dashboard(dead, tmp_path / "dash.log") as url:
        p = Page(browser, url)
        try:
            p.page.get_by_text("No data right now").first.wait_for()
            text = p.page.locator('[data-testid="stMain"]').inner_text()
            assert "cannot be reached" in text and "Traceback" not in text
            p.shot("api-down")
        finally:
            p.close()
