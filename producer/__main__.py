"""``python -m producer {synthetic,replay}``: stream taxi trips into Kafka."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import pyarrow as pa

from producer.bad import BAD_BY_NAME, BAD_KINDS
from producer.config import ProducerSettings
from producer.feed import Outgoing, send_all
from producer.replay import load_files, replay_records, trip_ids
from producer.sink import KafkaSink, Summary
from producer.synthetic import Profile, SyntheticTrips, synthetic_records
from producer.tlc import UnmappableFile


def _kafka_args(p: argparse.ArgumentParser) -> None:
    d = ProducerSettings()
    p.add_argument(
        "--bootstrap",
        default=d.bootstrap_servers,
        help=f"Kafka bootstrap servers (env PRODUCER_BOOTSTRAP_SERVERS; {d.bootstrap_servers})",
    )
    p.add_argument("--topic", default=d.topic, help=f"topic (env PRODUCER_TOPIC; {d.topic})")
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar (default: when stderr is a terminal; else a line every 5 s)",
    )


def _utc(text: str) -> datetime:
    dt = datetime.fromisoformat(text)
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m producer", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    syn = sub.add_parser(
        "synthetic",
        help="trips shaped like real data (producer/profile.json)",
        description="Stream synthetic trips learnt from the real TLC samples. Live by default "
        "(each trip ends as it is sent); --start/--end backfill a range instead.",
    )
    _kafka_args(syn)
    stop = syn.add_mutually_exclusive_group(required=True)
    stop.add_argument("--count", type=int, help="number of records to send")
    stop.add_argument("--duration", type=float, help="seconds to keep sending")
    syn.add_argument(
        "--rate", type=float, default=0, help="records per second (0 = as fast as possible)"
    )
    syn.add_argument(
        "--bad-fraction",
        type=float,
        default=0.0,
        help="share of deliberately bad records, 0..1 (for tests and demos)",
    )
    syn.add_argument(
        "--bad-kinds",
        default="all",
        help=f"comma-separated kinds or 'all': {', '.join(BAD_BY_NAME)}",
    )
    syn.add_argument("--seed", type=int, help="random seed (same seed = same trip ids)")
    syn.add_argument("--start", type=_utc, help="backfill from this UTC instant (ISO-8601)")
    syn.add_argument("--end", type=_utc, help="backfill until this UTC instant (ISO-8601)")

    rep = sub.add_parser(
        "replay",
        help="real TLC CSV/Parquet files",
        description="Replay real TLC trip files (yellow or green, CSV or Parquet). Every file is "
        "mapped onto the contract before anything is sent; one that cannot be mapped stops the "
        "run with the reason.",
    )
    _kafka_args(rep)
    rep.add_argument("files", nargs="+", help="TLC files (*.csv, *.parquet)")
    rep.add_argument(
        "--speed",
        type=float,
        default=0,
        help="N x real time by dropoff time (0 = as fast as possible)",
    )
    rep.add_argument(
        "--shift",
        action="store_true",
        help="move event times so the replay looks live (durations kept)",
    )
    rep.add_argument(
        "--max-gap",
        type=float,
        default=5.0,
        help="longest pause between two records when paced, seconds",
    )
    rep.add_argument(
        "--service",
        choices=["yellow", "green"],
        help="override the service detected from the columns",
    )
    rep.add_argument("--repeat", type=int, default=1, help="replay the files this many times")
    return parser


def _records(args: argparse.Namespace) -> tuple[Iterator[Outgoing], int | None]:
    if args.command == "synthetic":
        if (args.start is None) != (args.end is None):
            raise SystemExit("give both --start and --end, or neither")
        if not 0 <= args.bad_fraction <= 1:
            raise SystemExit("--bad-fraction must be between 0 and 1")
        try:
            kinds = (
                BAD_KINDS
                if args.bad_kinds == "all"
                else tuple(BAD_BY_NAME[k.strip()] for k in args.bad_kinds.split(","))
            )
        except KeyError as exc:
            raise SystemExit(f"unknown bad kind {exc}; known: {', '.join(BAD_BY_NAME)}") from exc
        gen = SyntheticTrips(Profile.load(), seed=args.seed)
        it = synthetic_records(
            gen,
            count=args.count,
            duration_s=args.duration,
            rate=args.rate or None,
            bad_fraction=args.bad_fraction,
            bad_kinds=kinds,
            start=args.start,
            end=args.end,
        )
        return it, args.count
    try:
        files = load_files(args.files, args.service)
    except UnmappableFile as exc:
        raise SystemExit(f"refusing to replay: {exc}") from exc

    def all_files() -> Iterator[Outgoing]:
        ids: dict[int, pa.Array] = {}  # per file, computed once: a repeat sends the same ids
        for _ in range(args.repeat):
            for i, f in enumerate(files):
                if i not in ids:
                    ids[i] = trip_ids(f)
                yield from replay_records(f, args.speed or None, args.shift, args.max_gap, ids[i])

    return all_files(), sum(f.rows for f in files) * args.repeat


def run(argv: Sequence[str] | None = None) -> Summary:
    args = build_parser().parse_args(argv)
    settings = ProducerSettings(bootstrap_servers=args.bootstrap, topic=args.topic)
    records, total = _records(args)
    sink = KafkaSink(settings)
    try:
        summary = send_all(records, sink, total, args.progress)
    except KeyboardInterrupt:
        summary = sink.close()
    print(json.dumps({"command": args.command, "topic": args.topic, **summary.as_dict()}))
    return summary


def main() -> None:
    summary = run()
    if not summary.ok:
        print(f"{summary.sent - summary.delivered} records were not delivered", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
