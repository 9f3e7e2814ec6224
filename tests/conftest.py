"""Shared test setup: where the real reference data lives, and a good record to mutate."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

# Session fixtures: a test Kafka broker, the AWS twin (+ Terraform lake), one SparkSession.
pytest_plugins = ["tests.fixtures.kafka", "tests.fixtures.twin", "tests.fixtures.spark"]

ROOT = Path(__file__).resolve().parent.parent
TLC = ROOT.parent / "shared" / "data" / "tlc"
TLC_FILES = sorted(p for p in TLC.glob("*_tripdata_*") if p.suffix in (".csv", ".parquet"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Chaos tests last: they restart the session's broker and twin under running work."""
    items.sort(key=lambda item: item.get_closest_marker("chaos") is not None)


@pytest.fixture(scope="session")
def tlc_files() -> list[Path]:
    assert len(TLC_FILES) == 3, f"expected the three shared TLC samples in {TLC}"
    return TLC_FILES


@pytest.fixture
def good_record() -> dict[str, Any]:
    from producer.synthetic import Profile, SyntheticTrips

    rec = SyntheticTrips(Profile.load(), seed=11).chunk(1, np.array([time.time()]))[0]
    rec.update(payment_type=1, passenger_count=1)
    return rec
