"""Two engines behind one interface, both running the same SQL text from ``queries``.

``AthenaEngine``: the Lambda's engine (AWS and the twin), boto3 only. ``DuckDBEngine``: embedded,
over the same Parquet (a local folder or S3), with views named like the Glue tables. Rows come
back as dicts of Python values: int, float, str, list[str], and instants as aware UTC datetimes.
"""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from contract.tables import TABLES, Table
from lambda_api.config import ApiSettings

Row = dict[str, Any]
PROGRESS_KEY = "_pipeline/progress/latest.json"  # written by spark/progress.py


class EngineError(RuntimeError):
    """The engine failed a query that validated input cannot cause (a 5xx, not a 4xx)."""


class QueryTimeout(EngineError):
    pass


class Engine(Protocol):
    name: str

    def query(self, sql: str) -> list[Row]: ...

    def read_json(self, key: str) -> Any:
        """A JSON object under the lake root, or None when it does not exist."""
        ...


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _split_lake(uri: str) -> tuple[str, str]:
    """(scheme, root without trailing slash); a plain path is a local folder."""
    u = urlsplit(uri)
    if u.scheme in ("s3", "s3a"):
        return "s3", f"s3://{u.netloc}{u.path}".rstrip("/")
    if u.scheme == "file":
        return "file", u.path.rstrip("/")
    return "file", str(Path(uri).resolve())


# ---- DuckDB ----------------------------------------------------------------------------------

_LITERAL = re.compile(r"'(?:[^']|'')*'")
# How every template reads a partitioned table (as sqlglot writes it): the dt range is the
# first conjunct of the WHERE. Matched on text whose literals are blanked (_mask).
_DT_SCOPED = re.compile(
    r"\bFROM (\w+)(?: CROSS JOIN UNNEST\(\w+\) AS \w+\(\w+\))? "
    r"WHERE dt BETWEEN '(_{10})' AND '(_{10})'(?= AND | GROUP | ORDER | LIMIT |$)"
)
_TABLE_REF = re.compile(r"\b(?:FROM|JOIN)\s+(\w+)", re.I)
_WHERE_TOKENS = re.compile(r"[()]|\b(?:OR|GROUP|ORDER|LIMIT|HAVING|UNION|WINDOW|QUALIFY)\b", re.I)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DT_DIR = re.compile(r"/dt=([^/]+)/")
_TABLES = {t.name: t for t in TABLES}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _mask(sql: str) -> str:
    """``sql`` with each string literal's content blanked, same length: text inside a value is
    never taken for a keyword or a table name."""
    return _LITERAL.sub(lambda m: "'" + "_" * (len(m.group(0)) - 2) + "'", sql)


def _or_in_where(masked: str, start: int) -> bool:
    """An OR outside parentheses in the rest of the WHERE: the dt range would not bound it."""
    depth = 0
    for m in _WHERE_TOKENS.finditer(masked, start):
        tok = m.group(0).upper()
        if tok == "(":
            depth += 1
        elif tok == ")":
            depth -= 1
            if depth < 0:  # the end of the subquery holding this WHERE
                return False
        elif depth == 0:
            return tok == "OR"
    return False


def dt_scope(sql: str) -> tuple[str, str, str] | None:
    """(table, first dt, last dt) when ``sql`` reads one table once, bounded by a top-level
    ``dt BETWEEN`` of two dates; else None (the engine then offers every file of the table)."""
    masked = _mask(sql)
    found = list(_DT_SCOPED.finditer(masked))
    if len(found) != 1:
        return None
    m = found[0]
    table, lo, hi = m.group(1), sql[m.start(2) : m.end(2)], sql[m.start(3) : m.end(3)]
    refs = [r.group(1) for r in _TABLE_REF.finditer(masked)]
    if refs.count(table) != 1 or _or_in_where(masked, m.end()):
        return None
    if not (_DATE.fullmatch(lo) and _DATE.fullmatch(hi)):
        return None
    return table, lo, hi


