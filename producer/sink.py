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
    """Wraps confluent_kafka.Producer; ``send`` never drops a record on a full local queue.

    librdkafka reports only failed deliveries (a Python callback per record would cost a third
    of the send loop): every record neither failed nor still queued has been delivered.
    """

    def __init__(self, settings: ProducerSettings) -> None:
        self.settings = settings
        self.summary = Summary()
        self._producer = Producer(
            {
                **settings.librdkafka(),
                "delivery.report.only.error": True,
                "on_delivery": self._on_failure,
            }
        )
        self._produce = self._producer.produce
        self._topic = settings.topic
        self._started = time.perf_counter()

    def _on_failure(self, err: KafkaError | None, _msg: Message) -> None:
        if err is not None:
            self.summary.failed += 1
            self.summary.errors[err.name()] += 1

    def in_flight(self) -> int:
        """Records handed to librdkafka and not yet acknowledged or failed."""
        return len(self._producer)

    def send(self, key: bytes | str | None, value: bytes) -> None:
        try:
            self._produce(self._topic, value, key)
        except BufferError:
            # Local queue full: serve delivery reports until there is room again.
            while True:
                self._producer.poll(0.05)
                try:
                    self._produce(self._topic, value, key)
                    break
                except BufferError:
                    pass
        self.summary.sent += 1
        if self.summary.sent & 0x3FF == 0:
            self._producer.poll(0)

    def update_delivered(self) -> None:
        s = self.summary
        s.delivered = s.sent - s.failed - self.in_flight()

    def close(self) -> Summary:
        remaining = self._producer.flush(self.settings.flush_timeout_s)
        if remaining:
            print(f"flush timed out with {remaining} records in flight", file=sys.stderr)
        self.update_delivered()
        self.summary.seconds = time.perf_counter() - self._started
        return self.summary
