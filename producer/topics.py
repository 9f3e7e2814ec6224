"""``python -m producer.topics NAME ...``: create the trip topics, idempotently.

The deploy step on AWS (an ECS one-off task of the app image, see terraform/modules/producer):
MSK refuses to auto-create topics, so the project's own code creates them with the partition
count and retention it needs. Connection settings are the producer's (``PRODUCER_*``), including
MSK IAM auth (``PRODUCER_MSK_IAM_REGION``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from producer.config import ProducerSettings


def create_topics(
    admin: AdminClient,
    names: Sequence[str],
    partitions: int,
    replication_factor: int = -1,
    config: dict[str, str] | None = None,
    timeout_s: float = 60.0,
) -> dict[str, bool]:
    """Create each topic unless it exists (name -> created now); wait until all have leaders."""
    new = [NewTopic(n, partitions, replication_factor, config=config or {}) for n in names]
    created: dict[str, bool] = {}
    for name, future in admin.create_topics(new, operation_timeout=timeout_s).items():
        try:
            future.result(timeout_s)
            created[name] = True
        except KafkaException as exc:
            if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":
                raise
            created[name] = False
    deadline = time.monotonic() + timeout_s
    pending = set(names)
    while pending and time.monotonic() < deadline:
        meta = admin.list_topics(timeout=10).topics
        pending = {
            n
            for n in pending
            if n not in meta
            or meta[n].error is not None
            or not meta[n].partitions
            or any(p.leader < 0 for p in meta[n].partitions.values())
        }
        if pending:
            time.sleep(0.5)
    if pending:
        raise TimeoutError(f"topics without leaders after {timeout_s} s: {sorted(pending)}")
    return created


def main(argv: Sequence[str] | None = None) -> int:
    settings = ProducerSettings()
    p = argparse.ArgumentParser(prog="python -m producer.topics", description=__doc__)
    p.add_argument("names", nargs="*", default=[settings.topic], help="topics (PRODUCER_TOPIC)")
    p.add_argument("--bootstrap", default=settings.bootstrap_servers, help="bootstrap servers")
    p.add_argument("--partitions", type=int, default=4)
    p.add_argument(
        "--replication-factor", type=int, default=-1, help="-1: the cluster's default (MSK: 3)"
    )
    p.add_argument("--retention-ms", type=int, help="topic retention.ms (default: the cluster's)")
    args = p.parse_args(argv)

    settings = settings.model_copy(update={"bootstrap_servers": args.bootstrap})
    config = {} if args.retention_ms is None else {"retention.ms": str(args.retention_ms)}
    admin = AdminClient(settings.connection())
    created = create_topics(admin, args.names, args.partitions, args.replication_factor, config)
    print(json.dumps({"created": created, "bootstrap": args.bootstrap}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
