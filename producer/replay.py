"""Replay real TLC files at N x real time or as fast as possible, optionally shifted to now.

Records go out in dropoff order (a trip is reported when it ends). With ``shift`` the event
times move so the feed looks live: paced, each record's dropoff becomes the moment it is sent;
as fast as possible, the file's last dropoff becomes the start of the replay. Durations, and so
every bad time the file carries, are preserved. ``trip_id`` is derived from the unshifted source
row and its position, so a replayed file always yields the same ids.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from hashlib import blake2b
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from contract.fields import SCHEMA_VERSION, TRIP_FIELDS
from contract.record import replay_trip_id
from producer.feed import Column, Outgoing, Pacer, chunks, iso_utc, json_objects
from producer.tlc import TlcFile, read_tlc

_FILE_FIELDS = tuple(f.name for f in TRIP_FIELDS if f.tlc)
_US = 1_000_000
CHUNK = 16_384  # records encoded at a time


def _micros(col: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.cast(col, pa.int64()).to_numpy(zero_copy_only=False), dtype="float64")


class Plan(NamedTuple):
    order: np.ndarray  # row positions in send order
    offsets: np.ndarray  # seconds after the start at which each record goes out
    pickup_at: pa.Array | pa.ChunkedArray  # per source row, shifted if asked
    dropoff_at: pa.Array | pa.ChunkedArray


def plan(tlc: TlcFile, speed: float | None, shift: bool, max_gap_s: float, now_s: float) -> Plan:
    """Order, send offsets and shifted times of one file, all vectorised."""
    t = tlc.table
    pick = _micros(t.column("pickup_at"))
    drop = _micros(t.column("dropoff_at"))
    # Null dropoffs still go out (and are dead-lettered); they sort last.
    key = np.where(np.isnan(drop), np.inf, drop)
    order = np.argsort(key, kind="stable")
    sorted_drop = drop[order]
    if speed:
        gaps = np.diff(np.nan_to_num(sorted_drop, nan=0.0), prepend=sorted_drop[0]) / _US / speed
        # Outliers (a 2009 pickup in a 2020 file) must not stall the replay for years.
        offsets = np.cumsum(np.clip(np.nan_to_num(gaps), 0.0, max_gap_s))
    else:
        offsets = np.zeros(len(order))
    pickup_out, dropoff_out = t.column("pickup_at"), t.column("dropoff_at")
    if shift and len(order):
        finite = sorted_drop[~np.isnan(sorted_drop)]
        if speed:
            new_drop = np.empty_like(drop)
            new_drop[order] = now_s * _US + offsets * _US
        else:
            last = finite.max() if len(finite) else now_s * _US
            new_drop = drop + (now_s * _US - last)
        new_pick = new_drop - (drop - pick)
        pickup_out = _ts(new_pick)
        dropoff_out = _ts(np.where(np.isnan(drop), np.nan, new_drop))
    return Plan(order, offsets, pickup_out, dropoff_out)


def _ts(micros: np.ndarray) -> pa.Array:
    mask = np.isnan(micros)
    ints = np.where(mask, 0, micros).astype("int64")
    return pa.array(ints, type=pa.int64(), mask=mask).cast(pa.timestamp("us", tz="UTC"))


_PY_LITERAL = r"^[ !#-&(-\[\]-~]*$"  # printable ASCII without ' and \: repr() is 'text'


def _repr_text(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(repr() of each value as Python prints it, rows where that is not certain), vectorised.

    Floats print like Python only in the range where both use plain digits; strings only when
    repr() needs no escapes. The uncertain rows are hashed the slow way.
    """
    t = values.type
    ok: pa.Array = pa.array(np.ones(len(values), dtype=bool))
    if pa.types.is_floating(t):
        text = pc.cast(values, pa.string())
        size = pc.abs(values)
        ok = pc.and_(pc.is_finite(values), pc.or_(pc.equal(size, 0), pc.greater_equal(size, 1e-4)))
        ok = pc.and_(ok, pc.less(size, 1e15))
        whole = pc.equal(pc.floor(values), values)
        text = pc.if_else(whole, pc.binary_join_element_wise(text, ".0", ""), text)
    elif pa.types.is_integer(t):
        text = pc.cast(values, pa.string())
    elif pa.types.is_string(t):
        ok = pc.match_substring_regex(values, _PY_LITERAL)
        text = pc.binary_join_element_wise("'", values, "'", "")
    elif pa.types.is_null(t):
        text = pa.nulls(len(values), pa.string())
    else:
        raise TypeError(f"no repr for Arrow type {t}")
    return pc.fill_null(text, "None"), pc.fill_null(ok, True)


