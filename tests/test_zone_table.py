"""The TLC zone table the stream enriches with: 265 zones, 264 and 265 named, never null."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest

from contract.rules import ZONE_ID_MAX, ZONE_ID_MIN
from spark.sources import ZONE_CSV, zone_rows


def rows() -> list[tuple[int, str, str, str]]:
    return zone_rows(resources.files("contract").joinpath(ZONE_CSV).read_text(encoding="utf-8"))


def test_zone_table_has_every_zone_id_once() -> None:
    ids = [r[0] for r in rows()]
    assert len(ids) == 265
    assert sorted(ids) == list(range(ZONE_ID_MIN, ZONE_ID_MAX + 1))


def test_zones_264_and_265_keep_their_na_names() -> None:
    by_id = {r[0]: r for r in rows()}
    assert by_id[264][1:3] == ("Unknown", "N/A")
    assert by_id[265][1:3] == ("N/A", "Outside of NYC")
    assert all(r[1] and r[2] for r in rows())  # no empty borough or zone name


@pytest.mark.spark
def test_zone_frame_in_spark(spark: Any) -> None:
    from spark.sources import zones

    df = zones(spark)
    assert [f.name for f in df.schema.fields] == ["zone_id", "borough", "zone"]
    got = {r["zone_id"]: (r["borough"], r["zone"]) for r in df.collect()}
    assert len(got) == 265
    assert got[264] == ("Unknown", "N/A") and got[265] == ("N/A", "Outside of NYC")
    assert got[132] == ("Queens", "JFK Airport")
    assert None not in {v for pair in got.values() for v in pair}


@pytest.mark.spark
def test_zone_table_from_a_path_keeps_na(spark: Any, tmp_path: Any) -> None:
    from spark.sources import zones

    path = tmp_path / "zones.csv"
    path.write_text(resources.files("contract").joinpath(ZONE_CSV).read_text(encoding="utf-8"))
    got = {r["zone_id"]: (r["borough"], r["zone"]) for r in zones(spark, str(path)).collect()}
    assert len(got) == 265 and got[265] == ("N/A", "Outside of NYC")
