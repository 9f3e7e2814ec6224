"""The run command's process handling: pid files, reuse, group stop, stale pid files."""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path

from localstack.procs import Proc


def sleeper(tag: str) -> list[str]:
    # A parent that spawns a child: stop() must take the whole process group down.
    code = (
        "import subprocess, sys, time; "
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)', sys.argv[1]]); "
        "time.sleep(60)"
    )
    return [sys.executable, "-c", code, tag]


def procs_with(tag: str) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        try:
            if d.isdigit() and tag in Path(f"/proc/{d}/cmdline").read_bytes().decode("latin-1"):
                out.append(int(d))
        except OSError:
            pass
    return out


def test_start_is_idempotent_and_stop_kills_the_group(tmp_path: Path) -> None:
    tag = f"tag-{uuid.uuid4().hex}"
    p = Proc("demo", tmp_path / "run", tmp_path / "logs")
    pid = p.start(sleeper(tag), os.environ, tmp_path)
    try:
        deadline = time.monotonic() + 30  # a busy machine may take a while to start the child
        # Right after the fork /proc may show an empty command line for a moment.
        while p.pid() != pid and time.monotonic() < deadline:
            time.sleep(0.05)
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        assert p.pid() == pid, (p.pid_file.read_text(), cmdline)
        while len(procs_with(tag)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(procs_with(tag)) == 2
        assert p.start(sleeper(tag), os.environ, tmp_path) == pid  # running: not started twice
        assert p.stop(timeout=5)
        assert not p.is_running() and not p.pid_file.exists()
        assert procs_with(tag) == []
    finally:
        p.stop(timeout=1)
    assert not p.stop()  # stopping a stopped process is harmless
    assert "--- start" in p.log_file.read_text()


def test_a_reused_pid_is_not_ours(tmp_path: Path) -> None:
    p = Proc("demo", tmp_path / "run", tmp_path / "logs")
    p.run_dir.mkdir(parents=True)
    # Our own pid is alive, but its command line is not the one the pid file recorded.
    p.pid_file.write_text(f"{os.getpid()}\n-c import time; never-started\n")
    assert p.pid() is None and p.exited()
