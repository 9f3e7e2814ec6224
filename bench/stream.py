"""Issue 4: the stream job (``python -m spark`` as a subprocess) from Kafka to the lake on the twin.

One run, one data set (synthetic trips backfilled over one day, made by the producer's CLI):
1. the job with ``--available-now`` drains the topic: sustained trips/s (from its progress
   records, first micro-batch excluded as start-up) and the wall time of the whole run;
2. the ceiling (bench/ceiling.py): bare Spark reads the same JSON lines from a local file, parses
   and writes Parquet to the twin;
3. freshness: the job in processing-time mode while the producer sends live trips at a steady
   rate; per trip, Kafka timestamp (``ingested_at`` in the lake) -> the first listing of the lake
   that shows its Parquet object (listed every ``poll_s``, so each value is high by up to poll_s);
4. peak RSS (VmHWM, summed over each process tree) of broker, twin, job and producer.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from pydantic_settings import BaseSettings, SettingsConfigDict

from bench.infra import BENCH_DIR, ROOT, Lake, kafka, lake, log, run_measured
from bench.procs import PeakRss, vm_hwm_kib
from bench.report import Result
from localstack.kafka import KafkaBroker
from localstack.procs import descendants
from producer.synthetic import Profile, SyntheticTrips, synthetic_records

WORK = BENCH_DIR / "stream"
SEED = 11
BACKFILL = ("2025-01-15T00:00:00", "2025-01-16T00:00:00")


class StreamBenchSettings(BaseSettings):
    """Sizes and the job's tunables for this suite; env vars ``BENCH_STREAM_*``."""

    model_config = SettingsConfigDict(env_prefix="BENCH_STREAM_")

    trips_full: int = 3_000_000
    trips_small: int = 150_000
    live_rate: int = 2000
    live_seconds_full: float = 60
    live_seconds_small: float = 20
    poll_s: float = 0.25
    # Passed to the job as STREAM_* (see spark/config.py); None keeps the job's default.
    max_offsets_per_trigger: int | None = None
    live_trigger_interval: str = "1 second"
    shuffle_partitions: int | None = None
    # The bare-Spark ceiling is a rate: it reads at most this many of the same records (a 3M
    # ceiling alone would take ~40 min on 2 cores and measure the same rate).
    ceiling_trips: int = 500_000
    job_timeout_s: float = 5400  # 3M trips at ~1k/s


def _job_env(broker: KafkaBroker, lk: Lake, topic: str, name: str, **extra: str) -> dict[str, str]:
    prefix = f"bench/{name}"
    return {
        **lk.twin.env(),
        "STREAM_KAFKA_BOOTSTRAP": broker.bootstrap,
        "STREAM_TOPIC": topic,
        "STREAM_LAKE_URI": f"s3a://{lk.bucket}/{prefix}",
        "STREAM_CHECKPOINT_URI": f"{lk.checkpoints_uri}{prefix}",
        "STREAM_MASTER": "local[2]",
        "STREAM_LOCAL_DIR": str(WORK / "tmp"),
        "STREAM_PROGRESS_LOG": str(WORK / f"{name}-progress.jsonl"),
        **extra,
    }


def _tunables(cfg: StreamBenchSettings) -> dict[str, str]:
    out = {}
    if cfg.max_offsets_per_trigger:
        out["STREAM_MAX_OFFSETS_PER_TRIGGER"] = str(cfg.max_offsets_per_trigger)
    if cfg.shuffle_partitions:
        out["STREAM_SHUFFLE_PARTITIONS"] = str(cfg.shuffle_partitions)
    return out


