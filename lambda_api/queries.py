"""Every SQL statement of the API, loaded once from ``sql/*.sql``, rendered with typed literals.

A statement is written once, in the subset of SQL that Athena (Trino) and DuckDB both run, and
the text sent to either engine is the same. Athena on the twin takes no ExecutionParameters, so
parameters are never sent apart from the text: each one is validated against the type its file
declares (``-- param name: type``) and becomes a literal node in sqlglot's tree; a value never
reaches SQL as text. ``-- columns: <table>`` expands the top-level ``SELECT *`` into the contract
table's columns, each aliased, instants cast to TIMESTAMP (DuckDB reads the Parquet instants as
TIMESTAMPTZ, which the twin's Athena cannot return).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from typing import Any

import sqlglot
from sqlglot import exp

from contract.fields import FieldType
from contract.tables import TABLES, Table

DIALECT = "trino"  # Athena engine v3; DuckDB runs the rendered text unchanged
SQL_TYPES = ("timestamp", "varchar", "integer", "bigint", "double")
_PARAM = re.compile(r"^--\s*param\s+(\w+)\s*:\s*(\w+)\s*$", re.M)
_COLUMNS = re.compile(r"^--\s*columns\s*:\s*(\w+)\s*$", re.M)
_TABLES = {t.name: t for t in TABLES}


class ParamError(ValueError):
    """A value does not fit its declared type (a bug in the caller: input is validated first)."""


def _timestamp_text(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    # Milliseconds when exact: Athena's TIMESTAMP is timestamp(3).
    spec = "milliseconds" if value.microsecond % 1000 == 0 else "microseconds"
    return value.isoformat(sep=" ", timespec=spec)


def literal(value: Any, sql_type: str) -> exp.Expr:
    """One typed SQL literal; raises ParamError when ``value`` is not of ``sql_type``."""
    if value is None:
        return exp.cast(exp.null(), sql_type)
    if sql_type == "timestamp":
        if not isinstance(value, datetime):
            raise ParamError(f"expected datetime, got {type(value).__name__}")
        return exp.cast(exp.Literal.string(_timestamp_text(value)), "timestamp")
    if sql_type == "varchar":
        if isinstance(value, date):
            value = value.isoformat()
        if not isinstance(value, str):
            raise ParamError(f"expected str, got {type(value).__name__}")
        return exp.Literal.string(value)  # sqlglot escapes quotes
    if sql_type in ("integer", "bigint"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParamError(f"expected int, got {type(value).__name__}")
        return exp.Literal.number(value)
    if sql_type == "double":
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ParamError(f"expected a finite number, got {value!r}")
        return exp.cast(exp.Literal.number(repr(float(value))), "double")
    raise ParamError(f"unknown SQL type {sql_type!r}")


def column_expressions(table: Table) -> list[exp.Expr]:
    """``col AS col`` per contract column; instants as TIMESTAMP (UTC, no zone)."""
    out: list[exp.Expr] = []
    for c in table.columns:
        col: exp.Expr = exp.column(c.name)
        if c.type is FieldType.TIMESTAMP:
            col = exp.cast(col, "timestamp")
        out.append(exp.alias_(col, c.name))
    return out


@dataclass(frozen=True)
class Query:
    name: str
    text: str  # the file as written
    params: dict[str, str]  # name -> declared SQL type
    tree: exp.Expr  # parsed once, as Trino

    @classmethod
    def parse(cls, name: str, text: str) -> Query:
        params = {m.group(1): m.group(2).lower() for m in _PARAM.finditer(text)}
        bad = {k: v for k, v in params.items() if v not in SQL_TYPES}
        if bad:
            raise ValueError(f"{name}: unknown parameter types {bad}; use one of {SQL_TYPES}")
        tree = sqlglot.parse_one(text, read=DIALECT)
        used = {p.name for p in tree.find_all(exp.Placeholder)}
        if used != set(params):
            raise ValueError(f"{name}: placeholders {sorted(used)} != declared {sorted(params)}")
        columns = _COLUMNS.search(text)
        if columns:
            table = _TABLES[columns.group(1)]
            select = tree if isinstance(tree, exp.Select) else tree.find(exp.Select)
            if select is None or not isinstance(select.expressions[0], exp.Star):
                raise ValueError(f"{name}: '-- columns:' needs a top-level SELECT *")
            select.set("expressions", column_expressions(table))
        return cls(name=name, text=text, params=params, tree=tree)

    def render(self, **values: Any) -> str:
        """The statement with every placeholder replaced by its typed literal."""
        missing, extra = set(self.params) - set(values), set(values) - set(self.params)
        if missing or extra:
            raise ParamError(f"{self.name}: missing {sorted(missing)}, unexpected {sorted(extra)}")
        literals: dict[str, exp.Expr] = {}
        for k, sql_type in self.params.items():
            try:
                literals[k] = literal(values[k], sql_type)
            except ParamError as e:
                raise ParamError(f"{self.name}: parameter {k}: {e}") from None

        def substitute(node: exp.Expr) -> exp.Expr:
            if isinstance(node, exp.Placeholder):
                return literals[node.name].copy()
            return node

        return self.tree.copy().transform(substitute).sql(dialect=DIALECT, comments=False)


@cache
def load_all() -> dict[str, Query]:
    """Every ``sql/*.sql`` by file stem."""
    folder = resources.files("lambda_api") / "sql"
    out: dict[str, Query] = {}
    for f in sorted(folder.iterdir(), key=lambda p: p.name):
        if f.name.endswith(".sql"):
            name = f.name.removesuffix(".sql")
            out[name] = Query.parse(name, f.read_text(encoding="utf-8"))
    return out


def get(name: str) -> Query:
    return load_all()[name]
