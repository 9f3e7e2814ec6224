"""The real job (`python -m spark` as a subprocess) from a real broker to the lake on the twin.

The lake is read the way Athena, DuckDB or pandas read it: the Parquet objects themselves, never
Spark's `_spark_metadata`. Exactly once must hold there: after a clean run, after the same
records are sent again, and after the driver is killed with SIGKILL in the middle of a batch.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import duckdb
import numpy as np
import pytest
from confluent_kafka import Producer

from contract.check import reasons
from contract.record import encode
from localstack.duck import connect_s3
from producer.bad import BAD_KINDS
from producer.replay import load_files, replay_records
from producer.synthetic import Profile, SyntheticTrips
from tests.conftest import ROOT, TLC_FILES
from tests.fixtures.kafka import fresh_topic
from tests.fixtures.twin import TEST_DIR

pytestmark = [pytest.mark.spark, pytest.mark.kafka, pytest.mark.twin]

E2E_DIR = TEST_DIR / "spark-e2e"
JOB_TIMEOUT_S = 600  # generous: CI machines may be busy


@dataclass
class Feed:
    """What was sent, and what the lake must hold because of it."""

    good_ids: set[str] = field(default_factory=set)
    duplicates: int = 0
    bad: dict[tuple[int, int], str] = field(default_factory=dict)  # (partition, offset) -> reason
    # Real TLC records rejected by the rules: their exact reason list, as contract.check (DuckDB)
    # computes it, so Spark's evaluation of the rules is checked against a second engine.
    real_bad: dict[tuple[int, int], list[str]] = field(default_factory=dict)
    sent: int = 0


def produce(bootstrap: str, topic: str, values: list[tuple[bytes | None, bytes]]) -> list[Any]:
    """Send (key, value) pairs; returns the delivered messages in send order."""
    delivered: list[Any] = [None] * len(values)
    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 20})
    for i, (key, value) in enumerate(values):

        def report(err: Any, msg: Any, i: int = i) -> None:
            assert err is None, err
            delivered[i] = msg

        p.produce(topic, value, key, on_delivery=report)
        if i % 1000 == 0:
            p.poll(0)
    assert p.flush(60) == 0
    assert all(m is not None for m in delivered)
    return delivered


def build_feed(
    n_good: int, n_dupes: int, seed: int, real: bool = False
) -> tuple[list[tuple[Any, bytes, str | list[str] | None]], set[str]]:
    """(key, value, expected reason(s) or None) in send order: good trips over a few hours, one
    record of every bad kind twice, exact duplicates of some good ones and, with ``real``, every
    record of every shared TLC file (expected reasons from contract.check)."""
    gen = SyntheticTrips(Profile.load(), seed=seed)
    start = datetime(2025, 1, 15, 6, tzinfo=UTC).timestamp()
    ends = start + np.sort(np.random.default_rng(seed).uniform(0, 4 * 3600, n_good))
    recs = gen.chunk(n_good, ends)
    for i, r in enumerate(recs):
        r["trip_id"] = f"e2e-{seed}-{i}"
    out: list[tuple[Any, bytes, str | list[str] | None]] = [
        (r["trip_id"].encode(), encode(r), None) for r in recs
    ]
    for k, kind in enumerate(BAD_KINDS * 2):
        victim = recs[(k * 7) % n_good]
        out.insert((k * 97) % len(out), (None, kind.make(victim), kind.reason))
    rng = np.random.default_rng(seed + 1)
    for i in rng.choice(n_good, n_dupes, replace=False):
        out.insert(
            int(rng.integers(0, len(out))), (recs[i]["trip_id"].encode(), encode(recs[i]), None)
        )
    good = {r["trip_id"] for r in recs}
    if real:
        replayed = [r for f in load_files(TLC_FILES) for r in replay_records(f)]
        expected = reasons([r.value for r in replayed], datetime.now(UTC))
        for r, why in zip(replayed, expected, strict=True):
            out.append((r.key, r.value, why or None))
            if not why:
                good.add(decode_id(r.value))
    return out, good


def decode_id(value: bytes) -> str:
    return str(json.loads(value)["trip_id"])


def send_feed(
    bootstrap: str, topic: str, n_good: int, n_dupes: int, seed: int, real: bool = False
) -> Feed:
    items, good_ids = build_feed(n_good, n_dupes, seed, real)
    msgs = produce(bootstrap, topic, [(k, v) for k, v, _ in items])
    feed = Feed(good_ids=good_ids, duplicates=n_dupes, sent=len(items))
    for (_, _, reason), m in zip(items, msgs, strict=True):
        if isinstance(reason, list):
            feed.real_bad[(m.partition(), m.offset())] = reason
        elif reason:
            feed.bad[(m.partition(), m.offset())] = reason
    return feed


# ---- the job as a subprocess ---------------------------------------------------------------


@dataclass
class Stream:
    topic: str
    bootstrap: str
    lake_bucket: str
    checkpoints_uri: str
    twin_env: dict[str, str]
    work: Path

    @property
    def prefix(self) -> str:
        return f"e2e/{self.topic}"

    @property
    def progress_log(self) -> Path:
        return self.work / "progress.jsonl"

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            **self.twin_env,
            "STREAM_KAFKA_BOOTSTRAP": self.bootstrap,
            "STREAM_TOPIC": self.topic,
            "STREAM_LAKE_URI": f"s3a://{self.lake_bucket}/{self.prefix}",
            "STREAM_CHECKPOINT_URI": f"{self.checkpoints_uri}{self.prefix}",
            "STREAM_MASTER": "local[2]",
            "STREAM_LOCAL_DIR": str(self.work / "tmp"),
            "STREAM_PROGRESS_LOG": str(self.progress_log),
            "STREAM_DRIVER_MEMORY": "1g",
            **extra,
        }

    def start(self, **extra: str) -> subprocess.Popen[str]:
        self.work.mkdir(parents=True, exist_ok=True)
        log = (self.work / "job.log").open("a")
        return subprocess.Popen(
            [sys.executable, "-m", "spark", "--available-now"],
            cwd=ROOT,
            env=self.env(**extra),
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own group: SIGKILL reaches the JVM and workers too
        )

    def run(self, **extra: str) -> None:
        proc = self.start(**extra)
        try:
            rc = proc.wait(JOB_TIMEOUT_S)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        assert rc == 0, self.log_tail()

    def log_tail(self, n: int = 60) -> str:
        lines = (self.work / "job.log").read_text(errors="replace").splitlines()
        return "\n".join(line for line in lines[-400:] if not line.startswith("\tat "))[-8000:]

    def progress(self) -> list[dict[str, Any]]:
        if not self.progress_log.exists():
            return []
        return [json.loads(x) for x in self.progress_log.read_text().splitlines() if x.strip()]


@pytest.fixture
def stream(kafka_broker: Any, twin: Any, lake: dict[str, Any], tmp_path: Path) -> Stream:
    out = lake["lake"]
    topic = fresh_topic(kafka_broker, partitions=4)
    return Stream(
        topic=topic,
        bootstrap=kafka_broker.bootstrap,
        lake_bucket=out["bucket_names"]["lake"],
        checkpoints_uri=out["checkpoints_uri"].replace("s3://", "s3a://"),
        twin_env=twin.env(),
        work=E2E_DIR / topic,
    )


# ---- reading the lake without Spark ---------------------------------------------------------


def duck(endpoint_url: str) -> duckdb.DuckDBPyConnection:
    return connect_s3(endpoint_url, "test", "test")


def objects(s3: Any, bucket: str, prefix: str) -> dict[str, tuple[str, int]]:
    """key -> (ETag, size) of every data object (status files under _pipeline excluded)."""
    out: dict[str, tuple[str, int]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/"):
        for o in page.get("Contents", []):
            if "/_pipeline/" not in o["Key"] and o["Key"].endswith(".parquet"):
                out[o["Key"]] = (o["ETag"], o["Size"])
    return out


@dataclass
class LakeView:
    trips: int
    distinct_trips: int
    trip_ids: set[str]
    dead: list[tuple[int, int, list[str]]]
    metric_trips: int


def read_lake(con: duckdb.DuckDBPyConnection, bucket: str, prefix: str) -> LakeView:
    def table(name: str) -> str:
        return f"read_parquet('s3://{bucket}/{prefix}/{name}/**/*.parquet', hive_partitioning=true)"

    n, distinct = con.execute(
        f"SELECT count(*) AS n, count(DISTINCT trip_id) AS d FROM {table('trips')}"
    ).fetchone()  # type: ignore[misc]
    ids = {r[0] for r in con.execute(f"SELECT trip_id FROM {table('trips')}").fetchall()}
    dead = con.execute(
        f"SELECT kafka_partition, kafka_offset, reasons FROM {table('dead_letters')}"
    ).fetchall()
    (metric_trips,) = con.execute(
        f"SELECT CAST(sum(trips) AS BIGINT) AS t FROM {table('zone_metrics')}"
    ).fetchone()  # type: ignore[misc]
    return LakeView(n, distinct, ids, [(p, o, list(r)) for p, o, r in dead], metric_trips)


def assert_exactly_once(view: LakeView, feed: Feed) -> None:
    assert view.trips == view.distinct_trips == len(feed.good_ids)  # no trip twice, none lost
    assert view.trip_ids == feed.good_ids
    assert view.metric_trips == len(feed.good_ids)
    # produced == trips + dead letters + dropped duplicates, exactly.
    assert view.trips + len(view.dead) == feed.sent - feed.duplicates
    dead = {(p, o): reasons for p, o, reasons in view.dead}
    assert len(dead) == len(view.dead)  # no dead letter twice
    assert len(dead) == len(feed.bad) + len(feed.real_bad)
    for pos, reason in feed.bad.items():
        assert reason in dead[pos], (pos, reason, dead.get(pos))
    for pos, reasons_ in feed.real_bad.items():
        assert dead[pos] == reasons_, (pos, reasons_, dead.get(pos))


# ---- the tests -----------------------------------------------------------------------------


def test_feed_replay_and_rerun_land_exactly_once(stream: Stream, twin: Any) -> None:
    feed = send_feed(stream.bootstrap, stream.topic, n_good=3000, n_dupes=200, seed=5, real=True)
    assert len(feed.bad) == 2 * len(BAD_KINDS)
    stream.run(STREAM_MAX_OFFSETS_PER_TRIGGER="4000")

    con = duck(twin.endpoint_url)
    s3 = boto3.client("s3", **twin.client_kwargs())
    view = read_lake(con, stream.lake_bucket, stream.prefix)
    assert_exactly_once(view, feed)
    progress = stream.progress()
    assert sum(p["rows_in"] for p in progress) == feed.sent
    assert sum(p["duplicates_dropped"] for p in progress) == feed.duplicates
    assert sum(p["accepted"] for p in progress) == len(feed.good_ids)
    assert progress[-1]["kafka_lag"] == 0
    status = s3.get_object(
        Bucket=stream.lake_bucket, Key=f"{stream.prefix}/_pipeline/progress/latest.json"
    )
    assert json.loads(status["Body"].read())["batch_id"] == progress[-1]["batch_id"]

    # Run again with nothing new in Kafka: not one object added or rewritten differently.
    before = objects(s3, stream.lake_bucket, stream.prefix)
    stream.run()
    assert objects(s3, stream.lake_bucket, stream.prefix) == before

    # The same records sent again: every good one is a repeat (dropped), every bad one is a new
    # Kafka record and is dead-lettered again; trips and zone_metrics do not change at all.
    again = send_feed(stream.bootstrap, stream.topic, n_good=3000, n_dupes=200, seed=5, real=True)
    stream.run()
    after = objects(s3, stream.lake_bucket, stream.prefix)
    unchanged = {k: v for k, v in before.items() if "/dead_letters/" not in k}
    assert {k: v for k, v in after.items() if "/dead_letters/" not in k} == unchanged
    view2 = read_lake(con, stream.lake_bucket, stream.prefix)
    assert view2.trip_ids == feed.good_ids and view2.trips == len(feed.good_ids)
    assert len(view2.dead) == 2 * (len(feed.bad) + len(feed.real_bad))
    dead = {(p, o): r for p, o, r in view2.dead}
    assert all(reason in dead[pos] for pos, reason in again.bad.items())


def test_sigkill_in_the_middle_of_a_batch_then_restart_is_exactly_once(
    stream: Stream, twin: Any
) -> None:
    feed = send_feed(stream.bootstrap, stream.topic, n_good=12_000, n_dupes=600, seed=9)
    s3 = boto3.client("s3", **twin.client_kwargs())
    ck_bucket, ck_prefix = stream.checkpoints_uri.removeprefix("s3a://").split("/", 1)
    ck_root = f"{ck_prefix}{stream.prefix}/"

    def checkpoint() -> set[str]:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=ck_bucket, Prefix=ck_root)
        return {o["Key"].removeprefix(ck_root) for p in pages for o in p.get("Contents", [])}

    proc = stream.start(STREAM_MAX_OFFSETS_PER_TRIGGER="1500")
    killed_in: int | None = None
    try:
        deadline = time.monotonic() + JOB_TIMEOUT_S
        while killed_in is None and time.monotonic() < deadline and proc.poll() is None:
            done = {p["batch_id"] for p in stream.progress()}
            written = Counter(
                int(Path(k).name.split("-")[1])
                for k in objects(s3, stream.lake_bucket, stream.prefix)
            )
            # Objects of a batch that is neither reported nor committed: it is being written.
            busy = [b for b in written if b not in done and f"commits/{b}" not in checkpoint()]
            if busy:
                os.killpg(proc.pid, signal.SIGKILL)
                killed_in = busy[0]
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    assert killed_in is not None, "the job finished before a batch could be interrupted"
    assert proc.returncode == -signal.SIGKILL

    # The batch was cut mid-write: planned in the offset log, not committed.
    ck = checkpoint()
    assert f"offsets/{killed_in}" in ck and f"commits/{killed_in}" not in ck

    stream.run(STREAM_MAX_OFFSETS_PER_TRIGGER="1500")
    view = read_lake(duck(twin.endpoint_url), stream.lake_bucket, stream.prefix)
    assert_exactly_once(view, feed)
    replayed = [p for p in stream.progress() if p["batch_id"] == killed_in]
    assert replayed, "the interrupted batch must be run again after the restart"
