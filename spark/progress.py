"""One JSON line per micro-batch: to a local log and to ``_pipeline/progress/`` in the lake."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from pyspark.sql.streaming.listener import (
    QueryIdleEvent,
    QueryProgressEvent,
    QueryStartedEvent,
    QueryTerminatedEvent,
    StreamingQueryListener,
)

from spark.lake import LakeTarget, put_json

PROGRESS_DIR = "_pipeline/progress"


def kafka_lag(end_offset: str | None, latest_offset: str | None) -> int | None:
    """Records in Kafka not yet read after this batch: sum over partitions of latest - end."""
    try:
        end, latest = json.loads(end_offset or ""), json.loads(latest_offset or "")
    except ValueError:  # absent on a batch replayed after a restart
        return None
    lag = 0
    for topic, parts in latest.items():
        for p, off in parts.items():
            lag += max(0, int(off) - int(end.get(topic, {}).get(p, 0)))
    return lag


def _json_or_none(text: str | None) -> Any:
    try:
        return json.loads(text or "")
    except ValueError:
        return None


def progress_record(p: Any, sink_stats: dict[str, Any] | None) -> dict[str, Any]:
    """A StreamingQueryProgress (+ the sink's counts of that batch) as a flat dict."""
    state = p.stateOperators[0] if p.stateOperators else None
    src = p.sources[0] if p.sources else None
    stats = dict(sink_stats or {})
    return {
        "batch_id": p.batchId,
        "query_id": str(p.id),
        "run_id": str(p.runId),
        "trigger_at": p.timestamp,
        "rows_in": p.numInputRows,
        "accepted": stats.pop("accepted", 0),
        "rejected": stats.pop("rejected", 0),
        "duplicates_dropped": int(state.customMetrics.get("numDroppedDuplicateRows", 0))
        if state
        else 0,
        "late_dropped": state.numRowsDroppedByWatermark if state else 0,
        "dedup_state_rows": state.numRowsTotal if state else 0,
        "batch_ms": p.durationMs.get("triggerExecution"),
        "durations_ms": dict(p.durationMs),
        "state_commit_ms": state.commitTimeMs if state else None,
        "state_update_ms": state.allUpdatesTimeMs if state else None,
        "input_rows_per_s": p.inputRowsPerSecond,
        "processed_rows_per_s": p.processedRowsPerSecond,
        "kafka_lag": kafka_lag(src.endOffset, src.latestOffset) if src else None,
        "end_offsets": _json_or_none(src.endOffset) if src else None,
        **stats,
    }


class ProgressListener(StreamingQueryListener):
    def __init__(
        self, sink_stats: dict[int, dict[str, Any]], target: LakeTarget, log: Path | None
    ) -> None:
        self.sink_stats = sink_stats
        self.target = target
        self.log = log
        self.last_batch = -1  # the last batch written out (events arrive asynchronously)
        if log:
            log.parent.mkdir(parents=True, exist_ok=True)

    def onQueryStarted(self, event: QueryStartedEvent) -> None:
        pass

    def onQueryProgress(self, event: QueryProgressEvent) -> None:
        p = event.progress
        rec = progress_record(p, self.sink_stats.pop(p.batchId, None))
        line = json.dumps(rec, default=str)
        if self.log:
            with self.log.open("a") as fh:
                fh.write(line + "\n")
        print(f"progress {line}", flush=True)
        try:
            name = f"batch-{p.batchId:012d}-{str(p.id).replace('-', '')[:8]}.json"
            put_json(self.target, f"{PROGRESS_DIR}/{name}", rec)
            put_json(self.target, f"{PROGRESS_DIR}/latest.json", rec)
        except Exception as exc:  # status is best effort; never stop the stream for it
            print(f"progress: lake write failed: {exc}", file=sys.stderr, flush=True)
        self.last_batch = max(self.last_batch, p.batchId)

    def wait_for(self, batch_id: int, timeout_s: float = 15.0) -> bool:
        """Wait until the listener has written ``batch_id`` (before stopping the session)."""
        deadline = time.monotonic() + timeout_s
        while self.last_batch < batch_id and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.last_batch >= batch_id

    def onQueryIdle(self, event: QueryIdleEvent) -> None:
        pass

    def onQueryTerminated(self, event: QueryTerminatedEvent) -> None:
        if event.exception:
            print(f"query terminated: {event.exception}", file=sys.stderr, flush=True)
