"""The stream's transforms and sink on tiny frames built here (one local Spark for the module)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from contract.check import reasons as duckdb_reasons
from contract.fields import TRIP_FIELDS, FieldType
from contract.record import encode
from contract.rules import RULES
from contract.tables import DEAD_LETTERS, TRIPS, ZONE_METRICS
from producer.bad import BAD_KINDS
from producer.synthetic import Profile, SyntheticTrips

pytestmark = pytest.mark.spark

INGEST = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
KAFKA_DDL = (
    "key binary, value binary, topic string, partition int, offset bigint, "
    "timestamp timestamp, timestampType int"
)
Record = dict[str, Any]


def iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def records(n: int, seed: int = 11, end: datetime = INGEST - timedelta(hours=1)) -> list[Record]:
    """Good records from the producer's generator (all contract fields), unique trip ids."""
    recs = SyntheticTrips(Profile.load(), seed=seed).chunk(n, np.full(n, end.timestamp()))
    for i, r in enumerate(recs):
        r.update(trip_id=f"t-{seed}-{i}", passenger_count=1, store_and_fwd_flag="N")
    return recs


def good() -> Record:
    return records(1)[0]


def with_json(rec: Record, field: str, literal: bytes) -> bytes:
    """``rec`` encoded with ``field``'s value written as ``literal`` (JSON orjson won't write)."""
    value = encode({**rec, field: "\x00"})
    assert value.count(b'"\\u0000"') == 1
    return value.replace(b'"\\u0000"', literal)


def without(rec: Record, field: str) -> Record:
    return {k: v for k, v in rec.items() if k != field}


def kafka_rows(
    values: list[bytes | None], partition: int = 0, first_offset: int = 0, at: datetime = INGEST
) -> list[tuple[Any, ...]]:
    return [(None, v, "trips", partition, first_offset + i, at, 0) for i, v in enumerate(values)]


def kafka_df(spark: Any, values: list[bytes | None], **kw: Any) -> Any:
    return spark.createDataFrame(kafka_rows(values, **kw), KAFKA_DDL)


def run_validate(spark: Any, values: list[bytes | None]) -> list[Any]:
    from spark.transforms import parse, validate

    rows = validate(parse(kafka_df(spark, values))).collect()
    return sorted(rows, key=lambda r: r["offset"])


# ---- every rule: one record that breaks it, one that passes it ----------------------------


def breaking_cases(rec: Record) -> dict[str, bytes]:
    """rule name -> a value that breaks that rule (and should break only it, or close)."""
    pickup = datetime.fromisoformat(rec["pickup_at"])
    cases: dict[str, bytes] = {
        "json_object": b"[1, 2]",
        "record_size": encode({**rec, "source": "x" * 70_000}),
        "schema_version": encode({**rec, "schema_version": 2}),
        "known_fields": encode({**rec, "color": None}),
        "unique_fields": encode(rec)[:-1] + b',"trip_id":"other"}',
        "service": encode({**rec, "service": "blue"}),
        "trip_id_shape": encode({**rec, "trip_id": ""}),
        "dropoff_after_pickup": encode({**rec, "dropoff_at": iso(pickup - timedelta(seconds=1))}),
        "trip_duration": encode({**rec, "dropoff_at": iso(pickup + timedelta(days=1, seconds=1))}),
        "pickup_not_future": encode(
            {
                **rec,
                "pickup_at": iso(INGEST + timedelta(days=1, minutes=1)),
                "dropoff_at": iso(INGEST + timedelta(days=1, minutes=9)),
            }
        ),
        "pickup_after_2009": encode(
            {**rec, "pickup_at": "2008-12-31T23:59:59Z", "dropoff_at": "2009-01-01T00:09:00Z"}
        ),
        "pickup_zone": encode({**rec, "pickup_zone_id": 266}),
        "dropoff_zone": encode({**rec, "dropoff_zone_id": 0}),
        "distance_not_negative": encode({**rec, "trip_distance": -0.01}),
        "distance_plausible": encode({**rec, "trip_distance": 1000.01}),
        "amount_plausible": encode({**rec, "total_amount": -10_000.01}),
        "passenger_count_range": encode({**rec, "passenger_count": 10}),
        "store_and_fwd_flag": encode({**rec, "store_and_fwd_flag": "y"}),
    }
    for f in TRIP_FIELDS:
        if f.required:
            cases[f"{f.name}_present"] = encode(without(rec, f.name))
        if f.type is not FieldType.STRING:
            cases[f"{f.name}_type"] = encode({**rec, f.name: "twelve"})
    return cases


