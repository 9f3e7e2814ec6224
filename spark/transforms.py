"""Pure DataFrame -> DataFrame steps of the stream, each testable on a tiny frame.

Order: parse -> validate -> slim -> dedup (streaming, stateful) -> split; then per micro-batch
accepted -> enrich_zones -> to_trips (+ zone_metrics), rejected -> to_dead_letters.
Every column list comes from the contract.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from contract.fields import MAX_TIMESTAMP, MIN_TIMESTAMP, TRIP_FIELDS, FieldType
from contract.rules import RULES, raw
from contract.tables import DEAD_LETTERS, TRIPS, ZONE_METRICS, Table
from spark.schemas import raw_json_schema

# The Kafka source's columns that parse reads (key, timestampType are not used).
KAFKA_COLUMNS = ("value", "topic", "partition", "offset", "timestamp")

# Strict JSON: what Spark tolerates by default (single quotes, NaN) is not JSON elsewhere.
_JSON_OPTIONS = {"allowSingleQuotes": "false", "allowNonNumericNumbers": "false"}
_FIELD_NAMES = [f.name for f in TRIP_FIELDS]
# A \u escape of half a surrogate pair (JavaScript writes them for broken strings) is not
# Unicode: Jackson reads it as "?", DuckDB refuses it. Escapes start after an even run of
# backslashes; a high half needs a low one next, a low half a high one before (not a literal
# "uD83D" after an escaped backslash).
_HIGH, _LOW = "[dD][89abAB][0-9a-fA-F]{2}", "[dD][c-fC-F][0-9a-fA-F]{2}"
_LONE_SURROGATE = (
    rf"(?<!\\)(?:\\\\)*"
    rf"(?:\\u{_HIGH}(?!\\u{_LOW})|(?<!\\u{_HIGH})\\u{_LOW}|(?<=\\)u{_HIGH}\\u{_LOW})"
)
METRICS_WINDOW_S = 300
CARD = 1  # payment_type of card trips: the only trips whose tips are recorded


def _require_utc(df: DataFrame) -> None:
    # dt/hour partitions and naive timestamp strings are read in the session time zone.
    tz = df.sparkSession.conf.get("spark.sql.session.timeZone")
    if tz not in ("UTC", "Etc/UTC", "Z", "+00:00"):
        raise ValueError(f"spark.sql.session.timeZone must be UTC, not {tz}")


def _typed(name: str, ftype: FieldType) -> Column:
    text = F.col(raw(name))
    pattern = ftype.text_pattern
    if pattern is None:
        return text
    value = F.expr(f"try_cast({raw(name)} AS {ftype.spark})")
    ok = text.rlike(pattern)
    if ftype is FieldType.TIMESTAMP:
        # ANSI mode would fail the batch on `pickup_at + INTERVAL 1 DAY` overflowing.
        lo, hi = F.lit(MIN_TIMESTAMP).cast("timestamp"), F.lit(MAX_TIMESTAMP).cast("timestamp")
        ok = ok & value.between(lo, hi)
    return F.when(ok, value)


def parse(df: DataFrame) -> DataFrame:
    """Kafka rows -> contract columns typed, ``raw__<field>`` texts, ``_is_object``, ..."""
    _require_utc(df)
    text = F.col("value").cast("string")  # invalid UTF-8 becomes U+FFFD here: checked below
    # One JSON parse per record (the key list below only tokenizes it again). Jackson stops at
    # the end of the first value and ignores the rest, so the value goes between `[` and
    # `,null]`: anything after one object (`{..} xyz`, `{..}{..}`, `{..}, 3`) is a parse error
    # or an element more, and `{..}]` (a piece of a split array) closes the array early, losing
    # the null. Only a value that itself ends in `,null]` passes for more than it is; no feed
    # does that by accident.
    wrapped = F.from_json(
        F.concat(F.lit("["), text, F.lit(",null]")),
        f"array<{raw_json_schema().simpleString()}>",
        _JSON_OPTIONS,
    )
    one_object = (
        (F.size(wrapped) == 2)
        & F.get(wrapped, 1).isNull()
        & text.rlike(r"^\s*\{")
        & F.is_valid_utf8("value")
        & ~(text.contains("\\u") & text.rlike(_LONE_SURROGATE))  # contains: skip most regexes
    )
    is_object = F.coalesce(one_object, F.lit(False))
    parsed = df.select(
        *KAFKA_COLUMNS,
        F.octet_length("value").alias("_raw_bytes"),
        F.col("timestamp").alias("ingested_at"),
        is_object.alias("_is_object"),
        F.get(wrapped, 0).alias("_json"),  # [0] would fail the batch on an empty value
    )
    js, obj = F.col("_json"), F.col("_is_object")
    raws = [F.when(obj, js[f.name]).alias(raw(f.name)) for f in TRIP_FIELDS]
    keyed = parsed.select(*parsed.columns, *raws, F.when(obj, F.json_object_keys(text)).alias("_k"))
    keys, known = F.col("_k"), F.array(*[F.lit(n) for n in _FIELD_NAMES])  # keys with repeats
    as_written = keys == known  # all fields in contract order, as our producers write: no sets
    unknown = F.size(F.array_except(keys, known))  # distinct unknown keys
    repeated = F.size(keys) - F.size(F.array_distinct(keys))
    counted = keyed.select(
        *keyed.columns,
        F.when(as_written, 0).otherwise(unknown).alias("_unknown_keys"),
        F.when(as_written, 0).otherwise(repeated).alias("_duplicate_keys"),
    ).drop("_json", "_k")
    return counted.select("*", *[_typed(f.name, f.type).alias(f.name) for f in TRIP_FIELDS])


def validate(df: DataFrame) -> DataFrame:
    """Adds ``reasons``: sorted reason codes of every rule whose condition holds (NULL = no)."""
    checks = [
        F.when(F.coalesce(F.expr(f"({r.condition})"), F.lit(False)), F.lit(r.reason)) for r in RULES
    ]
    return df.withColumn(
        "reasons", F.array_sort(F.filter(F.array(*checks), lambda x: x.isNotNull()))
    )


def slim(df: DataFrame) -> DataFrame:
    """Drops parse's helper columns once ``reasons`` is known: they double a row's width, and
    dedup shuffles and the sink caches every row."""
    helpers = ("_is_object", "_raw_bytes", "_unknown_keys", "_duplicate_keys")
    return df.drop(*[raw(f.name) for f in TRIP_FIELDS], *helpers)


def split(df: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(accepted, rejected) by ``reasons``.

    Filter a persisted (or post-dedup) frame: on a plain plan Spark pushes the filter below the
    projections and inlines the JSON parse into every rule condition, which is very slow.
    """
    ok = F.size("reasons") == 0
    return df.filter(ok), df.filter(~ok)


