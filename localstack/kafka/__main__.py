"""``python -m localstack.kafka {start,stop,status,logs,create-topics,kill,wipe,perf}``.

Settings come from ``KAFKA_*`` env vars (see ``KafkaSettings``), e.g. ``KAFKA_PORT=19092``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from localstack.kafka.broker import KafkaBroker, KafkaError, tail_lines
from localstack.kafka.perf import producer_performance


def _follow(path: Path) -> None:
    """Print what is appended to ``path`` until Ctrl-C (survives the log rolling over)."""
    pos = path.stat().st_size if path.exists() else 0
    while True:
        size = path.stat().st_size if path.exists() else 0
        if size < pos:  # rolled over: start from the top of the new file
            pos = 0
        if size > pos:
            with path.open("rb") as f:
                f.seek(pos)
                sys.stdout.write(f.read().decode(errors="replace"))
                sys.stdout.flush()
                pos = f.tell()
        time.sleep(0.5)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m localstack.kafka",
        description="The local Kafka broker (KRaft, one node, 127.0.0.1). "
        "Settings: KAFKA_* env vars, e.g. KAFKA_PORT, KAFKA_RUNTIME_DIR.",
    )
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("start", help="start the broker (reuses a running one) and create topics")
    s.add_argument("--no-wait", action="store_true", help="return without waiting for readiness")
    s.add_argument("--timeout", type=float, default=None, help="seconds to wait for readiness")
    s.add_argument("--no-topics", action="store_true", help="do not create the configured topic")

    s = sub.add_parser("stop", help="clean shutdown (SIGTERM, SIGKILL after --timeout)")
    s.add_argument("--timeout", type=float, default=None, help="seconds before SIGKILL")

    s = sub.add_parser("status", help="is it running, where, which topics (exit 3 if stopped)")
    s.add_argument("--json", action="store_true", help="one JSON object instead of lines")

    s = sub.add_parser("logs", help="tail the broker log")
    s.add_argument("-n", "--lines", type=int, default=50, help="lines to show (default 50)")
    s.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    s.add_argument(
        "--stdout",
        action="store_true",
        help="the JVM's stdout/stderr (crashes, GC warnings) instead of server.log",
    )

    s = sub.add_parser("create-topics", help="create the configured topic(s) if missing")
    s.add_argument("names", nargs="*", help="topic names (default: KAFKA_TOPIC)")

    sub.add_parser("kill", help="SIGKILL the broker, as a crash would (for chaos testing)")
    sub.add_parser("wipe", help="delete the broker's data and logs (must be stopped)")

    s = sub.add_parser("perf", help="Kafka's ProducerPerformance against the running broker")
    s.add_argument("--records", type=int, default=1_000_000, help="records to send")
    s.add_argument("--size", type=int, default=350, help="record size in bytes")
    s.add_argument("--payload-file", type=Path, default=None, help="send lines of this file")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    broker = KafkaBroker()
    try:
        if args.cmd == "start":
            pid = broker.start(wait=not args.no_wait, timeout=args.timeout)
            took = f" in {broker.last_start_s:.1f} s" if broker.last_start_s else " (was running)"
            print(f"kafka {broker.bootstrap} pid {pid}{'' if args.no_wait else took}")
            if not args.no_wait and not args.no_topics:
                for name, created in broker.create_topics().items():
                    print(f"topic {name}: {'created' if created else 'exists'}")
        elif args.cmd == "stop":
            old = broker.stop(timeout=args.timeout)
            print(f"stopped pid {old}" if old else "not running")
        elif args.cmd == "kill":
            old = broker.kill()
            print(f"killed pid {old}" if old else "not running")
        elif args.cmd == "status":
            st = broker.status()
            if args.json:
                print(json.dumps(st))
            else:
                for k, v in st.items():
                    print(f"{k}: {v}")
            return 0 if st["running"] else 3
        elif args.cmd == "logs":
            path = broker.stdout_log if args.stdout else broker.server_log
            print("\n".join(tail_lines(path, args.lines)))
            if args.follow:
                _follow(path)
        elif args.cmd == "create-topics":
            for name, created in broker.create_topics(args.names or None).items():
                print(f"topic {name}: {'created' if created else 'exists'}")
        elif args.cmd == "wipe":
            broker.wipe()
            print(f"wiped {broker.settings.runtime_dir}")
        elif args.cmd == "perf":
            r = producer_performance(
                broker, args.records, args.size, payload_file=args.payload_file
            )
            print(f"{r.records_per_s:,.0f} records/s, {r.mb_per_s:.1f} MB/s ({r.summary})")
    except KafkaError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
