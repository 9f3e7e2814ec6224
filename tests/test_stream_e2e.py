"""The real job (`python -m spark` as a subprocess) from a real broker to the lake on the twin.

The lake is read the way Athena, DuckDB or pandas read it: the Parquet objects themselves, never
Spark's `_spark_metadata`. Exactly once must hold there: after a clean run, after the same
records are sent again, and after the driver is killed with SIGKILL in the middle of a batch.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest

from producer.bad import BAD_KINDS
from tests.stream_support import (
    JOB_TIMEOUT_S,
    Stream,
    assert_exactly_once,
    duck,
    new_stream,
    objects,
    read_lake,
    send_feed,
)

pytestmark = [pytest.mark.spark, pytest.mark.kafka, pytest.mark.twin]


@pytest.fixture
def stream(kafka_broker: Any, twin: Any, lake: dict[str, Any]) -> Stream:
    return new_stream(kafka_broker, twin, lake)


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
