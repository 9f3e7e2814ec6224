"""What both generators share: pacing, the contract's record envelope and the send loop."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
from tqdm import tqdm

from contract.fields import SCHEMA_VERSION
from producer.sink import KafkaSink, Summary


@dataclass(frozen=True)
class Outgoing:
    key: bytes | None
    value: bytes
    bad_kind: str | None = None  # set for deliberately bad records


def iso_utc(col: pa.Array | pa.ChunkedArray) -> list[str | None]:
    """UTC instants -> ISO-8601 strings with Z, vectorised (TLC precision is one second)."""
    secs = pc.cast(col, pa.timestamp("s", tz="UTC"), safe=False)
    return pc.strftime(secs, format="%Y-%m-%dT%H:%M:%SZ").to_pylist()  # type: ignore[no-any-return]


def envelope(trip_id: str, service: str, source: str) -> dict[str, object]:
    return {
        "schema_version": SCHEMA_VERSION,
        "trip_id": trip_id,
        "service": service,
        "source": source,
    }


class Pacer:
    """Sleeps so that record i goes out ``offset_s[i]`` seconds after the start."""

    def __init__(self) -> None:
        self._t0 = time.monotonic()

    def wait_until(self, offset_s: float) -> None:
        delay = offset_s - (time.monotonic() - self._t0)
        if delay > 0.001:
            time.sleep(delay)


def send_all(
    records: Iterable[Outgoing], sink: KafkaSink, total: int | None, progress: bool | None = None
) -> Summary:
    """Send every record; a bar on a terminal, a line every 5 s otherwise."""
    show_bar = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(total=total, unit="trip", unit_scale=True, disable=not show_bar, file=sys.stderr)
    last_line = time.monotonic()
    bad = sink.summary.bad_kinds
    n = 0
    for rec in records:
        sink.send(rec.key, rec.value)
        if rec.bad_kind is not None:
            bad[rec.bad_kind] += 1
        n += 1
        if n & 0xFFF == 0:
            bar.update(0x1000)
            now = time.monotonic()
            if not show_bar and now - last_line >= 5:
                last_line = now
                s = sink.summary
                print(
                    f"sent {s.sent:,} delivered {s.delivered:,} failed {s.failed:,}",
                    file=sys.stderr,
                    flush=True,
                )
    bar.update(n & 0xFFF)
    bar.close()
    return sink.close()


def chunks(n: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n, size):
        yield start, min(n, start + size)