def trip_ids(tlc: TlcFile) -> pa.Array:
    """``replay_trip_id`` of every source row, its input text built in Arrow; same ids."""
    t = tlc.table
    n = t.num_rows
    src = [
        iso_utc(t.column(f)) if f in ("pickup_at", "dropoff_at") else t.column(f).combine_chunks()
        for f in _FILE_FIELDS
    ]
    texts, oks = zip(*(_repr_text(c) for c in src), strict=True)
    sep = ", "
    joined = pc.binary_join_element_wise(*texts, sep)
    prefix = pc.binary_join_element_wise(
        f"{tlc.service}|", pc.cast(pa.array(np.arange(n)), pa.string()), "|(", ""
    )
    data = pc.binary_join_element_wise(prefix, joined, ")", "").cast(pa.binary()).to_pylist()
    ok = np.logical_and.reduce([np.asarray(o) for o in oks]) if oks else np.ones(n, bool)
    ids = [blake2b(d, digest_size=16).hexdigest() for d in data]
    for pos in np.flatnonzero(~ok).tolist():
        ids[pos] = replay_trip_id(tlc.service, pos, [c[pos].as_py() for c in src])
    return pa.array(ids, pa.string())


def replay_records(
    tlc: TlcFile,
    speed: float | None = None,
    shift: bool = False,
    max_gap_s: float = 5.0,
    ids: pa.Array | None = None,
) -> Iterator[Outgoing]:
    """Yield one file's records in dropoff order, sleeping between them when paced.

    ``ids``: the file's ``trip_ids`` when already computed (they depend on the file only).
    """
    order, offsets, pickup_out, dropoff_out = plan(tlc, speed, shift, max_gap_s, time.time())
    t = tlc.table
    ids = trip_ids(tlc) if ids is None else ids
    times = {"pickup_at": pickup_out, "dropoff_at": dropoff_out}
    source = f"replay:{tlc.path.name}"
    pacer = Pacer() if speed else None
    for start, stop in chunks(len(order), CHUNK):
        idx = pa.array(order[start:stop])
        chunk_ids = ids.take(idx)
        cols: list[tuple[str, Column]] = [
            ("schema_version", SCHEMA_VERSION),
            ("trip_id", chunk_ids),
            ("service", tlc.service),
            ("source", source),
        ]
        for name in _FILE_FIELDS:
            col = times[name] if name in times else t.column(name)
            col = col.take(idx)
            cols.append((name, iso_utc(col) if name in times else _array(col)))
        keys = chunk_ids.cast(pa.binary()).to_pylist()
        values = json_objects(cols)
        if pacer is None:
            yield from map(Outgoing, keys, values)
            continue
        for i, (key, value) in enumerate(zip(keys, values, strict=True)):
            pacer.wait_until(float(offsets[start + i]))
            yield Outgoing(key, value)


def _array(col: pa.Array | pa.ChunkedArray) -> pa.Array:
    return col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col


def load_files(paths: Sequence[str | Path], service: str | None = None) -> list[TlcFile]:
    """Read and map every file first: an unmappable one stops the run before anything is sent."""
    return [read_tlc(p, service) for p in paths]