def passing_cases(rec: Record) -> dict[str, bytes]:
    """Values at the edge of each value rule that must still be accepted (real trips)."""
    pickup = datetime.fromisoformat(rec["pickup_at"])
    future = INGEST + timedelta(hours=23)
    return {
        "zero_length_trip": encode({**rec, "dropoff_at": rec["pickup_at"]}),
        "exactly_one_day": encode({**rec, "dropoff_at": iso(pickup + timedelta(days=1))}),
        "clock_skew": encode(
            {**rec, "pickup_at": iso(future), "dropoff_at": iso(future + timedelta(minutes=5))}
        ),
        "first_2009_instant": encode(
            {**rec, "pickup_at": "2009-01-01T00:00:00Z", "dropoff_at": "2009-01-01T00:10:00Z"}
        ),
        "zones_1_and_265": encode({**rec, "pickup_zone_id": 1, "dropoff_zone_id": 265}),
        "zone_264": encode({**rec, "pickup_zone_id": 264}),
        "zero_distance": encode({**rec, "trip_distance": 0.0}),
        "max_distance": encode({**rec, "trip_distance": 1000}),
        "refund": encode({**rec, "fare_amount": -10_000, "total_amount": -9_999.5}),
        "zero_passengers": encode({**rec, "passenger_count": 0}),
        "nine_passengers": encode({**rec, "passenger_count": 9}),
        "null_passengers_and_flag": encode(
            {**rec, "passenger_count": None, "store_and_fwd_flag": None}
        ),
        "flag_y": encode({**rec, "store_and_fwd_flag": "Y"}),
        "optional_fields_absent": encode(
            {k: v for k, v in rec.items() if k in {f.name for f in TRIP_FIELDS if f.required}}
        ),
        "long_trip_id": encode({**rec, "trip_id": "x" * 128}),
        "lenient_json_words_in_strings": encode({**rec, "source": "replay:NaN, inf,}.csv"}),
        "escaped_surrogate_pair": with_json(rec, "source", rb'"synthetic \ud83d\ude95"'),
        "nested_repeated_key_is_its_own": encode({**rec, "source": '{"a": 1, "a": 2}'}),
        "offset_and_fraction": encode({**rec, "pickup_at": iso(pickup)[:-1] + ".25-00:00"}),
        "number_as_string": encode({**rec, "fare_amount": "12.5", "pickup_zone_id": "7"}),
        "other_payment_codes": encode({**rec, "payment_type": 0, "rate_code_id": 99}),
    }


