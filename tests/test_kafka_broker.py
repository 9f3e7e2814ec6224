"""The project's own Kafka broker: starts, binds loopback only, keeps data across kill -9."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import ConfigResource

from localstack.kafka import KafkaBroker, KafkaSettings, producer_performance
from tests.fixtures.kafka import OFFSET, ROOT, fresh_topic

pytestmark = pytest.mark.kafka


def produce(bootstrap: str, topic: str, n: int) -> list[tuple[bytes, bytes]]:
    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5})
    sent = [(f"k{i}".encode(), f"value-{i}".encode()) for i in range(n)]
    failed: list[object] = []
    for k, v in sent:
        p.produce(topic, v, k, on_delivery=lambda err, _m: err and failed.append(err))
    assert p.flush(30) == 0, "messages still queued after 30 s"
    assert not failed, failed
    return sent


def consume(bootstrap: str, topic: str, n: int, timeout: float = 60) -> list[tuple[bytes, bytes]]:
    """Everything in ``topic`` through a consumer group; waits for ``n``, then 1 s for extras."""
    c = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"g-{topic}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    c.subscribe([topic])
    out: list[tuple[bytes, bytes]] = []
    deadline = time.monotonic() + timeout
    extra_until = None
    try:
        while time.monotonic() < deadline:
            for m in c.consume(1000, timeout=0.5):
                assert m.error() is None, m.error()
                out.append((m.key(), m.value()))
            if len(out) >= n:
                extra_until = extra_until or time.monotonic() + 1.0
                if time.monotonic() > extra_until:
                    break
    finally:
        c.close()
    return out


def records_in(bootstrap: str, topic: str) -> int:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "watermarks"})
    try:
        parts = c.list_topics(topic, timeout=10).topics[topic].partitions
        return sum(
            hi - lo
            for lo, hi in (
                c.get_watermark_offsets(TopicPartition(topic, p), timeout=10) for p in parts
            )
        )
    finally:
        c.close()


def listening_addresses(port: int) -> list[str]:
    """Local addresses (hex, as the kernel shows them) of LISTEN sockets on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, hexport = local.split(":")
            if state == "0A" and int(hexport, 16) == port:
                found.append(addr)
    return found


def broker_processes(broker: KafkaBroker) -> list[int]:
    """Every process whose command line names this broker's config file."""
    me = str(broker.config_file).encode()
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes()
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if me in cmd.split(b"\0") and stat.rsplit(")", 1)[1].split()[0] != "Z":
                pids.append(int(d.name))
    return pids


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_start_is_ready_and_a_second_start_reuses_it(kafka_broker: KafkaBroker) -> None:
    print(f"\nbroker start-up (format + JVM + ready): {kafka_broker.last_start_s:.1f} s")
    assert kafka_broker.bootstrap == f"127.0.0.1:{19092 + OFFSET}"
    st = kafka_broker.status()
    assert st["running"] and st["ready"], st
    assert st["topics"].get("trips") == 4
    pid = kafka_broker.pid()
    t0 = time.monotonic()
    assert kafka_broker.start() == pid
    assert time.monotonic() - t0 < 5
    assert broker_processes(kafka_broker) == [pid]


def test_listens_on_loopback_only(kafka_broker: KafkaBroker) -> None:
    s = kafka_broker.settings
    for port in (s.port, s.controller_port):
        addrs = listening_addresses(port)
        assert addrs, f"nothing listens on {port}"
        # 127.0.0.1 as IPv4, or as an IPv4-mapped IPv6 address (how the JVM binds it).
        assert all(a in ("0100007F", "0000000000000000FFFF00000100007F") for a in addrs), addrs


def test_topics_are_created_idempotently_with_configured_settings(
    kafka_broker: KafkaBroker,
) -> None:
    s = kafka_broker.settings
    assert kafka_broker.create_topics() == {s.topic: False}  # the fixture created it
    assert kafka_broker.create_topics() == {s.topic: False}
    admin = kafka_broker._admin()
    md = admin.list_topics(s.topic, timeout=10).topics[s.topic]
    assert len(md.partitions) == s.partitions
    res = ConfigResource(ConfigResource.Type.TOPIC, s.topic)
    cfg = admin.describe_configs([res])[res].result(10)
    assert cfg["retention.ms"].value == str(s.retention_ms)
    assert cfg["segment.bytes"].value == str(s.segment_bytes)

    other = fresh_topic(kafka_broker, partitions=2)
    assert len(admin.list_topics(other, timeout=10).topics[other].partitions) == 2
    assert kafka_broker.create_topic(other) is False


