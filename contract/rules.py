"""Validation rules: one table of rule -> condition -> reason code, with the why.

A condition is a SQL boolean expression, in the dialect Spark SQL and DuckDB share, over:
- the typed contract columns (``fare_amount``, ``pickup_at``, ...; NULL when absent or untypable),
- ``raw__<field>``: the field's JSON value as text (NULL when absent or JSON null),
- ``_is_object``: the Kafka value is one strict JSON object in UTF-8; ``_raw_bytes``: its size;
- ``_unknown_keys``, ``_duplicate_keys``: how many of the object's top-level keys are not contract
  fields, and how many repeat an earlier key (NULL when not an object);
- ``ingested_at``: when the stream read the record.
A record is rejected when any condition is true (NULL counts as false); every true rule's reason
is kept. The rationale column is what docs/validation.md shows; ``python -m contract docs``
regenerates that page from this table.
"""

from __future__ import annotations

from dataclasses import dataclass

from contract.fields import SCHEMA_VERSION, TRIP_FIELDS, FieldType

MAX_RECORD_BYTES = 65_536
MAX_TRIP_MILES = 1_000
MAX_AMOUNT = 10_000
MAX_PASSENGERS = 9
ZONE_ID_MIN, ZONE_ID_MAX = 1, 265


@dataclass(frozen=True)
class Rule:
    name: str
    condition: str  # true => reject
    reason: str
    rationale: str


def raw(field: str) -> str:
    return f"raw__{field}"


_RECORD_RULES: tuple[Rule, ...] = (
    Rule(
        "json_object",
        "NOT _is_object",
        "malformed_json",
        "The value is not one JSON object (truncated, binary, an array, plain text, null, "
        "empty) or not strict JSON in UTF-8 (a byte order mark, invalid UTF-8, NaN or "
        "Infinity literals, trailing commas, anything after the object).",
    ),
    Rule(
        "record_size",
        f"_raw_bytes > {MAX_RECORD_BYTES}",
        "oversized_record",
        f"A trip is ~600 bytes; over {MAX_RECORD_BYTES} bytes is a producer bug or abuse.",
    ),
    Rule(
        "schema_version",
        f"schema_version IS NOT NULL AND schema_version <> {SCHEMA_VERSION}",
        "unsupported_schema_version",
        "Only version 1 exists; a newer producer must not be read with this contract.",
    ),
    Rule(
        "known_fields",
        "_unknown_keys > 0",
        "unexpected_field",
        "A version-1 record has the contract's keys only: an unknown key is a misspelt field "
        "(its value would be lost without a trace) or another contract. New fields come with "
        "a new schema_version.",
    ),
    Rule(
        "unique_fields",
        "_duplicate_keys > 0",
        "duplicate_field",
        "JSON leaves a repeated key's meaning open (Spark reads the last value, DuckDB the "
        "first): the record would be a different trip to different readers.",
    ),
)

# What the typed columns accept (FieldType.text_pattern, then each engine's cast).
_VALID = {
    FieldType.INT: "an int: a JSON number or string of digits without a fraction, in range",
    FieldType.BIGINT: "a bigint: a JSON number or string of digits without a fraction, in range",
    FieldType.DOUBLE: "a double: a JSON number or a string holding one, of at most 20 integer "
    "digits and a 2-digit exponent (so never Infinity; not NaN, 12.5d, 1_000)",
    FieldType.TIMESTAMP: "an instant: ISO-8601 date and time of years 0001-9999, UTC unless an "
    "offset is given (not a bare date or time, nor epoch seconds)",
}

_FIELD_RULES: tuple[Rule, ...] = tuple(
    Rule(
        f"{f.name}_present",
        f"_is_object AND {raw(f.name)} IS NULL",
        f"missing_field:{f.name}",
        "Required by the contract: the lake cannot place, key or price a trip without it.",
    )
    for f in TRIP_FIELDS
    if f.required
) + tuple(
    Rule(
        f"{f.name}_type",
        f"{raw(f.name)} IS NOT NULL AND {f.name} IS NULL",
        f"invalid_type:{f.name}",
        f"The value is present but is not {_VALID[f.type]}.",
    )
    for f in TRIP_FIELDS
    if f.type is not FieldType.STRING
)