def parity_cases(rec: Record) -> dict[str, tuple[bytes, list[str]]]:
    """Values each engine's own parser or cast reads differently, and the verdict both give.

    Spark (Jackson, Java casts) and DuckDB (yyjson, its casts) are lenient in different ways;
    the contract's text patterns and strictness checks make them agree on these.
    """

    def field(name: str, literal: bytes) -> bytes:
        return with_json(rec, name, literal)

    fare, pickup = "invalid_type:fare_amount", "invalid_type:pickup_at"
    zone = "invalid_type:pickup_zone_id"
    bad = "malformed_json"
    cases = {
        # Casts: Java's parseDouble takes suffixes and hex, DuckDB takes "_" and spaces.
        "fare_suffix_d": (field("fare_amount", b'"12.5d"'), [fare]),
        "fare_underscore": (field("fare_amount", b'"1_200"'), [fare]),
        "fare_padded": (field("fare_amount", b'" 12.5 "'), [fare]),
        "fare_hex": (field("fare_amount", b'"0x10"'), [fare]),
        "fare_leading_dot": (field("fare_amount", b'".5"'), [fare]),
        "fare_inf_text": (field("fare_amount", b'"inf"'), [fare]),
        "fare_overflow_text": (field("fare_amount", b'"1e400"'), [fare]),
        "fare_overflow_negative": (field("fare_amount", b"-1e400"), [fare]),
        "fare_underflow_is_zero": (field("fare_amount", b"1e-400"), []),
        "fare_1e99": (field("fare_amount", b"1e99"), ["implausible_amount"]),
        "fare_1e100": (field("fare_amount", b"1e100"), [fare]),
        "fare_25_digits": (field("fare_amount", b"1" * 25), [fare]),
        "fare_exponent": (field("fare_amount", b"1.25E1"), []),
        "zone_plus_sign": (field("pickup_zone_id", b'"+7"'), [zone]),
        "zone_newline": (field("pickup_zone_id", b'"7\\n"'), [zone]),
        "zone_exponent": (field("pickup_zone_id", b"7e0"), [zone]),
        # Times: Spark reads a bare time as today and "2024" as New Year; DuckDB reads "epoch".
        "time_only": (field("pickup_at", b'"T06:30:00"'), [pickup]),
        "year_only": (field("pickup_at", b'"2024"'), [pickup]),
        "date_only": (field("pickup_at", b'"2024-03-10"'), [pickup]),
        "epoch_word": (field("pickup_at", b'"epoch"'), [pickup]),
        "infinity_word": (field("pickup_at", b'"infinity"'), [pickup]),
        "hour_24": (field("pickup_at", b'"2024-03-10T24:00:00Z"'), [pickup]),
        "offset_19h": (field("pickup_at", b'"2024-03-10T06:30:00+19:00"'), [pickup]),
        "zone_name": (field("pickup_at", b'"2024-03-10T06:30:00UTC"'), [pickup]),
        "year_0": (field("pickup_at", b'"0000-06-01T00:00:00Z"'), [pickup]),
        "past_9999_by_offset": (field("pickup_at", b'"9999-12-31T23:59:59-05:00"'), [pickup]),
        "signed_year": (field("pickup_at", b'"+2024-03-10T06:30:00Z"'), [pickup]),
        # JSON: DuckDB's reader takes NaN/Infinity and trailing commas; Jackson stops after
        # the first value; invalid UTF-8 and lone surrogates become "?" in Spark.
        "infinity_literal": (field("fare_amount", b"-Infinity"), [bad]),
        "nan_lowercase": (field("fare_amount", b"nan"), [bad]),
        "trailing_comma_nested": (field("source", b"[1,]"), [bad]),
        "closing_bracket_then_more": (encode(rec) + b'] {"x": 1}', [bad]),
        "second_array": (encode(rec) + b"[]", [bad]),
        "lone_low_surrogate": (field("source", rb'"\udc00"'), [bad]),
        "high_then_letter": (field("source", rb'"\ud800\u0041"'), [bad]),
        "literal_high_then_low": (field("source", rb'"\\uD83D\uDE00"'), [bad]),
        "escaped_backslash_u": (field("source", rb'"C:\\ud800"'), []),
        "overlong_utf8": (field("source", b'"\xc0\xaf"'), [bad]),
        # Keys: repeats count however they are written; nested keys are the value's business.
        "escaped_repeat": (encode(rec)[:-1] + rb',"\u0074rip_id":"x"}', ["duplicate_field"]),
        "case_variant": (encode({**rec, "Trip_Id": "x"}), ["unexpected_field"]),
        "empty_key": (encode({**rec, "": 1}), ["unexpected_field"]),
        "nested_repeat": (field("pickup_zone_id", b'{"a":1,"a":2}'), [zone]),
    }
    return cases


def test_every_rule_has_a_breaking_case() -> None:
    assert set(breaking_cases(good())) == {r.name for r in RULES}


def test_each_rule_rejects_its_breaking_record_with_its_reason(spark: Any) -> None:
    cases = breaking_cases(good())
    rows = run_validate(spark, list(cases.values()))
    reason_of = {r.name: r.reason for r in RULES}
    for (name, _), row in zip(cases.items(), rows, strict=True):
        assert reason_of[name] in row["reasons"], (name, row["reasons"])


