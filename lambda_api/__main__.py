"""``python -m lambda_api``: the API under uvicorn on 127.0.0.1:8000 over embedded DuckDB."""

from __future__ import annotations

import uvicorn

from lambda_api.app import create_app
from lambda_api.config import ApiSettings


def main() -> None:
    settings = ApiSettings()
    print(f"API on http://{settings.host}:{settings.port} (docs: /docs), lake {settings.lake_uri}")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
