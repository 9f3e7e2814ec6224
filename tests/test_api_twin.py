"""The built zip, deployed by Terraform to the twin, called over HTTP through its API Gateway.

The function queries the twin's Athena over the lake bucket; every answer must equal the
embedded DuckDB engine's for the same request over the same objects (read from the twin's S3).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from lambda_api.app import create_app
from lambda_api.build import BuildSettings, build
from lambda_api.config import ApiSettings
from localstack.terraform import Terraform
from localstack.twin import Twin
from tests.api_lake import Lake, expected_summary, write_lake
from tests.conftest import ROOT
from tests.fixtures.twin import lake_target

pytestmark = pytest.mark.twin

RANGE = {"start": "2025-01-15T05:00:00Z", "end": "2025-01-15T08:00:00Z"}
REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("/v1/summary", RANGE),
    ("/v1/summary", {**RANGE, "service": "yellow", "borough": "Manhattan"}),
    ("/v1/timeseries", {**RANGE, "interval": "5m"}),
    ("/v1/timeseries", {**RANGE, "interval": "1h", "group_by": "borough"}),
    ("/v1/zones/top", {**RANGE, "metric": "revenue", "limit": 5}),
    ("/v1/zones/top", {**RANGE, "metric": "avg_fare"}),
    ("/v1/zones/236", RANGE),
    ("/v1/trips", {**RANGE, "limit": 1000}),
    ("/v1/trips", {**RANGE, "limit": 5, "service": "green"}),
    ("/v1/trips/t0007", {"date": "2025-01-15"}),
    ("/v1/quality/dead-letters", RANGE),
    ("/v1/quality/samples", {**RANGE, "reason": "negative_fare"}),
    ("/v1/zones", {}),
]


def same(a: Any, b: Any) -> bool:
    """Equal, except that floats may differ in their last rounded digit: sums of doubles depend
    on the summation order, which differs between the engines (and between DuckDB's threads)."""
    if isinstance(a, float) or isinstance(b, float):
        return (
            isinstance(a, int | float)
            and isinstance(b, int | float)
            and (math.isclose(a, b, rel_tol=1e-6, abs_tol=0.0100001))
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@pytest.fixture(scope="module")
def zip_path() -> Path:
    # Built before `lake` applies envs/local, which deploys the api module when the zip exists.
    return build(BuildSettings(output=ROOT / "dist" / "lambda_api.zip"))


@pytest.fixture(scope="module")
def deployed(zip_path: Path, lake: dict[str, Any], twin: Twin) -> Iterator[tuple[str, Lake]]:
    assert lake["api_url"], "envs/local did not deploy the api module"
    yield lake["api_url"], write_lake(lake_target(twin, lake))


@pytest.fixture(scope="module")
def http(deployed: tuple[str, Lake]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=deployed[0], timeout=60, trust_env=False) as c:
        yield c


@pytest.fixture(scope="module")
def embedded(lake: dict[str, Any], twin: Twin) -> TestClient:
    s = twin.settings
    settings = ApiSettings(
        engine="duckdb",
        lake_uri=f"s3://{lake['lake']['bucket_names']['lake']}",
        aws_endpoint_url=twin.endpoint_url,
        aws_access_key_id=s.access_key_id,
        aws_secret_access_key=s.secret_access_key,
        cache_ttl_s=0,
    )
    return TestClient(create_app(settings))


def test_health_through_api_gateway(http: httpx.Client) -> None:
    r = http.get("/health")
    assert r.status_code == 200, r.text
    assert r.json()["engine"] == "athena"


def test_known_numbers_through_athena(http: httpx.Client, deployed: tuple[str, Lake]) -> None:
    r = http.get("/v1/summary", params=RANGE)
    assert r.status_code == 200, r.text
    expected = expected_summary(deployed[1].trips)
    assert {k: r.json()[k] for k in expected} == expected


@pytest.mark.parametrize(("path", "params"), REQUESTS, ids=[f"{p}?{q}" for p, q in REQUESTS])
def test_lambda_on_athena_equals_embedded_duckdb(
    http: httpx.Client, embedded: TestClient, path: str, params: dict[str, Any]
) -> None:
    remote = http.get(path, params=params)
    local = embedded.get(path, params=params)
    assert remote.status_code == local.status_code == 200, remote.text
    assert same(remote.json(), local.json()), f"athena:\n{remote.json()}\nduckdb:\n{local.json()}"


def test_status_through_athena(http: httpx.Client) -> None:
    r = http.get("/v1/status")
    assert r.status_code == 200, r.text
    assert r.json()["last_batch"]["batch_id"] == 7  # read by the function from the lake bucket


def test_errors_come_through_unchanged(http: httpx.Client) -> None:
    r = http.get("/v1/trips", params={"limit": 5000})
    assert r.status_code == 422 and "limit" in r.json()["detail"]
    r = http.get("/v1/zones/999")
    assert r.status_code == 404
    r = http.get("/v1/summary", params=[("service", "yellow"), ("service", "green")])
    assert r.status_code == 422 and "given 2 times" in r.json()["detail"]


def test_second_plan_is_empty_with_the_api(
    deployed: tuple[str, Lake], terraform_local: Terraform
) -> None:
    assert terraform_local.plan() is False, "a plan right after apply wants changes"