def test_good_and_edge_records_pass_every_rule(spark: Any) -> None:
    cases = {"good": encode(good()), **passing_cases(good())}
    rows = run_validate(spark, list(cases.values()))
    failed = {n: r["reasons"] for n, r in zip(cases, rows, strict=True) if r["reasons"]}
    assert failed == {}


def test_spark_and_duckdb_give_the_same_reasons(spark: Any) -> None:
    """The same rules run on two engines (the offline checker is DuckDB): same verdicts."""
    rec = good()
    values = [
        *breaking_cases(rec).values(),
        *passing_cases(rec).values(),
        *(k.make(rec) for k in BAD_KINDS),
        *(v for v, _ in parity_cases(rec).values()),
    ]
    spark_reasons = [list(r["reasons"]) for r in run_validate(spark, values)]
    assert spark_reasons == duckdb_reasons(values, ingested_at=INGEST)


def test_values_the_engines_read_differently_get_the_contract_verdict(spark: Any) -> None:
    cases = parity_cases(good())
    values = [v for v, _ in cases.values()]
    spark_rows = run_validate(spark, values)
    duck = duckdb_reasons(values, ingested_at=INGEST)
    for (name, (_, want)), row, d in zip(cases.items(), spark_rows, duck, strict=True):
        assert (list(row["reasons"]), d) == (want, want), name


def test_every_producer_bad_kind_gets_its_reason(spark: Any) -> None:
    rec = good()
    rows = run_validate(spark, [k.make(rec) for k in BAD_KINDS])
    for kind, row in zip(BAD_KINDS, rows, strict=True):
        assert kind.reason in row["reasons"], (kind.name, row["reasons"])


# ---- parse ---------------------------------------------------------------------------------


def test_parse_keeps_raw_text_and_types_by_the_contract(spark: Any) -> None:
    rec = good()
    values = [
        encode({**rec, "fare_amount": "12.5", "pickup_zone_id": "7"}),  # numbers as strings
        encode({**rec, "passenger_count": True}),  # bool for an int
        encode({**rec, "pickup_zone_id": {"id": 4}}),  # nested object
        encode({**rec, "passenger_count": 2.5}),  # fraction for an int
        encode({**rec, "pickup_at": "2024-03-10T06:30:00+02:00"}),  # offset honoured
        encode({**rec, "pickup_at": "2024-03-10T06:30:00"}),  # no offset: UTC
    ]
    rows = run_validate(spark, values)
    assert rows[0]["fare_amount"] == 12.5 and rows[0]["pickup_zone_id"] == 7
    assert rows[0]["raw__fare_amount"] == "12.5" and rows[0]["reasons"] == []
    assert rows[1]["raw__passenger_count"] == "true" and rows[1]["passenger_count"] is None
    assert rows[1]["reasons"] == ["invalid_type:passenger_count"]
    assert rows[2]["raw__pickup_zone_id"] == '{"id":4}' and rows[2]["pickup_zone_id"] is None
    assert "invalid_type:pickup_zone_id" in rows[2]["reasons"]
    assert rows[3]["reasons"] == ["invalid_type:passenger_count"]
    assert rows[4]["pickup_at"] == datetime(2024, 3, 10, 4, 30)  # collect gives naive UTC
    assert rows[5]["pickup_at"] == datetime(2024, 3, 10, 6, 30)
    for r in rows:
        assert r["_is_object"] is True
        assert (r["_unknown_keys"], r["_duplicate_keys"]) == (0, 0)
        assert r["ingested_at"] == INGEST.replace(tzinfo=None)
        assert r["_raw_bytes"] == len(values[r["offset"]])
        assert r["trip_id"] == rec["trip_id"] and r["raw__trip_id"] == rec["trip_id"]


