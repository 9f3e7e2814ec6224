"""The whole local stack: Kafka, the AWS twin, Terraform's lake, the Spark stream, a demo feed.

``up`` is idempotent: each part is started only when it does not run yet, and Terraform applies
only what changed. ``down`` stops what ``up`` started, in reverse order, by pid; data stays
unless ``wipe`` is asked for.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from localstack.kafka import KafkaBroker, KafkaSettings
from localstack.procs import Proc, tree_rss_mib
from localstack.terraform import Terraform, TerraformSettings
from localstack.twin import REPO, Twin, TwinSettings
from producer.samples import YELLOW_2025, DataSettings, require


class StackSettings(BaseSettings):
    """What ``make local`` starts and feeds; env vars with prefix ``STACK_``."""

    model_config = SettingsConfigDict(env_prefix="STACK_")

    local_dir: Path = REPO / ".local"
    # Real TLC files replayed once at start, time-shifted so the newest trip ends now.
    demo_files: list[Path] = Field(default_factory=lambda: [DataSettings().data_dir / YELLOW_2025])
    # A live synthetic stream beside it: trips/s, share of deliberately bad records, how long.
    synthetic_rate: float = 20.0
    synthetic_bad_fraction: float = 0.01
    synthetic_duration_s: int = 24 * 3600
    feed: bool = True
    rows_timeout_s: float = 600.0  # first start: Maven fetches Spark's jars, the JVM warms up

    @property
    def run_dir(self) -> Path:
        return self.local_dir / "run"

    @property
    def log_dir(self) -> Path:
        return self.local_dir / "logs"


def say(msg: str) -> None:
    print(f"[local] {msg}", flush=True)


@dataclass
class Stack:
    settings: StackSettings

    def __post_init__(self) -> None:
        self.kafka = KafkaBroker(KafkaSettings())
        self.twin = Twin(TwinSettings())
        self.terraform = Terraform(TerraformSettings(aws_endpoint_url=self.twin.endpoint_url))
        s = self.settings
        self.stream = Proc("stream", s.run_dir, s.log_dir)
        self.replay = Proc("feed-replay", s.run_dir, s.log_dir)
        self.synthetic = Proc("feed-synthetic", s.run_dir, s.log_dir)
        self.dashboard = Proc("dashboard", s.run_dir, s.log_dir)

    # ---- up ---------------------------------------------------------------------------------

    def up(self) -> dict[str, Any]:
        s = self.settings
        if s.feed:
            for f in s.demo_files:
                require(f)  # before anything starts: a missing sample is an error, not a skip
        s.log_dir.mkdir(parents=True, exist_ok=True)
        step("Kafka", lambda: self.kafka.start())
        step("topics", lambda: self.kafka.create_topics())
        step("AWS twin (install if missing)", lambda: self.twin.start())
        step("terraform apply envs/local", lambda: self.terraform.apply())
        out = self.terraform.outputs()
        lake = out["lake"]
        self._link_logs()
        step(
            "Spark stream",
            lambda: self.stream.start(self.stream_cmd(), self.stream_env(lake), REPO),
        )
        # The API is deployed when dist/lambda_api.zip exists (`make local` builds it first).
        api_url = out.get("api_url")
        if api_url:
            dash_cmd, dash_env = self.dashboard_cmd(), self.dashboard_env(api_url)
            step("dashboard", lambda: self.dashboard.start(dash_cmd, dash_env, REPO))
        if s.feed:
            self.start_feed()
        rows = self.wait_for_rows(lake)
        info = self.describe(lake, rows, api_url)
        print(json.dumps(info, indent=2))
        say(
            "stop everything with `make local-down` "
            "(data stays; `make local-down WIPE=1` deletes it)"
        )
        return info

    def stream_cmd(self) -> list[str]:
        return [sys.executable, "-m", "spark"]

    def stream_env(self, lake: dict[str, Any]) -> dict[str, str]:
        import os

        s3a = "s3a://"
        return {
            **os.environ,
            **self.twin.env(),
            "STREAM_KAFKA_BOOTSTRAP": self.kafka.bootstrap,
            "STREAM_TOPIC": self.kafka.settings.topic,
            "STREAM_LAKE_URI": lake["lake_uri"].replace("s3://", s3a),
            "STREAM_CHECKPOINT_URI": lake["checkpoints_uri"].replace("s3://", s3a) + "stream",
            "STREAM_PROGRESS_LOG": str(self.settings.log_dir / "stream-progress.jsonl"),
        }

    def dashboard_cmd(self) -> list[str]:
        return [sys.executable, "-m", "streamlit_app"]

    def dashboard_env(self, api_url: str) -> dict[str, str]:
        import os

        return {**os.environ, "DASH_API_URL": api_url}

    def feed_env(self) -> dict[str, str]:
        import os

        return {
            **os.environ,
            "PRODUCER_BOOTSTRAP_SERVERS": self.kafka.bootstrap,
            "PRODUCER_TOPIC": self.kafka.settings.topic,
        }

    def start_feed(self) -> None:
        s = self.settings
        py = [sys.executable, "-m", "producer"]
        files = [str(require(f)) for f in s.demo_files]
        # The replay runs once per stack: trip ids are deterministic, so a second one would
        # only be dropped as duplicates, but it is not worth the work.
        marker = s.run_dir / "feed-replay.done"
        if files and not marker.exists() and not self.replay.is_running():
            self.replay.start(
                [*py, "replay", "--shift", "--no-progress", *files], self.feed_env(), REPO
            )
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text("\n".join(files) + "\n")
            say(f"demo feed: replaying {len(files)} real TLC file(s), time-shifted to end now")
        syn = [
            *py, "synthetic", "--no-progress",
            "--rate", str(s.synthetic_rate),
            "--duration", str(s.synthetic_duration_s),
            "--bad-fraction", str(s.synthetic_bad_fraction),
            "--bad-kinds", "all",
        ]  # fmt: skip
        self.synthetic.start(syn, self.feed_env(), REPO)
        say(f"demo feed: synthetic live trips at {s.synthetic_rate:g}/s")

    def wait_for_rows(self, lake: dict[str, Any]) -> dict[str, int]:
        """Wait until the stream has written trips (the first start compiles and fetches jars)."""
        deadline = time.monotonic() + self.settings.rows_timeout_s
        say("waiting for the first trips in the lake (first start: a few minutes) ...")
        rows = {"trips": 0, "dead_letters": 0}
        while time.monotonic() < deadline:
            if not self.stream.is_running():
                raise SystemExit(f"the Spark stream exited:\n{self.stream.tail(40)}")
            rows = lake_counts(self.twin, lake)
            if rows["trips"] > 0:
                return rows
            time.sleep(5)
        say(
            f"no trips in the lake after {self.settings.rows_timeout_s:.0f} s; "
            f"see {self.stream.log_file}"
        )
        return rows

    def describe(
        self, lake: dict[str, Any], rows: dict[str, int], api_url: str | None
    ) -> dict[str, Any]:
        from streamlit_app.config import DashSettings

        dash = DashSettings()
        return {
            "dashboard": f"http://{dash.host}:{dash.port}" if api_url else None,
            "api": {"url": api_url, "docs": f"{api_url}/docs"} if api_url else None,
            "kafka": {"bootstrap": self.kafka.bootstrap, "topic": self.kafka.settings.topic},
            "aws_endpoint": self.twin.endpoint_url,
            "lake": {
                "uri": lake["lake_uri"],
                "glue_database": lake["database_name"],
                "athena_workgroup": lake["athena_workgroup"],
                "rows_now": rows,
            },
            "stream": {"pid": self.stream.pid(), "log": str(self.stream.log_file)},
            "logs": str(self.settings.log_dir),
        }

    def _link_logs(self) -> None:
        """One folder for every log: the broker's and the twin's are linked into it."""
        links = {
            "kafka.log": self.kafka.settings.runtime_dir / "logs" / "server.log",
            "twin.log": self.twin.log_file,
        }
        for name, target in links.items():
            link = self.settings.log_dir / name
            if not link.is_symlink():
                link.unlink(missing_ok=True)
                link.symlink_to(target)

    # ---- status / down ------------------------------------------------------------------------

    def pids(self) -> dict[str, int | None]:
        """The root pid of every part, None for a part that is not running."""
        procs = (self.stream, self.replay, self.synthetic, self.dashboard)
        return {
            "kafka": self.kafka.pid(),
            "twin": self.twin.pid() if self.twin.is_running() else None,
            **{p.name: p.pid() for p in procs},
        }

    def status(self) -> dict[str, Any]:
        pids = self.pids()
        # Resident memory of each part's process tree (the twin's includes its Lambda workers).
        rss = {name: round(tree_rss_mib(pid)) if pid else 0 for name, pid in pids.items()}
        procs = (self.stream, self.replay, self.synthetic, self.dashboard)
        return {
            "kafka": {
                "running": self.kafka.is_running(),
                "bootstrap": self.kafka.bootstrap,
                "rss_mib": rss["kafka"],
            },
            "twin": {
                "running": self.twin.is_running(),
                "endpoint": self.twin.endpoint_url,
                "rss_mib": rss["twin"],
            },
            **{
                p.name: {
                    "running": p.is_running(),
                    "pid": p.pid(),
                    "log": str(p.log_file),
                    "rss_mib": rss[p.name],
                }
                for p in procs
            },
            "total_rss_mib": sum(rss.values()),
        }

    def down(self, wipe: bool = False) -> None:
        for p in (self.dashboard, self.synthetic, self.replay):
            if p.stop(timeout=10):
                say(f"stopped {p.name}")
        # SIGTERM lets the stream finish its micro-batch; the checkpoint makes a kill safe too.
        if self.stream.stop(timeout=90):
            say("stopped the Spark stream")
        if self.twin.stop():
            say("stopped the AWS twin")
        if self.kafka.stop() is not None:
            say("stopped Kafka")
        if wipe:
            self.kafka.wipe()
            self.twin.wipe()
            for d in (
                self.terraform.settings.work_dir,
                self.settings.run_dir,
                self.settings.log_dir,
            ):
                shutil.rmtree(d, ignore_errors=True)
            say("wiped Kafka data, the twin's state (lake, checkpoints), Terraform state and logs")


def step(name: str, fn: Callable[[], object]) -> None:
    t0 = time.monotonic()
    say(f"{name} ...")
    fn()
    say(f"{name}: ok ({time.monotonic() - t0:.1f} s)")


def lake_counts(twin: Twin, lake: dict[str, Any]) -> dict[str, int]:
    """Rows in trips and dead_letters, read from the Parquet objects with DuckDB (not Spark)."""
    from localstack.duck import connect_s3

    con = connect_s3(
        twin.endpoint_url, twin.settings.access_key_id, twin.settings.secret_access_key
    )
    base = lake["lake_uri"].rstrip("/")
    out = {}
    for table in ("trips", "dead_letters"):
        try:
            (n,) = con.execute(
                f"SELECT count(*) AS n FROM read_parquet('{base}/{table}/**/*.parquet')"
            ).fetchone()  # type: ignore[misc]
        except Exception:  # no object yet: DuckDB says "no files found"
            n = 0
        out[table] = int(n)
    return out