def _progress(name: str) -> list[dict[str, Any]]:
    path = WORK / f"{name}-progress.jsonl"
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def _epoch(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def _produce(broker: KafkaBroker, topic: str, args: list[str], name: str) -> tuple[int, float]:
    """The producer CLI to the end: (records delivered, peak RSS MiB)."""
    env = {"PRODUCER_BOOTSTRAP_SERVERS": broker.bootstrap, "PRODUCER_TOPIC": topic}
    log_file = WORK / f"{name}.log"
    cmd = [sys.executable, "-m", "producer", "synthetic", *args, "--no-progress"]
    rc, wall, mib = run_measured(cmd, env, log_file, 1800)
    lines = log_file.read_text().splitlines()
    summary = next((json.loads(x) for x in reversed(lines) if x.startswith('{"command"')), None)
    if rc != 0 or summary is None or not summary["delivered"]:
        raise RuntimeError(f"producer failed ({rc}); see {log_file}")
    log(f"producer {name}: {summary['delivered']:,} trips in {wall:.1f} s, {mib:.0f} MiB")
    return int(summary["delivered"]), mib


def _write_jsonl(path: Path, n: int) -> None:
    """Records made as the CLI makes them (same seed and range), one JSON object per line."""
    start, end = (datetime.fromisoformat(t + "+00:00") for t in BACKFILL)
    gen = SyntheticTrips(Profile.load(), seed=SEED)
    with path.open("wb") as fh:
        for rec in synthetic_records(gen, count=n, start=start, end=end):
            fh.write(rec.value + b"\n")


def _breakdown(progress: list[dict[str, Any]]) -> str:
    """Median ms per phase of the job's micro-batches (Spark's durationMs + the sink's own)."""
    keys = ["triggerExecution", "addBatch", "latestOffset", "queryPlanning", "walCommit"]
    keys += ["commitOffsets"]
    med = {k: statistics.median(p["durations_ms"].get(k, 0) for p in progress) for k in keys}
    for k in ("sink_ms", "trips_ms", "dead_letters_ms", "zone_metrics_ms", "state_commit_ms"):
        vals = [p[k] for p in progress if p.get(k) is not None]
        if vals:
            med[k] = statistics.median(vals)
    return ", ".join(f"{k} {v:.0f}" for k, v in med.items())


def _throughput(
    broker: KafkaBroker, lk: Lake, cfg: StreamBenchSettings, n: int, run: str
) -> tuple[list[Result], float, float]:
    """Kafka -> lake with --available-now; (results, job trips/s, job peak MiB)."""
    topic = f"bench-load-{run}"
    broker.create_topic(topic)
    produced, producer_mib = _produce(
        broker,
        topic,
        ["--count", str(n), "--seed", str(SEED), "--start", BACKFILL[0], "--end", BACKFILL[1]],
        "load-producer",
    )
    name = f"{run}-drain"
    env = _job_env(broker, lk, topic, name, **_tunables(cfg))
    cmd = [sys.executable, "-m", "spark", "--available-now"]
    rc, wall, job_mib = run_measured(cmd, env, WORK / f"{name}.log", cfg.job_timeout_s)
    if rc != 0:
        raise RuntimeError(f"stream job failed ({rc}); see {WORK / f'{name}.log'}")
    progress = [p for p in _progress(name) if p["rows_in"]]
    rows = sum(p["rows_in"] for p in progress)
    accepted = sum(p["accepted"] for p in progress)
    steady = progress[1:] or progress  # batch 0 carries JVM warm-up and first-plan costs
    span_s = (
        _epoch(steady[-1]["trigger_at"])
        + steady[-1]["batch_ms"] / 1000
        - _epoch(steady[0]["trigger_at"])
    )
    rate = sum(p["rows_in"] for p in steady) / span_s
    log(f"job drained {rows:,} rows ({accepted:,} accepted) in {wall:.1f} s; {rate:,.0f}/s")
    log(f"job batch medians (ms): {_breakdown(progress)}")
    complete = rows == produced == n and accepted == n
    results = [
        Result(
            f"stream {n / 1e6:g}M trips end to end",
            wall,
            "s",
            goal="<= 180 s for 3M" if n == 3_000_000 else None,
            met=(complete and wall <= 180) if n == 3_000_000 else None,
            note=f"job wall time, JVM start to exit, {len(progress)} batches; all {n:,} in the "
            f"lake: {complete}",
        ),
        Result(
            "stream producer (load) peak RSS", producer_mib, "MiB", note=f"{n:,} backfill trips"
        ),
        Result("stream job (drain) peak RSS", job_mib, "MiB", note="driver python + JVM"),
    ]
    # The ceiling reads the same records from a local file.
    data = WORK / "trips.jsonl"
    _write_jsonl(data, min(n, cfg.ceiling_trips))
    cname = f"{run}-ceiling"
    cenv = _job_env(broker, lk, topic, cname)
    ccmd = [sys.executable, "-m", "bench.ceiling", str(data), cenv["STREAM_LAKE_URI"]]
    crc, _, ceiling_mib = run_measured(ccmd, cenv, WORK / f"{cname}.log", cfg.job_timeout_s)
    data.unlink()
    lines = (WORK / f"{cname}.log").read_text().splitlines()
    out = next((json.loads(x) for x in reversed(lines) if x.startswith('{"rows"')), None)
    if crc != 0 or out is None:
        raise RuntimeError(f"ceiling failed ({crc}); see {WORK / f'{cname}.log'}")
    ceiling = out["rows"] / out["seconds"]
    log(f"ceiling: {out['rows']:,} rows in {out['seconds']:.1f} s = {ceiling:,.0f}/s")
    results += [
        Result(
            "stream sustained trips/s (Kafka -> lake)",
            rate,
            "trips/s",
            reference=ceiling,
            reference_name="bare Spark file -> Parquet",
            goal=">= 0.6x reference",
            met=complete and rate >= 0.6 * ceiling,
            note=f"{len(steady)} of {len(progress)} batches (the first only when alone); "
            f"ceiling wrote {out['rows']:,} rows in {out['seconds']:.1f} s",
        ),
        Result("stream ceiling job peak RSS", ceiling_mib, "MiB", note="driver python + JVM"),
    ]
    return results, rate, job_mib


def _poll(
    lk: Lake, prefix: str, seen: dict[str, float], stop: threading.Event, every_s: float
) -> None:
    s3 = lk.s3()
    while not stop.is_set():
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=lk.bucket, Prefix=prefix)
        keys = [o["Key"] for p in pages for o in p.get("Contents", [])]
        now = time.time()  # after the listing: the object was there by now (an upper bound)
        for k in keys:
            if k.endswith(".parquet"):
                seen.setdefault(k, now)
        stop.wait(every_s)


