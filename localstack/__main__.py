"""``python -m localstack {up,down,status}``: the whole local stack (what ``make local`` runs)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from localstack.stack import Stack, StackSettings


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m localstack",
        description="Kafka, the AWS twin, the Terraform lake, the Spark stream and a demo feed, "
        "as plain local processes. Settings: STACK_*, KAFKA_*, TWIN_*, STREAM_* env vars.",
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="start what is not running, apply Terraform, feed, report")
    up.add_argument("--no-feed", action="store_true", help="start the stack without a demo feed")
    down = sub.add_parser("down", help="stop everything `up` started (data stays)")
    down.add_argument("--wipe", action="store_true", help="also delete data, state and logs")
    sub.add_parser("status", help="what runs, where")
    args = p.parse_args(argv)

    settings = StackSettings()
    if args.cmd == "up" and args.no_feed:
        settings.feed = False
    stack = Stack(settings)
    if args.cmd == "up":
        stack.up()
    elif args.cmd == "down":
        stack.down(wipe=args.wipe)
    else:
        print(json.dumps(stack.status(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
