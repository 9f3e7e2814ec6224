"""Injection attempts in every parameter of every operation: a 4xx with a JSON message.

The parameters come from the app's own OpenAPI document, so a parameter added later is
attacked without editing this file. The app is the real one on the embedded DuckDB engine over
the small known lake (tests/api_lake.py); the engine records every statement it runs, so a test
can show that an attempt reached the SQL only as a string literal and altered nothing.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import sqlglot
from fastapi.testclient import TestClient
from sqlglot import exp

from contract.rules import REASONS
from lambda_api.app import create_app
from lambda_api.config import ApiSettings
from lambda_api.engines import DuckDBEngine, Row
from lambda_api.params import encode_cursor
from spark.lake import LakeTarget
from tests.api_lake import NOW, Lake, write_lake


def settings(lake: str) -> ApiSettings:
    # Explicit engine: API_* variables in the environment must not switch the app under test.
    return ApiSettings(engine="duckdb", lake_uri=lake, cache_ttl_s=0)


def _doc() -> dict[str, Any]:
    """The OpenAPI document; it depends on the settings' bounds, not on the lake's data."""
    with tempfile.TemporaryDirectory() as empty:
        return create_app(settings(empty)).openapi()


DOC = _doc()
# (path, location, name, schema) of every parameter of every GET operation.
PARAMS = [
    (path, p["in"], p["name"], p["schema"])
    for path, ops in DOC["paths"].items()
    for p in ops["get"].get("parameters", [])
]

# SQL: tautologies, UNION, stacked statements, comments, other quoting styles.
SQL = [
    "' OR 1=1 --",
    "' OR '1'='1",
    "x') OR ('1'='1",
    "1 OR 1=1",
    "1; DROP TABLE trips",
    "'; DROP TABLE trips; --",
    "'; DELETE FROM zone_metrics; --",
    "1); CREATE TABLE pwned AS SELECT 1 AS x; --",
    "yellow' UNION SELECT trip_id, fare_amount FROM trips --",
    "1 UNION ALL SELECT NULL, NULL --",
    "/**/OR/**/1=1",
    "' /* comment */ --",
    "'#",
    "$$ OR 1=1 $$",
    "U&'\\0027' OR 1=1 --",
    "E'\\x27' OR 1=1 --",
]
# DuckDB's file, environment and extension functions.
DUCKDB = [
    "read_csv('/etc/passwd')",
    "' || (SELECT content FROM read_text('/etc/passwd')) || '",
    "getenv('HOME')",
    "' || getenv('HOME') || '",
    "'; ATTACH '/tmp/pwned.duckdb' AS pwned; --",
    "'; INSTALL httpfs; LOAD httpfs; --",
    "'; SET enable_external_access = true; --",
    "'; PRAGMA database_list; --",
]
# Encodings, sizes, paths, headers, templates, and values at the edge of a type.
OTHER = [
    "\x00",
    "t0005\x00' OR 1=1 --",
    "%00",
    "%27%20OR%201%3D1",
    "A" * 10_000,
    "ユニコード🚕",
    "\u202eevil",
    "\u200b",
    "\uff07 OR \uff11=\uff11",  # fullwidth quote and digits
    "yell\u043ew",  # a Cyrillic o
    "../../etc/passwd",
    "....//....//etc/passwd",
    "x\r\nSet-Cookie: injected=1",
    "x%0d%0aSet-Cookie:%20injected=1",
    "{{7*7}}",
    "${7*7}",
    "#{7*7}",
    "<%= 7*7 %>",
    '{"$ne": null}',
    "<script>alert(1)</script>",
    "1e400",
    "NaN",
    "99999999999999999999999",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "9999-12-31",
]
PAYLOADS = SQL + DUCKDB + OTHER
# Appended to a valid value of the parameter: the valid part must not carry the rest through.
SUFFIXES = ["' OR '1'='1", "; DROP TABLE trips", " OR 1=1", "' --", "\x00", ") UNION SELECT 1 --"]

Valid = Callable[[str, dict[str, Any]], str]  # (name, schema) -> a valid value
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_INT = re.compile(r"[+-]?\d+")


class RecordingEngine(DuckDBEngine):
    """The real engine, keeping every statement it runs."""

    def __init__(self, settings: ApiSettings) -> None:
        super().__init__(settings)
        self.statements: list[str] = []

    def query(self, sql: str) -> list[Row]:
        self.statements.append(sql)
        return super().query(sql)


@pytest.fixture(scope="module")
def lake_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Lake]:
    d = tmp_path_factory.mktemp("api-injection-lake")
    return d, write_lake(LakeTarget(uri=f"file://{d}"))


def _client(lake_dir: tuple[Path, Lake]) -> tuple[TestClient, RecordingEngine]:
    s = settings(str(lake_dir[0]))
    engine = RecordingEngine(s)
    # A 5xx is reported as a status (with the payload), not raised out of the loop.
    app = create_app(s, engine=engine, clock=lambda: NOW)
    return TestClient(app, raise_server_exceptions=False), engine


@pytest.fixture(scope="module")
def served(lake_dir: tuple[Path, Lake]) -> tuple[TestClient, RecordingEngine]:
    return _client(lake_dir)


@pytest.fixture(scope="module")
def valid(lake_dir: tuple[Path, Lake], served: tuple[TestClient, RecordingEngine]) -> Valid:
    """A valid value of a parameter, from its schema; free strings from the lake. A new string
    parameter without enum or format fails here until it is given a value (and a decision in
    expected_status)."""
    trip = lake_dir[1].trips[5]
    page = served[0].get("/v1/trips", params={"limit": 1}).json()
    free = {
        "trip_id": trip["trip_id"],
        "cursor": page["next_cursor"],
        "date": trip["dt"],
        "reason": lake_dir[1].dead[0]["reasons"][0],
    }
    assert free["cursor"], page

    def value(name: str, schema: dict[str, Any]) -> str:
        s = next((a for a in schema.get("anyOf", [schema]) if a.get("type") != "null"), schema)
        if name in free:
            return str(free[name])
        if "enum" in s:
            return str(s["enum"][0])
        if s.get("type") == "integer":
            return str(max(s.get("minimum", 1), 1))
        if s.get("format") == "date-time":
            return "2025-01-15T06:00:00Z"
        raise AssertionError(f"no valid value for parameter {name} {s}: add one to `free`")

    return value


def segment(value: str) -> str:
    """``value`` as a path segment the app receives unchanged: Starlette's TestClient unquotes
    the path httpx has already decoded, so it is quoted twice (a server decodes once)."""
    return quote(quote(value, safe=""), safe="")


def _request(
    client: TestClient, path: str, where: str, name: str, value: str, valid: Valid
) -> httpx.Response:
    """GET ``path`` with ``value`` in parameter ``name`` (none: ""); other path parameters
    valid, other query parameters at their defaults."""
    url = path
    for _, loc, other, schema in PARAMS:
        if loc == "path" and f"{{{other}}}" in url and other != name:
            url = url.replace(f"{{{other}}}", segment(valid(other, schema)))
    if where == "path":
        r: httpx.Response = client.get(url.replace(f"{{{name}}}", segment(value)))
    else:
        r = client.get(url, params={name: value} if name else None)
    return r


def expected_status(where: str, name: str, value: str) -> int:
    """The right 4xx per parameter. Typed parameters (enums, numbers, instants, dates, the
    opaque cursor) refuse anything else with 422; a trip id is any 1..128 printable characters,
    so a well-formed one that names no trip is a 404; a zone id is any integer, 404 outside
    1..265."""
    if where == "path" and "/" in value:
        return 404  # another path, served by no route
    if name == "trip_id":
        return 422 if _CONTROL.search(value) or len(value) > 128 else 404
    if name == "zone_id" and _INT.fullmatch(value):
        return 404
    return 422


def _problems(r: httpx.Response, name: str, value: str, want: int) -> list[str]:
    out = []
    shown = f"{name}={value[:60]!r}"
    if r.status_code != want:
        out.append(f"{shown}: {r.status_code} (want {want}) {r.text[:200]}")
        return out
    if not r.headers.get("content-type", "").startswith("application/json"):
        out.append(f"{shown}: content-type {r.headers.get('content-type')}")
    detail = r.json().get("detail")
    if not isinstance(detail, str) or not detail:
        out.append(f"{shown}: no JSON detail message: {r.text[:200]}")
    elif want == 422 and f"'{name}'" not in detail:
        out.append(f"{shown}: the 422 does not name the parameter: {detail[:200]}")
    if "set-cookie" in r.headers or any("injected" in v for v in r.headers.values()):
        out.append(f"{shown}: a header was injected: {dict(r.headers)}")
    return out


def test_the_parameters_come_from_the_served_document(
    served: tuple[TestClient, RecordingEngine],
) -> None:
    assert served[0].app.openapi() == DOC  # type: ignore[attr-defined]
    names = {name for *_, name, _ in PARAMS}
    assert {"trip_id", "zone_id", "cursor", "date", "reason", "start", "limit"} <= names
    assert len(PARAMS) >= 30


def test_every_reason_code_of_the_contract_fits_the_reason_parameter() -> None:
    """The reason filter refuses anything but the shape of a code; every code must fit it."""
    schema = next(s for p, _, n, s in PARAMS if p == "/v1/quality/samples" and n == "reason")
    s = next(a for a in schema["anyOf"] if a.get("type") == "string")
    misfits = [r for r in REASONS if not (re.search(s["pattern"], r) and len(r) <= s["maxLength"])]
    assert REASONS and not misfits


@pytest.mark.parametrize("path", sorted(DOC["paths"]))
def test_every_operation_answers_its_valid_request(
    served: tuple[TestClient, RecordingEngine], valid: Valid, path: str
) -> None:
    """The control: with valid values each operation answers 200, so a 4xx below is the
    payload's doing."""
    client = served[0]
    assert _request(client, path, "query", "", "", valid).status_code == 200
    for p, where, name, schema in PARAMS:
        if p == path:
            r = _request(client, path, where, name, valid(name, schema), valid)
            assert r.status_code == 200, (name, r.text)


