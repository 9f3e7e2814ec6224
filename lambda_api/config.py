"""Settings of the API; env vars ``API_*`` (the Lambda gets them from Terraform)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO = Path(__file__).resolve().parent.parent


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="API_")

    # athena in AWS and on the twin's Lambda; duckdb embedded for development and tests.
    engine: Literal["athena", "duckdb"] = "duckdb"
    # Lake root: file:///dir, a plain path, or s3://bucket[/prefix]. DuckDB reads the tables
    # under it; both engines read the stream's progress JSON from it.
    lake_uri: str = str(REPO / ".local" / "lake")
    # Athena: Glue database and workgroup (terraform/modules/lake outputs).
    athena_database: str = "nyc_taxi_local_lake"
    athena_workgroup: str = "nyc-taxi-local"
    query_timeout_s: float = Field(default=20.0, gt=0, description="Per-query time limit (Athena).")
    poll_initial_s: float = Field(default=0.05, gt=0)
    poll_max_s: float = Field(default=1.0, gt=0)
    # None: the SDK's default chain (AWS_ENDPOINT_URL, which the twin's Lambda sets).
    aws_endpoint_url: str | None = None
    # Lambda sets AWS_REGION (and AWS_DEFAULT_REGION) to the function's region; API_AWS_REGION
    # still wins when given. us-east-1 only when none is set (local development).
    aws_region: str = Field(
        default="us-east-1",
        validation_alias=AliasChoices(
            "API_AWS_REGION", "AWS_REGION", "AWS_DEFAULT_REGION", "aws_region"
        ),
    )
    aws_access_key_id: str | None = None
    aws_secret_access_key: SecretStr | None = None
    # Optional local auth: when set, every data path needs X-API-Key (AWS uses a JWT authorizer).
    api_key: SecretStr | None = None
    # Hot-read cache: entries and seconds; also the Cache-Control max-age of aggregate reads.
    cache_size: int = Field(default=512, ge=0)
    cache_ttl_s: int = Field(default=30, ge=0)
    # Request limits.
    max_aggregate_span_days: int = Field(default=31, ge=1)
    max_raw_span_days: int = Field(default=2, ge=1)
    max_page_size: int = Field(default=1000, ge=1)
    # Timeseries points = buckets x groups; bounds the response (Lambda's is at most 6 MB).
    max_points: int = Field(default=20_000, ge=1)
    # GET /v1/trips/{id} without a date hint looks back this many days (raw reads need dt).
    trip_lookup_days: int = Field(default=2, ge=1)
    # uvicorn (python -m lambda_api).
    host: str = "127.0.0.1"
    port: int = 8000