def dedup(df: DataFrame, window: str) -> DataFrame:
    """Drops a repeated trip_id of an accepted record seen within ``window`` of processing time.

    The watermark column is the micro-batch's trigger time (``current_timestamp()`` is fixed per
    batch and stored in the offset log, so a replayed batch sees the same value). Event time
    would make replays of old files "late" and drop them whole, valid or not; Kafka's timestamp
    would drop a lagging partition's rows as late during a catch-up. Rejected records keep a
    unique key (their Kafka position) so none of them is dropped: all go to dead letters.
    """
    accepted = F.size("reasons") == 0
    key = F.when(accepted, F.concat(F.lit("t:"), F.col("trip_id"))).otherwise(
        F.concat_ws("/", F.lit("r:"), "topic", "partition", "offset")
    )
    keyed = df.withColumn("_dedup_key", key)
    if not df.isStreaming:  # a batch frame has no watermark: plain dedup of what it holds
        return keyed.dropDuplicates(["_dedup_key"]).drop("_dedup_key")
    return (
        keyed.withColumn("_dedup_at", F.current_timestamp())
        .withWatermark("_dedup_at", window)
        .dropDuplicatesWithinWatermark(["_dedup_key"])
        .drop("_dedup_key", "_dedup_at")
    )


def load_zone_frame(df: DataFrame) -> DataFrame:
    """The zone lookup CSV's columns -> (zone_id, borough, zone)."""
    return df.select(
        F.col("LocationID").cast("int").alias("zone_id"),
        F.col("Borough").alias("borough"),
        F.col("Zone").alias("zone"),
    )


