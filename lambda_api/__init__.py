"""The query layer and REST API over the lake: FastAPI on Lambda (Athena) or uvicorn (DuckDB)."""

__version__ = "0.1.0"
