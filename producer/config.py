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
    # Set on AWS: authenticate to MSK's IAM listener with the task role (producer/msk_iam.py).
    msk_iam_region: str | None = None

    def connection(self) -> dict[str, Any]:
        """Where the brokers are and how to log in; shared by the producer and the topic tool."""
        conn: dict[str, Any] = {"bootstrap.servers": self.bootstrap_servers}
        if self.msk_iam_region:
            from producer.msk_iam import iam_config  # the signer is only needed on AWS

            conn.update(iam_config(self.msk_iam_region))
        return conn

    def librdkafka(self) -> dict[str, Any]:
        return {
            **self.connection(),
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
