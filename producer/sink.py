"""The Kafka side of the producer: idempotent sends with every delivery report counted."""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from producer.config import ProducerSettings


@dataclass
class Summary:
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    bad_kinds: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.delivered == self.sent

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "delivered": self.delivered,
            "failed": self.failed,
            "undelivered": self.sent - self.delivered,
            "errors": dict(self.errors),
            "bad_records_by_kind": dict(sorted(self.bad_kinds.items())),
            "seconds": round(self.seconds, 3),
            "records_per_s": round(self.sent / self.seconds) if self.seconds else None,
        }


class KafkaSink:
    """Wraps confluent_kafka.Producer; ``send`` never drops a record on a full local queue."""

    def __init__(self, settings: ProducerSettings) -> None:
        self.settings = settings
        self.summary = Summary()
        self._producer = Producer(settings.librdkafka())
        self._started = time.perf_counter()

    def _on_delivery(self, err: KafkaError | None, _msg: Message) -> None:
        if err is None:
            self.summary.delivered += 1
        else:
            self.summary.failed += 1
            self.summary.errors[err.name()] += 1

    def send(self, key: bytes | str | None, value: bytes) -> None:
        produce = self._producer.produce
        while True:
            try:
                produce(self.settings.topic, value, key, on_delivery=self._on_delivery)
                break
            except BufferError:
                # Local queue full: serve delivery reports until there is room again.
                self._producer.poll(0.05)
        self.summary.sent += 1
        if self.summary.sent & 0x3FF == 0:
            self._producer.poll(0)

    def close(self) -> Summary:
        remaining = self._producer.flush(self.settings.flush_timeout_s)
        if remaining:
            print(f"flush timed out with {remaining} records in flight", file=sys.stderr)
        self.summary.seconds = time.perf_counter() - self._started
        return self.summary