class DuckDBEngine:
    """DuckDB over the lake's Parquet: ``<table>`` views = ``read_parquet('<lake>/<table>/**')``.

    A query bounded by ``dt BETWEEN`` (every template's) reads its table through a view of the
    files of those days only, on its own cursor, from a file list kept for ``LIST_TTL_S``:
    DuckDB spent ~40 ms per query listing, then pruning, all 825 files of a 30-day lake
    (bench/api.py), more than most scans. Other statements read the whole-table views.

    A table with no files yet gets an empty view of the contract's columns, checked again on
    later queries, so a stream that starts writing after the API is up is picked up.
    """

    name = "duckdb"
    RECHECK_S = 5.0
    # A new micro-batch's files are read at most this late (the response cache holds 30 s).
    LIST_TTL_S = 1.0

    def __init__(self, settings: ApiSettings) -> None:
        import duckdb

        self.scheme, self.root = _split_lake(settings.lake_uri)
        if self.scheme == "s3":
            from localstack.duck import connect_s3

            secret = settings.aws_secret_access_key
            self.con = connect_s3(
                settings.aws_endpoint_url,
                settings.aws_access_key_id or "",
                secret.get_secret_value() if secret else "",
                settings.aws_region,
            )
        else:
            self.con = duckdb.connect()
        # GLOBAL: both settings are per connection, and every query runs on a new cursor (a
        # plain SET reached none of them).
        # Instants are UTC everywhere; TIMESTAMPTZ -> TIMESTAMP casts use this zone.
        self.con.execute("SET GLOBAL TimeZone = 'UTC'")
        # Footers are read once per file, not per query: objects are written once, under new
        # names (spark.lake.object_name), and entries are checked against the file's mtime.
        self.con.execute("SET GLOBAL parquet_metadata_cache = true")
        self._lock = threading.Lock()
        self._empty: dict[str, float] = {}  # table -> when it was last found without files
        self._files: dict[str, tuple[float, list[tuple[str, str]]]] = {}  # -> (when, [(dt, path)])
        for table in TABLES:
            self._define(table)

    @staticmethod
    def _pattern(table: Table) -> str:
        # One level per partition key, not "**": a recursive glob lists every folder on every
        # query and cost more than the scan itself on a 30-day lake (bench/api.py).
        return "*/" * len(table.partition_keys) + "*.parquet"

    def _glob(self, table: Table) -> str:
        return f"{self.root}/{table.name}/{self._pattern(table)}"

    def _has_files(self, table: Table) -> bool:
        if self.scheme == "file":
            return any(Path(self.root, table.name).glob(self._pattern(table)))
        found = self.con.cursor().execute("SELECT count(*) FROM glob(?)", [self._glob(table)])
        row = found.fetchone()
        return bool(row and row[0])

    @staticmethod
    def _read(table: Table, files: str) -> str:
        types = ", ".join(f"'{k.name}': VARCHAR" for k in table.partition_keys)
        # No union_by_name: it reads every file's footer at each query's bind, pruned or
        # not; every object has the contract's schema (spark.lake.write_table casts to it).
        return f"read_parquet({files}, hive_partitioning = true, hive_types = {{{types}}})"

    @staticmethod
    def _nothing(table: Table) -> str:
        cols = [f"CAST(NULL AS {c.type.duckdb}) AS {c.name}" for c in table.columns]
        cols += [f"CAST(NULL AS VARCHAR) AS {k.name}" for k in table.partition_keys]
        return f"(SELECT {', '.join(cols)} WHERE false)"

    def _define(self, table: Table) -> None:
        if self._has_files(table):
            source = self._read(table, _quote(self._glob(table)))
            self._empty.pop(table.name, None)
        else:
            source = self._nothing(table)
            self._empty[table.name] = time.monotonic()
        self.con.execute(f"CREATE OR REPLACE VIEW {table.name} AS SELECT * FROM {source}")

    def _refresh(self) -> None:
        now = time.monotonic()
        for table in TABLES:
            seen = self._empty.get(table.name)
            if seen is not None and now - seen > self.RECHECK_S:
                with self._lock:
                    self._define(table)

    def _list(self, table: Table) -> list[tuple[str, str]]:
        """(dt, path) of every file of ``table``, sorted; listed again after LIST_TTL_S."""
        now = time.monotonic()
        with self._lock:
            cached = self._files.get(table.name)
        if cached is not None and now - cached[0] < self.LIST_TTL_S:
            return cached[1]
        if self.scheme == "file":
            paths = [str(p) for p in Path(self.root, table.name).glob(self._pattern(table))]
        else:
            cur = self.con.cursor().execute("SELECT file FROM glob(?)", [self._glob(table)])
            paths = [str(r[0]) for r in cur.fetchall()]
        files = sorted((m.group(1), p) for p in paths if (m := _DT_DIR.search(p)))
        with self._lock:
            self._files[table.name] = (now, files)
        return files

    def _scope(self, cur: Any, table: Table, first: str, last: str) -> None:
        """On ``cur`` only, ``table`` is the files of days ``first``..``last`` (a temp view
        shadows the whole-table one); the query still applies its own dt/hour predicates."""
        files = [p for dt, p in self._list(table) if first <= dt <= last]
        if files:
            source = self._read(table, "[" + ", ".join(_quote(p) for p in files) + "]")
        else:
            source = self._nothing(table)
        cur.execute(f"CREATE OR REPLACE TEMP VIEW {table.name} AS SELECT * FROM {source}")

    def query(self, sql: str) -> list[Row]:
        import duckdb

        self._refresh()
        scope = dt_scope(sql)
        table = _TABLES.get(scope[0]) if scope else None
        try:
            for attempt in (1, 2):
                cur = self.con.cursor()  # one cursor per call: requests run on several threads
                try:
                    if scope and table:
                        self._scope(cur, table, scope[1], scope[2])
                    cur.execute(sql)
                    break
                except duckdb.IOException:
                    if attempt == 2 or table is None:
                        raise
                    with self._lock:  # a listed file is gone: list again, once
                        self._files.pop(table.name, None)
            names = [d[0] for d in cur.description or ()]
            rows = cur.fetchall()
        except duckdb.Error as exc:
            raise EngineError(f"duckdb: {exc}") from exc
        return [
            {n: _aware(v) if isinstance(v, datetime) else v for n, v in zip(names, r, strict=True)}
            for r in rows
        ]

    def read_json(self, key: str) -> Any:
        if self.scheme == "file":
            path = Path(self.root, key)
            return json.loads(path.read_text()) if path.exists() else None
        import duckdb

        try:
            row = self.con.cursor().execute(
                "SELECT content FROM read_text(?)", [f"{self.root}/{key}"]
            )
            found = row.fetchone()
        except duckdb.IOException:
            return None
        return json.loads(found[0]) if found else None


