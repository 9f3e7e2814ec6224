"""``python -m bench.ceiling IN.jsonl OUT_URI``: the bare Spark ceiling of the stream job.

The same JSON lines, read from a local file (spark.read.text), parsed with the contract's types
(from_json), partitioned by dt/hour and written as Parquet by Spark's own writer. No Kafka, no
validation, dedup, zone join, metrics or per-batch idempotent objects: what Spark on this box
does at best with the same records. Prints one JSON line: {"rows": n, "seconds": s}.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from pyspark.sql import functions as F

from contract.fields import TRIP_FIELDS
from spark.config import StreamSettings
from spark.session import build_session


def main(argv: list[str]) -> int:
    src, out_uri = argv
    # Everything else from STREAM_* env, as for the job (fields with env aliases: kwargs only).
    overrides: dict[str, str] = {"app_name": "bench-ceiling", "lake_uri": out_uri}
    s = StreamSettings(**overrides)  # type: ignore[arg-type]
    spark = build_session(s)
    try:
        schema = ", ".join(f"`{f.name}` {f.type.spark}" for f in TRIP_FIELDS)
        t0 = time.monotonic()
        lines = spark.read.text(str(Path(src).resolve()))
        js = F.from_json("value", schema).alias("t")
        trips = lines.select(js).select("t.*")
        trips = trips.withColumn("dt", F.date_format("pickup_at", "yyyy-MM-dd")).withColumn(
            "hour", F.date_format("pickup_at", "HH")
        )
        trips.write.mode("overwrite").partitionBy("dt", "hour").parquet(f"{s.lake_uri}/trips")
        seconds = time.monotonic() - t0
        rows = spark.read.parquet(f"{s.lake_uri}/trips").count()
    finally:
        spark.stop()
    print(json.dumps({"rows": rows, "seconds": round(seconds, 3)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
