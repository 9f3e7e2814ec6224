"""Inputs of the job: the Kafka stream and the zone lookup table."""

from __future__ import annotations

import csv
import io
from importlib import resources

from pyspark.sql import DataFrame, SparkSession

from spark.config import StreamSettings
from spark.transforms import load_zone_frame

ZONE_CSV = "taxi_zone_lookup.csv"
_ZONE_DDL = "LocationID int, Borough string, Zone string, service_zone string"


def kafka_stream(spark: SparkSession, s: StreamSettings) -> DataFrame:
    reader = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", s.kafka_bootstrap)
        .option("subscribe", s.topic)
        .option("startingOffsets", s.starting_offsets)
        .option("failOnDataLoss", str(s.fail_on_data_loss).lower())
    )
    if s.max_offsets_per_trigger:
        reader = reader.option("maxOffsetsPerTrigger", s.max_offsets_per_trigger)
    for k, v in s.kafka_options.items():
        reader = reader.option(k if k.startswith("kafka.") else f"kafka.{k}", v)
    return reader.load()


def zone_rows(text: str) -> list[tuple[int, str, str, str]]:
    """Rows of the zone CSV as text; "N/A" stays a string (it names zones 264 and 265)."""
    reader = csv.DictReader(io.StringIO(text))
    return [(int(r["LocationID"]), r["Borough"], r["Zone"], r["service_zone"]) for r in reader]


def zones(spark: SparkSession, path: str | None = None) -> DataFrame:
    """(zone_id, borough, zone) from the contract's CSV (shipped with the code) or ``path``."""
    if path is None:
        # importlib.resources also reads from the zip EMR gets through --py-files.
        text = resources.files("contract").joinpath(ZONE_CSV).read_text(encoding="utf-8")
        df = spark.createDataFrame(zone_rows(text), _ZONE_DDL)
    else:
        # No nullValue: Spark's default ("") leaves "N/A" a string.
        df = spark.read.csv(path, header=True, schema=_ZONE_DDL)
    return load_zone_frame(df)
