"""The real stream job as a subprocess, a feed with known outcomes, and the lake read without
Spark: shared by the end-to-end and the chaos tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
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

E2E_DIR = TEST_DIR / "spark-e2e"
JOB_TIMEOUT_S = 600  # generous: CI machines may be busy

Item = tuple[Any, bytes, str | list[str] | None]  # key, value, expected reason(s)


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
) -> tuple[list[Item], set[str]]:
    """(key, value, expected reason(s) or None) in send order: good trips over a few hours, one
    record of every bad kind twice, exact duplicates of some good ones and, with ``real``, every
    record of every shared TLC file (expected reasons from contract.check)."""
    gen = SyntheticTrips(Profile.load(), seed=seed)
    start = datetime(2025, 1, 15, 6, tzinfo=UTC).timestamp()
    ends = start + np.sort(np.random.default_rng(seed).uniform(0, 4 * 3600, n_good))
    recs = gen.chunk(n_good, ends)
    for i, r in enumerate(recs):
        r["trip_id"] = f"e2e-{seed}-{i}"
    out: list[Item] = [(r["trip_id"].encode(), encode(r), None) for r in recs]
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
        for rec, why in zip(replayed, expected, strict=True):
            out.append((rec.key, rec.value, why or None))
            if not why:
                good.add(decode_id(rec.value))
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

    def start(self, *, available_now: bool = True, **extra: str) -> subprocess.Popen[str]:
        """The job in its own process group; ``available_now``: stop when Kafka is drained."""
        self.work.mkdir(parents=True, exist_ok=True)
        log = (self.work / "job.log").open("a")
        return subprocess.Popen(
            [sys.executable, "-m", "spark", *(["--available-now"] if available_now else [])],
            cwd=ROOT,
            env=self.env(**extra),
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own group: SIGKILL reaches the JVM and workers too
        )

    def run(self, **extra: str) -> None:
        proc = self.start(available_now=True, **extra)
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


def new_stream(kafka_broker: Any, twin: Any, lake: dict[str, Any]) -> Stream:
    """A fresh topic and its own lake prefix and checkpoint on the twin's Terraform-made buckets."""
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


# ---- reading the lake through the API -------------------------------------------------------


@dataclass
class ApiView:
    trip_ids: list[str]  # every trip, walked page by page through GET /v1/trips
    summary_trips: int  # GET /v1/summary: the zone_metrics partials, summed
    dead_letters: int  # GET /v1/status: dead letters ingested in the last hour


def read_api(stream: Stream, twin: Any, start: datetime, end: datetime) -> ApiView:
    """What a user of the API sees of this stream's lake (the embedded engine over the twin's S3,
    the same SQL the Lambda runs on Athena). The dead letters must be from the last hour."""
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from lambda_api.app import create_app
    from lambda_api.config import ApiSettings

    settings = ApiSettings(
        lake_uri=f"s3://{stream.lake_bucket}/{stream.prefix}",
        aws_endpoint_url=twin.endpoint_url,
        aws_access_key_id="test",
        aws_secret_access_key=SecretStr("test"),
        cache_ttl_s=0,
    )
    span = {"start": start.isoformat(), "end": end.isoformat()}
    with TestClient(create_app(settings)) as client:

        def get(path: str, **params: Any) -> Any:
            r = client.get(path, params=params)
            assert r.status_code == 200, (path, params, r.text)
            return r.json()

        ids: list[str] = []
        cursor = None
        while True:
            page = get("/v1/trips", **span, limit=1000, **({"cursor": cursor} if cursor else {}))
            ids += [t["trip_id"] for t in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        summary = get("/v1/summary", **span)
        status = get("/v1/status")
    return ApiView(ids, summary["trips"], status["dead_letters_last_hour"])
