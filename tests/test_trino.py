"""Athena as Athena runs it: every API statement on a real Trino over the twin's Glue catalog.

Trino (Athena engine v3's engine) reads the Glue tables Terraform made on the session twin with
the aws env's partition projection, over Parquet written by the stream's own writer
(spark.lake.write_table) into the twin's S3. The twin's Athena runs DuckDB, which accepts SQL
Trino refuses and ignores partitions; here each statement must return the same rows on both.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pytest
from pydantic import SecretStr

from contract.rules import RULES
from contract.tables import DEAD_LETTERS, TRIPS, ZONE_METRICS
from lambda_api import queries
from lambda_api.config import ApiSettings
from lambda_api.engines import DuckDBEngine
from lambda_api.params import TimeRange
from localstack.twin import Twin
from spark.lake import write_table
from tests.api_lake import T0, make_dead_letters, make_trips, zone_metrics
from tests.fixtures.trino import (
    Result,
    TrinoError,
    TrinoServer,
    TrinoSettings,
    find_java_home,
    java_major,
)
from tests.fixtures.twin import lake_target

pytestmark = pytest.mark.twin

HOURS = timedelta(hours=3)


@dataclass(frozen=True)
class Span:
    key: str
    start: datetime

    @property
    def range(self) -> TimeRange:
        return TimeRange(self.start, self.start + HOURS)

    @property
    def days(self) -> list[str]:
        r = self.range.sql()
        return sorted({r["start_dt"], r["end_dt"]})


def earliest_pickup() -> datetime:
    """The contract's first valid pickup instant (rule pickup_after_2009)."""
    rule = next(r for r in RULES if r.reason == "pickup_before_2009")
    m = re.search(r"TIMESTAMP '([^']+)'", rule.condition)
    assert m, rule.condition
    return datetime.fromisoformat(m.group(1)).replace(tzinfo=UTC)


# Real TLC files carry 2009-01-01 rows; the second span crosses the old projection start
# (2020-01-01) at midnight; the third is recent. Days no other test writes to the root lake.
SPANS = (
    Span("early", earliest_pickup()),
    Span("cross", datetime(2019, 12, 31, 22, tzinfo=UTC)),
    Span("recent", datetime(2024, 6, 3, 5, tzinfo=UTC)),
)


@dataclass
class Written:
    trips: dict[str, list[dict[str, Any]]]  # by span key
    dead: dict[str, list[dict[str, Any]]]


def _shift(row: dict[str, Any], delta: timedelta, time_keys: tuple[str, ...]) -> dict[str, Any]:
    out = dict(row)
    for k in time_keys:
        out[k] = row[k] + delta
    return out


