"""The Lambda handler (Mangum) with API Gateway HTTP API payload 2.0 events, as AWS sends them."""

from __future__ import annotations

import base64
import importlib
import json
from types import ModuleType
from typing import Any

import pytest

from spark.lake import LakeTarget
from tests.api_lake import Lake, expected_summary, write_lake

START, END = "2025-01-15T05:00:00Z", "2025-01-15T08:00:00Z"


def event(
    path: str,
    query: str = "",
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A payload 2.0 event: repeated keys are comma-joined in queryStringParameters and kept
    apart only in rawQueryString, exactly as API Gateway does."""
    params: dict[str, list[str]] = {}
    for pair in filter(None, query.split("&")):
        k, _, v = pair.partition("=")
        params.setdefault(k, []).append(v)
    ev: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} /v1/{{proxy+}}" if path.startswith("/v1/") else f"{method} {path}",
        "rawPath": path,
        "rawQueryString": query,
        "cookies": [],
        "headers": {
            "accept": "application/json",
            "host": "abc123.execute-api.us-east-1.amazonaws.com",
            "user-agent": "pytest",
            "x-forwarded-for": "203.0.113.9",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
            **(headers or {}),
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.9",
                "userAgent": "pytest",
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "$default",
            "stage": "$default",
            "time": "15/Jan/2025:08:30:00 +0000",
            "timeEpoch": 1736929800000,
        },
        "isBase64Encoded": body is not None,
    }
    if params:
        ev["queryStringParameters"] = {k: ",".join(v) for k, v in params.items()}
    if path_parameters:
        ev["pathParameters"] = path_parameters
    if body is not None:
        ev["body"] = base64.b64encode(body).decode()
    return ev


@pytest.fixture(scope="module")
def lake_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Lake]:
    d = tmp_path_factory.mktemp("handler-lake")
    return str(d), write_lake(LakeTarget(uri=f"file://{d}"))


@pytest.fixture
def handler(lake_dir: tuple[str, Lake], monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """lambda_api.handler imported the way Lambda does: settings from the environment."""
    monkeypatch.setenv("API_ENGINE", "duckdb")
    monkeypatch.setenv("API_LAKE_URI", lake_dir[0])
    monkeypatch.setenv("API_API_KEY", "k3y")
    import lambda_api.handler as module

    return importlib.reload(module)


def call(handler: ModuleType, ev: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    out = handler.handler(ev, None)
    body = out["body"]
    if out.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return out["statusCode"], out["headers"], json.loads(body) if body else None


KEY = {"x-api-key": "k3y"}


def test_summary_event(handler: ModuleType, lake_dir: tuple[str, Lake]) -> None:
    status, headers, body = call(
        handler, event("/v1/summary", f"start={START}&end={END}", headers=KEY)
    )
    assert status == 200, body
    assert headers["content-type"] == "application/json"
    assert headers["cache-control"].startswith("private, max-age=")
    expected = expected_summary(lake_dir[1].trips)
    assert {k: body[k] for k in expected} == expected


def test_path_parameters(handler: ModuleType, lake_dir: tuple[str, Lake]) -> None:
    ev = event(
        "/v1/zones/132",
        f"start={START}&end={END}",
        headers=KEY,
        path_parameters={"proxy": "zones/132"},
    )
    status, _, body = call(handler, ev)
    assert status == 200, body
    assert body["zone"] == "JFK Airport"
    assert body["summary"]["trips"] == sum(t["pickup_zone_id"] == 132 for t in lake_dir[1].trips)
    trip = lake_dir[1].trips[3]
    ev = event(f"/v1/trips/{trip['trip_id']}", "date=2025-01-15", headers=KEY)
    status, _, body = call(handler, ev)
    assert (status, body["trip_id"]) == (200, trip["trip_id"])


def test_url_encoded_values(handler: ModuleType) -> None:
    ev = event(
        "/v1/summary",
        "start=2025-01-15T05%3A00%3A00%2B00%3A00&end=2025-01-15T08%3A00%3A00Z&borough=Staten%20Island",
        headers=KEY,
    )
    status, _, body = call(handler, ev)
    assert status == 200, body
    assert body["start"] == "2025-01-15T05:00:00Z" and body["trips"] == 0


def test_repeated_query_keys_are_refused(handler: ModuleType) -> None:
    ev = event("/v1/summary", "service=yellow&service=green", headers=KEY)
    assert ev["queryStringParameters"]["service"] == "yellow,green"
    status, headers, body = call(handler, ev)
    assert status == 422 and "given 2 times" in body["detail"]
    assert headers["cache-control"] == "no-store"


def test_base64_body_on_a_read_only_api(handler: ModuleType) -> None:
    ev = event("/v1/summary", method="POST", headers={**KEY, "content-type": "application/json"},
               body=b'{"start": "x"}')  # fmt: skip
    status, _, body = call(handler, ev)
    assert status == 405 and body["detail"]
    # A GET with a (base64) body: the body is ignored, the query string decides.
    ev = event("/v1/summary", f"start={START}&end={END}", headers=KEY, body=b"ignored")
    assert call(handler, ev)[0] == 200


@pytest.mark.parametrize(
    ("ev", "status", "says"),
    [
        (event("/v1/summary", f"start={START}&end={END}"), 401, "X-API-Key"),
        (event("/v1/summary", "start=yesterday", headers=KEY), 422, "start"),
        (event("/v1/zones/300", headers=KEY), 404, "zone ids"),
        (event("/v1/trips", "limit=-1", headers=KEY), 422, "limit"),
        (event("/v2/nothing", headers=KEY), 404, "Not Found"),
    ],
)
def test_errors(handler: ModuleType, ev: dict[str, Any], status: int, says: str) -> None:
    got, _, body = call(handler, ev)
    assert got == status
    assert says in body["detail"]


def test_health_and_openapi_need_no_key(handler: ModuleType) -> None:
    status, _, body = call(handler, event("/health"))
    assert (status, body["status"], body["engine"]) == (200, "ok", "duckdb")
    status, _, body = call(handler, event("/openapi.json"))
    assert status == 200 and "/v1/trips/{trip_id}" in body["paths"]
