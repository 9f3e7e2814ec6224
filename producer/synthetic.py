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

from contract.fields import SCHEMA_VERSION, TRIP_FIELDS
from contract.record import encode
from producer.bad import BAD_KINDS, BadKind
from producer.feed import Outgoing, Pacer
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
        self._seq = 0

    def _pick(self, key: str, n: int) -> list[int | None]:
        values, p = self._cats[key]
        idx = self.rng.choice(len(values), size=n, p=p)
        return [values[i] for i in idx]

    def chunk(self, n: int, end_s: np.ndarray) -> list[dict[str, Any]]:
        """n trips whose dropoffs are at ``end_s`` (epoch seconds)."""
        r, p = self.rng, self.p.raw
        pu = r.choice(265, size=n, p=self._pu) + 1
        do = r.choice(265, size=n, p=self._do) + 1
        do = np.where(r.random(n) < p["same_zone_share"], pu, do)
        dist = np.exp(r.normal(p["distance_log_mean"], p["distance_log_std"], n)).clip(0.05, 60)
        dist = np.where(r.random(n) < p["zero_distance_share"], 0.0, dist.round(2))
        mph = np.exp(r.normal(p["speed_mph_log_mean"], p["speed_mph_log_std"], n)).clip(2, 55)
        dur = np.maximum(60.0, dist / mph * 3600).round()
        fare = p["fare_base"] + p["fare_per_mile"] * dist + p["fare_per_minute"] * dur / 60
        fare = (fare + r.normal(0, p["fare_noise_std"] / 3, n)).clip(3.0).round(2)
        fare = np.where(r.random(n) < p["refund_share"], -fare, fare)
        payment = self._pick("payment_type_share", n)
        card = np.array([x == 1 for x in payment])
        tip_rate = r.normal(p["card_tip_rate_mean"], p["card_tip_rate_std"], n).clip(0, 1)
        tip = np.where(card & (fare > 0), (fare * tip_rate).round(2), 0.0)
        green = r.random(n) < p["service_share"].get("green", 0.0)
        airport = np.where(np.isin(pu, _AIRPORT_ZONES) & ~green, 1.75, 0.0)
        congestion = np.where(green, 0.0, 2.5)
        total = (fare + 1.0 + 0.5 + tip + airport + congestion).round(2)
        total = np.where(fare < 0, -(np.abs(fare) + 1.5), total).round(2)
        pick_s = end_s - dur
        pickups = _iso_seconds(pick_s)
        dropoffs = _iso_seconds(end_s)
        passengers = self._pick("passenger_count_share", n)
        rates = self._pick("rate_code_share", n)
        vendors = self._pick("vendor_share", n)
        svc = np.where(green, "green", "yellow").tolist()
        green_l = green.tolist()
        airport_l = np.where(green, np.nan, airport).tolist()
        ids = [f"syn-{self.seed:x}-{i:x}" for i in range(self._seq, self._seq + n)]
        cols = zip(
            ids,
            svc,
            vendors,
            pickups,
            dropoffs,
            pu.tolist(),
            do.tolist(),
            passengers,
            dist.tolist(),
            rates,
            payment,
            fare.tolist(),
            tip.tolist(),
            total.tolist(),
            congestion.tolist(),
            airport_l,
            green_l,
            strict=True,
        )
        # One dict literal per trip (keys in contract order): the hot loop of the producer.
        out = [
            {
                "schema_version": SCHEMA_VERSION,
                "trip_id": tid,
                "service": s,
                "source": "synthetic",
                "vendor_id": v,
                "pickup_at": pa,
                "dropoff_at": da,
                "pickup_zone_id": z1,
                "dropoff_zone_id": z2,
                "passenger_count": pc,
                "trip_distance": d,
                "rate_code_id": rc,
                "store_and_fwd_flag": "N",
                "payment_type": pt,
                "fare_amount": f,
                "extra": 1.0,
                "mta_tax": 0.5,
                "tip_amount": tp,
                "tolls_amount": 0.0,
                "improvement_surcharge": 1.0,
                "total_amount": tot,
                "congestion_surcharge": cg,
                "airport_fee": None if g else ap,
                "cbd_congestion_fee": None if g else 0.75,
                "ehail_fee": None,
                "trip_type": 1 if g else None,
            }
            for tid, s, v, pa, da, z1, z2, pc, d, rc, pt, f, tp, tot, cg, ap, g in cols
        ]
        self._seq += n
        return out

    def backfill_ends(self, n: int, start: datetime, end: datetime) -> np.ndarray:
        """Dropoff instants spread over [start, end) following the hour-of-day shape."""
        t0, t1 = start.timestamp(), end.timestamp()
        days = max(1, int(np.ceil((t1 - t0) / 86400)))
        day = self.rng.integers(0, days, n)
        hour = self.rng.choice(24, size=n, p=self._hours)
        secs = t0 - t0 % 86400 + day * 86400 + hour * 3600 + self.rng.integers(0, 3600, n)
        return np.asarray(np.clip(secs, t0, t1 - 1), dtype=float)


# The dict literal in SyntheticTrips.chunk must carry exactly the contract's fields, in order.
_SYNTHETIC_KEYS = tuple(f.name for f in TRIP_FIELDS)


def _iso_seconds(epoch_s: np.ndarray) -> list[str]:
    dt = epoch_s.astype("int64").astype("datetime64[s]")
    return [s + "Z" for s in np.datetime_as_string(dt, unit="s").tolist()]


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
        records = gen.chunk(n, ends)
        bad_draw = rng.random(n) < bad_fraction if bad_fraction else None
        kinds = rng.integers(0, len(bad_kinds), n) if bad_fraction else None
        for i, rec in enumerate(records):
            if pacer is not None:
                pacer.wait_until((sent + i) / rate)  # type: ignore[operator]
            if bad_draw is not None and bad_draw[i]:
                kind = bad_kinds[int(kinds[i])]  # type: ignore[index]
                yield Outgoing(rec["trip_id"].encode(), kind.make(rec), kind.name)
            else:
                yield Outgoing(rec["trip_id"].encode(), encode(rec))
        sent += n


def now_utc() -> datetime:
    return datetime.now(UTC)
