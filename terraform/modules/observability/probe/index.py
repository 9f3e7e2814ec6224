"""Freshness probe: turns the stream's ``_pipeline/progress/latest.json`` into CloudWatch metrics.

Runs every minute (EventBridge Scheduler). The stream job writes that file after each micro-batch
(spark/progress.py); alarms on these metrics catch a stalled stream and a surge of rejects.
Standard library + boto3 only: the Lambda runtime provides both.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime
from typing import Any

import boto3

NAMESPACE = os.environ.get("METRIC_NAMESPACE", "NycTaxi/Pipeline")


def metrics_from(progress: dict[str, Any], now: float) -> dict[str, float]:
    """FreshnessSeconds (age of the last micro-batch), RejectedRatio and KafkaLag."""
    trigger = datetime.fromisoformat(str(progress["trigger_at"]).replace("Z", "+00:00"))
    rows = int(progress.get("rows_in") or 0)
    out = {
        "FreshnessSeconds": max(0.0, now - trigger.timestamp()),
        "RejectedRatio": int(progress.get("rejected") or 0) / rows if rows else 0.0,
    }
    if progress.get("kafka_lag") is not None:
        out["KafkaLag"] = float(progress["kafka_lag"])
    return out


def handler(_event: object, _context: object) -> dict[str, float]:
    bucket, key = os.environ["LAKE_BUCKET"], os.environ["PROGRESS_KEY"]
    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    values = metrics_from(json.loads(body), time.time())
    boto3.client("cloudwatch").put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[
            {
                "MetricName": name,
                "Dimensions": [{"Name": "Pipeline", "Value": os.environ["PIPELINE"]}],
                "Value": value,
                "Unit": "Seconds" if name == "FreshnessSeconds" else "None",
            }
            for name, value in values.items()
        ],
    )
    return values
