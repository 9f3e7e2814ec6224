"""Kafka's own producer benchmark (``ProducerPerformance``) against the local broker: the yardstick
our Python producer is compared with."""

from __future__ import annotations

import dataclasses
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from localstack.kafka.broker import KafkaBroker, KafkaError

# Same settings as producer/config.py, so the comparison measures the client, not the config.
DEFAULT_PROPS: dict[str, str] = {
    "enable.idempotence": "true",
    "linger.ms": "20",
    "batch.size": "1048576",
    "compression.type": "lz4",
}

# "1000 records sent, 2380.952381 records/sec (0.79 MB/sec), 187.62 ms avg latency,
#  351.00 ms max latency, 190 ms 50th, 340 ms 95th, 348 ms 99th, 351 ms 99.9th."
_SUMMARY = re.compile(
    r"(?P<records>\d+) records sent, (?P<rps>[\d.]+) records/sec \((?P<mbps>[\d.]+) MB/sec\), "
    r"(?P<avg>[\d.]+) ms avg latency, (?P<max>[\d.]+) ms max latency, (?P<p50>\d+) ms 50th, "
    r"(?P<p95>\d+) ms 95th, (?P<p99>\d+) ms 99th, (?P<p999>\d+) ms 99.9th"
)


@dataclass(frozen=True)
class PerfResult:
    topic: str
    records: int
    records_per_s: float
    mb_per_s: float  # MiB/s of payload, as Kafka computes it (bytes / 1024 / 1024)
    avg_latency_ms: float
    max_latency_ms: float
    p50_ms: int
    p99_ms: int
    summary: str  # the tool's final line, verbatim


def parse_summary(output: str) -> PerfResult:
    """The final summary line (the one with percentiles; progress lines have none)."""
    matches = list(_SUMMARY.finditer(output))
    if not matches:
        raise KafkaError(f"no ProducerPerformance summary in output:\n{output[-2000:]}")
    m = matches[-1]
    return PerfResult(
        topic="",
        records=int(m["records"]),
        records_per_s=float(m["rps"]),
        mb_per_s=float(m["mbps"]),
        avg_latency_ms=float(m["avg"]),
        max_latency_ms=float(m["max"]),
        p50_ms=int(m["p50"]),
        p99_ms=int(m["p99"]),
        summary=m.group(0),
    )


def producer_performance(
    broker: KafkaBroker,
    num_records: int,
    record_size: int = 350,
    *,
    topic: str | None = None,
    acks: str = "all",
    props: dict[str, str] | None = None,
    throughput: int = -1,
    payload_file: Path | None = None,
    delete_topic: bool = True,
    timeout: float = 600,
) -> PerfResult:
    """Run ``org.apache.kafka.tools.ProducerPerformance`` against the running ``broker``.

    Without ``topic`` it writes to a new topic with the broker's configured partitions and
    deletes it afterwards (``delete_topic``), so repeated runs do not fill the disk. With
    ``payload_file`` it sends lines of that file (e.g. real serialized trips) instead of
    ``record_size`` random bytes.
    """
    if not broker.is_running():
        raise KafkaError(f"no broker running at {broker.bootstrap}")
    own_topic = topic is None
    name = topic or f"perf-{uuid.uuid4().hex[:12]}"
    broker.create_topic(name)
    all_props = {
        "bootstrap.servers": broker.bootstrap,
        "acks": acks,
        **DEFAULT_PROPS,
        **(props or {}),
    }
    payload = (
        ["--payload-file", str(payload_file)]
        if payload_file
        else ["--record-size", str(record_size)]
    )
    try:
        out = broker.run_tool(
            "org.apache.kafka.tools.ProducerPerformance",
            "--topic",
            name,
            "--num-records",
            str(num_records),
            "--throughput",
            str(throughput),
            *payload,
            "--producer-props",
            *(f"{k}={v}" for k, v in all_props.items()),
            timeout=timeout,
            heap="512m",  # what Kafka's producer-perf-test script gives it
        )
    finally:
        if own_topic and delete_topic:
            broker.delete_topic(name)
    return dataclasses.replace(parse_summary(out), topic=name)
