"""The dashboard's settings, from ``DASH_*`` environment variables (or a ``.env`` file)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class DashSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DASH_", env_file=".env", extra="ignore")

    # The same app reads uvicorn (http://127.0.0.1:8000), the twin's API Gateway
    # (http://127.0.0.1:4566/_aws/execute-api/<id>) or the AWS stage URL.
    api_url: str = "http://127.0.0.1:8000"
    api_key: SecretStr | None = None  # sent as X-API-Key when set
    # In AWS the API sits behind a Cognito JWT authorizer: the dashboard gets a token with the
    # OAuth client-credentials grant (all four set by Terraform's envs/aws) and sends it as Bearer.
    oauth_token_url: str | None = None
    oauth_client_id: str | None = None
    oauth_client_secret: SecretStr | None = None
    oauth_scope: str | None = None
    api_timeout_s: float = Field(default=10.0, gt=0)
    # API answers are shared by every viewer for this long; "now" is floored to it so that
    # viewers refreshing within the same step hit the same cache entries.
    cache_ttl_s: int = Field(default=15, ge=1)
    zones_ttl_s: int = Field(default=3600, ge=1)  # the zone list changes only with the contract
    refresh_s: int = Field(default=30, ge=0)  # the Live view's default auto-refresh (0 = paused)
    freshness_warn_s: int = Field(default=300, gt=0)  # newest trip older than this -> warning
    # None draws zones without base tiles (works offline); e.g. "light" uses Carto's tiles.
    map_style: str | None = None
    host: str = "127.0.0.1"
    port: int = 8501