@pytest.mark.parametrize(
    ("path", "where", "name"),
    [(path, where, name) for path, where, name, _ in PARAMS],
    ids=[f"{path}:{name}" for path, _, name, _ in PARAMS],
)
def test_injection_in_every_parameter_is_a_4xx(
    served: tuple[TestClient, RecordingEngine], valid: Valid, path: str, where: str, name: str
) -> None:
    client = served[0]
    schema = next(s for p, _, n, s in PARAMS if (p, n) == (path, name))
    good = valid(name, schema)
    problems: list[str] = []
    for value in PAYLOADS + [good + s for s in SUFFIXES]:
        r = _request(client, path, where, name, value, valid)
        problems += _problems(r, name, value, expected_status(where, name, value))
    assert not problems, "\n".join(problems)


def _literals(sql: str) -> list[str]:
    """The string literals of ``sql``; fails unless it is exactly one query, no other kind."""
    statements = sqlglot.parse(sql, read="trino")
    assert len(statements) == 1 and isinstance(statements[0], exp.Query), sql
    tree = statements[0]
    assert not list(tree.find_all(exp.Drop, exp.Delete, exp.Insert, exp.Create, exp.Command))
    return [lit.this for lit in tree.find_all(exp.Literal) if lit.is_string]


def test_quotes_in_a_trip_id_cannot_alter_the_sql(
    served: tuple[TestClient, RecordingEngine], lake_dir: tuple[Path, Lake]
) -> None:
    """Each attempt would return a trip if it changed the WHERE clause; each is a 404 and each
    reached the engine as one SELECT holding the whole attempt as one string literal."""
    client, engine = served
    real = lake_dir[1].trips[5]["trip_id"]
    for attempt in [
        f"{real}' OR '1'='1",
        f"{real}' --",
        f"x' OR trip_id = '{real}",
        "x' OR trip_id LIKE '%",
        "x') OR ('1'='1",
        "x' UNION SELECT * FROM trips --",
        f"{real}'; DROP TABLE trips; --",
        f"{real}\\' OR 1=1 --",
    ]:
        before = len(engine.statements)
        r = client.get(f"/v1/trips/{segment(attempt)}", params={"date": "2025-01-15"})
        assert r.status_code == 404, (attempt, r.text)
        assert "pickup_at" not in r.json()
        ran = engine.statements[before:]
        assert len(ran) == 1
        assert attempt in _literals(ran[0])
    assert client.get(f"/v1/trips/{real}").status_code == 200


