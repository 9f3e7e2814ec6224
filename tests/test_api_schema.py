"""Schemathesis over the OpenAPI document: generated requests never get a 5xx.

Runs in-process (ASGI) on the embedded engine over the small known lake; a bounded number of
examples per operation keeps it quick.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from lambda_api.app import create_app
from lambda_api.config import ApiSettings
from spark.lake import LakeTarget
from tests.api_lake import NOW, write_lake
from tests.fixtures.twin import TEST_DIR

LAKE = TEST_DIR / "api-schema-lake"


def _app():  # type: ignore[no-untyped-def]
    if not (LAKE / "trips").exists():
        write_lake(LakeTarget(uri=f"file://{LAKE}"))
    return create_app(ApiSettings(lake_uri=str(LAKE), cache_ttl_s=0), clock=lambda: NOW)


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_server_errors(case: schemathesis.Case) -> None:
    case.call_and_validate(
        checks=[not_a_server_error, status_code_conformance, response_schema_conformance]
    )


def test_the_schema_lists_every_endpoint() -> None:
    paths = set(schema.raw_schema["paths"])
    assert paths >= {
        "/health", "/v1/status", "/v1/trips", "/v1/trips/{trip_id}", "/v1/summary",
        "/v1/timeseries", "/v1/zones/top", "/v1/zones/{zone_id}", "/v1/quality/dead-letters",
        "/v1/quality/samples", "/v1/zones",
    }  # fmt: skip