@pytest.mark.parametrize(
    "value",
    [
        b'{"trip_id": "a", "fare',  # truncated
        b'{"trip_id": "a"} trailing',
        b'{"trip_id": "a"}{"trip_id": "b"}',
        b"{'trip_id': 'a'}",  # single quotes are not JSON
        b'{"trip_id": "a", "fare_amount": NaN}',
        b'["trip_id", "a"]',
        b'"a string"',
        b"42",
        b"",
        b"\xff\xfe\x00binary",
        None,  # tombstone
        b"null",
        b'{"trip_id": "a"}]',  # the last piece of a split array
        b'\xef\xbb\xbf{"trip_id": "a"}',  # byte order mark
        b'{"trip_id": "a\xc3\x28"}',  # invalid UTF-8
        rb'{"trip_id": "a\ud800"}',  # lone surrogate escape
        b'{"trip_id": "a",}',  # trailing comma
    ],
)
def test_not_one_json_object_is_malformed_only(spark: Any, value: bytes | None) -> None:
    [row] = run_validate(spark, [value])
    assert row["_is_object"] is False
    assert row["reasons"] == ["malformed_json"]
    assert all(row[f"raw__{f.name}"] is None for f in TRIP_FIELDS)
    assert row["_unknown_keys"] is None and row["_duplicate_keys"] is None


def test_parse_counts_unknown_and_repeated_keys(spark: Any) -> None:
    rec = good()
    values = [
        encode({**rec, "color": "yellow", "extra": None, "Extra": [1, 2]}),  # "extra" is a field
        encode(rec)[:-1] + b',"trip_id":"b","trip_id":"c","fare_amount":1.5}',
    ]
    unknown, repeated = run_validate(spark, values)
    assert (unknown["_unknown_keys"], unknown["_duplicate_keys"]) == (2, 0)
    assert unknown["reasons"] == ["unexpected_field"]
    assert (repeated["_unknown_keys"], repeated["_duplicate_keys"]) == (0, 3)
    assert repeated["reasons"] == ["duplicate_field"]


def test_instants_beyond_year_9999_are_invalid_not_a_crash(spark: Any) -> None:
    # ANSI mode would fail the whole batch on `pickup_at + INTERVAL 1 DAY` overflowing.
    [row] = run_validate(spark, [encode({**good(), "pickup_at": "+294247-01-10T04:00:54Z"})])
    assert "invalid_type:pickup_at" in row["reasons"]


def test_parse_requires_a_utc_session(spark: Any) -> None:
    from spark.transforms import parse

    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        with pytest.raises(ValueError, match="UTC"):
            parse(kafka_df(spark, [encode(good())]))
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")


# ---- split, dedup --------------------------------------------------------------------------


def test_split(spark: Any) -> None:
    from spark.transforms import parse, split, validate

    rec = good()
    df = validate(parse(kafka_df(spark, [encode(rec), b"junk", encode({**rec, "service": "x"})])))
    accepted, rejected = split(df.cache())
    assert [r["offset"] for r in accepted.collect()] == [0]
    assert sorted(r["offset"] for r in rejected.collect()) == [1, 2]


def write_kafka_file(path: Path, rows: list[tuple[Any, ...]], mtime: float) -> None:
    """A Parquet file shaped like the Kafka source's rows (a stand-in streaming source)."""
    cols = list(zip(*rows, strict=True))
    table = pa.table(
        {
            "key": pa.array(cols[0], pa.binary()),
            "value": pa.array(cols[1], pa.binary()),
            "topic": pa.array(cols[2], pa.string()),
            "partition": pa.array(cols[3], pa.int32()),
            "offset": pa.array(cols[4], pa.int64()),
            "timestamp": pa.array(cols[5], pa.timestamp("us", tz="UTC")),
            "timestampType": pa.array(cols[6], pa.int32()),
        }
    )
    import pyarrow.parquet as pq

    pq.write_table(table, path)
    os.utime(path, (mtime, mtime))  # the file source takes files oldest first


def run_stream(spark: Any, src: Path, checkpoint: Path, sink: Callable[[Any, int], None]) -> None:
    from spark.transforms import dedup, parse, slim, validate

    stream = spark.readStream.schema(KAFKA_DDL).option("maxFilesPerTrigger", 1).parquet(str(src))
    q = (
        dedup(slim(validate(parse(stream))), "1 hour")
        .writeStream.foreachBatch(sink)
        .option("checkpointLocation", str(checkpoint))
        .trigger(availableNow=True)
        .start()
    )
    q.awaitTermination(120)
    assert q.exception() is None