def test_produce_consume_round_trip(kafka_broker: KafkaBroker) -> None:
    topic = fresh_topic(kafka_broker)
    sent = produce(kafka_broker.bootstrap, topic, 25)
    got = consume(kafka_broker.bootstrap, topic, len(sent))
    assert sorted(got) == sorted(sent)


def test_producer_performance_reports_what_it_sent(kafka_broker: KafkaBroker) -> None:
    topic = fresh_topic(kafka_broker)
    r = producer_performance(kafka_broker, 50_000, 350, topic=topic)
    print(f"\nProducerPerformance 50k x 350 B: {r.records_per_s:,.0f} rec/s, {r.mb_per_s} MB/s")
    assert r.records == 50_000
    assert r.records_per_s > 0 and r.mb_per_s > 0
    assert records_in(kafka_broker.bootstrap, topic) == 50_000


def test_cli_status_and_help(kafka_broker: KafkaBroker, tmp_path: Path) -> None:
    s = kafka_broker.settings
    env = {
        **os.environ,
        "KAFKA_PORT": str(s.port),
        "KAFKA_CONTROLLER_PORT": str(s.controller_port),
        "KAFKA_RUNTIME_DIR": str(s.runtime_dir),
    }
    cli = [sys.executable, "-m", "localstack.kafka"]
    r = subprocess.run(
        [*cli, "status", "--json"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    assert f'"pid": {kafka_broker.pid()}' in r.stdout
    # Nothing runs from an empty folder: exit 3, and the CLI must not start anything.
    env["KAFKA_RUNTIME_DIR"] = str(tmp_path)
    r = subprocess.run([*cli, "status"], env=env, cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 3, r.stdout + r.stderr
    for cmd in ["", "start", "stop", "status", "logs", "create-topics", "kill", "wipe", "perf"]:
        r = subprocess.run([*cli, *cmd.split(), "--help"], cwd=ROOT, capture_output=True)
        assert r.returncode == 0 and b"usage:" in r.stdout, cmd


def test_kill_9_then_start_comes_back_with_the_data(kafka_broker: KafkaBroker) -> None:
    topic = fresh_topic(kafka_broker)
    sent = produce(kafka_broker.bootstrap, topic, 100)
    old = kafka_broker.kill()
    assert old is not None and not kafka_broker.is_running()
    assert broker_processes(kafka_broker) == []
    t0 = time.monotonic()
    new = kafka_broker.start()
    took = time.monotonic() - t0
    print(f"\nrestart after kill -9 until ready: {took:.1f} s")
    assert new != old and kafka_broker.is_ready()
    # Ready needs the old registration to expire (broker.session.timeout.ms, 3 s here).
    assert took < 30
    assert sorted(consume(kafka_broker.bootstrap, topic, len(sent))) == sorted(sent)


def test_stop_leaves_no_process(kafka_broker: KafkaBroker) -> None:
    pid = kafka_broker.pid()
    assert pid is not None
    t0 = time.monotonic()
    assert kafka_broker.stop() == pid
    print(f"\nclean stop: {time.monotonic() - t0:.1f} s")
    assert not Path(f"/proc/{pid}").exists(), "broker process (or its zombie) still there"
    assert broker_processes(kafka_broker) == []
    assert not kafka_broker.pid_file.exists()
    s = kafka_broker.settings
    assert not port_open(s.port) and not port_open(s.controller_port)
    assert kafka_broker.stop() is None  # stopping a stopped broker is harmless
    # Leave the session's broker running for the test modules that come after this one.
    kafka_broker.start()
    assert kafka_broker.is_ready()


def test_settings_come_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_PORT", "12345")
    monkeypatch.setenv("KAFKA_SESSION_TIMEOUT_MS", "4000")
    s = KafkaSettings()
    assert s.bootstrap == "127.0.0.1:12345"
    props = KafkaBroker(s).server_properties()
    assert props["broker.session.timeout.ms"] == "4000"
    assert props["listeners"].startswith("PLAINTEXT://127.0.0.1:12345,")
