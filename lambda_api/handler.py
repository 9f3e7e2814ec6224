"""AWS Lambda entry point (API Gateway HTTP API, payload 2.0): ``lambda_api.handler.handler``."""

from __future__ import annotations

from mangum import Mangum

from lambda_api.app import create_app

# Built at import: one app (and one Athena client) per Lambda execution environment.
app = create_app()
handler = Mangum(app, lifespan="off")