def test_dedup_drops_repeats_within_and_across_batches_and_restarts(
    spark: Any, tmp_path: Path
) -> None:
    r = records(3)
    a, b, c = (encode(x) for x in r)
    bad_same_id = encode({**r[0], "service": "blue"})  # rejected, shares trip_id with a
    src = tmp_path / "src"
    src.mkdir()
    write_kafka_file(src / "1.parquet", kafka_rows([a, b, a, bad_same_id, b"junk", b"junk"]), 1e9)
    write_kafka_file(src / "2.parquet", kafka_rows([a, c, bad_same_id], first_offset=6), 1e9 + 1)
    seen: list[tuple[int, int, list[str]]] = []

    def collect(df: Any, batch_id: int) -> None:
        seen.extend((batch_id, row["offset"], list(row["reasons"])) for row in df.collect())

    run_stream(spark, src, tmp_path / "ck", collect)
    kept = sorted(o for _, o, _ in seen)
    # a once (offset 0), b, both junk records, both rejected copies, c; repeats of a dropped.
    assert kept == [0, 1, 3, 4, 5, 7, 8]
    assert {bid for bid, _, _ in seen} == {0, 1}

    # A restart from the checkpoint keeps the state: a third file repeating b and c adds nothing.
    write_kafka_file(src / "3.parquet", kafka_rows([b, c], first_offset=9), 1e9 + 2)
    seen.clear()
    run_stream(spark, src, tmp_path / "ck", collect)
    assert seen == []


def test_dedup_on_a_batch_frame(spark: Any) -> None:
    from spark.transforms import dedup, parse, validate

    a = encode(good())
    df = dedup(validate(parse(kafka_df(spark, [a, a, b"junk", b"junk"]))), "1 hour")
    assert sorted(r["offset"] for r in df.collect()) == [0, 2, 3]


def test_slim_keeps_what_the_sink_needs(spark: Any) -> None:
    from spark.transforms import parse, slim, split, to_dead_letters, validate

    df = slim(validate(parse(kafka_df(spark, [encode(good()), b"junk"]))))
    helpers = ("_is_object", "_raw_bytes", "_unknown_keys", "_duplicate_keys")
    assert not [c for c in df.columns if c.startswith("raw__") or c in helpers]
    assert {f.name for f in TRIP_FIELDS} <= set(df.columns)
    _, rejected = split(df)
    [dead] = to_dead_letters(rejected).collect()
    assert dead["raw_value"] == "junk" and list(dead["reasons"]) == ["malformed_json"]


# ---- enrich, partitions, tables ------------------------------------------------------------


def accepted_frame(spark: Any, recs: list[Record]) -> Any:
    from spark.transforms import parse, split, validate

    df = validate(parse(kafka_df(spark, [encode(r) for r in recs]))).cache()
    accepted, rejected = split(df)
    assert rejected.count() == 0
    return accepted


def test_enrich_zones_names_264_and_265_without_nulls(spark: Any) -> None:
    from spark.sources import zones
    from spark.transforms import enrich_zones

    r = records(2)
    recs = [
        {**r[0], "pickup_zone_id": 264, "dropoff_zone_id": 265},
        {**r[1], "pickup_zone_id": 132, "dropoff_zone_id": 1},
    ]
    rows = enrich_zones(accepted_frame(spark, recs), zones(spark)).orderBy("offset").collect()
    got = [
        (x["pickup_borough"], x["pickup_zone"], x["dropoff_borough"], x["dropoff_zone"])
        for x in rows
    ]
    assert got == [
        ("Unknown", "N/A", "N/A", "Outside of NYC"),
        ("Queens", "JFK Airport", "EWR", "Newark Airport"),
    ]


def test_add_partitions_uses_utc(spark: Any) -> None:
    from spark.transforms import add_partitions

    df = spark.createDataFrame(
        [
            (datetime(2024, 3, 10, 23, 59, 59, tzinfo=UTC),),
            (datetime(2024, 3, 11, 0, 0, tzinfo=UTC),),
        ],
        "pickup_at timestamp",
    )
    got = [(r["dt"], r["hour"]) for r in add_partitions(df).orderBy("pickup_at").collect()]
    assert got == [("2024-03-10", "23"), ("2024-03-11", "00")]


