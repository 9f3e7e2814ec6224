"""Apply the validation rules to raw Kafka values with DuckDB, without Spark.

The stream applies the same RULES in Spark; this second engine checks records offline
(``python -m contract check FILE``) and lets the rules be tested on every engine they run on.
Only the JSON extraction differs per engine; the rule conditions are the shared SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from contract.fields import TRIP_FIELDS, FieldType
from contract.rules import RULES, raw


def _typed(field_name: str, ftype: FieldType) -> str:
    text = raw(field_name)
    if ftype is FieldType.STRING:
        return f"{text} AS {field_name}"
    if ftype is FieldType.TIMESTAMP:
        # Instants carry an offset (Z); convert through TIMESTAMPTZ so offsets are honoured.
        return f"TRY_CAST({text} AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS {field_name}"
    if ftype in (FieldType.INT, FieldType.BIGINT):
        # A JSON number with a fraction is not an integer (DuckDB would round 12.5 to 13).
        return (
            f"CASE WHEN regexp_full_match({text}, '-?[0-9]+') "
            f"THEN TRY_CAST({text} AS {ftype.duckdb}) END AS {field_name}"
        )
    return f"TRY_CAST({text} AS {ftype.duckdb}) AS {field_name}"


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
        SELECT *, CASE WHEN json_valid(_text) THEN json_type(_text) = 'OBJECT' ELSE false END
                  AS _is_object
        FROM decoded
    ), extracted AS (SELECT *, {extract} FROM flagged),
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
