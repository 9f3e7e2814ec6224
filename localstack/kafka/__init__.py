"""The local Apache Kafka broker (KRaft, one node, 127.0.0.1): ``python -m localstack.kafka``."""

from localstack.kafka.broker import KAFKA_VERSION, KafkaBroker, KafkaError, KafkaSettings
from localstack.kafka.perf import PerfResult, producer_performance

__all__ = [
    "KAFKA_VERSION",
    "KafkaBroker",
    "KafkaError",
    "KafkaSettings",
    "PerfResult",
    "producer_performance",
]
