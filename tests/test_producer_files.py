"""Replay input: every shared TLC file maps onto the contract with the right values; files that
cannot be mapped are refused with a message before anything is sent."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from contract.check import reasons
from producer.replay import load_files, replay_records
from producer.tlc import UnmappableFile, read_tlc
from tests.conftest import ROOT

EXPECTED = {
    "green_tripdata_2020-04_sample1000.csv": ("green", 1000),
    "yellow_tripdata_2020-04_sample1000.csv": ("yellow", 1000),
    "yellow_tripdata_2025-02_sample5000.parquet": ("yellow", 5000),
}


def _source_sql(path: Path) -> str:
    return f"read_parquet('{path}')" if path.suffix == ".parquet" else f"read_csv('{path}')"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_shared_file_maps(name: str, tlc_files: list[Path]) -> None:
    path = next(p for p in tlc_files if p.name == name)
    tlc = read_tlc(path)
    service, rows = EXPECTED[name]
    assert (tlc.service, tlc.rows) == (service, rows)
    prefix = "tpep" if service == "yellow" else "lpep"
    # Independent read of the file with DuckDB: sums and the first row agree after mapping.
    src = duckdb.sql(
        f"SELECT sum(fare_amount), sum(total_amount), sum(PULocationID), count(passenger_count),"
        f" first({prefix}_pickup_datetime), first(DOLocationID) FROM {_source_sql(path)}"
    ).fetchone()
    assert src is not None
    t = tlc.table
    assert sum(v for v in t.column("fare_amount").to_pylist() if v is not None) == pytest.approx(
        src[0]
    )
    assert sum(v for v in t.column("total_amount").to_pylist() if v is not None) == pytest.approx(
        src[1]
    )
    assert sum(t.column("pickup_zone_id").to_pylist()) == src[2]
    assert t.column("passenger_count").null_count == rows - src[3]
    # Local New York time becomes UTC: +4 h in April (EDT), +5 h in February (EST).
    first_local = src[4]
    offset = 4 if "2020-04" in name else 5
    first_utc = t.column("pickup_at")[0].as_py()
    assert first_utc.replace(tzinfo=None) - first_local == timedelta(hours=offset)
    assert t.column("dropoff_zone_id")[0].as_py() == src[5]


def test_drifting_names_map_to_one_field(tlc_files: list[Path]) -> None:
    parquet = next(p for p in tlc_files if p.suffix == ".parquet")
    assert "Airport_fee" in pq.read_schema(parquet).names  # capitalised in 2025
    fees = read_tlc(parquet).table.column("airport_fee")
    assert fees.null_count < fees.length() and max(v or 0 for v in fees.to_pylist()) > 0
    csv = next(p for p in tlc_files if "yellow_tripdata_2020" in p.name)
    assert "airport_fee" in pacsv.read_csv(csv).column_names  # lower case, all null
    green = read_tlc(next(p for p in tlc_files if "green" in p.name)).table
    assert green.column("trip_type").null_count < green.num_rows
    assert green.column("ehail_fee").null_count == green.num_rows


def _write_variant(
    src: Path, dest: Path, rename: dict[str, str] | None = None, drop: str | None = None
) -> Path:
    t = pacsv.read_csv(src)
    if drop:
        t = t.drop_columns([drop])
    if rename:
        t = t.rename_columns([rename.get(c, c) for c in t.column_names])
    pacsv.write_csv(t, dest)
    return dest


def test_unknown_column_is_refused(tlc_files: list[Path], tmp_path: Path) -> None:
    src = next(p for p in tlc_files if "yellow_tripdata_2020" in p.name)
    bad = _write_variant(src, tmp_path / "y.csv", rename={"tip_amount": "Tip_Amt_2009"})
    with pytest.raises(UnmappableFile, match=r"unknown columns \['Tip_Amt_2009'\]"):
        read_tlc(bad)


def test_missing_required_column_is_refused(tlc_files: list[Path], tmp_path: Path) -> None:
    src = next(p for p in tlc_files if "green" in p.name)
    bad = _write_variant(src, tmp_path / "g.csv", drop="lpep_dropoff_datetime")
    with pytest.raises(UnmappableFile, match=r"no column for required fields \['dropoff_at'\]"):
        read_tlc(bad)


def test_cli_refuses_before_sending(tlc_files: list[Path], tmp_path: Path) -> None:
    src = next(p for p in tlc_files if "yellow_tripdata_2020" in p.name)
    bad = _write_variant(src, tmp_path / "y.csv", rename={"extra": "surprise"})
    # A broker that does not exist: the run must stop on the mapping, never reach Kafka.
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "producer",
            "replay",
            str(src),
            str(bad),
            "--bootstrap",
            "127.0.0.1:1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "refusing to replay" in proc.stderr and "surprise" in proc.stderr
    assert '"sent"' not in proc.stdout


def test_replay_ids_are_stable_and_unique(tlc_files: list[Path]) -> None:
    files = load_files(tlc_files)
    first = [r.key for f in files for r in replay_records(f)]
    again = [r.key for f in load_files(tlc_files) for r in replay_records(f, shift=True)]
    assert len(first) == 7000 and len(set(first)) == 7000
    assert sorted(first) == sorted(again), "shifting times must not change ids"


def test_shift_keeps_durations_and_ends_now(tlc_files: list[Path]) -> None:
    f = load_files([tlc_files[-1]])[0]
    plain = {r.key: orjson.loads(r.value) for r in replay_records(f)}
    shifted = {r.key: orjson.loads(r.value) for r in replay_records(f, shift=True)}
    now = datetime.now(UTC)

    def ts(s: str) -> datetime:
        return datetime.fromisoformat(s)

    last = max(ts(v["dropoff_at"]) for v in shifted.values())
    assert abs((now - last).total_seconds()) < 60
    for k, v in plain.items():
        s = shifted[k]
        assert ts(v["dropoff_at"]) - ts(v["pickup_at"]) == ts(s["dropoff_at"]) - ts(s["pickup_at"])
        assert v["fare_amount"] == s["fare_amount"]


def test_paced_replay_follows_the_clock(tlc_files: list[Path]) -> None:
    # 5000 trips over 28 days at 2,419,200x: about one second of wall time, in dropoff order.
    import time

    f = load_files([tlc_files[-1]])[0]
    t0 = time.monotonic()
    drops = [orjson.loads(r.value)["dropoff_at"] for r in replay_records(f, speed=2_419_200)]
    took = time.monotonic() - t0
    assert drops == sorted(drops)
    assert 0.5 < took < 10


def test_real_files_are_mostly_accepted(tlc_files: list[Path]) -> None:
    """The rules keep real oddities: only impossible records are rejected."""
    values = [r.value for f in load_files(tlc_files) for r in replay_records(f)]
    rs = reasons(values)
    rejected = [r for r in rs if r]
    flat = sorted({x for r in rejected for x in r})
    assert len(rejected) < 20, flat
    assert "implausible_distance" in flat  # the 73,364 mile odometer glitch
    assert pa.array([len(r) for r in rs]).null_count == 0