def test_a_well_formed_cursor_with_quotes_is_only_a_key(
    served: tuple[TestClient, RecordingEngine], lake_dir: tuple[Path, Lake]
) -> None:
    """A cursor is this API's own (unsigned) encoding: one crafted with quotes in its trip id
    decodes, and still only positions the page; a rewritten WHERE would return every trip."""
    trips = sorted(lake_dir[1].trips, key=lambda t: (t["pickup_at"], t["trip_id"]))
    mid = trips[len(trips) // 2]
    attempt = f"{mid['trip_id']}' OR '1'='1"
    cursor = encode_cursor(mid["pickup_at"], attempt)
    r = served[0].get("/v1/trips", params={"cursor": cursor, "limit": 1000})
    assert r.status_code == 200, r.text
    want = [
        t["trip_id"] for t in trips if (t["pickup_at"], t["trip_id"]) > (mid["pickup_at"], attempt)
    ]
    assert 0 < len(want) < len(trips)
    assert [t["trip_id"] for t in r.json()["items"]] == want
    assert attempt in _literals(served[1].statements[-1])


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_attempts_leave_the_engine_and_the_lake_unchanged(
    lake_dir: tuple[Path, Lake], valid: Valid, tmp_path: Path
) -> None:
    """Statements that would drop, delete, create, attach or write files, in every parameter
    and inside well-formed cursors (the one way a value with a '/' reaches the SQL: a path
    segment cannot hold one); afterwards a sentinel table, the views, the lake's files and the
    file system are as before."""
    client, engine = _client(lake_dir)
    engine.con.execute("CREATE TABLE sentinel AS SELECT * FROM (VALUES (1, 'keep')) t(id, note)")
    target = tmp_path / "pwned.csv"
    attached = tmp_path / "pwned.duckdb"
    lake_before = _digest(lake_dir[0])
    trips_before = client.get("/v1/trips", params={"limit": 1000}).json()["items"]
    assert len(trips_before) == len(lake_dir[1].trips)
    destructive = [
        "'; DROP TABLE sentinel; --",
        "1; DROP VIEW trips",
        "'; DELETE FROM sentinel; --",
        "'; UPDATE sentinel SET note = 'gone'; --",
        "'; INSERT INTO sentinel VALUES (2, 'added'); --",
        "1); CREATE TABLE pwned AS SELECT 1 AS x; --",
        f"'; COPY (SELECT 1) TO '{target}'; --",
        f"'; ATTACH '{attached}' AS pwned; --",
        f"x' || (SELECT 1 FROM (COPY trips TO '{target}')) || '",
    ]
    problems: list[str] = []
    for path, where, name, schema in PARAMS:
        for value in destructive:
            for sent in (value, valid(name, schema) + value):
                r = _request(client, path, where, name, sent, valid)
                problems += _problems(r, name, sent, expected_status(where, name, sent))
    assert not problems, "\n".join(problems)
    first = min(t["pickup_at"] for t in lake_dir[1].trips)
    for value in destructive:
        cursor = encode_cursor(first, value)
        r = client.get("/v1/trips", params={"cursor": cursor, "limit": 1000})
        assert r.status_code == 200, r.text
        assert value in _literals(engine.statements[-1])
    con = engine.con
    assert con.execute("SELECT * FROM sentinel").fetchall() == [(1, "keep")]
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert tables == {"sentinel"}
    assert [r[1] for r in con.execute("PRAGMA database_list").fetchall()] == ["memory"]
    assert not target.exists() and not attached.exists()
    assert _digest(lake_dir[0]) == lake_before
    assert client.get("/v1/trips", params={"limit": 1000}).json()["items"] == trips_before
