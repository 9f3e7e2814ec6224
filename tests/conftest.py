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


# A test needs a service when it asks for one of these session fixtures (directly or through
# another fixture) or carries one of these markers; `make test-unit` runs neither these nor Spark.
SERVICE_FIXTURES = frozenset({"kafka_broker", "twin", "terraform_local", "lake", "trino", "tftest"})
SERVICE_MARKERS = frozenset({"kafka", "twin", "browser", "chaos"})


def needs_service(item: pytest.Item) -> bool:
    fixtures = set(getattr(item, "fixturenames", ()))
    markers = {m.name for m in item.iter_markers()}
    return bool(fixtures & SERVICE_FIXTURES or markers & SERVICE_MARKERS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `service` and `spark` from each test's fixture closure; chaos tests last (they restart
    the session's broker and twin under running work)."""
    for item in items:
        if needs_service(item):
            item.add_marker(pytest.mark.service)
        if "spark" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.spark)
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
