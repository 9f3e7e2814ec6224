"""The AWS twin: MiniStack in its own virtualenv, bound to 127.0.0.1, state under ``.local/``.

``python -m localstack.twin {install,start,stop,status,logs,wipe}``. Code that talks to AWS takes
its endpoint from config; :meth:`Twin.env` gives a child process the settings that point it here.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict

from localstack.procs import alive

REPO = Path(__file__).resolve().parent.parent
REQUIREMENTS = Path(__file__).with_name("twin-requirements.txt")
HEALTH_PATH = "/_localstack/health"


class TwinSettings(BaseSettings):
    """Where the twin runs and keeps its data; env vars ``TWIN_*``."""

    model_config = SettingsConfigDict(env_prefix="TWIN_")

    host: str = "127.0.0.1"
    port: int = 4566
    state_dir: Path = REPO / ".local" / "twin"
    # Shared by every state dir (tests run their own twin from the same install).
    venv_dir: Path = REPO / ".local" / "twin-venv"
    region: str = "us-east-1"
    access_key_id: str = "test"
    secret_access_key: str = "test"
    # S3_PERSIST keeps object bodies; PERSIST_STATE also keeps bucket settings, Glue and Athena
    # across a clean stop, so Terraform's state still matches the twin after a restart.
    persist_state: bool = True
    start_timeout_s: float = 60.0
    stop_timeout_s: float = 20.0
    uv: str | None = None  # uv binary; default: uv on PATH, then the Makefile's .tools/bin/uv


class TwinError(RuntimeError):
    pass


def _requirements_hash() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def _pid_alive(pid: int) -> bool:
    """Our twin runs under this pid (alive, and not a stale pid file whose pid was reused)."""
    if not alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no procfs (macOS): liveness is all there is
    # An exiting process (after SIGKILL) has an empty cmdline but still holds its socket for a
    # moment; a non-empty one without "ministack" is a stale pid file whose pid was reused.
    return not cmdline or b"ministack" in cmdline


class Twin:
    """One MiniStack process: install, start, stop, wipe. Safe to call in any order."""

    def __init__(self, settings: TwinSettings | None = None) -> None:
        self.settings = settings or TwinSettings()
        s = self.settings
        self.pid_file = s.state_dir / "twin.pid"
        self.log_file = s.state_dir / "twin.log"
        self.stamp_file = s.venv_dir / ".requirements.sha256"

    # ---- addresses and client settings -------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.port}"

    def env(self) -> dict[str, str]:
        """Variables that point an AWS SDK, the CLI or Terraform in a child process here."""
        s = self.settings
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": s.access_key_id,
            "AWS_SECRET_ACCESS_KEY": s.secret_access_key,
            "AWS_DEFAULT_REGION": s.region,
            "AWS_REGION": s.region,  # the Java SDK v2 (Spark's s3a) reads this one
        }

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``boto3.client(service, **kwargs)`` against the twin."""
        s = self.settings
        return {
            "endpoint_url": self.endpoint_url,
            "region_name": s.region,
            "aws_access_key_id": s.access_key_id,
            "aws_secret_access_key": s.secret_access_key,
        }

    # ---- install ------------------------------------------------------------------------------

    @property
    def executable(self) -> Path:
        return self.settings.venv_dir / "bin" / "ministack"

    def installed(self) -> bool:
        try:
            stamp = self.stamp_file.read_text().strip()
        except OSError:
            return False
        return stamp == _requirements_hash() and self.executable.exists()

    def _uv(self) -> str | None:
        if self.settings.uv:
            return self.settings.uv
        found = shutil.which("uv")
        if found:
            return found
        local = REPO / ".tools" / "bin" / "uv"
        return str(local) if local.exists() else None

    @contextlib.contextmanager
    def _install_lock(self) -> Iterator[None]:
        # Two sessions installing at once would corrupt the venv; the second waits, then skips.
        venv = self.settings.venv_dir
        venv.parent.mkdir(parents=True, exist_ok=True)
        with (venv.parent / f"{venv.name}.lock").open("w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def install(self) -> bool:
        """Install the locked requirements into the twin's venv; False if already current."""
        if self.installed():
            return False
        with self._install_lock():
            if self.installed():
                return False
            venv = self.settings.venv_dir
            python = venv / "bin" / "python"
            # The project pins Python 3.11; the twin uses the same interpreter line.
            base = sys.executable if sys.version_info[:2] == (3, 11) else "python3.11"
            uv = self._uv()
            self.stamp_file.unlink(missing_ok=True)
            if uv:
                if not python.exists():
                    _run([uv, "venv", "--quiet", "--python", base, str(venv)])
                # sync, not install: also removes anything not in the lock.
                _run(
                    [
                        uv,
                        "pip",
                        "sync",
                        "--quiet",
                        "--require-hashes",
                        "--python",
                        str(python),
                        str(REQUIREMENTS),
                    ]
                )
            else:
                if not (venv / "bin" / "pip").exists():
                    # --clear: a venv made by uv has no pip; start over with one that does.
                    _run([base, "-m", "venv", "--clear", str(venv)])
                _run(
                    [
                        str(python),
                        "-m",
                        "pip",
                        "install",
                        "--quiet",
                        "--disable-pip-version-check",
                        "--require-hashes",
                        "--no-deps",
                        "-r",
                        str(REQUIREMENTS),
                    ]
                )
            if not self.executable.exists():
                raise TwinError(f"install finished but {self.executable} is missing")
            self.stamp_file.write_text(_requirements_hash() + "\n")
        return True

    # ---- process ------------------------------------------------------------------------------

    def pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def is_running(self) -> bool:
        pid = self.pid()
        return pid is not None and _pid_alive(pid)

    def healthy(self, timeout: float = 1.0) -> bool:
        # No proxies: a corporate HTTP_PROXY must not swallow a loopback probe.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(self.endpoint_url + HEALTH_PATH, timeout=timeout) as resp:
                return bool(resp.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def _port_taken(self) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            return sock.connect_ex((self.settings.host, self.settings.port)) == 0

    def _process_env(self) -> dict[str, str]:
        s = self.settings
        d = s.state_dir
        # Without the project's PYTHONPATH/venv: the twin's Lambda imports whatever the twin's
        # Python can see, and a function must not pass here on the project's packages.
        drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
        env = {k: v for k, v in os.environ.items() if k not in drop}
        env.update(
            {
                "GATEWAY_PORT": str(s.port),
                "BIND_HOST": s.host,  # MiniStack binds 0.0.0.0 without it
                "IOT_MTLS_ENABLED": "0",  # else it also listens on 8883
                "S3_PERSIST": "1",
                "PERSIST_STATE": "1" if s.persist_state else "0",
                "STATE_DIR": str(d / "state"),
                "S3_DATA_DIR": str(d / "s3"),
                # Its pid file, TLS files and Lambda scratch go to TMPDIR: keep them in the project.
                "TMPDIR": str(d / "tmp"),
                "MINISTACK_REGION": s.region,
            }
        )
        return env

    def start(self, wait: bool = True) -> None:
        """Start the twin in the background; a no-op when it already runs."""
        if self.is_running():
            if wait:
                self.wait_ready()
            return
        if self._port_taken():
            raise TwinError(
                f"{self.settings.host}:{self.settings.port} is in use by another process; "
                "set TWIN_PORT to use another port"
            )
        self.install()
        d = self.settings.state_dir
        for sub in ("state", "s3", "tmp"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            log.write(f"--- start {time.strftime('%Y-%m-%dT%H:%M:%S%z')} ---\n".encode())
            log.flush()
            proc = subprocess.Popen(
                [str(self.executable)],
                env=self._process_env(),
                cwd=d,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Own process group: stop() signals the twin and any Lambda workers it spawned.
                start_new_session=True,
            )
        self.pid_file.write_text(f"{proc.pid}\n")
        if wait:
            self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + self.settings.start_timeout_s
        while time.monotonic() < deadline:
            if self.healthy():
                return
            if not self.is_running():
                raise TwinError(f"the twin exited during start-up:\n{self.log_tail(30)}")
            time.sleep(0.1)
        raise TwinError(
            f"the twin did not answer {self.endpoint_url}{HEALTH_PATH} within "
            f"{self.settings.start_timeout_s:.0f} s:\n{self.log_tail(30)}"
        )

    def _signal(self, pid: int, sig: signal.Signals) -> None:
        try:
            os.killpg(pid, sig)  # pid == pgid thanks to start_new_session
        except ProcessLookupError:
            return
        except PermissionError:
            os.kill(pid, sig)

    def stop(self) -> bool:
        """SIGTERM (it saves its state), then SIGKILL after the timeout; False if not running."""
        pid = self.pid()
        if pid is None or not _pid_alive(pid):
            self.pid_file.unlink(missing_ok=True)
            return False
        self._signal(pid, signal.SIGTERM)
        self._wait_gone(pid, self.settings.stop_timeout_s)
        if _pid_alive(pid):
            self._signal(pid, signal.SIGKILL)
            self._wait_gone(pid)
        self.pid_file.unlink(missing_ok=True)
        return True

    def kill(self) -> bool:
        """SIGKILL at once, as a crash would (nothing is saved); False if not running."""
        pid = self.pid()
        if pid is None or not _pid_alive(pid):
            self.pid_file.unlink(missing_ok=True)
            return False
        self._signal(pid, signal.SIGKILL)
        self._wait_gone(pid)
        self.pid_file.unlink(missing_ok=True)
        return True

    def _wait_gone(self, pid: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _pid_alive(pid):
            time.sleep(0.02)
        # Belt and braces: a restart right after must find the port free.
        while time.monotonic() < deadline and self._port_taken():
            time.sleep(0.02)

    def wipe(self) -> None:
        """Stop the twin and delete everything it stored (the install stays)."""
        self.stop()
        shutil.rmtree(self.settings.state_dir, ignore_errors=True)

    def log_tail(self, lines: int = 50) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _run(cmd: Sequence[str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise TwinError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stderr}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m localstack.twin",
        description="The AWS twin (MiniStack) on 127.0.0.1. Settings: env TWIN_PORT, "
        "TWIN_STATE_DIR, TWIN_REGION, ... (see TwinSettings).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("install", help="install MiniStack into its own venv (.local/twin-venv)")
    start = sub.add_parser("start", help="start in the background and wait until healthy")
    start.add_argument("--no-wait", action="store_true", help="return without waiting")
    sub.add_parser("stop", help="stop (SIGTERM, then SIGKILL); state is saved on the way out")
    sub.add_parser("status", help="print pid, endpoint and health; exit 3 when not running")
    logs = sub.add_parser("logs", help="print the end of the twin's log")
    logs.add_argument("-n", "--lines", type=int, default=50, help="how many lines (50)")
    sub.add_parser("wipe", help="stop and delete the twin's state (buckets, Glue, ...)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    twin = Twin()
    try:
        if args.command == "install":
            print("installed" if twin.install() else f"up to date: {twin.settings.venv_dir}")
        elif args.command == "start":
            twin.start(wait=not args.no_wait)
            print(f"twin running (pid {twin.pid()}) at {twin.endpoint_url}")
            print(f"  log: {twin.log_file}")
        elif args.command == "stop":
            print("stopped" if twin.stop() else "not running")
        elif args.command == "status":
            if not twin.is_running():
                print(f"not running (would listen on {twin.endpoint_url})")
                return 3
            health = "healthy" if twin.healthy() else "NOT answering"
            print(f"running (pid {twin.pid()}) at {twin.endpoint_url}: {health}")
            print(f"  state: {twin.settings.state_dir}")
        elif args.command == "logs":
            print(twin.log_tail(args.lines))
        elif args.command == "wipe":
            twin.wipe()
            print(f"wiped {twin.settings.state_dir}")
    except TwinError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