def span_rows(span: Span, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """api_lake's trips and dead letters moved into ``span``, with their own ids."""
    delta = span.start - T0
    trips = []
    for i, t in enumerate(make_trips(n=40, seed=seed)):
        t = _shift(t, delta, ("pickup_at", "dropoff_at", "ingested_at"))
        if i == 0:  # one trip at the very first valid instant of the span
            t["dropoff_at"] += span.start - t["pickup_at"]
            t["pickup_at"] = span.start
        t.update(
            trip_id=f"{span.key}-{i:04d}",
            dt=t["pickup_at"].strftime("%Y-%m-%d"),
            hour=t["pickup_at"].strftime("%H"),
        )
        trips.append(t)
    dead = []
    for d in make_dead_letters():
        d = _shift(d, delta, ("ingested_at",))
        d["dt"] = d["ingested_at"].strftime("%Y-%m-%d")
        dead.append(d)
    return trips, dead


@pytest.fixture(scope="module")
def written(lake: dict[str, Any], twin: Twin) -> Written:
    target = lake_target(twin, lake)
    out = Written({}, {})
    for n, span in enumerate(SPANS):
        trips, dead = span_rows(span, seed=20 + n)
        half = len(trips) // 2
        for batch, part in ((100 + 2 * n, trips[:half]), (101 + 2 * n, trips[half:])):
            write_table(pa.Table.from_pylist(part), TRIPS, target, batch, "trino")
            rows = pa.Table.from_pylist(zone_metrics(part, batch))
            write_table(rows, ZONE_METRICS, target, batch, "trino")
        write_table(pa.Table.from_pylist(dead), DEAD_LETTERS, target, 100 + n, "trino")
        out.trips[span.key], out.dead[span.key] = trips, dead
    return out


@pytest.fixture(scope="module")
def duck(written: Written, lake: dict[str, Any], twin: Twin) -> DuckDBEngine:
    s = twin.settings
    return DuckDBEngine(
        ApiSettings(
            engine="duckdb",
            lake_uri=f"s3://{lake['lake']['bucket_names']['lake']}",
            aws_endpoint_url=twin.endpoint_url,
            aws_access_key_id=s.access_key_id,
            aws_secret_access_key=SecretStr(s.secret_access_key),
        )
    )


@pytest.fixture(scope="module")
def athena(trino: TrinoServer, written: Written, lake: dict[str, Any]) -> Any:
    """Run one statement on Trino in the lake's Glue database."""
    schema = lake["lake"]["database_name"]
    return lambda sql: trino.query(sql, schema=schema)


# ---- every statement, representative parameters ---------------------------------------------

BASE: dict[str, dict[str, Any]] = {
    "dead_letter_counts": {"unit": "hour"},
    "dead_letter_samples": {"reason": None, "limit": 10},
    "status_dead_letters": {},
    "status_trips": {},
    "summary": {"service": None, "borough": None, "zone_id": None},
    "timeseries": {"unit": "hour", "group_by": "none", "service": None, "borough": None},
    "top_zones": {"metric": "pickups", "service": None, "borough": None, "limit": 10},
    "trip_by_id": {},
    "trips_page": {
        "service": None,
        "pickup_zone_id": None,
        "dropoff_zone_id": None,
        "borough": None,
        "payment_type": None,
        "cursor_at": None,
        "cursor_id": None,
        "limit": 1000,
    },
    "zone_by_hour": {"zone_id": 236},
    "zone_top_dropoffs": {"zone_id": 236, "limit": 5},
}
SET = {"service": "yellow", "borough": "Manhattan"}
# Variants on top of BASE, run over the span that crosses midnight (two days, every hour form).
VARIANTS: dict[str, list[dict[str, Any]]] = {
    "dead_letter_counts": [{"unit": "minute"}, {"unit": "day"}],
    "dead_letter_samples": [{"reason": "negative_fare", "limit": 2}],
    "summary": [{"service": "green"}, {"borough": "Manhattan"}, {"zone_id": 236}, SET],
    "timeseries": [
        {"unit": "minute", "group_by": "service"},
        {"group_by": "borough", **SET},
        {"unit": "day", "group_by": "zone"},
        {"group_by": "service", "service": "green"},
    ],
    "top_zones": [
        {"metric": m, **f, "limit": lim}
        for m in ("pickups", "revenue", "avg_fare")
        for f, lim in (({}, 10), (SET, 3), ({"service": "green"}, 5), ({"borough": "Queens"}, 10))
    ],
    "trips_page": [
        {"service": "green", "limit": 5},
        {"pickup_zone_id": 236, "payment_type": 1},
        {"dropoff_zone_id": 132, "borough": "Manhattan"},
        {"cursor_at": "mid", "limit": 10},  # keyset page from the 16th trip on
    ],
    "trip_by_id": [{"trip_id": "no-such-trip"}],
    "zone_by_hour": [{"zone_id": 132}],
    "zone_top_dropoffs": [{"zone_id": 161, "limit": 10}],
}


def span_values(span: Span, name: str, extra: dict[str, Any], w: Written) -> dict[str, Any]:
    q = queries.get(name)
    values = {**span.range.sql(hours="start_hour" in q.params), **BASE[name], **extra}
    if name == "status_trips":
        values["since"] = span.start + timedelta(hours=2)
    if name == "trip_by_id":
        values.setdefault("trip_id", w.trips[span.key][7]["trip_id"])
    if name == "trips_page" and values.get("cursor_at") == "mid":
        t = sorted(w.trips[span.key], key=lambda t: (t["pickup_at"], t["trip_id"]))[15]
        values.update(cursor_at=t["pickup_at"], cursor_id=t["trip_id"])
    return values


CASES: list[tuple[str, str, dict[str, Any]]] = [
    (span.key, name, {}) for span in SPANS for name in sorted(BASE)
] + [("cross", name, v) for name, vs in sorted(VARIANTS.items()) for v in vs]
SPAN = {s.key: s for s in SPANS}


def _text(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def trino_rows(result: Result) -> list[dict[str, Any]]:
    """Trino's JSON values as comparable Python: json parsed; timestamps stay Trino's text."""
    out = []
    for row in result.dicts():
        types = dict(result.columns)
        out.append({k: json.loads(v) if types[k] == "json" else v for k, v in row.items()})
    return out


def duck_rows(rows: list[dict[str, Any]], json_cols: set[str]) -> list[dict[str, Any]]:
    def norm(k: str, v: Any) -> Any:
        if isinstance(v, datetime):
            return _text(v)  # Trino: 'YYYY-MM-DD HH:MM:SS.fff', no zone
        if isinstance(v, Decimal):
            return float(v)
        if k in json_cols and isinstance(v, str):
            return json.loads(v)
        return v

    return [{k: norm(k, v) for k, v in r.items()} for r in rows]


def same(a: Any, b: Any) -> bool:
    """Equal; doubles within rounding (the engines sum in different orders)."""
    if isinstance(a, float) or isinstance(b, float):
        return (
            isinstance(a, int | float)
            and isinstance(b, int | float)
            and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def test_every_statement_has_a_case() -> None:
    assert set(BASE) == set(queries.load_all()), "a statement in lambda_api/sql has no case here"
    assert {m["metric"] for m in VARIANTS["top_zones"]} == {"pickups", "revenue", "avg_fare"}


@pytest.mark.parametrize(
    ("span", "name", "extra"),
    CASES,
    ids=[f"{s}-{n}-" + ",".join(f"{k}={v}" for k, v in e.items()) for s, n, e in CASES],
)
def test_trino_returns_the_rows_duckdb_returns(
    athena: Any, duck: DuckDBEngine, written: Written, span: str, name: str, extra: dict[str, Any]
) -> None:
    sql = queries.get(name).render(**span_values(SPAN[span], name, extra, written))
    result = athena(sql)
    got = trino_rows(result)
    json_cols = {n for n, t in result.columns if t == "json"}
    want = duck_rows(duck.query(sql), json_cols)
    if want:
        assert [n for n, _ in result.columns] == list(want[0])
    assert same(got, want), f"{name} {extra}\ntrino:  {got}\nduckdb: {want}\n{sql}"


def test_the_base_cases_are_not_empty(athena: Any, written: Written) -> None:
    """The comparison above proves little on empty results: the data is there for Trino."""
    for span in SPANS:
        for name in ("summary", "trips_page", "top_zones", "dead_letter_counts", "trip_by_id"):
            sql = queries.get(name).render(**span_values(span, name, {}, written))
            rows = athena(sql).rows
            assert rows and rows[0][0] not in (0, None), (span.key, name, rows)


# ---- the accounting invariant, as Athena sees the lake ---------------------------------------


def count(athena: Any, table: str, days: list[str], expr: str = "COUNT(*)") -> int:
    # Bounded by dt: an unbounded count enumerates every projected partition since 2009.
    listed = ", ".join(f"'{d}'" for d in days)
    rows = athena(f"SELECT {expr} AS n FROM {table} WHERE dt IN ({listed})").rows
    return int(rows[0][0] or 0)


@pytest.mark.parametrize("span", SPANS, ids=[s.key for s in SPANS])
def test_accounting_invariant_as_trino_sees_the_lake(
    athena: Any, written: Written, span: Span
) -> None:
    trips, dead = written.trips[span.key], written.dead[span.key]
    produced = len(trips) + len(dead)
    got_trips = count(athena, "trips", sorted({t["dt"] for t in trips}))
    got_dead = count(athena, "dead_letters", sorted({d["dt"] for d in dead}))
    assert got_trips + got_dead == produced, (span.key, got_trips, got_dead, produced)
    assert got_trips == len(trips)
    metric_days = sorted({t["dt"] for t in trips})  # windows start on a trip's pickup day
    assert count(athena, "zone_metrics", metric_days, "SUM(trips)") == len(trips)
    first = athena(
        f"SELECT trip_id FROM trips WHERE dt = '{span.start:%Y-%m-%d}' "
        f"AND pickup_at = TIMESTAMP '{span.start:%Y-%m-%d %H:%M:%S}'"
    ).rows
    assert first == [[f"{span.key}-0000"]]


def test_projection_starts_at_the_contracts_first_valid_pickup(
    lake: dict[str, Any], twin: Twin
) -> None:
    """Every dt a valid trip can have is in the projected range Athena reads."""
    glue = boto3.client("glue", **twin.client_kwargs())
    first = f"{earliest_pickup():%Y-%m-%d}"
    for table in (TRIPS, ZONE_METRICS, DEAD_LETTERS):
        params = glue.get_table(DatabaseName=lake["lake"]["database_name"], Name=table.name)[
            "Table"
        ]["Parameters"]
        assert params["projection.enabled"] == "true", table.name
        assert params["projection.dt.range"].split(",") == [first, "NOW"], table.name


# ---- the JDK Trino needs ---------------------------------------------------------------------


def _jdk(root: Path, version: str) -> Path:
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "java").write_text("")
    (root / "release").write_text(f'JAVA_VERSION="{version}"\n')
    return root


def test_a_too_old_java_home_is_refused_naming_what_to_install(tmp_path: Path) -> None:
    old = _jdk(tmp_path / "jdk17", "17.0.15")
    with pytest.raises(TrinoError, match=r"holds Java 17\. Trino 476 needs Java 24 or newer"):
        find_java_home(TrinoSettings(java_home=old))
    with pytest.raises(TrinoError, match="holds no JDK"):
        find_java_home(TrinoSettings(java_home=tmp_path / "nothing"))


def test_java_home_setting_wins(tmp_path: Path) -> None:
    new = _jdk(tmp_path / "jdk25", "25.0.3")
    assert find_java_home(TrinoSettings(java_home=new)) == new
    assert java_major(_jdk(tmp_path / "jdk8", "1.8.0_402")) == 8
