"""Apply the validation rules to raw Kafka values with DuckDB, without Spark.

The stream applies the same RULES in Spark; this second engine checks records offline
(``python -m contract check FILE``) and lets the rules be tested on every engine they run on.
Only the JSON reading differs per engine (each as strict as the other: see _LENIENT here and
spark.transforms.parse); the typing patterns and the rule conditions are shared.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from contract.fields import MAX_TIMESTAMP, MIN_TIMESTAMP, TRIP_FIELDS, FieldType
from contract.rules import RULES, raw


def _typed(field_name: str, ftype: FieldType) -> str:
    text = raw(field_name)
    pattern = ftype.text_pattern
    if pattern is None:
        return f"{text} AS {field_name}"
    assert "'" not in pattern  # inlined as a SQL literal
    ok = f"regexp_full_match({text}, '{pattern}')"
    if ftype is FieldType.TIMESTAMP:
        # Instants carry an offset (Z); convert through TIMESTAMPTZ so offsets are honoured.
        value = f"TRY_CAST({text} AS TIMESTAMPTZ) AT TIME ZONE 'UTC'"
        ok += f" AND {value} BETWEEN TIMESTAMP '{MIN_TIMESTAMP}' AND TIMESTAMP '{MAX_TIMESTAMP}'"
    else:
        value = f"TRY_CAST({text} AS {ftype.duckdb})"
    return f"CASE WHEN {ok} THEN {value} END AS {field_name}"


# DuckDB's JSON reader also takes NaN/Infinity literals and trailing commas; Spark's (Jackson,
# strict options) does not. Outside strings, valid JSON has letters only in true/false/null and
# exponents, so these two patterns over the text without its strings find exactly those forms.
_STRINGS = r'"([^"\\]|\\.)*"'
_LENIENT = r"(?i)nan|inf|,\s*[}\]]"


def reasons(values: Sequence[bytes], ingested_at: datetime | None = None) -> list[list[str]]:
    """The sorted reason codes of each raw value (an empty list = accepted)."""
    import duckdb  # only this offline checker needs DuckDB

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE TABLE kafka (pos BIGINT, value BLOB, ingested_at TIMESTAMP)")
    now = ingested_at.replace(tzinfo=None) if ingested_at else None
    con.executemany(
        "INSERT INTO kafka VALUES (?, ?, COALESCE(?::TIMESTAMP, now()::TIMESTAMP))",
        [(i, v, now) for i, v in enumerate(values)],
    )
    extract = ", ".join(
        f"CASE WHEN _is_object THEN json_extract_string(_text, '$.{f.name}') END AS {raw(f.name)}"
        for f in TRIP_FIELDS
    )
    names = "[" + ", ".join(f"'{f.name}'" for f in TRIP_FIELDS) + "]"
    typed = ", ".join(_typed(f.name, f.type) for f in TRIP_FIELDS)
    checks = ", ".join(
        f"CASE WHEN COALESCE(({r.condition}), false) THEN '{r.reason}' END" for r in RULES
    )
    sql = f"""
    WITH decoded AS (
        SELECT pos, ingested_at, octet_length(value) AS _raw_bytes,
               TRY(decode(value)) AS _text
        FROM kafka
    ), flagged AS (
        SELECT *, CASE WHEN json_valid(_text) THEN json_type(_text) = 'OBJECT'
                       AND NOT regexp_matches(regexp_replace(_text, '{_STRINGS}', '', 'g'),
                                              '{_LENIENT}')
                       ELSE false END AS _is_object
        FROM decoded
    ), keyed AS (
        SELECT *, CASE WHEN _is_object THEN json_keys(_text) END AS _keys FROM flagged
    ), counted AS (
        SELECT *, len(list_filter(list_distinct(_keys), k -> NOT list_contains({names}, k)))
                   AS _unknown_keys,
               len(_keys) - len(list_distinct(_keys)) AS _duplicate_keys
        FROM keyed
    ), extracted AS (SELECT *, {extract} FROM counted),
    typed AS (SELECT *, {typed} FROM extracted)
    SELECT pos, list_sort(list_filter([{checks}], x -> x IS NOT NULL)) FROM typed ORDER BY pos
    """
    rows: list[tuple[int, list[str]]] = con.execute(sql).fetchall()
    return [r[1] for r in rows]


def check_file(path: str) -> dict[str, Any]:
    """Count accepted and rejected records of a file of JSON lines (one Kafka value per line)."""
    with open(path, "rb") as fh:
        values = [line.rstrip(b"\n") for line in fh if line.strip()]
    out: dict[str, Any] = {"records": len(values), "accepted": 0, "rejected_by_reason": {}}
    for rs in reasons(values):
        if not rs:
            out["accepted"] += 1
        for r in rs:
            out["rejected_by_reason"][r] = out["rejected_by_reason"].get(r, 0) + 1
    return out
