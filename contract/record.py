"""The record model and its JSON encoding on Kafka.

Wire format: one UTF-8 JSON object per Kafka message, keys = contract field names, instants as
ISO-8601 UTC strings ending in ``Z``. The stream rejects unknown keys (``unexpected_field``):
a new field needs a new ``schema_version``. ``Trip`` ignores them: the API's row models extend it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, create_model

from contract.fields import TRIP_FIELDS, FieldType

_PY_TYPES: dict[FieldType, Any] = {
    FieldType.STRING: str,
    FieldType.INT: int,
    FieldType.BIGINT: int,
    FieldType.DOUBLE: float,
    FieldType.TIMESTAMP: datetime,
}


class _TripBase(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


def _annotation(name: str, ftype: FieldType, required: bool) -> Any:
    if name == "service":
        return Literal["yellow", "green"]
    if name == "schema_version":
        return Literal[1]
    base = AwareDatetime if ftype is FieldType.TIMESTAMP else _PY_TYPES[ftype]
    return base if required else base | None


# Built from TRIP_FIELDS so the model cannot drift from the contract (the API reuses it).
Trip: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "Trip",
    __base__=_TripBase,
    __doc__="One taxi trip as the contract defines it.",
    **{
        f.name: (_annotation(f.name, f.type, f.required), ... if f.required else None)
        for f in TRIP_FIELDS
    },
)

_OPTS = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z


def encode(record: Mapping[str, Any]) -> bytes:
    """Encode one record (a mapping of contract field names) to its Kafka value."""
    return orjson.dumps(record, option=_OPTS)


def decode(value: bytes | str) -> BaseModel:
    """Parse and validate one Kafka value into a ``Trip`` (raises on a bad record)."""
    return Trip.model_validate(orjson.loads(value))


def replay_trip_id(service: str, position: int, row: Sequence[object]) -> str:
    """Deterministic id of a replayed source row: its content and its position in the file.

    The same file replayed twice gives the same ids, so the stream's dedup drops the repeat;
    the position separates genuinely identical rows (they occur) in one file.
    """
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{service}|{position}|".encode())
    h.update(repr(tuple(row)).encode())
    return h.hexdigest()
