"""``python -m bench [suite ...] [--scale small|full]``: run suites, print one table, save JSON."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence

from bench.report import LATEST, Result, markdown, table, write

# name -> module with ``run(scale: str) -> list[Result]``; imported only when its suite runs.
SUITES: dict[str, str] = {
    "producer": "bench.producer",
    "stream": "bench.stream",
    "api": "bench.api",
    "dashboard": "bench.dashboard",
    "stack": "bench.stack",
}
SCALES = ("small", "full")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("suites", nargs="*", metavar="suite", help=f"{', '.join(SUITES)} (default: all)")
    p.add_argument("--scale", choices=SCALES, default="full", help="small: a quick dev run")
    p.add_argument(
        "--markdown", action="store_true", help="print latest.json as a Markdown table; run nothing"
    )
    args = p.parse_args(argv)
    if args.markdown:
        print(markdown(json.loads(LATEST.read_text())))
        return 0
    unknown = set(args.suites) - set(SUITES)
    if unknown:
        p.error(f"unknown suite(s) {', '.join(sorted(unknown))}; known: {', '.join(SUITES)}")
    results: list[Result] = []
    for name in args.suites or list(SUITES):
        print(f"== {name} ({args.scale})", file=sys.stderr, flush=True)
        suite: list[Result] = importlib.import_module(SUITES[name]).run(args.scale)
        write(suite, name)
        results += suite
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
