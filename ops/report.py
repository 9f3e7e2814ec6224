"""One result line per check: PASS / WARN / FAIL / SKIP, with the reason and a timing."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Literal, TextIO

Status = Literal["PASS", "WARN", "FAIL", "SKIP"]
_COLOR = {"PASS": "32", "WARN": "33", "FAIL": "31", "SKIP": "36"}


@dataclass(frozen=True)
class Result:
    status: Status
    name: str
    reason: str
    seconds: float | None = None


class Report:
    def __init__(self, out: TextIO | None = None) -> None:
        self.results: list[Result] = []
        self.out = out or sys.stdout

    def add(self, status: Status, name: str, reason: str, seconds: float | None = None) -> Result:
        r = Result(status, name, reason, seconds)
        self.results.append(r)
        color = self.out.isatty()
        tag = f"\033[{_COLOR[status]}m{status}\033[0m" if color else status
        took = f" ({seconds:.1f} s)" if seconds is not None else ""
        print(f"{tag}  {name}{took}: {reason}", file=self.out, flush=True)
        return r

    def text(self, block: str) -> None:
        print(block, file=self.out, flush=True)

    def by_name(self, name: str) -> Result:
        return next(r for r in self.results if r.name == name)

    @property
    def failed(self) -> bool:
        return any(r.status == "FAIL" for r in self.results)

    def summary(self) -> str:
        counts = {s: sum(r.status == s for r in self.results) for s in _COLOR}
        return ", ".join(f"{n} {s}" for s, n in counts.items())
