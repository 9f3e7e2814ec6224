"""Fit the synthetic generator's profile from the real TLC samples.

Run ``python -m producer.fit_profile``.

Learns zone popularity, time-of-day shape, distance, speed (so durations follow distance),
fare = base + per mile + per minute, card tip rates and the categorical mixes, from the
accepted-looking rows of every real sample in ``data/`` (``DATA_DIR``), and writes
``producer/profile.json``.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from producer.samples import DataSettings, require
from producer.tlc import TLC_TIMEZONE, read_tlc

PROFILE_PATH = Path(__file__).with_name("profile.json")


def _col(t: pa.Table, name: str) -> np.ndarray:
    return np.asarray(t.column(name).to_numpy(zero_copy_only=False))


def _shares(values: np.ndarray) -> dict[str, float]:
    counts = Counter("null" if v is None or v != v else str(int(v)) for v in values)
    total = sum(counts.values())
    return {k: round(c / total, 5) for k, c in sorted(counts.items())}


def fit(files: list[Path]) -> dict[str, object]:
    tables = [read_tlc(f) for f in files]
    by_service = Counter[str]()
    parts = []
    for tlc in tables:
        by_service[tlc.service] += tlc.rows
        parts.append(tlc.table.append_column("service", pa.array([tlc.service] * tlc.rows)))
    t = pa.concat_tables(parts, promote_options="permissive")
    dur = (_col(t, "dropoff_at") - _col(t, "pickup_at")).astype("timedelta64[s]").astype(float)
    dist = _col(t, "trip_distance").astype(float)
    fare = _col(t, "fare_amount").astype(float)
    # Fit on plausible, paid trips only; the bad ones are generated on purpose elsewhere.
    ok = (dur > 60) & (dur < 4 * 3600) & (dist > 0.1) & (dist < 100) & (fare > 0)
    mph = dist[ok] / (dur[ok] / 3600)
    mph = mph[(mph > 1) & (mph < 80)]
    minutes = dur[ok] / 60
    x = np.column_stack([np.ones(ok.sum()), dist[ok], minutes])
    base, per_mile, per_min = np.linalg.lstsq(x, fare[ok], rcond=None)[0]
    resid = fare[ok] - x @ np.array([base, per_mile, per_min])
    pay = _col(t, "payment_type")
    tip = _col(t, "tip_amount").astype(float)
    card = ok & (pay == 1)
    tip_rate = tip[card] / fare[card]
    local = pc.assume_timezone(
        pc.cast(t.column("pickup_at"), pa.timestamp("us")), "UTC"
    )  # already UTC; hour of day is taken in New York time below
    hours = pc.hour(pc.local_timestamp(pc.cast(local, pa.timestamp("us", tz=TLC_TIMEZONE))))
    hour_counts = np.bincount(hours.to_numpy(zero_copy_only=False), minlength=24)
    pu = np.bincount(_col(t, "pickup_zone_id").astype(int), minlength=266)[1:266]
    do = np.bincount(_col(t, "dropoff_zone_id").astype(int), minlength=266)[1:266]
    same_zone = float(np.mean(_col(t, "pickup_zone_id") == _col(t, "dropoff_zone_id")))
    logd = np.log(dist[ok])
    return {
        "fitted_from": sorted(f.name for f in files),
        "rows": int(t.num_rows),
        "service_share": {k: round(v / t.num_rows, 5) for k, v in sorted(by_service.items())},
        # +0.5: every real zone stays possible, popular ones dominate as in the data.
        "pickup_zone_weights": [round(float(c) + 0.5, 1) for c in pu],
        "dropoff_zone_weights": [round(float(c) + 0.5, 1) for c in do],
        "same_zone_share": round(same_zone, 5),
        "hour_of_day_weights": [int(c) + 1 for c in hour_counts],
        "distance_log_mean": round(float(logd.mean()), 5),
        "distance_log_std": round(float(logd.std()), 5),
        "zero_distance_share": round(float(np.mean(dist == 0)), 5),
        "speed_mph_log_mean": round(float(np.log(mph).mean()), 5),
        "speed_mph_log_std": round(float(np.log(mph).std()), 5),
        "fare_base": round(float(base), 4),
        "fare_per_mile": round(float(per_mile), 4),
        "fare_per_minute": round(float(per_min), 4),
        "fare_noise_std": round(float(resid.std()), 4),
        "card_tip_rate_mean": round(float(np.mean(tip_rate)), 5),
        "card_tip_rate_std": round(float(np.std(tip_rate)), 5),
        "passenger_count_share": _shares(_col(t, "passenger_count")),
        "payment_type_share": _shares(pay),
        "rate_code_share": _shares(_col(t, "rate_code_id")),
        "vendor_share": _shares(_col(t, "vendor_id")),
        "refund_share": round(float(np.mean(fare < 0)), 5),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m producer.fit_profile", description=__doc__)
    parser.add_argument(
        "files", nargs="*", type=Path, help="TLC trip files (default: every sample in DATA_DIR)"
    )
    parser.add_argument("--out", type=Path, default=PROFILE_PATH, help="profile JSON to write")
    args = parser.parse_args()
    files = [require(f) for f in args.files] or DataSettings().trip_samples()
    profile = fit(files)
    args.out.write_text(json.dumps(profile, indent=1) + "\n")
    print(f"wrote {args.out} from {len(files)} files, {profile['rows']} rows")


if __name__ == "__main__":
    main()
