"""Entry point: wires the Kafka source, the transforms and the lake sink; nothing else."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from typing import Any

from spark.config import StreamSettings


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m spark",
        description="Stream trips from Kafka into the lake (trips, zone_metrics, dead_letters). "
        "Every setting is an env var STREAM_<NAME> (see spark/config.py); flags override.",
    )
    p.add_argument(
        "--available-now",
        "--once",
        dest="available_now",
        action="store_true",
        help="process what is in Kafka now (in micro-batches), then stop",
    )
    p.add_argument("--bootstrap", dest="kafka_bootstrap", help="Kafka bootstrap servers")
    p.add_argument("--topic", help="Kafka topic")
    p.add_argument("--lake-uri", help="s3a://bucket[/prefix] (s3:// on EMR, file:// for tests)")
    p.add_argument("--checkpoint-uri", help="default: <lake-uri>/_pipeline/checkpoint/<topic>")
    p.add_argument("--trigger-interval", help='e.g. "10 seconds"')
    p.add_argument("--max-offsets-per-trigger", type=int)
    return p.parse_args(argv)


def settings_from(args: argparse.Namespace) -> StreamSettings:
    flags = {k: v for k, v in vars(args).items() if v is not None and k != "available_now"}
    return StreamSettings(**flags)


def run(s: StreamSettings, available_now: bool) -> None:
    # Spark is imported here so `--help` and config errors answer without starting a JVM.
    from spark import sources, transforms
    from spark.lake import LakeTarget
    from spark.progress import ProgressListener
    from spark.session import build_session
    from spark.sink import LakeSink

    spark = build_session(s)
    target = LakeTarget.from_settings(s)
    zones = sources.zones(spark, s.zone_table).cache()
    sink = LakeSink(target=target, zones=zones)
    listener = ProgressListener(sink.stats, target, s.progress_log)
    spark.streams.addListener(listener)

    records = transforms.validate(transforms.parse(sources.kafka_stream(spark, s)))
    deduped = transforms.dedup(transforms.slim(records), s.dedup_window)

    writer = deduped.writeStream.queryName(s.app_name).option("checkpointLocation", s.checkpoint)
    trigger: dict[str, Any] = (
        {"availableNow": True} if available_now else {"processingTime": s.trigger_interval}
    )
    query = writer.foreachBatch(sink).trigger(**trigger).start()
    print(f"started query {query.id} topic={s.topic} checkpoint={s.checkpoint}", flush=True)

    def stop(signum: int, _frame: Any) -> None:
        print(f"signal {signum}: stopping after the current micro-batch", flush=True)
        query.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        query.awaitTermination()
        last = query.lastProgress
        if last:  # progress events are asynchronous: let the last one be written
            listener.wait_for(int(last["batchId"]))
    finally:
        spark.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    run(settings_from(args), args.available_now)
    return 0


if __name__ == "__main__":
    sys.exit(main())
