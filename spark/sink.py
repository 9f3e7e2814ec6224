"""The foreachBatch sink: one micro-batch of validated, deduplicated records -> the lake.

The stateful dedup runs inside the streaming plan; this function receives its output, so its
state is committed with the batch and restored with the checkpoint on a replay.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import DataFrame

from contract.tables import DEAD_LETTERS, TRIPS, ZONE_METRICS, Table
from spark.lake import LakeTarget, write_batch
from spark.transforms import enrich_zones, split, to_dead_letters, to_trips, zone_metrics

QUERY_ID_PROPERTY = "sql.streaming.queryId"  # set by Spark on the thread that runs a batch


def query_tag(df: DataFrame) -> str:
    """First 8 hex digits of the streaming query id (stable across restarts of a checkpoint)."""
    qid = df.sparkSession.sparkContext.getLocalProperty(QUERY_ID_PROPERTY)
    if not qid:
        raise RuntimeError("no streaming query id on this thread: not inside foreachBatch?")
    return qid.replace("-", "")[:8]


@dataclass
class LakeSink:
    target: LakeTarget
    zones: DataFrame
    stats: dict[int, dict[str, Any]] = field(default_factory=dict)  # read by the listener

    def __call__(self, df: DataFrame, batch_id: int) -> None:
        started = time.monotonic()
        tag = query_tag(df)
        df = df.persist()  # three writes read it; compute the batch (and its state) once
        try:
            accepted, rejected = split(df)
            trips = to_trips(enrich_zones(accepted, self.zones))
            target = self.target

            timings: dict[str, int] = {}

            def write(
                frame: DataFrame, table: Table, order: tuple[str, ...]
            ) -> list[tuple[str, int]]:
                t0 = time.monotonic()
                out = write_batch(frame, table, target, batch_id, tag, order)
                timings[f"{table.name}_ms"] = round((time.monotonic() - t0) * 1000)
                return out

            w_trips = write(trips, TRIPS, ("kafka_partition", "kafka_offset"))
            w_dead = write(
                to_dead_letters(rejected),
                DEAD_LETTERS,
                ("topic", "kafka_partition", "kafka_offset"),
            )
            w_metrics = write(
                zone_metrics(trips, batch_id),
                ZONE_METRICS,
                ("window_start", "service", "pickup_zone_id"),
            )
        finally:
            df.unpersist()
        self.stats[batch_id] = {
            "tag": tag,
            "accepted": sum(r for _, r in w_trips),
            "rejected": sum(r for _, r in w_dead),
            "zone_metric_rows": sum(r for _, r in w_metrics),
            "files": len(w_trips) + len(w_dead) + len(w_metrics),
            "sink_ms": round((time.monotonic() - started) * 1000),
            **timings,
        }
