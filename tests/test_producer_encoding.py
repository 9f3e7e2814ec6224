"""The producer's vectorised encoders give exactly what the per-record contract functions give."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa

from contract.record import encode, replay_trip_id
from producer.feed import as_dicts, json_objects
from producer.replay import _FILE_FIELDS, load_files, trip_ids
from producer.synthetic import Profile, SyntheticTrips


def test_json_objects_match_encode_byte_for_byte() -> None:
    floats = [3.0, -0.0, 0.1 + 0.2, 1e-05, 1e20, 2.675, None, math.nan, math.inf, 123456.0]
    texts = ["plain", 'quo"te', "back\\slash", "tab\there", "ünï", None, "", "new\nline", "x", "y"]
    cols = [
        ("schema_version", 1),
        ("d", pa.array(floats, pa.float64())),
        ("s", pa.array(texts, pa.string())),
        ("i", pa.array([1, None, -7, 0, 2**40, 5, 6, 7, 8, 9], pa.int64())),
        ("n", pa.nulls(10)),
        ("const", "N"),
        ("z", None),
    ]
    expected = [encode(r) for r in as_dicts(cols, 10)]
    assert json_objects(cols) == expected
    assert orjson.loads(expected[7])["d"] is None  # NaN/inf -> null, as orjson writes them


def test_synthetic_columns_encode_like_their_dicts() -> None:
    ends = 1.7e9 + np.arange(5000, dtype=float)
    a, b = (SyntheticTrips(Profile.load(), seed=21) for _ in range(2))
    assert json_objects(a.columns(5000, ends)) == [encode(r) for r in b.chunk(5000, ends)]


def test_replay_ids_are_the_contracts(tlc_files: list[Path]) -> None:
    for f in load_files(tlc_files):
        rows = zip(*(_iso_or_list(f.table.column(n), n) for n in _FILE_FIELDS), strict=True)
        want = [replay_trip_id(f.service, pos, list(row)) for pos, row in enumerate(rows)]
        assert trip_ids(f).to_pylist() == want, f.path.name


def _iso_or_list(col: pa.ChunkedArray, name: str) -> list[object]:
    if name in ("pickup_at", "dropoff_at"):
        return [None if v is None else v.strftime("%Y-%m-%dT%H:%M:%SZ") for v in col.to_pylist()]
    return col.to_pylist()
