"""Issue 3: our producer (the real CLI, as a subprocess) against Kafka's ProducerPerformance.

Both write to the same broker, with the same settings (idempotent, acks=all, lz4, linger 20 ms,
1 MiB batches) and the same payloads: the tool sends lines of a file of our own encoded records
(so the record size and its compressibility are the same), we send records we generate on the
fly. Our rate counts generation, encoding, sending and the final flush.
"""

from __future__ import annotations

import json
import sys
import uuid

from bench.infra import BENCH_DIR, kafka, log, run_measured
from bench.report import Result
from localstack.kafka import KafkaBroker
from localstack.kafka.perf import producer_performance
from producer.replay import load_files, replay_records
from producer.samples import YELLOW_2025, DataSettings
from producer.synthetic import Profile, SyntheticTrips, synthetic_records

YELLOW = DataSettings().file(YELLOW_2025)
WORK = BENCH_DIR / "producer"
RECORDS = {"small": 100_000, "full": 1_000_000}
GOAL = 0.8
SEED = 7
SAMPLE = 20_000


def _payloads(kind: str) -> list[bytes]:
    """A sample of exactly the records the CLI run sends (same seed, same file)."""
    if kind == "synthetic":
        gen = SyntheticTrips(Profile.load(), seed=SEED)
        return [r.value for r in synthetic_records(gen, count=SAMPLE)]
    return [r.value for r in replay_records(load_files([YELLOW])[0])]


def _ours(broker: KafkaBroker, kind: str, n: int) -> tuple[dict[str, object], float, float]:
    """(the CLI's JSON summary, wall seconds, peak RSS MiB) of one run on a fresh topic."""
    topic = f"bench-{kind}-{uuid.uuid4().hex[:8]}"
    broker.create_topic(topic)
    if kind == "synthetic":
        args = ["synthetic", "--count", str(n), "--seed", str(SEED)]
    else:
        repeat = -(-n // 5000)
        args = ["replay", str(YELLOW), "--repeat", str(repeat)]
    log_file = WORK / f"{topic}.log"
    env = {"PRODUCER_BOOTSTRAP_SERVERS": broker.bootstrap, "PRODUCER_TOPIC": topic}
    try:
        rc, wall, mib = run_measured(
            [sys.executable, "-m", "producer", *args, "--no-progress"], env, log_file, 1800
        )
    finally:
        broker.delete_topic(topic)
    lines = log_file.read_text().splitlines()
    summary = next((json.loads(x) for x in reversed(lines) if x.startswith('{"command"')), None)
    if rc != 0 or summary is None:
        raise RuntimeError(f"producer {kind} failed ({rc}); see {log_file}")
    return summary, wall, mib


def run(scale: str) -> list[Result]:
    n = RECORDS[scale]
    WORK.mkdir(parents=True, exist_ok=True)
    results: list[Result] = []
    with kafka() as broker:
        for kind in ("synthetic", "replay"):
            sample = _payloads(kind)
            size = sum(map(len, sample)) / len(sample)
            payload_file = WORK / f"payload-{kind}.jsonl"
            payload_file.write_bytes(b"\n".join(sample) + b"\n")
            tool = producer_performance(broker, n, payload_file=payload_file, acks="all")
            log(f"ProducerPerformance {kind}: {tool.summary}")
            summary, wall, mib = _ours(broker, kind, n)
            log(f"ours {kind}: {json.dumps(summary)} wall {wall:.1f} s, peak RSS {mib:.0f} MiB")
            rate = float(summary["records_per_s"] or 0)  # type: ignore[arg-type]
            ok = summary["delivered"] == n and summary["failed"] == 0
            results += [
                Result(
                    metric=f"producer {kind} trips/s",
                    value=rate,
                    unit="trips/s",
                    reference=tool.records_per_s,
                    reference_name="ProducerPerformance",
                    goal=f">= {GOAL}x reference",
                    met=ok and rate >= GOAL * tool.records_per_s,
                    note=f"{summary['delivered']:,} delivered of {summary['sent']:,}, "
                    f"{summary['failed']} failed; acks=all; wall {wall:.1f} s incl. start-up",
                ),
                Result(f"producer {kind} record size", size, "bytes/record", note="mean, JSON"),
                Result(f"producer {kind} peak RSS", mib, "MiB", note="VmHWM of the CLI process"),
            ]
    return results
