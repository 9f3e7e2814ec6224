"""The dashboard's API client against a real local HTTP server acting as Cognito + the API."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from streamlit_app.api import ApiClient, ApiError
from streamlit_app.config import DashSettings


class Server(ThreadingHTTPServer):
    tokens_issued = 0
    token_status = 200


class Handler(BaseHTTPRequestHandler):
    server: Server

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # the token endpoint
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        basic = base64.b64decode(self.headers["Authorization"].removeprefix("Basic ")).decode()
        ok = basic == "dash:s3cret" and form == {
            "grant_type": ["client_credentials"],
            "scope": ["api/read"],
        }
        if not ok or self.server.token_status != 200:
            self._send(400, {"error": "invalid_client"})
            return
        self.server.tokens_issued += 1
        self._send(200, {"access_token": f"tok-{self.server.tokens_issued}", "expires_in": 3600})

    def do_GET(self) -> None:  # the API behind a JWT authorizer
        if self.headers.get("Authorization") != "Bearer tok-1":
            self._send(401, {"message": "Unauthorized"})
            return
        self._send(200, {"status": "ok"})


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()


def settings(srv: Server, secret: str = "s3cret") -> DashSettings:
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    return DashSettings(
        api_url=base,
        oauth_token_url=f"{base}/oauth2/token",
        oauth_client_id="dash",
        oauth_client_secret=secret,  # type: ignore[arg-type]
        oauth_scope="api/read",
    )


def test_bearer_token_fetched_once_and_reused(server: Server) -> None:
    client = ApiClient(settings(server))
    assert client.get("/v1/status") == {"status": "ok"}
    assert client.get("/v1/status") == {"status": "ok"}
    assert server.tokens_issued == 1


def test_a_refused_sign_in_is_a_message(server: Server) -> None:
    client = ApiClient(settings(server, secret="wrong"))
    with pytest.raises(ApiError, match="Could not sign in"):
        client.get("/v1/status")


def test_without_oauth_the_api_refuses(server: Server) -> None:
    base = f"http://127.0.0.1:{server.server_address[1]}"
    with pytest.raises(ApiError) as err:
        ApiClient(DashSettings(api_url=base)).get("/v1/status")
    assert err.value.status == 401