# ---- Athena ----------------------------------------------------------------------------------

_INT_TYPES = {"tinyint", "smallint", "integer", "int", "bigint"}
_FLOAT_TYPES = {"double", "float", "real", "decimal"}


def convert(value: str | None, athena_type: str) -> Any:
    """One GetQueryResults datum (always text) to its Python value."""
    if value is None:
        return None
    t = athena_type.lower().split("(")[0].strip()
    if t in _INT_TYPES:
        return int(value)
    if t in _FLOAT_TYPES:
        return float(value)
    if t == "boolean":
        return value.lower() == "true"
    if t.startswith("timestamp"):
        return _aware(datetime.fromisoformat(value.replace(" UTC", "")))
    if t == "date":
        return date.fromisoformat(value)
    return value


class AthenaEngine:
    """StartQueryExecution in a workgroup, poll with backoff up to a time limit, then page
    through GetQueryResults. No ExecutionParameters (the twin has none): the text is complete."""

    name = "athena"
    PAGE = 1000  # GetQueryResults' maximum

    def __init__(self, settings: ApiSettings, client: Any = None, s3: Any = None) -> None:
        self.s = settings
        kw = self._client_kwargs()
        if client is None or s3 is None:
            import boto3

            client = client or boto3.client("athena", **kw)
            s3 = s3 or boto3.client("s3", **kw)
        self.athena, self.s3 = client, s3
        self.scheme, self.root = _split_lake(settings.lake_uri)

    def _client_kwargs(self) -> dict[str, Any]:
        s = self.s
        kw: dict[str, Any] = {"region_name": s.aws_region}
        if s.aws_endpoint_url:
            kw["endpoint_url"] = s.aws_endpoint_url
        if s.aws_access_key_id and s.aws_secret_access_key:
            kw["aws_access_key_id"] = s.aws_access_key_id
            kw["aws_secret_access_key"] = s.aws_secret_access_key.get_secret_value()
        return kw

    def query(self, sql: str) -> list[Row]:
        started = self.athena.start_query_execution(
            QueryString=sql,
            QueryExecutionContext={"Database": self.s.athena_database},
            WorkGroup=self.s.athena_workgroup,
        )
        qid = started["QueryExecutionId"]
        execution = self._wait(qid)
        if execution["Status"]["State"] != "SUCCEEDED":
            reason = execution["Status"].get("StateChangeReason", "")
            raise EngineError(f"athena query {qid} {execution['Status']['State']}: {reason}")
        # The first row of a SELECT's first page is the header (Athena and the twin alike).
        skip_header = execution.get("StatementType", "DML") == "DML"
        rows: list[Row] = []
        token: str | None = None
        while True:
            kw: dict[str, Any] = {"QueryExecutionId": qid, "MaxResults": self.PAGE}
            if token:
                kw["NextToken"] = token
            page = self.athena.get_query_results(**kw)
            result = page["ResultSet"]
            info = result["ResultSetMetadata"]["ColumnInfo"]
            names = [c["Name"] for c in info]
            types = [c["Type"] for c in info]
            data = result.get("Rows", [])
            if token is None and skip_header and data:
                data = data[1:]
            for r in data:
                cells = [d.get("VarCharValue") for d in r["Data"]]
                rows.append({n: convert(v, t) for n, v, t in zip(names, cells, types, strict=True)})
            token = page.get("NextToken")
            if not token:
                return rows

    def _wait(self, qid: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.s.query_timeout_s
        delay = self.s.poll_initial_s
        while True:
            execution: dict[str, Any] = self.athena.get_query_execution(QueryExecutionId=qid)[
                "QueryExecution"
            ]
            if execution["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
                return execution
            if time.monotonic() + delay > deadline:
                self.athena.stop_query_execution(QueryExecutionId=qid)
                raise QueryTimeout(
                    f"athena query {qid} still running after {self.s.query_timeout_s:.0f} s"
                )
            time.sleep(delay)
            delay = min(delay * 2, self.s.poll_max_s)

    def read_json(self, key: str) -> Any:
        if self.scheme == "file":
            path = Path(self.root, key)
            return json.loads(path.read_text()) if path.exists() else None
        u = urlsplit(f"{self.root}/{key}")
        try:
            obj = self.s3.get_object(Bucket=u.netloc, Key=u.path.lstrip("/"))
        except self.s3.exceptions.NoSuchKey:
            return None
        return json.loads(obj["Body"].read())


def make_engine(settings: ApiSettings) -> Engine:
    if settings.engine == "athena":
        return AthenaEngine(settings)
    return DuckDBEngine(settings)
