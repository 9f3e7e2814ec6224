"""Background processes the run command starts: one pid file and one log per process.

Each process gets its own session (process group), so a stop reaches the JVMs and workers it
spawned, and Ctrl-C in the shell that ran ``make local`` does not take the stack down.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


def alive(pid: int) -> bool:
    """True for a running process; a zombie (exited, not yet reaped) is not running."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: it exists
    stat = Path(f"/proc/{pid}/stat")
    if Path("/proc/self").exists():
        try:  # the command name may hold spaces and parentheses: split after the last ")"
            return stat.read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
        except (OSError, IndexError):
            return False
    # No procfs (macOS): ask ps for the state.
    r = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True)
    state = r.stdout.strip()
    return bool(state) and not state.startswith("Z")


def group_alive(pgid: int) -> bool:
    """A process of the group still runs (zombies, exited but not reaped, do not count)."""
    if not Path("/proc/self").exists():  # macOS: the signal test is all there is
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return True
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:  # after the command name: state, ppid, pgrp, ...
            state, _, pgrp = (d / "stat").read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):
            continue
        if int(pgrp) == pgid and state not in ("Z", "X"):
            return True
    return False


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def descendants(root: int) -> list[int]:
    """``root`` and every process below it (one scan of /proc)."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            # The command name may hold spaces and parentheses: split after the last ")".
            ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def status_kib(pid: int, field: str) -> int | None:
    """A memory line of /proc/<pid>/status (VmRSS now, VmHWM peak) in KiB; None if gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and everything it started (JVMs, workers), now."""
    return sum(status_kib(p, "VmRSS") or 0 for p in descendants(pid)) / 1024


@dataclass(frozen=True)
class Proc:
    """A named background process: ``<run_dir>/<name>.pid`` and ``<log_dir>/<name>.log``."""

    name: str
    run_dir: Path
    log_dir: Path

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        """The pid if it runs and is still the command we started (pids get reused)."""
        try:
            pid, marker = self.pid_file.read_text().split("\n", 1)
        except (OSError, ValueError):
            return None
        if not alive(int(pid)) or marker.strip() not in _cmdline(int(pid)):
            return None
        return int(pid)

    def is_running(self) -> bool:
        return self.pid() is not None

    def start(self, cmd: Sequence[str], env: Mapping[str, str], cwd: Path) -> int:
        """Start ``cmd`` unless it already runs; returns the pid."""
        pid = self.pid()
        if pid is not None:
            return pid
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            log.write(
                f"\n--- start {time.strftime('%Y-%m-%dT%H:%M:%S%z')}: {' '.join(cmd)}\n".encode()
            )
            log.flush()
            proc = subprocess.Popen(
                list(cmd),
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        # The marker (the command's arguments) tells our process from a reused pid.
        self.pid_file.write_text(f"{proc.pid}\n{' '.join(cmd[1:])}\n")
        return proc.pid

    def exited(self) -> bool:
        """Started by us and gone (e.g. a finished feed or a crashed job)."""
        return self.pid_file.exists() and self.pid() is None

    def stop(self, timeout: float = 30.0) -> bool:
        """SIGTERM the process group, SIGKILL it after ``timeout``; True if it was running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        # Stopped means the whole group is gone (a JVM's workers outlive their leader briefly).
        deadline = time.monotonic() + timeout
        while group_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if group_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while group_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
        self.pid_file.unlink(missing_ok=True)
        return True

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