def _wait_rows(name: str, rows: int, timeout_s: float, proc: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        if sum(p["rows_in"] for p in _progress(name)) >= rows:
            return True
        time.sleep(0.5)
    return False


def _freshness(
    broker: KafkaBroker, lk: Lake, cfg: StreamBenchSettings, seconds: float, run: str
) -> list[Result]:
    topic = f"bench-live-{run}"
    broker.create_topic(topic)
    name = f"{run}-live"
    env = _job_env(
        broker,
        lk,
        topic,
        name,
        STREAM_TRIGGER_INTERVAL=cfg.live_trigger_interval,
        **_tunables(cfg),
    )
    log_path = WORK / f"{name}.log"
    warmup = 2000
    with log_path.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "spark"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    seen: dict[str, float] = {}
    stop = threading.Event()
    prefix = f"bench/{name}/trips/"
    try:
        with PeakRss(proc.pid) as job_rss:
            # Warm-up trips first: JVM start and the first plan are not steady-state latency.
            _produce(broker, topic, ["--count", str(warmup), "--seed", "1"], "live-warmup")
            if not _wait_rows(name, warmup, 300, proc):
                raise RuntimeError(f"the live job did not take the warm-up; see {log_path}")
            poller = threading.Thread(
                target=_poll, args=(lk, prefix, seen, stop, cfg.poll_s), daemon=True
            )
            poller.start()
            live_from = time.time()
            sent, producer_mib = _produce(
                broker,
                topic,
                ["--rate", str(cfg.live_rate), "--duration", str(seconds), "--seed", "2"],
                "live-producer",
            )
            done = _wait_rows(name, warmup + sent, 120, proc)
            time.sleep(2 * cfg.poll_s)
            stop.set()
            poller.join()
            progress = _progress(name)
    finally:
        stop.set()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the job stops after its current batch
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(30)
    fs = pafs.S3FileSystem(
        endpoint_override=lk.twin.endpoint_url.removeprefix("http://"),
        scheme="http",
        region=lk.twin.settings.region,
        access_key=lk.twin.settings.access_key_id,
        secret_key=lk.twin.settings.secret_access_key,
    )
    lat: list[np.ndarray] = []
    for key, at in seen.items():
        col = pq.read_table(f"{lk.bucket}/{key}", filesystem=fs, columns=["ingested_at"])
        ts = col.column(0).cast("int64").to_numpy() / 1e6
        ts = ts[ts >= live_from]
        lat.append(at - ts)
    lats = np.concatenate(lat) if lat else np.array([])
    live = [p for p in progress if p["rows_in"]][1:]
    log(
        f"freshness: {len(lats):,} of {sent:,} live trips seen in {len(seen)} objects; "
        f"job batches {len(live)}, medians (ms): {_breakdown(live) if live else '-'}"
    )
    p50, p95 = (float(np.percentile(lats, q)) if len(lats) else float("nan") for q in (50, 95))
    complete = done and len(lats) == sent
    note = (
        f"{sent:,} trips at {cfg.live_rate}/s for {seconds:g} s, trigger "
        f"{cfg.live_trigger_interval!r}; Kafka timestamp -> first lake listing showing the "
        f"object (polled every {cfg.poll_s} s); all seen: {complete}"
    )
    return [
        Result("stream freshness p50", p50, "s", note=note),
        Result(
            "stream freshness p95",
            p95,
            "s",
            goal="<= 10 s",
            met=complete and p95 <= 10,
            note=note,
        ),
        Result("stream job (live) peak RSS", job_rss.mib, "MiB", note="driver python + JVM"),
        Result("stream producer (live) peak RSS", producer_mib, "MiB", note="--rate producer"),
    ]


def run(scale: str) -> list[Result]:
    cfg = StreamBenchSettings()
    n = cfg.trips_full if scale == "full" else cfg.trips_small
    seconds = cfg.live_seconds_full if scale == "full" else cfg.live_seconds_small
    run_id = uuid.uuid4().hex[:8]
    WORK.mkdir(parents=True, exist_ok=True)
    with kafka() as broker, lake() as lk:
        results, _, _ = _throughput(broker, lk, cfg, n, run_id)
        results += _freshness(broker, lk, cfg, seconds, run_id)
        broker_pid, twin_pid = broker.pid(), lk.twin.pid()
        broker_mib = (vm_hwm_kib(broker_pid) or 0) / 1024 if broker_pid else 0.0
        twin_mib = (
            sum(vm_hwm_kib(p) or 0 for p in descendants(twin_pid)) / 1024 if twin_pid else 0.0
        )
    results += [
        Result("stream Kafka broker peak RSS", broker_mib, "MiB", note="JVM, whole suite"),
        Result("stream twin peak RSS", twin_mib, "MiB", note="MiniStack, whole suite"),
    ]
    return results
