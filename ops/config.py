"""Settings of the operator tools, from ``OPS_*`` (check) and ``SMOKE_*`` (smoke) env vars.

Endpoints left unset come from ``terraform output`` of envs/aws, so the same smoke runs
against a deployment and, with every endpoint given, against the twin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class CheckSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPS_", extra="ignore")

    terraform_dir: Path = ROOT / "terraform"
    # Default: <terraform_dir>/envs/aws/terraform.tfvars (what deploy.sh passes to every plan).
    tfvars: Path | None = None
    terraform_bin: str = "terraform"
    # The region of the checks; default: the tfvars/variable `region`.
    region: str | None = None
    tool_timeout_s: float = Field(default=60, gt=0)

    @property
    def aws_root(self) -> Path:
        return self.terraform_dir / "envs" / "aws"

    @property
    def tfvars_path(self) -> Path:
        return self.tfvars or self.aws_root / "terraform.tfvars"


class SmokeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMOKE_", extra="ignore")

    trips: int = Field(default=200, ge=1, le=100_000)
    timeout_s: float = Field(default=900, gt=0)  # per wait: the API, then the dashboard
    poll_s: float = Field(default=10, gt=0)
    seed: int | None = None  # picks the window and the trip ids; default: random

    # "ecs": the deployed producer task (ecs run-task with a command override);
    # "local": `python -m producer synthetic` here, to `bootstrap` (the twin's broker).
    producer: Literal["ecs", "local"] = "ecs"
    bootstrap: str | None = None
    topic: str = "trips"

    api_url: str | None = None  # default: terraform output api_url
    # "" = no dashboard to check (reported as SKIP); None = terraform output dashboard_url.
    dashboard_url: str | None = None
    # Expect the dashboard behind a login (True), open (False), or read it from the tfvars
    # (certificate + domain = login) when None.
    dashboard_login: bool | None = None

    # Client-credentials token for an API with a JWT authorizer; in "ecs" mode, unset values
    # are read from the dashboard's task definition and its secret, as the dashboard gets them.
    oauth_token_url: str | None = None
    oauth_client_id: str | None = None
    oauth_client_secret: SecretStr | None = None
    oauth_scope: str | None = None
    # Whether the API requires a token; None: the tfvars' api_jwt_auth in "ecs" mode, else no.
    api_auth: bool | None = None

    terraform_dir: Path = ROOT / "terraform"
    region: str | None = None
    http_timeout_s: float = Field(default=30, gt=0)
