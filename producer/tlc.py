"""Reading real TLC trip files (CSV or Parquet, yellow or green) into contract columns.

Column names drift across years and sources (``Airport_fee`` vs ``airport_fee``, ``tpep_*`` vs
``lpep_*``); the mapping comes from each contract field's ``tlc`` names, matched without case.
A file with a column the contract does not know, or missing one it requires, is refused before
anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from contract.fields import TRIP_FIELDS, FieldType

# TLC files record local New York wall-clock time; the contract carries UTC instants.
TLC_TIMEZONE = "America/New_York"

_BY_TLC_NAME = {name.lower(): f for f in TRIP_FIELDS for name in f.tlc}
_REQUIRED_FROM_FILE = tuple(f.name for f in TRIP_FIELDS if f.required and f.tlc)
_ARROW_TYPES = {
    FieldType.INT: pa.int32(),
    FieldType.BIGINT: pa.int64(),
    FieldType.DOUBLE: pa.float64(),
    FieldType.STRING: pa.string(),
}


class UnmappableFile(ValueError):
    """The file's columns cannot be mapped onto the trip contract."""


@dataclass(frozen=True)
class TlcFile:
    path: Path
    service: str  # yellow | green
    table: pa.Table  # contract column names; timestamps as UTC; rows in file order

    @property
    def rows(self) -> int:
        return int(self.table.num_rows)


def _service_of(columns: list[str], path: Path, override: str | None) -> str:
    if override:
        return override
    lowered = {c.lower() for c in columns}
    if "tpep_pickup_datetime" in lowered:
        return "yellow"
    if "lpep_pickup_datetime" in lowered:
        return "green"
    raise UnmappableFile(f"{path}: cannot tell yellow from green (no tpep_/lpep_ pickup column)")


def map_columns(columns: list[str], path: Path) -> dict[str, str]:
    """Source column -> contract field name; raises UnmappableFile with every problem listed."""
    mapping: dict[str, str] = {}
    unknown = []
    for col in columns:
        field = _BY_TLC_NAME.get(col.lower())
        if field is None:
            unknown.append(col)
        elif field.name in mapping.values():
            raise UnmappableFile(f"{path}: two columns map to {field.name!r}")
        else:
            mapping[col] = field.name
    missing = [name for name in _REQUIRED_FROM_FILE if name not in mapping.values()]
    problems = []
    if unknown:
        problems.append(f"unknown columns {unknown}")
    if missing:
        problems.append(f"no column for required fields {missing}")
    if problems:
        known = sorted({n for f in TRIP_FIELDS for n in f.tlc})
        raise UnmappableFile(
            f"{path}: cannot map onto the trip contract: {'; '.join(problems)}. "
            f"Known TLC columns (any case): {known}"
        )
    return mapping


def _read(path: Path) -> pa.Table:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pq.read_table(path)
    if suffix in (".csv", ".gz"):
        # Empty CSV cells are missing values, not empty strings (store_and_fwd_flag).
        return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    raise UnmappableFile(f"{path}: unsupported file type {suffix!r} (CSV or Parquet)")


def _to_utc(col: pa.ChunkedArray) -> pa.ChunkedArray:
    if not pa.types.is_timestamp(col.type):
        col = pc.cast(col, pa.timestamp("us"))
    if col.type.tz is None:
        col = pc.assume_timezone(col, TLC_TIMEZONE, ambiguous="earliest", nonexistent="earliest")
    return pc.cast(col, pa.timestamp("us", tz="UTC"))


def read_tlc(path: str | Path, service: str | None = None) -> TlcFile:
    """Read one TLC file into contract columns (without trip_id/schema fields)."""
    p = Path(path)
    if not p.is_file():
        raise UnmappableFile(f"{p}: no such file")
    try:
        table = _read(p)
    except pa.ArrowInvalid as exc:
        raise UnmappableFile(f"{p}: not a readable CSV/Parquet file: {exc}") from exc
    mapping = map_columns(table.column_names, p)
    svc = _service_of(table.column_names, p, service)
    by_field = {field: table.column(src) for src, field in mapping.items()}
    out: dict[str, pa.ChunkedArray] = {}
    for f in TRIP_FIELDS:
        if not f.tlc:
            continue
        col = by_field.get(f.name)
        if col is None:
            out[f.name] = pa.chunked_array([pa.nulls(table.num_rows, _arrow_type(f.type))])
        elif f.type is FieldType.TIMESTAMP:
            out[f.name] = _to_utc(col)
        else:
            # Parquet stores some ints as doubles (RatecodeID 1.0); a safe cast refuses 1.5.
            out[f.name] = pc.cast(col, _arrow_type(f.type))
    return TlcFile(path=p, service=svc, table=pa.table(out))


def _arrow_type(t: FieldType) -> pa.DataType:
    return pa.timestamp("us", tz="UTC") if t is FieldType.TIMESTAMP else _ARROW_TYPES[t]
