"""Against the real broker the test session starts: what is sent arrives exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition

from producer.bad import BAD_KINDS
from producer.config import ProducerSettings
from producer.feed import send_all
from producer.replay import load_files, replay_records
from producer.sink import KafkaSink
from producer.synthetic import Profile, SyntheticTrips, synthetic_records
from tests.conftest import ROOT
from tests.fixtures.kafka import fresh_topic

pytestmark = pytest.mark.kafka


def read_topic(bootstrap: str, topic: str, expected: int, timeout: float = 60) -> list[Any]:
    """Every message of the topic; also checks the log holds exactly ``expected`` records."""
    c = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-{topic}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    try:
        meta = c.list_topics(topic, timeout=10).topics[topic]
        in_log = 0
        for p in meta.partitions:
            lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            in_log += hi - lo
        c.subscribe([topic])
        out: list[Any] = []
        deadline = time.monotonic() + timeout
        while len(out) < in_log and time.monotonic() < deadline:
            for m in c.consume(10_000, timeout=1.0):
                if m.error() is None:
                    out.append(m)
    finally:
        c.close()
    # With an idempotent producer the log itself holds no duplicates; compare it too.
    assert in_log == expected, f"log holds {in_log} records, {expected} were sent"
    assert len(out) == expected
    return out


def test_mixed_feed_arrives_exactly_once(kafka_broker: Any, tlc_files: list[Path]) -> None:
    topic = fresh_topic(kafka_broker)
    settings = ProducerSettings(bootstrap_servers=kafka_broker.bootstrap, topic=topic)
    gen = SyntheticTrips(Profile.load(), seed=42)
    synthetic = list(synthetic_records(gen, count=20_000, bad_fraction=0.05))
    corpus = [
        r
        for r in synthetic_records(
            SyntheticTrips(Profile.load(), seed=43), count=len(BAD_KINDS) * 4, bad_fraction=1.0
        )
    ]
    sink = KafkaSink(settings)
    summary = send_all([*synthetic, *corpus], sink, None, progress=False)
    assert summary.ok and summary.delivered == 20_000 + len(corpus)
    assert sum(summary.bad_kinds.values()) == sum(1 for r in [*synthetic, *corpus] if r.bad_kind)

    # The real files go through the CLI, as a user would run it.
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "producer",
            "replay",
            *map(str, tlc_files),
            "--bootstrap",
            kafka_broker.bootstrap,
            "--topic",
            topic,
            "--no-progress",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    cli = json.loads(proc.stdout.strip().splitlines()[-1])
    assert cli["sent"] == cli["delivered"] == 7000 and cli["failed"] == 0

    replayed = [r for f in load_files(tlc_files) for r in replay_records(f)]
    sent = [*synthetic, *corpus, *replayed]
    got = read_topic(kafka_broker.bootstrap, topic, len(sent))
    assert Counter(m.key() for m in got) == Counter(r.key for r in sent)
    by_key_sent = {(r.key, r.value) for r in [*synthetic, *corpus]}
    by_key_got = {(m.key(), m.value()) for m in got}
    assert by_key_sent <= by_key_got, "synthetic and bad records arrive byte for byte"


def test_broker_kill_during_send_loses_and_duplicates_nothing(kafka_broker: Any) -> None:
    topic = fresh_topic(kafka_broker)
    settings = ProducerSettings(bootstrap_servers=kafka_broker.bootstrap, topic=topic)
    gen = SyntheticTrips(Profile.load(), seed=7)
    n = 300_000
    result: dict[str, Any] = {}

    def produce() -> None:
        # Paced so the send is still running when the broker dies.
        recs = synthetic_records(gen, count=n, rate=60_000)
        result["summary"] = send_all(recs, KafkaSink(settings), n, progress=False)

    t = threading.Thread(target=produce)
    t.start()
    time.sleep(1.5)
    kafka_broker.kill()
    time.sleep(2)
    restart_started = time.monotonic()
    kafka_broker.start()
    print(f"broker back after kill -9 in {time.monotonic() - restart_started:.1f} s")
    t.join(timeout=400)
    assert not t.is_alive()
    s = result["summary"]
    assert s.ok, s.as_dict()
    got = read_topic(kafka_broker.bootstrap, topic, n, timeout=120)
    keys = Counter(m.key() for m in got)
    assert len(keys) == n and max(keys.values()) == 1
