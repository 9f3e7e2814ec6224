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
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from contract.fields import TRIP_FIELDS
from contract.record import encode, replay_trip_id
from producer.feed import Outgoing, Pacer, envelope, iso_utc
from producer.tlc import TlcFile, read_tlc

_FILE_FIELDS = tuple(f.name for f in TRIP_FIELDS if f.tlc)
_US = 1_000_000


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


def replay_records(
    tlc: TlcFile, speed: float | None = None, shift: bool = False, max_gap_s: float = 5.0
) -> Iterator[Outgoing]:
    """Yield one file's records in dropoff order, sleeping between them when paced."""
    order, offsets, pickup_out, dropoff_out = plan(tlc, speed, shift, max_gap_s, time.time())
    t = tlc.table
    src_cols = [
        iso_utc(t.column(n)) if n in ("pickup_at", "dropoff_at") else t.column(n).to_pylist()
        for n in _FILE_FIELDS
    ]
    out_cols = list(src_cols)
    out_cols[_FILE_FIELDS.index("pickup_at")] = iso_utc(pickup_out)
    out_cols[_FILE_FIELDS.index("dropoff_at")] = iso_utc(dropoff_out)
    source = f"replay:{tlc.path.name}"
    pacer = Pacer() if speed else None
    for i, pos in enumerate(order.tolist()):
        if pacer is not None:
            pacer.wait_until(float(offsets[i]))
        row = [c[pos] for c in src_cols]
        trip_id = replay_trip_id(tlc.service, pos, row)
        rec = envelope(trip_id, tlc.service, source)
        rec.update(zip(_FILE_FIELDS, (c[pos] for c in out_cols), strict=True))
        yield Outgoing(trip_id.encode(), encode(rec))


def load_files(paths: Sequence[str | Path], service: str | None = None) -> list[TlcFile]:
    """Read and map every file first: an unmappable one stops the run before anything is sent."""
    return [read_tlc(p, service) for p in paths]
