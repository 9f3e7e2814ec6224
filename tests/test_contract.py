"""The contract: every rule breaks and passes as documented, the JSON round trip, stable ids."""

from __future__ import annotations

import json
from typing import Any

import pydantic
import pytest

from contract import RULES, TABLES, TRIP_FIELDS, Trip, decode, encode, replay_trip_id
from contract.__main__ import DOCS_MD, TABLES_JSON, tables_json
from contract.check import reasons
from contract.rules import REASONS, docs_markdown
from producer.bad import BAD_KINDS


def _breakers(good: dict[str, Any]) -> dict[str, bytes]:
    """One record per reason code, each breaking exactly that rule."""
    out: dict[str, bytes] = {k.reason: k.make(good) for k in BAD_KINDS}
    for f in TRIP_FIELDS:
        if f.required:
            out[f"missing_field:{f.name}"] = encode({k: v for k, v in good.items() if k != f.name})
        if f.type.value != "string":
            out[f"invalid_type:{f.name}"] = encode({**good, f.name: "not a " + f.type.value})
    return out


def test_good_record_passes_every_rule(good_record: dict[str, Any]) -> None:
    assert reasons([encode(good_record)]) == [[]]


def test_every_rule_has_a_record_that_breaks_it(good_record: dict[str, Any]) -> None:
    breakers = _breakers(good_record)
    assert set(breakers) == REASONS, "a rule without a breaking record, or a record without rule"
    got = reasons(list(breakers.values()))
    for (reason, value), found in zip(breakers.items(), got, strict=True):
        assert reason in found, f"{value[:120]!r} should be rejected as {reason}, got {found}"


@pytest.mark.parametrize(
    ("change", "kept"),
    [
        ({"fare_amount": -52.0, "total_amount": -55.3}, "refund"),
        ({"passenger_count": None}, "null passenger count"),
        ({"passenger_count": 0}, "zero passengers"),
        ({"vendor_id": 7, "rate_code_id": 99, "payment_type": 0}, "codes outside old dictionary"),
        ({"trip_distance": 0.0}, "zero distance"),
        ({"pickup_zone_id": 264, "dropoff_zone_id": 265}, "Unknown / Outside of NYC zones"),
        ({"source": "replay:NaN, Infinity,}.csv"}, "lenient-JSON words inside a string"),
        ({"source": "yellow \U0001f695 \u200b"}, "emoji and zero-width space in a free-text field"),
        (
            {"pickup_at": "2009-01-01 05:03:41.250-05:00", "dropoff_at": "2009-01-01T10:13:41Z"},
            "space, fraction and offset",
        ),
        ({"pickup_at": "2009-01-01T00:03:41Z", "dropoff_at": "2009-01-01T00:13:41Z"}, "2009"),
    ],
)
def test_real_oddities_are_kept(
    good_record: dict[str, Any], change: dict[str, Any], kept: str
) -> None:
    assert reasons([encode({**good_record, **change})]) == [[]], kept


def test_timestamp_offsets_are_honoured(good_record: dict[str, Any]) -> None:
    # 12:30+02:00 is 10:30Z, before a 10:40Z dropoff: fine; 12:30Z would be after it.
    rec = {
        **good_record,
        "pickup_at": "2025-02-01T12:30:00+02:00",
        "dropoff_at": "2025-02-01T10:40:00Z",
    }
    assert reasons([encode(rec)]) == [[]]
    rec["pickup_at"] = "2025-02-01T12:30:00Z"
    assert reasons([encode(rec)]) == [["dropoff_before_pickup"]]


def test_fractional_integer_is_a_type_error(good_record: dict[str, Any]) -> None:
    assert reasons([encode({**good_record, "passenger_count": 1.5})]) == [
        ["invalid_type:passenger_count"]
    ]


def test_json_round_trip(good_record: dict[str, Any]) -> None:
    trip = decode(encode(good_record))
    assert isinstance(trip, Trip)
    assert encode(trip.model_dump()) == encode(good_record)
    assert json.loads(encode(good_record))["pickup_at"].endswith("Z")


# The model checks JSON and types only (value, key and size rules are the stream's), and
# pydantic's lax mode takes epoch numbers as times and booleans and "NaN" as floats.
_MODEL_TAKES = {"epoch_millis_time", "fare_as_boolean", "nan_tip_text"}


def test_decode_refuses_malformed_and_mistyped_records(good_record: dict[str, Any]) -> None:
    typed = ("malformed_json", "missing_field:", "invalid_type:", "unsupported_schema_version")
    checked = [k for k in BAD_KINDS if k.reason.startswith(typed) and k.name not in _MODEL_TAKES]
    assert len(checked) >= 20
    for kind in checked:
        with pytest.raises((pydantic.ValidationError, ValueError)):
            decode(kind.make(good_record))


def test_bad_input_corpus_is_large_with_unique_names() -> None:
    names = [k.name for k in BAD_KINDS]
    assert len(names) >= 30 and len(names) == len(set(names))
    assert {k.reason for k in BAD_KINDS} <= REASONS | {
        f"{p}:{f.name}" for p in ("missing_field", "invalid_type") for f in TRIP_FIELDS
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b'{"a": 1, "a": 2}', ["duplicate_field", "unexpected_field"]),
        (b'{"a": NaN}', ["malformed_json"]),
        (b'{"a": [1, 2,]}', ["malformed_json"]),
        (b'{"a": "NaN, inf,]"}', ["unexpected_field"]),  # the words inside a string are fine
    ],
)
def test_keys_and_strictness_of_a_minimal_object(value: bytes, expected: list[str]) -> None:
    rs = reasons([value])[0]
    assert [r for r in rs if not r.startswith("missing_field:")] == expected


def test_model_fields_are_the_contract() -> None:
    assert tuple(Trip.model_fields) == tuple(f.name for f in TRIP_FIELDS)


def test_replay_trip_id_is_stable_and_positional() -> None:
    row = ("2025-02-01T05:00:22Z", 211, 1.37, None)
    assert replay_trip_id("yellow", 3, row) == replay_trip_id("yellow", 3, list(row))
    assert replay_trip_id("yellow", 3, row) != replay_trip_id("yellow", 4, row)
    assert replay_trip_id("yellow", 3, row) != replay_trip_id("green", 3, row)
    # Pinned value: changing the derivation would re-key every lake in the field.
    assert replay_trip_id("yellow", 0, row) == "a603d630e728fc587a8992409a8a7319"


def test_generated_artifacts_are_in_sync() -> None:
    assert TABLES_JSON.read_text() == tables_json(), "run: python -m contract export"
    assert DOCS_MD.read_text() == docs_markdown(), "run: python -m contract docs"


def test_tables_start_with_the_contract_and_names_are_unique() -> None:
    for t in TABLES:
        names = [c.name for c in (*t.columns, *t.partition_keys)]
        assert len(names) == len(set(names)), t.name
    trips = TABLES[0]
    assert trips.column_names[: len(TRIP_FIELDS)] == tuple(f.name for f in TRIP_FIELDS)


def test_rule_names_are_unique() -> None:
    names = [r.name for r in RULES]
    assert len(names) == len(set(names))
