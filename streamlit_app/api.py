"""The dashboard's only data source: the HTTP API (uvicorn, the twin's API Gateway or AWS)."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import requests

from streamlit_app.config import DashSettings

Params = Mapping[str, str | int | float | datetime | None]


class ApiError(Exception):
    """A failure worth telling the person looking at the page, in words (never a traceback)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def iso(t: datetime) -> str:
    """The API's instant format: ``2025-01-15T06:00:00Z``."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def query(params: Params) -> dict[str, str]:
    """Query string values: instants as ISO UTC, None dropped (the API's default applies)."""
    out: dict[str, str] = {}
    for k, v in params.items():
        if v is None:
            continue
        out[k] = iso(v) if isinstance(v, datetime) else str(v)
    return out


def _detail(resp: requests.Response) -> str:
    try:
        detail = resp.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, list):  # FastAPI's validation errors: [{"loc": .., "msg": ..}, ..]
        detail = "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail)
    return str(detail) if detail else resp.reason or "no detail"


class ClientCredentials:
    """An OAuth2 client-credentials token (Cognito), fetched when missing or about to expire."""

    def __init__(self, settings: DashSettings, session: requests.Session) -> None:
        assert settings.oauth_token_url and settings.oauth_client_id
        assert settings.oauth_client_secret is not None
        self.url = settings.oauth_token_url
        self.auth = (settings.oauth_client_id, settings.oauth_client_secret.get_secret_value())
        self.scope = settings.oauth_scope
        self.timeout_s = settings.api_timeout_s
        self.session = session
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()  # Streamlit serves each viewer on its own thread

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() > self._expires - 60:
                data = {"grant_type": "client_credentials"}
                if self.scope:
                    data["scope"] = self.scope
                try:
                    resp = self.session.post(
                        self.url, data=data, auth=self.auth, timeout=self.timeout_s
                    )
                    resp.raise_for_status()
                    body = resp.json()
                    self._token = str(body["access_token"])
                except (requests.RequestException, ValueError, KeyError) as exc:
                    raise ApiError("Could not sign in to the API (OAuth token request).") from exc
                self._expires = time.monotonic() + float(body.get("expires_in", 3600))
            return self._token


class ApiClient:
    def __init__(self, settings: DashSettings, session: requests.Session | None = None) -> None:
        self.base_url = settings.api_url.rstrip("/")
        self.timeout_s = settings.api_timeout_s
        self.session = session or requests.Session()
        if settings.api_key is not None:
            self.session.headers["X-API-Key"] = settings.api_key.get_secret_value()
        self.oauth = (
            ClientCredentials(settings, self.session)
            if settings.oauth_token_url
            and settings.oauth_client_id
            and settings.oauth_client_secret
            else None
        )

    def get(self, path: str, params: Params | None = None) -> Any:
        """GET ``path`` and return its JSON; every failure becomes an ApiError."""
        url = f"{self.base_url}{path}"
        headers = {"Authorization": f"Bearer {self.oauth.token()}"} if self.oauth else None
        try:
            resp = self.session.get(
                url, params=query(params or {}), headers=headers, timeout=self.timeout_s
            )
        except requests.Timeout as exc:
            raise ApiError(
                f"The API at {self.base_url} did not answer within {self.timeout_s:g} s."
            ) from exc
        except requests.RequestException as exc:
            raise ApiError(f"The API at {self.base_url} cannot be reached.") from exc
        if resp.status_code in (401, 403):
            raise ApiError(
                f"The API refused access ({resp.status_code}): check DASH_API_KEY.",
                resp.status_code,
            )
        if resp.status_code >= 400:
            kind = "rejected the request" if resp.status_code < 500 else "failed"
            raise ApiError(
                f"The API {kind} ({resp.status_code} on {path}): {_detail(resp)}",
                resp.status_code,
            )
        try:
            return resp.json()
        except ValueError as exc:
            raise ApiError(f"The API answered {path} with something that is not JSON.") from exc
