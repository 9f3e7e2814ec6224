"""Chaos: the faults real deployments meet, with the real job, broker and twin.

After each fault the accounting invariant must hold exactly, as the API reports it (and in the
Parquet objects themselves): produced == trips + dead letters (+ duplicates the producer sent on
purpose, which the stream drops), and no trip_id twice. These tests restart session services,
so they run after every other test (tests/conftest.py orders them last).

Random kill points come from CHAOS_SEED (printed; set it to replay a failure).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from tests.conftest import ROOT
from tests.stream_support import (
    JOB_TIMEOUT_S,
    Feed,
    Item,
    Stream,
    assert_exactly_once,
    build_feed,
    duck,
    new_stream,
    objects,
    produce,
    read_api,
    read_lake,
)

pytestmark = [pytest.mark.chaos, pytest.mark.spark, pytest.mark.kafka, pytest.mark.twin]

SEED = int(os.environ.get("CHAOS_SEED", str(time.time_ns() % 2**31)))
# The synthetic e2e feed's trips end on 2025-01-15 from 06:00 to 10:00 UTC; the longest start the
# day before. Two days: the most one raw read of the API may span.
FEED_DAYS = (datetime(2025, 1, 14, tzinfo=UTC), datetime(2025, 1, 16, tzinfo=UTC))
FAST = {"STREAM_MAX_OFFSETS_PER_TRIGGER": "1000", "STREAM_TRIGGER_INTERVAL": "1 second"}
SMALL_BATCHES = {**FAST, "STREAM_MAX_OFFSETS_PER_TRIGGER": "300"}  # several per chunk sent


@pytest.fixture
def stream(kafka_broker: Any, twin: Any, lake: dict[str, Any]) -> Stream:
    return new_stream(kafka_broker, twin, lake)


@pytest.fixture
def running(stream: Stream) -> Iterator[list[subprocess.Popen[str]]]:
    """Jobs a test starts; whatever is still alive at the end is killed with its group."""
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(30)


def send(stream: Stream, feed: Feed, items: list[Item]) -> None:
    msgs = produce(stream.bootstrap, stream.topic, [(k, v) for k, v, _ in items])
    for (_, _, reason), m in zip(items, msgs, strict=True):
        if reason:
            feed.bad[(m.partition(), m.offset())] = str(reason)


def kill(proc: subprocess.Popen[str]) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)


def wait_for_batches(stream: Stream, proc: subprocess.Popen[str], n: int) -> None:
    """Until ``n`` more batches are reported, or the job has drained the topic."""
    before = len(stream.progress())
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the job died by itself:\n{stream.log_tail()}"
        done = stream.progress()
        if len(done) >= before + n or (len(done) > before and done[-1]["kafka_lag"] == 0):
            return
        time.sleep(0.1)
    raise AssertionError(f"no progress in {JOB_TIMEOUT_S} s:\n{stream.log_tail()}")


def assert_invariant_through_the_api(
    stream: Stream, twin: Any, feed: Feed, span: tuple[datetime, datetime]
) -> None:
    api = read_api(stream, twin, *span)
    assert len(api.trip_ids) == len(set(api.trip_ids)), "a trip_id appears twice"
    assert set(api.trip_ids) == feed.good_ids
    assert api.summary_trips == len(feed.good_ids)
    assert len(api.trip_ids) + api.dead_letters == feed.sent - feed.duplicates


def test_driver_killed_at_five_random_points(stream: Stream, twin: Any, running: list[Any]) -> None:
    """kill -9 of the driver (and its executors) five times while records keep arriving."""
    rng = random.Random(SEED)
    print(f"\nCHAOS_SEED={SEED}")
    items, good = build_feed(n_good=8_000, n_dupes=400, seed=21)
    feed = Feed(good_ids=good, duplicates=400, sent=len(items))
    step = len(items) // 6
    for k in range(5):
        send(stream, feed, items[k * step : (k + 1) * step])
        proc = stream.start(available_now=False, **SMALL_BATCHES)
        running.append(proc)
        # A random point of the run: after 0-3 more reported batches (0: in start-up), then
        # 0-6 s more, so start-up, planning, writing and committing are all hit over five kills.
        wait_batches, delay = rng.randint(0, 3), rng.uniform(0, 6)
        wait_for_batches(stream, proc, wait_batches)
        time.sleep(delay)
        assert proc.poll() is None, f"the job died by itself:\n{stream.log_tail()}"
        batches = len(stream.progress())
        kill(proc)
        print(f"kill {k + 1}: {delay:.1f} s after {wait_batches} more batches, {batches} in all")
    send(stream, feed, items[5 * step :])
    stream.run(**FAST)

    assert_exactly_once(read_lake(duck(twin.endpoint_url), stream.lake_bucket, stream.prefix), feed)
    assert_invariant_through_the_api(stream, twin, feed, FEED_DAYS)


def test_broker_restart_while_the_producer_runs(
    stream: Stream, twin: Any, kafka_broker: Any, running: list[Any]
) -> None:
    """The real producer CLI sends while the broker is killed and restarted under it and the
    stream reads from it; nothing is lost, nothing is duplicated."""
    job = stream.start(available_now=False, **FAST)
    running.append(job)
    producer = subprocess.Popen(
        [
            sys.executable, "-m", "producer", "synthetic", "--no-progress",
            "--bootstrap", stream.bootstrap, "--topic", stream.topic,
            "--count", "20000", "--rate", "2000", "--bad-fraction", "0.02", "--seed", "41",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        time.sleep(4)
        kafka_broker.kill()
        time.sleep(3)
        kafka_broker.start()
        out, _ = producer.communicate(timeout=JOB_TIMEOUT_S)
    finally:
        if producer.poll() is None:
            producer.kill()
    assert producer.returncode == 0, out
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["delivered"] == summary["sent"] == 20_000
    bad = sum(summary["bad_records_by_kind"].values())

    # The job lived through the outage: it drains the topic without a restart.
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while sum(p["rows_in"] for p in stream.progress()) < summary["delivered"]:
        assert job.poll() is None, f"the job died with the broker:\n{stream.log_tail()}"
        assert time.monotonic() < deadline, "the job did not catch up"
        time.sleep(1)
    kill(job)

    end = datetime.now(UTC) + timedelta(minutes=1)
    api = read_api(stream, twin, end - timedelta(days=2), end)
    assert len(api.trip_ids) == len(set(api.trip_ids)), "a trip_id appears twice"
    assert api.dead_letters == bad
    assert len(api.trip_ids) + api.dead_letters == summary["delivered"]
    assert api.summary_trips == len(api.trip_ids)


def test_twin_restart_with_persistence(stream: Stream, twin: Any, running: list[Any]) -> None:
    """The AWS endpoint goes away under a running job and comes back with its state."""
    items, good = build_feed(n_good=6_000, n_dupes=300, seed=33)
    feed = Feed(good_ids=good, duplicates=300, sent=len(items))
    half = len(items) // 2
    send(stream, feed, items[:half])
    job = stream.start(available_now=False, **FAST)
    running.append(job)
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while not stream.progress():
        assert job.poll() is None, stream.log_tail()
        assert time.monotonic() < deadline, "no batch before the restart"
        time.sleep(0.5)

    s3 = boto3.client("s3", **twin.client_kwargs())
    before = objects(s3, stream.lake_bucket, stream.prefix)
    twin.stop()
    send(stream, feed, items[half:])  # Kafka keeps taking records while S3 is gone
    time.sleep(5)
    twin.start()
    after = objects(s3, stream.lake_bucket, stream.prefix)
    assert before.items() <= after.items(), "objects written before the restart were lost"

    # A batch that failed while S3 was away ends the query; a supervisor (EMR's job retry,
    # `make local`) starts it again. Either way the restart below finishes what is left.
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while job.poll() is None and sum(p["rows_in"] for p in stream.progress()) < feed.sent:
        assert time.monotonic() < deadline, "the job neither caught up nor failed"
        time.sleep(1)
    print(f"\nafter the twin restart the job {'caught up' if job.poll() is None else 'exited'}")
    if job.poll() is None:
        kill(job)
    stream.run(**FAST)

    assert_exactly_once(read_lake(duck(twin.endpoint_url), stream.lake_bucket, stream.prefix), feed)
    assert_invariant_through_the_api(stream, twin, feed, FEED_DAYS)
