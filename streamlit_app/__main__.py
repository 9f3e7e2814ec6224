"""``python -m streamlit_app``: serve the dashboard headless on DASH_HOST:DASH_PORT.

Every option that could reach the internet or expose internals is pinned here, so the same
command works on a laptop, in the container and in tests.
"""

from __future__ import annotations

from pathlib import Path

from streamlit.web import cli

from streamlit_app.config import DashSettings

APP = Path(__file__).resolve().parent / "app.py"


def streamlit_args(s: DashSettings) -> list[str]:
    return [
        "run",
        str(APP),
        f"--server.address={s.host}",
        f"--server.port={s.port}",
        "--server.headless=true",
        "--server.fileWatcherType=none",
        "--server.runOnSave=false",
        "--browser.gatherUsageStats=false",
        f"--browser.serverAddress={s.host}",
        f"--browser.serverPort={s.port}",
        # Uncaught errors show a short message in the page; the traceback goes to the log.
        "--client.showErrorDetails=none",
        "--client.toolbarMode=minimal",
        "--global.developmentMode=false",
    ]


def warm_up() -> None:
    """Import the script's heavy modules and read the zone shapes once in the server process.

    The script runs in this process, so the first viewer would otherwise pay for pandas,
    Altair and pydeck inside its first run (seconds on a small machine: bench/dashboard.py).
    """
    from streamlit_app import api, shaping  # noqa: F401  (pandas, altair, pydeck, requests)
    from streamlit_app.geo import load_zones

    load_zones()


def main() -> None:
    warm_up()
    cli.main(args=streamlit_args(DashSettings()), prog_name="streamlit")


if __name__ == "__main__":
    main()
