"""Synthetic trips look like the real samples they were learnt from, and pass the contract."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import orjson
import pyarrow.compute as pc

from contract.check import reasons
from producer.bad import BAD_KINDS
from producer.fit_profile import PROFILE_PATH, fit
from producer.synthetic import Profile, SyntheticTrips, synthetic_records


def test_profile_file_is_what_the_fit_script_makes(tlc_files: list[Path]) -> None:
    assert json.loads(PROFILE_PATH.read_text()) == json.loads(json.dumps(fit(tlc_files)))


def _trips(n: int, seed: int = 3, **kw: object) -> list[dict[str, object]]:
    gen = SyntheticTrips(Profile.load(), seed=seed)
    return [orjson.loads(r.value) for r in synthetic_records(gen, count=n, **kw)]  # type: ignore[arg-type]


def test_synthetic_trips_follow_the_profile() -> None:
    p = Profile.load().raw
    trips = _trips(40_000)
    green = sum(t["service"] == "green" for t in trips) / len(trips)
    assert abs(green - p["service_share"]["green"]) < 0.02
    top_real = int(np.argmax(p["pickup_zone_weights"])) + 1
    top_syn = Counter(t["pickup_zone_id"] for t in trips).most_common(1)[0][0]
    assert top_syn == top_real
    dist = np.array([t["trip_distance"] for t in trips])
    assert 1.0 < np.median(dist) < 4.0  # real samples: median ~1.7 mi
    durs = np.array(
        [
            (
                datetime.fromisoformat(t["dropoff_at"]) - datetime.fromisoformat(t["pickup_at"])
            ).seconds
            for t in trips
        ]
    )
    assert 300 < np.median(durs) < 1800
    assert np.corrcoef(dist, durs)[0, 1] > 0.5  # longer trips take longer
    card = [t for t in trips if t["payment_type"] == 1 and t["fare_amount"] > 0]
    rate = sum(t["tip_amount"] for t in card) / sum(t["fare_amount"] for t in card)
    assert abs(rate - p["card_tip_rate_mean"]) < 0.03


def test_synthetic_trips_are_all_accepted_and_live() -> None:
    trips = [orjson.dumps(t) for t in _trips(3000)]
    assert all(r == [] for r in reasons(trips))
    last = max(datetime.fromisoformat(orjson.loads(t)["dropoff_at"]) for t in trips)
    assert abs((datetime.now(UTC) - last).total_seconds()) < 30


def test_backfill_follows_time_of_day_and_range() -> None:
    start, end = datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 8, tzinfo=UTC)
    trips = _trips(20_000, start=start, end=end)
    drops = [datetime.fromisoformat(t["dropoff_at"]) for t in trips]  # type: ignore[arg-type]
    assert min(drops) >= start and max(drops) < end
    hours = Counter(d.hour for d in drops)
    # The profile's busiest hours (evening NY time) beat its quietest (early morning).
    w = Profile.load().raw["hour_of_day_weights"]
    assert hours[int(np.argmax(w))] > 3 * hours[int(np.argmin(w))]


def test_same_seed_same_ids_and_bad_records_are_counted() -> None:
    a = [t["trip_id"] for t in _trips(500, seed=9)]
    assert a == [t["trip_id"] for t in _trips(500, seed=9)]
    gen = SyntheticTrips(Profile.load(), seed=5)
    recs = list(synthetic_records(gen, count=20_000, bad_fraction=0.2))
    kinds = Counter(r.bad_kind for r in recs if r.bad_kind)
    assert set(kinds) == {k.name for k in BAD_KINDS}
    assert 0.17 < sum(kinds.values()) / len(recs) < 0.23
    got = reasons([r.value for r in recs[:3000]])
    by_name = {k.name: k.reason for k in BAD_KINDS}
    for r, found in zip(recs[:3000], got, strict=True):
        if r.bad_kind is None:
            assert found == []
        else:
            assert by_name[r.bad_kind] in found


def test_no_synthetic_trip_is_longer_than_the_contract_allows() -> None:
    # The tail matters: 2 in 3M records once lasted over a day (60 mi at 2 mph) and were
    # rejected by the stream as trip_longer_than_a_day.
    n = 1_000_000
    cols = dict(SyntheticTrips(Profile.load(), seed=11).columns(n, np.full(n, 1.7e9)))
    pickup, dropoff = (
        pc.strptime(cols[k], format="%Y-%m-%dT%H:%M:%SZ", unit="s")
        for k in ("pickup_at", "dropoff_at")
    )
    seconds = pc.subtract(pc.cast(dropoff, "int64"), pc.cast(pickup, "int64"))
    assert 0 < pc.max(seconds).as_py() <= timedelta(hours=4).total_seconds()
