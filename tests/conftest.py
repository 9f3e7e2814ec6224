"""Shared test setup: where the real reference data lives, and a good record to mutate."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from producer.samples import DataSettings

# Session fixtures: a test Kafka broker, the AWS twin (+ Terraform lake), one SparkSession,
# Trino on the twin's Glue catalog, envs/aws's `terraform test` (each started only when asked).
pytest_plugins = [
    "tests.fixtures.kafka",
    "tests.fixtures.twin",
    "tests.fixtures.spark",
    "tests.fixtures.trino",
    "tests.fixtures.aws_plan",
]

ROOT = Path(__file__).resolve().parent.parent
# The real TLC samples in the repository's data/ (DATA_DIR); a missing one stops collection.
TLC_FILES = DataSettings().trip_samples()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Chaos tests last: they restart the session's broker and twin under running work."""
    items.sort(key=lambda item: item.get_closest_marker("chaos") is not None)


@pytest.fixture(scope="session")
def tlc_files() -> list[Path]:
    return TLC_FILES


@pytest.fixture
def good_record() -> dict[str, Any]:
    from producer.synthetic import Profile, SyntheticTrips

    rec = SyntheticTrips(Profile.load(), seed=11).chunk(1, np.array([time.time()]))[0]
    rec.update(payment_type=1, passenger_count=1)
    return rec
