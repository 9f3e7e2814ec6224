"""DuckDB reading the lake on an S3 endpoint, with the httpfs extension from PyPI.

Extensions cannot be downloaded at run time here; `duckdb-extension-httpfs` ships the signed
binary for the pinned duckdb version, so it is loaded by path.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import duckdb_extension_httpfs

HTTPFS = next(
    Path(duckdb_extension_httpfs.__file__).parent.glob("extensions/*/httpfs.duckdb_extension")
)


def connect_s3(
    endpoint_url: str | None, key_id: str, secret: str, region: str = "us-east-1"
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose s3:// reads go to ``endpoint_url`` (None: real AWS)."""
    con = duckdb.connect()
    con.execute(f"LOAD '{HTTPFS}'")
    opts = [f"KEY_ID '{key_id}'", f"SECRET '{secret}'", f"REGION '{region}'"]
    if endpoint_url:
        scheme, host = endpoint_url.split("://", 1)
        opts += [f"ENDPOINT '{host}'", "URL_STYLE 'path'", f"USE_SSL {scheme == 'https'}"]
    con.execute(f"CREATE SECRET lake (TYPE s3, {', '.join(opts)})")
    return con