def enrich_zones(df: DataFrame, zones: DataFrame) -> DataFrame:
    """Adds pickup/dropoff borough and zone names (broadcast: 265 rows)."""
    out = df
    for side in ("pickup", "dropoff"):
        z = F.broadcast(
            zones.select(
                F.col("zone_id").alias(f"_{side}_id"),
                F.col("borough").alias(f"{side}_borough"),
                F.col("zone").alias(f"{side}_zone"),
            )
        )
        out = out.join(z, out[f"{side}_zone_id"] == z[f"_{side}_id"], "left").drop(f"_{side}_id")
    return out


def add_partitions(df: DataFrame, ts: str = "pickup_at", hour: bool = True) -> DataFrame:
    """dt = YYYY-MM-DD (and hour = HH) of ``ts`` in UTC."""
    _require_utc(df)
    out = df.withColumn("dt", F.date_format(ts, "yyyy-MM-dd"))
    return out.withColumn("hour", F.date_format(ts, "HH")) if hour else out


def conform(df: DataFrame, table: Table) -> DataFrame:
    """Exactly the table's columns then its partition keys, in contract order and types."""
    cols = table.columns + table.partition_keys
    return df.select(*[F.col(c.name).cast(c.type.spark).alias(c.name) for c in cols])


def to_trips(df: DataFrame) -> DataFrame:
    """Accepted, enriched records -> rows of the trips table (+ dt, hour)."""
    out = df.select(
        "*",
        (F.unix_seconds("dropoff_at") - F.unix_seconds("pickup_at")).alias("duration_s"),
        F.col("partition").alias("kafka_partition"),
        F.col("offset").alias("kafka_offset"),
    )
    return conform(add_partitions(out, "pickup_at"), TRIPS)


def to_dead_letters(df: DataFrame) -> DataFrame:
    """Rejected records -> rows of the dead_letters table (+ dt of ingested_at)."""
    out = df.select(
        "*",
        F.make_valid_utf8(F.col("value").cast("string")).alias("raw_value"),
        F.col("partition").alias("kafka_partition"),
        F.col("offset").alias("kafka_offset"),
    )
    return conform(add_partitions(out, "ingested_at", hour=False), DEAD_LETTERS)


def zone_metrics(trips: DataFrame, batch_id: int) -> DataFrame:
    """Additive partial aggregates of one micro-batch's trips per 5-minute pickup window."""
    secs = F.unix_seconds("pickup_at")
    card = F.col("payment_type") == CARD
    agg = (
        trips.withColumn(
            "window_start", F.timestamp_seconds(secs - F.pmod(secs, F.lit(METRICS_WINDOW_S)))
        )
        .groupBy("window_start", "service", "pickup_zone_id", "pickup_borough")
        .agg(
            F.count(F.lit(1)).alias("trips"),
            F.sum(F.coalesce("passenger_count", F.lit(0))).alias("passengers"),
            F.sum("total_amount").alias("revenue"),
            F.sum("fare_amount").alias("fare_sum"),
            F.sum("trip_distance").alias("distance_sum"),
            F.sum("duration_s").alias("duration_s_sum"),
            F.sum(F.when(card, F.coalesce("tip_amount", F.lit(0.0))).otherwise(0.0)).alias(
                "card_tip_sum"
            ),
            F.sum(F.when(card, F.col("fare_amount")).otherwise(0.0)).alias("card_fare_sum"),
        )
        .withColumn("batch_id", F.lit(batch_id))
    )
    return conform(add_partitions(agg, "window_start"), ZONE_METRICS)
