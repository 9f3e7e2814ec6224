"""``python -m ops {check,smoke}``: operator tools for an AWS deployment (make aws-check,
make aws-smoke). Settings: OPS_* and SMOKE_* env vars (ops/config.py)."""

from __future__ import annotations

import argparse
import sys

from ops.config import CheckSettings, SmokeSettings
from ops.report import Report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="read-only readiness checks and the cost estimate")
    smoke = sub.add_parser("smoke", help="send synthetic trips, wait for them in API/dashboard")
    smoke.add_argument("--trips", type=int, help="number of trips (SMOKE_TRIPS)")
    smoke.add_argument("--timeout", type=float, help="seconds per wait (SMOKE_TIMEOUT_S)")
    args = parser.parse_args(argv)

    report = Report()
    if args.command == "check":
        from ops import check

        check.run(CheckSettings(), report)
    else:
        from ops import smoke as smoke_mod

        overrides = {
            k: v for k, v in (("trips", args.trips), ("timeout_s", args.timeout)) if v is not None
        }
        smoke_mod.run(SmokeSettings(**overrides), report)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
