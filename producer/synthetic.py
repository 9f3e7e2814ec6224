"""Synthetic trips whose shape is learnt from real data (``profile.json``, see fit_profile.py).

Generation is vectorised per chunk with numpy; only the final JSON encoding is per record.
Live mode (default): each trip ends at the moment it is sent, like a real feed. Backfill mode
(``start``/``end``): pickups follow the fitted hour-of-day shape across the range.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from contract.fields import SCHEMA_VERSION, TRIP_FIELDS
from producer.bad import BAD_KINDS, BadKind
from producer.feed import Column, Outgoing, Pacer, as_dicts, iso_utc, json_objects
from producer.fit_profile import PROFILE_PATH

CHUNK = 8192
_AIRPORT_ZONES = np.array([132, 138])  # JFK, LaGuardia: the airport fee applies at pickup


@dataclass(frozen=True)
class Profile:
    raw: dict[str, Any]

    @classmethod
    def load(cls, path: Path = PROFILE_PATH) -> Profile:
        return cls(json.loads(path.read_text()))

    def weights(self, key: str) -> np.ndarray:
        w = np.asarray(self.raw[key], dtype=float)
        return np.asarray(w / w.sum())

    def categorical(self, key: str) -> tuple[list[int | None], np.ndarray]:
        shares: dict[str, float] = self.raw[key]
        values = [None if k == "null" else int(k) for k in shares]
        p = np.asarray(list(shares.values()), dtype=float)
        return values, p / p.sum()


class SyntheticTrips:
    def __init__(self, profile: Profile, seed: int | None = None) -> None:
        self.p = profile
        self.seed = seed if seed is not None else int(np.random.SeedSequence().generate_state(1)[0])
        self.rng = np.random.default_rng(self.seed)
        self._pu = profile.weights("pickup_zone_weights")
        self._do = profile.weights("dropoff_zone_weights")
        self._hours = profile.weights("hour_of_day_weights")
        self._cats = {
            k: profile.categorical(k)
            for k in (
                "passenger_count_share",
                "payment_type_share",
                "rate_code_share",
                "vendor_share",
            )
        }
        # Built once; the first pa.array also pays pyarrow's lazy pandas import (seconds without
        # a bytecode cache) at start-up rather than in the middle of the first chunk sent.
        self._cat_arrays = {k: pa.array(v, pa.int64()) for k, (v, _) in self._cats.items()}
        self._seq = 0

    def _pick(self, key: str, n: int) -> tuple[np.ndarray, pa.Array]:
        """(index into the key's values, the drawn values as an Arrow array)."""
        values, p = self._cats[key]
        idx = self.rng.choice(len(values), size=n, p=p)
        return idx, self._cat_arrays[key].take(idx)

    def columns(self, n: int, end_s: np.ndarray) -> list[tuple[str, Column]]:
        """n trips whose dropoffs are at ``end_s`` (epoch seconds), as columns in contract order.

        Vectorised end to end (numpy draws, Arrow text): the producer's hot path.
        """
        r, p = self.rng, self.p.raw
        pu = r.choice(265, size=n, p=self._pu) + 1
        do = r.choice(265, size=n, p=self._do) + 1
        do = np.where(r.random(n) < p["same_zone_share"], pu, do)
        dist = np.exp(r.normal(p["distance_log_mean"], p["distance_log_std"], n)).clip(0.05, 60)
        dist = np.where(r.random(n) < p["zero_distance_share"], 0.0, dist.round(2))
        mph = np.exp(r.normal(p["speed_mph_log_mean"], p["speed_mph_log_std"], n)).clip(2, 55)
        # Capped at 4 h: 60 mi at 2 mph would be a 30 h trip, which the contract rejects
        # (trip_longer_than_a_day; 2 in 3M records did) and a synthetic trip must be valid.
        dur = (dist / mph * 3600).clip(60.0, 4 * 3600).round()
        fare = p["fare_base"] + p["fare_per_mile"] * dist + p["fare_per_minute"] * dur / 60
        fare = (fare + r.normal(0, p["fare_noise_std"] / 3, n)).clip(3.0).round(2)
        fare = np.where(r.random(n) < p["refund_share"], -fare, fare)
        pay_idx, payment = self._pick("payment_type_share", n)
        pay_values = self._cats["payment_type_share"][0]
        card = np.isin(pay_idx, [i for i, v in enumerate(pay_values) if v == 1])
        tip_rate = r.normal(p["card_tip_rate_mean"], p["card_tip_rate_std"], n).clip(0, 1)
        tip = np.where(card & (fare > 0), (fare * tip_rate).round(2), 0.0)
        green = r.random(n) < p["service_share"].get("green", 0.0)
        airport = np.where(np.isin(pu, _AIRPORT_ZONES) & ~green, 1.75, 0.0)
        congestion = np.where(green, 0.0, 2.5)
        total = (fare + 1.0 + 0.5 + tip + airport + congestion).round(2)
        total = np.where(fare < 0, -(np.abs(fare) + 1.5), total).round(2)
        pick_s = end_s - dur
        _, passengers = self._pick("passenger_count_share", n)
        _, rates = self._pick("rate_code_share", n)
        _, vendors = self._pick("vendor_share", n)
        green_a = pa.array(green)
        ids = pa.array([f"syn-{self.seed:x}-{i:x}" for i in range(self._seq, self._seq + n)])
        self._seq += n
        cols: list[tuple[str, Column]] = [
            ("schema_version", SCHEMA_VERSION),
            ("trip_id", ids),
            ("service", pc.if_else(green_a, "green", "yellow")),
            ("source", "synthetic"),
            ("vendor_id", vendors),
            ("pickup_at", _iso_seconds(pick_s)),
            ("dropoff_at", _iso_seconds(end_s)),
            ("pickup_zone_id", pa.array(pu)),
            ("dropoff_zone_id", pa.array(do)),
            ("passenger_count", passengers),
            ("trip_distance", pa.array(dist)),
            ("rate_code_id", rates),
            ("store_and_fwd_flag", "N"),
            ("payment_type", payment),
            ("fare_amount", pa.array(fare)),
            ("extra", 1.0),
            ("mta_tax", 0.5),
            ("tip_amount", pa.array(tip)),
            ("tolls_amount", 0.0),
            ("improvement_surcharge", 1.0),
            ("total_amount", pa.array(total)),
            ("congestion_surcharge", pa.array(congestion)),
            ("airport_fee", pa.array(airport, mask=green)),
            ("cbd_congestion_fee", pa.array(np.full(n, 0.75), mask=green)),
            ("ehail_fee", None),
            ("trip_type", pa.array(np.ones(n, dtype="int64"), mask=~green)),
        ]
        return cols

    def chunk(self, n: int, end_s: np.ndarray) -> list[dict[str, Any]]:
        """n trips whose dropoffs are at ``end_s`` (epoch seconds), as dicts."""
        return as_dicts(self.columns(n, end_s), n)

    def backfill_ends(self, n: int, start: datetime, end: datetime) -> np.ndarray:
        """Dropoff instants spread over [start, end) following the hour-of-day shape."""
        t0, t1 = start.timestamp(), end.timestamp()
        days = max(1, int(np.ceil((t1 - t0) / 86400)))
        day = self.rng.integers(0, days, n)
        hour = self.rng.choice(24, size=n, p=self._hours)
        secs = t0 - t0 % 86400 + day * 86400 + hour * 3600 + self.rng.integers(0, 3600, n)
        return np.asarray(np.clip(secs, t0, t1 - 1), dtype=float)


# The columns of SyntheticTrips.columns must be exactly the contract's fields, in order.
_SYNTHETIC_KEYS = tuple(f.name for f in TRIP_FIELDS)


def _iso_seconds(epoch_s: np.ndarray) -> pa.Array:
    return iso_utc(pa.array(epoch_s.astype("int64"), pa.timestamp("s", tz="UTC")))


def synthetic_records(
    gen: SyntheticTrips,
    count: int | None = None,
    duration_s: float | None = None,
    rate: float | None = None,
    bad_fraction: float = 0.0,
    bad_kinds: tuple[BadKind, ...] = BAD_KINDS,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Iterator[Outgoing]:
    """Trips until ``count`` or ``duration_s`` is reached, at ``rate`` per second if given."""
    if count is None and duration_s is None:
        raise ValueError("give a count or a duration")
    pacer = Pacer() if rate else None
    t_start = time.monotonic()
    sent = 0
    rng = np.random.default_rng(gen.seed + 1)
    bad_names: dict[int, str] = {}
    while count is None or sent < count:
        if duration_s is not None and time.monotonic() - t_start >= duration_s:
            return
        n = CHUNK if count is None else min(CHUNK, count - sent)
        if rate:
            n = min(n, max(1, int(rate)))  # keep chunks short so live times stay live
        if start is not None and end is not None:
            ends = gen.backfill_ends(n, start, end)
        else:
            ends = np.full(n, time.time())
        cols = gen.columns(n, ends)
        ids = dict(cols)["trip_id"]
        assert isinstance(ids, pa.Array)
        keys = ids.cast(pa.binary()).to_pylist()
        values = json_objects(cols)
        if bad_fraction:
            bad_draw = rng.random(n) < bad_fraction
            kinds = rng.integers(0, len(bad_kinds), n)
            # Only the bad records need dicts: the kinds rewrite fields of a valid record.
            bad_rows = np.flatnonzero(bad_draw)
            bad_idx = pa.array(bad_rows)
            picked = [(k, c.take(bad_idx) if isinstance(c, pa.Array) else c) for k, c in cols]
            for i, rec in zip(bad_rows.tolist(), as_dicts(picked, len(bad_rows)), strict=True):
                kind = bad_kinds[int(kinds[i])]
                values[i] = kind.make(rec)
                bad_names[i] = kind.name
        if pacer is None and not bad_fraction:
            yield from map(Outgoing, keys, values)
        else:
            for i in range(n):
                if pacer is not None:
                    pacer.wait_until((sent + i) / rate)  # type: ignore[operator]
                yield Outgoing(keys[i], values[i], bad_names.pop(i, None))
        sent += n


def now_utc() -> datetime:
    return datetime.now(UTC)
