"""The 265 TLC taxi zones from the contract's CSV (packaged with the code, read once)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Zone:
    zone_id: int
    borough: str
    zone: str
    service_zone: str


@cache
def zones() -> dict[int, Zone]:
    text = (resources.files("contract") / "taxi_zone_lookup.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO(text))
    out = {
        int(r["LocationID"]): Zone(int(r["LocationID"]), r["Borough"], r["Zone"], r["service_zone"])
        for r in rows
    }
    return dict(sorted(out.items()))


@cache
def boroughs() -> tuple[str, ...]:
    """Every borough name in the zone table (the 5 boroughs, EWR, Unknown, N/A)."""
    return tuple(sorted({z.borough for z in zones().values()}))
