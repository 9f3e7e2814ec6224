"""Producer configuration: env vars with prefix ``PRODUCER_`` (or CLI flags)."""

from __future__ import annotations

from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict


class ProducerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PRODUCER_")

    bootstrap_servers: str = "127.0.0.1:9092"
    topic: str = "trips"
    compression: str = "lz4"
    linger_ms: int = 20
    batch_bytes: int = 1_048_576
    # How long librdkafka keeps retrying a record (e.g. across a broker restart) before failing it.
    delivery_timeout_ms: int = 300_000
    flush_timeout_s: float = 120.0
    extra: dict[str, Any] = {}  # any other librdkafka property (e.g. MSK IAM settings)

    def librdkafka(self) -> dict[str, Any]:
        return {
            "bootstrap.servers": self.bootstrap_servers,
            "enable.idempotence": True,  # implies acks=all; no duplicates on retry
            "acks": "all",
            "compression.type": self.compression,
            "linger.ms": self.linger_ms,
            "batch.size": self.batch_bytes,
            "queue.buffering.max.messages": 1_000_000,
            "queue.buffering.max.kbytes": 1_048_576,
            "message.timeout.ms": self.delivery_timeout_ms,
            **self.extra,
        }
