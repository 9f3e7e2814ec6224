"""What both generators share: pacing, the contract's record envelope and the send loop."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple, TypeAlias

import orjson
import pyarrow as pa
import pyarrow.compute as pc
from tqdm import tqdm

from producer.sink import KafkaSink, Summary


class Outgoing(NamedTuple):  # a tuple, not a dataclass: one is made per record sent
    key: bytes | None
    value: bytes
    bad_kind: str | None = None  # set for deliberately bad records


def iso_utc(col: pa.Array | pa.ChunkedArray) -> pa.Array:
    """UTC instants -> ISO-8601 strings with Z, vectorised (TLC precision is one second).

    A cast of naive seconds to text ("2025-02-01 08:00:00") is 20x quicker than strftime.
    """
    secs = pc.cast(col, pa.timestamp("s", tz="UTC"), safe=False).cast(pa.timestamp("s"))
    text = pc.replace_substring(pc.cast(secs, pa.string()), " ", "T", max_replacements=1)
    out = pc.binary_join_element_wise(text, "Z", "")
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


# A column of a chunk of records: an Arrow array, or one value shared by every record.
Column: TypeAlias = pa.Array | str | int | float | None
_NEEDS_ESCAPE = r'["\\\x00-\x1f]'  # what JSON strings must escape


def _needs_escape(values: pa.Array) -> bool:
    return bool(pc.any(pc.match_substring_regex(values, _NEEDS_ESCAPE)).as_py())


def _json_text(values: pa.Array) -> pa.Array:
    """Each value as JSON text, vectorised; null (and NaN/inf, as orjson writes them) -> null."""
    t = values.type
    if pa.types.is_null(t):
        text = pa.nulls(len(values), pa.string())
    elif pa.types.is_floating(t):
        text = pc.cast(values, pa.string())  # shortest round-trip digits, as orjson writes
        # ... but "3" for 3.0: add ".0" as orjson does (not to "1e+20", already a float).
        whole = pc.and_(pc.equal(pc.floor(values), values), pc.less(pc.abs(values), 1e15))
        if pc.any(whole).as_py():
            text = pc.if_else(whole, pc.binary_join_element_wise(text, ".0", ""), text)
        finite = pc.is_finite(values)
        if not pc.all(finite).as_py():
            text = pc.if_else(finite, text, pa.scalar(None, pa.string()))
    elif pa.types.is_integer(t):
        text = pc.cast(values, pa.string())
    elif pa.types.is_string(t):
        if _needs_escape(values):
            text = pa.array(
                [None if v is None else orjson.dumps(v).decode() for v in values.to_pylist()],
                pa.string(),
            )
        else:
            text = pc.binary_join_element_wise('"', values, '"', "")
    else:
        raise TypeError(f"no JSON encoding for Arrow type {t}")
    return pc.fill_null(text, "null") if text.null_count else text


def json_objects(columns: Sequence[tuple[str, Column]]) -> list[bytes]:
    """One compact JSON object per row, keys in ``columns`` order: what ``encode`` gives for
    the same values, built column by column in Arrow instead of record by record."""
    parts: list[Any] = []
    literal = ""  # JSON text between two array columns: keys, constants, quotes
    for i, (name, col) in enumerate(columns):
        literal += ("{" if i == 0 else ",") + orjson.dumps(name).decode() + ":"
        if not isinstance(col, pa.Array):
            literal += orjson.dumps(col).decode()
        elif pa.types.is_string(col.type) and col.null_count == 0 and not _needs_escape(col):
            parts += [literal + '"', col]  # the quotes go into the literals: one pass less
            literal = '"'
        else:
            parts += [literal, _json_text(col)]
            literal = ""
    objects = pc.binary_join_element_wise(*parts, literal + "}", "")
    return objects.cast(pa.binary()).to_pylist()  # type: ignore[no-any-return]


def as_dicts(columns: Sequence[tuple[str, Column]], n: int) -> list[dict[str, Any]]:
    """The same rows as dicts (for bad-record makers and tests)."""
    arrays = {
        name: col if isinstance(col, pa.Array) else pa.array([col] * n) for name, col in columns
    }
    rows: list[dict[str, Any]] = pa.table(arrays).to_pylist()
    return rows


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
                sink.update_delivered()
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
