"""SQL once: every statement parses as Trino (Athena) SQL and runs on DuckDB, as rendered."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from lambda_api import queries
from lambda_api.config import ApiSettings
from lambda_api.engines import DuckDBEngine, dt_scope
from lambda_api.params import TimeRange
from lambda_api.queries import ParamError, Query
from spark.lake import LakeTarget
from tests.api_lake import T0, write_lake

RANGE = TimeRange(T0, T0 + timedelta(hours=3))
# A value of the declared type for every parameter name, and a second set with every optional
# filter set (None exercises the `:x IS NULL OR ...` branch).
SAMPLES: dict[str, Any] = {
    "since": T0 + timedelta(hours=2),
    "service": "yellow",
    "borough": "Manhattan",
    "zone_id": 236,
    "pickup_zone_id": 236,
    "dropoff_zone_id": 1,
    "payment_type": 1,
    "cursor_at": T0 + timedelta(minutes=30),
    "cursor_id": "t0010",
    "limit": 10,
    "trip_id": "t0001",
    "unit": "hour",
    "group_by": "service",
    "metric": "revenue",
    "reason": "negative_fare",
}
REQUIRED = {"since", "zone_id", "limit", "trip_id", "unit", "group_by", "metric"}
NAMES = sorted(queries.load_all())


def values(q: Query, optional: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in q.params:
        if name in RANGE.sql():
            out[name] = RANGE.sql()[name]
        elif name in SAMPLES:
            out[name] = SAMPLES[name] if optional or name in REQUIRED else None
        else:
            raise AssertionError(f"{q.name}: no sample value for parameter {name}")
    return out


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> DuckDBEngine:
    d = tmp_path_factory.mktemp("sql-lake")
    write_lake(LakeTarget(uri=f"file://{d}"))
    return DuckDBEngine(ApiSettings(lake_uri=str(d)))


def test_every_statement_is_loaded() -> None:
    assert len(NAMES) >= 11
    assert all(q.params for q in queries.load_all().values())


@pytest.mark.parametrize("name", NAMES)
def test_file_parses_as_trino(name: str) -> None:
    text = queries.get(name).text
    tree = sqlglot.parse_one(text, read="trino", error_level=sqlglot.ErrorLevel.RAISE)
    assert isinstance(tree, exp.Query)


@pytest.mark.parametrize("optional", [False, True], ids=["filters-null", "filters-set"])
@pytest.mark.parametrize("name", NAMES)
def test_rendered_text_parses_as_trino_and_runs_on_duckdb(
    engine: DuckDBEngine, name: str, optional: bool
) -> None:
    q = queries.get(name)
    sql = q.render(**values(q, optional))
    tree = sqlglot.parse_one(sql, read="trino", error_level=sqlglot.ErrorLevel.RAISE)
    assert not list(tree.find_all(exp.Placeholder))
    # Every output column has a name of our choosing (the twin's Athena names count(*) oddly).
    select = tree if isinstance(tree, exp.Select) else tree.find(exp.Select)
    assert select is not None
    for col in select.expressions:
        assert isinstance(col, exp.Alias | exp.Column), f"{name}: unaliased {col.sql()}"
    engine.query(sql)  # the same text Athena gets


def test_values_are_literals_never_sql(engine: DuckDBEngine) -> None:
    evil = "t0001' OR '1'='1"
    q = queries.get("trip_by_id")
    sql = q.render(**RANGE.sql(), trip_id=evil)
    literals = [lit.this for lit in sqlglot.parse_one(sql, read="trino").find_all(exp.Literal)]
    assert evil in literals
    assert engine.query(sql) == []
    assert len(engine.query(q.render(**RANGE.sql(), trip_id="t0001"))) == 1


@pytest.mark.parametrize(
    ("param", "value"),
    [("limit", "10"), ("limit", True), ("start", "2025-01-15"), ("service", 3)],
)
def test_values_of_the_wrong_type_are_refused(param: str, value: Any) -> None:
    q = queries.get("trips_page")
    good = values(q, optional=True)
    with pytest.raises(ParamError, match=param):
        q.render(**{**good, param: value})


def test_a_nul_character_is_refused() -> None:
    # DuckDB would end the statement at the NUL, leaving the quote open.
    q = queries.get("trip_by_id")
    with pytest.raises(ParamError, match="NUL"):
        q.render(**RANGE.sql(), trip_id="t0001\x00' OR 1=1 --")


def test_declarations_must_match_placeholders() -> None:
    with pytest.raises(ValueError, match="declared"):
        Query.parse("x", "-- param a: integer\nSELECT :a AS a, :b AS b")
    with pytest.raises(ValueError, match="unknown parameter types"):
        Query.parse("x", "-- param a: json\nSELECT :a AS a")


@pytest.mark.parametrize("name", sorted(queries.load_all()))
def test_every_template_is_scoped_to_its_days(name: str) -> None:
    """The embedded engine reads only the files of the dt range of each template's statement."""
    q = queries.get(name)
    values = {k: None for k in q.params} | RANGE.sql(hours="start_hour" in q.params)
    values |= {k: "x" for k in ("unit", "group_by", "metric") if k in q.params}
    values |= {k: 1 for k in ("limit", "zone_id") if k in q.params}
    scope = dt_scope(q.render(**values))
    assert scope is not None and scope[1:] == (values["start_dt"], values["end_dt"])


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM trips WHERE dt BETWEEN '2025-01-01' AND '2025-01-02' OR trip_id = 'a'",
        "SELECT * FROM trips WHERE dt BETWEEN '2025-01-01' AND '2025-01-02' AND a = 1 OR b = 2",
        "SELECT * FROM trips WHERE trip_id = 'FROM trips WHERE dt BETWEEN ''2025-01-01'' AND "
        "''2025-01-02'''",
        "SELECT * FROM trips WHERE dt BETWEEN '2025-01-01' AND '2025-01-02' "
        "AND trip_id IN (SELECT trip_id FROM trips)",
    ],
)
def test_no_scope_unless_the_range_bounds_the_whole_statement(sql: str) -> None:
    assert dt_scope(sql) is None
