"""The API benchmark's lake generator runs on the pinned DuckDB and writes a lake that adds up."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import bench.api
from bench.api import ApiBenchSettings, build_lake


def test_small_lake_builds_and_zone_metrics_add_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench.api, "LAKES", tmp_path)  # not the cached lakes under .local/bench
    info = build_lake(3_000, ApiBenchSettings(days=2, chunk=1_500, seed=3))
    assert info.trips == 3_000 and info.zone_metrics_rows > 0 and info.dead_letters > 0
    row = duckdb.sql(
        f"SELECT (SELECT count(*) FROM read_parquet('{tmp_path}/3000/trips/**/*.parquet')),"
        f" sum(trips), sum(revenue),"
        f" (SELECT sum(total_amount) FROM read_parquet('{tmp_path}/3000/trips/**/*.parquet'))"
        f" FROM read_parquet('{tmp_path}/3000/zone_metrics/**/*.parquet')"
    ).fetchone()
    assert row is not None
    trips, zm_trips, zm_revenue, revenue = row
    assert trips == zm_trips == 3_000
    assert zm_revenue == pytest.approx(revenue)