_VALUE_RULES: tuple[Rule, ...] = (
    Rule(
        "service",
        "service NOT IN ('yellow', 'green')",
        "unknown_service",
        "Only yellow and green trip records exist in this contract.",
    ),
    Rule(
        "trip_id_shape",
        "length(trip_id) = 0 OR length(trip_id) > 128",
        "invalid_trip_id",
        "An empty or huge id cannot deduplicate anything.",
    ),
    Rule(
        "dropoff_after_pickup",
        "dropoff_at < pickup_at",
        "dropoff_before_pickup",
        "Time cannot run backwards; equal times are kept (cancelled/zero trips are real).",
    ),
    Rule(
        "trip_duration",
        "dropoff_at > pickup_at + INTERVAL 1 DAY",
        "trip_longer_than_a_day",
        "The longest real trip in the samples is 23.6 h (meter left running); beyond a day "
        "the meter is stuck.",
    ),
    Rule(
        "pickup_not_future",
        "pickup_at > ingested_at + INTERVAL 1 DAY",
        "pickup_in_future",
        "A trip cannot be reported before it starts; a day of slack covers clock skew.",
    ),
    Rule(
        "pickup_after_2009",
        "pickup_at < TIMESTAMP '2009-01-01 00:00:00'",
        "pickup_before_2009",
        "TLC trip records start in 2009; earlier is a reset meter clock. Out-of-month dates "
        "inside the record era (2009-01-01 in an April 2020 file) are kept: they are the "
        "record's own claim and land in their own dt partition.",
    ),
    Rule(
        "pickup_zone",
        f"pickup_zone_id NOT BETWEEN {ZONE_ID_MIN} AND {ZONE_ID_MAX}",
        "unknown_pickup_zone",
        "Zone ids are 1..265 (264 Unknown and 265 Outside of NYC are real ids).",
    ),
    Rule(
        "dropoff_zone",
        f"dropoff_zone_id NOT BETWEEN {ZONE_ID_MIN} AND {ZONE_ID_MAX}",
        "unknown_dropoff_zone",
        "Zone ids are 1..265 (264 Unknown and 265 Outside of NYC are real ids).",
    ),
    Rule(
        "distance_not_negative",
        "trip_distance < 0",
        "negative_distance",
        "A taximeter cannot count backwards; zero distance is kept (real).",
    ),
    Rule(
        "distance_plausible",
        f"trip_distance > {MAX_TRIP_MILES}",
        "implausible_distance",
        "73,364 mi occurs in the Feb 2025 sample: an odometer glitch that would wreck every "
        f"distance average. No taxi trip exceeds {MAX_TRIP_MILES} mi.",
    ),
    Rule(
        "amount_plausible",
        f"abs(total_amount) > {MAX_AMOUNT} OR abs(fare_amount) > {MAX_AMOUNT}",
        "implausible_amount",
        "Negative amounts are refunds/voids and kept; magnitudes over "
        f"${MAX_AMOUNT:,} are data-entry errors (samples stay under $400).",
    ),
    Rule(
        "passenger_count_range",
        f"passenger_count < 0 OR passenger_count > {MAX_PASSENGERS}",
        "implausible_passenger_count",
        "Null and 0 occur in real data and are kept; a taxi seats at most 9 (minivan).",
    ),
    Rule(
        "store_and_fwd_flag",
        "store_and_fwd_flag NOT IN ('Y', 'N')",
        "invalid_store_and_fwd_flag",
        "Only Y and N are defined; null is kept (common in real data).",
    ),
)

RULES: tuple[Rule, ...] = _RECORD_RULES + _FIELD_RULES + _VALUE_RULES
REASONS: frozenset[str] = frozenset(r.reason for r in RULES)

# Not rules, on purpose: vendor ids, rate codes and payment types outside the old dictionary
# (6, 7, 99, 0) are current TLC codes; refunds and voids (negative money) are real trips.


def docs_markdown() -> str:
    """docs/validation.md, generated from RULES so the page cannot drift from the code."""
    lines = [
        "# Validation rules",
        "",
        "Generated by `python -m contract docs` from `contract/rules.py`; do not edit by hand.",
        "",
        "A record is rejected to the `dead_letters` table when any condition holds; every",
        "matching reason is kept. Conditions are SQL shared by Spark and DuckDB.",
        "",
        "Kept on purpose (real trips): refunds and voids (negative money), null or 0",
        "`passenger_count`, zero distance, codes outside the old dictionary (VendorID 6/7,",
        "RatecodeID 99, payment_type 0), out-of-month pickups after 2009-01-01.",
        "",
        "| rule | reject when | reason code | why |",
        "| --- | --- | --- | --- |",
    ]
    for r in RULES:
        cond = r.condition.replace("|", "\\|")
        lines.append(f"| {r.name} | `{cond}` | `{r.reason}` | {r.rationale} |")
    return "\n".join(lines) + "\n"
