"""The state the stand-ins share: one JSON file (STANDIN_STATE) and a call log (STANDIN_LOG)."""

from __future__ import annotations

import fcntl
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# Job-run and application states that settle by themselves after `settle_polls` reads.
SETTLES = {
    "SUBMITTED": "RUNNING",
    "PENDING": "RUNNING",
    "SCHEDULED": "RUNNING",
    "CANCELLING": "CANCELLED",
    "STARTING": "STARTED",
    "STOPPING": "STOPPED",
    "CREATING": "CREATED",
}
ENDED = ("SUCCESS", "FAILED", "CANCELLED")
# A run in any other state keeps its application from stopping.
ACTIVE = ("SUBMITTED", "PENDING", "SCHEDULED", "RUNNING", "QUEUED", "CANCELLING")


def state_path() -> Path:
    return Path(os.environ["STANDIN_STATE"])


@contextmanager
def world() -> Iterator[dict[str, Any]]:
    """The state, locked for the call (a pipeline runs two stand-ins at once) and saved after."""
    path = state_path()
    with (path.parent / f"{path.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data: dict[str, Any] = json.loads(path.read_text())
        yield data
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(path)


def settle(thing: dict[str, Any], polls: int) -> None:
    """One read of a job run or application: a changing state settles after `polls` reads."""
    if thing["state"] not in SETTLES or thing.get("stuck"):
        return
    thing["reads"] = thing.get("reads", 0) + 1
    if thing["reads"] >= polls:
        thing["state"] = SETTLES[thing["state"]]
        thing["reads"] = 0


def change(thing: dict[str, Any], state: str) -> None:
    thing["state"] = state
    thing["reads"] = 0


def record(tool: str, argv: list[str], rc: int, result: Any = None) -> None:
    entry = {"tool": tool, "argv": argv, "rc": rc, "result": result}
    with open(os.environ["STANDIN_LOG"], "a") as log:
        log.write(json.dumps(entry) + "\n")


def recorded(tool: str, call: Callable[[list[str]], int], argv: list[str]) -> int:
    """Run a stand-in's ``call`` and record it, whatever it raises."""
    rc = 1
    try:
        rc = call(argv)
    finally:
        record(tool, argv, rc)
    return rc


def fail(message: str, rc: int = 1) -> int:
    print(message, file=sys.stderr)
    return rc