def columns_and_types(df: Any) -> list[tuple[str, str]]:
    return [(f.name, f.dataType.simpleString()) for f in df.schema.fields]


def contract_columns(table: Any) -> list[tuple[str, str]]:
    return [(c.name, c.type.spark) for c in (*table.columns, *table.partition_keys)]


def test_to_trips_matches_the_contract_table(spark: Any) -> None:
    from spark.sources import zones
    from spark.transforms import enrich_zones, to_trips

    rec = {**good(), "pickup_at": "2024-03-10T09:58:00Z", "dropoff_at": "2024-03-10T10:08:30Z"}
    trips = to_trips(enrich_zones(accepted_frame(spark, [rec]), zones(spark)))
    assert columns_and_types(trips) == contract_columns(TRIPS)
    [row] = trips.collect()
    assert (row["duration_s"], row["dt"], row["hour"]) == (630, "2024-03-10", "09")
    assert (row["kafka_partition"], row["kafka_offset"]) == (0, 0)


def test_to_dead_letters_matches_the_contract_table(spark: Any) -> None:
    from spark.transforms import parse, split, to_dead_letters, validate

    values = [b"\xff{bad", encode({**good(), "trip_id": "dl-1", "service": "blue"})]
    _, rejected = split(validate(parse(kafka_df(spark, values, partition=3))).cache())
    dead = to_dead_letters(rejected)
    assert columns_and_types(dead) == contract_columns(DEAD_LETTERS)
    rows = dead.orderBy("kafka_offset").collect()
    assert rows[0]["raw_value"] == "\ufffd{bad" and rows[0]["trip_id"] is None
    assert rows[1]["trip_id"] == "dl-1" and list(rows[1]["reasons"]) == ["unknown_service"]
    assert {(r["topic"], r["kafka_partition"], r["dt"]) for r in rows} == {
        ("trips", 3, "2024-03-10")
    }


def test_zone_metrics_sums_per_window_service_and_zone(spark: Any) -> None:
    from spark.sources import zones
    from spark.transforms import enrich_zones, to_trips, zone_metrics

    base = records(4)

    def trip(i: int, service: str, pickup: str, **kw: Any) -> Record:
        start = datetime.fromisoformat(f"2024-03-10T{pickup}+00:00")
        return {
            **base[i],
            "service": service,
            "pickup_zone_id": 132,
            "pickup_at": iso(start),
            "dropoff_at": iso(start + timedelta(minutes=10)),
            **kw,
        }

    money = {"extra": 0.0, "tolls_amount": 0.0}
    recs = [
        trip(
            0,
            "yellow",
            "10:01:00",
            passenger_count=2,
            total_amount=20.0,
            fare_amount=15.0,
            trip_distance=3.0,
            payment_type=1,
            tip_amount=3.0,
            **money,
        ),
        trip(
            1,
            "yellow",
            "10:04:59",
            passenger_count=None,
            total_amount=10.0,
            fare_amount=8.0,
            trip_distance=1.0,
            payment_type=2,
            tip_amount=0.0,
            **money,
        ),
        trip(
            2,
            "yellow",
            "10:05:00",
            passenger_count=1,
            total_amount=5.0,
            fare_amount=5.0,
            trip_distance=0.5,
            payment_type=1,
            tip_amount=None,
            **money,
        ),
        trip(
            3,
            "green",
            "10:02:00",
            passenger_count=1,
            total_amount=7.0,
            fare_amount=7.0,
            trip_distance=0.7,
            payment_type=1,
            tip_amount=1.0,
            **money,
        ),
    ]
    trips = to_trips(enrich_zones(accepted_frame(spark, recs), zones(spark)))
    metrics = zone_metrics(trips, batch_id=5)
    assert columns_and_types(metrics) == contract_columns(ZONE_METRICS)
    rows = {(r["window_start"].strftime("%H:%M"), r["service"]): r for r in metrics.collect()}
    assert set(rows) == {("10:00", "yellow"), ("10:05", "yellow"), ("10:00", "green")}
    y = rows[("10:00", "yellow")]
    assert (y["trips"], y["passengers"], y["revenue"], y["fare_sum"]) == (2, 2, 30.0, 23.0)
    assert (y["distance_sum"], y["duration_s_sum"]) == (4.0, 1200)
    assert (y["card_tip_sum"], y["card_fare_sum"]) == (3.0, 15.0)  # the cash trip adds nothing
    assert (y["pickup_borough"], y["batch_id"], y["dt"], y["hour"]) == (
        "Queens",
        5,
        "2024-03-10",
        "10",
    )
    late = rows[("10:05", "yellow")]
    assert (late["trips"], late["card_tip_sum"], late["card_fare_sum"]) == (1, 0.0, 5.0)
    assert sum(r["trips"] for r in rows.values()) == len(recs)


# ---- the sink: deterministic objects per batch ---------------------------------------------


def lake_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*.parquet")
        if "_pipeline" not in p.parts
    }


def test_sink_rewrites_the_same_objects_when_a_batch_is_replayed(
    spark: Any, tmp_path: Path
) -> None:
    from spark.lake import LakeTarget
    from spark.sink import QUERY_ID_PROPERTY, LakeSink
    from spark.sources import zones
    from spark.transforms import dedup, parse, slim, validate

    r = records(40)
    r[1] = {**r[1], "pickup_at": "2024-03-09T23:59:00Z", "dropoff_at": "2024-03-10T00:04:00Z"}
    values = [encode(x) for x in r] + [encode(r[0]), b"junk", encode({**r[2], "service": "x"})]
    df = dedup(slim(validate(parse(kafka_df(spark, values)))), "1 hour")
    lake = tmp_path / "lake"
    sink = LakeSink(target=LakeTarget(uri=f"file://{lake}"), zones=zones(spark))
    sc = spark.sparkContext
    sc.setLocalProperty(QUERY_ID_PROPERTY, "0123abcd-0000-0000-0000-000000000000")
    try:
        sink(df, 42)
        first = lake_files(lake)
        sink(df, 42)  # the replay of batch 42 after a crash
        second = lake_files(lake)
    finally:
        sc.setLocalProperty(QUERY_ID_PROPERTY, None)
    assert first == second  # same keys, same bytes: nothing extra, nothing different
    assert all(k.endswith("/batch-000000000042-0123abcd.parquet") for k in first)
    assert sink.stats[42]["accepted"] == 40 and sink.stats[42]["rejected"] == 2

    def read(table: str) -> pa.Table:
        return ds.dataset(lake / table, format="parquet", partitioning="hive").to_table()

    trips = read("trips")
    assert trips.num_rows == 40 and len(set(trips["trip_id"].to_pylist())) == 40
    assert trips.schema.names[: len(TRIPS.columns)] == list(TRIPS.column_names)
    assert "trips/dt=2024-03-09/hour=23/batch-000000000042-0123abcd.parquet" in first
    assert read("dead_letters").num_rows == 2
    assert sum(read("zone_metrics")["trips"].to_pylist()) == 40


def test_sink_inside_a_streaming_query_names_objects_by_its_query_id(
    spark: Any, tmp_path: Path
) -> None:
    from spark.lake import LakeTarget
    from spark.sink import LakeSink
    from spark.sources import zones

    r = records(5)
    src = tmp_path / "src"
    src.mkdir()
    write_kafka_file(src / "1.parquet", kafka_rows([encode(x) for x in r[:3]]), 1e9)
    write_kafka_file(src / "2.parquet", kafka_rows([encode(x) for x in r], first_offset=3), 1e9 + 1)
    lake = tmp_path / "lake"
    sink = LakeSink(target=LakeTarget(uri=f"file://{lake}"), zones=zones(spark))
    run_stream(spark, src, tmp_path / "ck", sink)
    files = lake_files(lake)
    tags = {Path(k).name.split("-")[2] for k in files}
    assert len(tags) == 1 and len(tags.pop()) == len("0123abcd.parquet")
    batches = {Path(k).name.split("-")[1] for k in files}
    assert batches == {"000000000000", "000000000001"}
    trips = ds.dataset(lake / "trips", format="parquet", partitioning="hive").to_table()
    assert sorted(trips["trip_id"].to_pylist()) == sorted(x["trip_id"] for x in r)
