"""The AWS twin as a process: install, start, health, loopback only, S3, persistence, stop."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from localstack.twin import Twin
from tests.conftest import ROOT
from tests.fixtures.twin import TWIN_PORT, twin_settings

pytestmark = pytest.mark.twin

# A second twin beside the session's (TWIN_PORT) under .local/test-<offset>/, both by offset.
SPARE_PORT = TWIN_PORT + 1


@pytest.fixture
def spare_twin() -> Iterator[Twin]:
    """A second twin, not started, that a test may stop, kill and restart at will."""
    t = Twin(twin_settings(port=SPARE_PORT, name="twin-spare"))
    t.wipe()
    try:
        yield t
    finally:
        t.wipe()


def _listeners(port: int) -> list[str]:
    """Local addresses (hex, as the kernel shows them) listening on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                found.append(addr)
    return found


def test_install_is_idempotent_and_quick(twin: Twin) -> None:
    assert twin.installed()
    started = time.monotonic()
    assert twin.install() is False  # nothing to do: the stamp matches the lock
    assert time.monotonic() - started < 1.0
    assert twin.executable.is_relative_to(ROOT / ".local")


def test_start_health_stop(spare_twin: Twin) -> None:
    t = spare_twin
    assert not t.is_running() and not t.healthy()
    t.start()
    pid = t.pid()
    assert pid is not None and t.is_running() and t.healthy()
    # Loopback only: 127.0.0.1 in /proc/net/tcp is 0100007F; 0.0.0.0 would be 00000000.
    if Path("/proc/net/tcp").exists():
        assert _listeners(SPARE_PORT) == ["0100007F"]
    t.start()  # already running: harmless, same process
    assert t.pid() == pid
    # Everything it writes stays in its state dir.
    for sub in ("state", "s3", "tmp"):
        assert (t.settings.state_dir / sub).is_dir()
    assert "Ready" in t.log_tail(200)
    assert t.stop() is True
    assert not t.is_running() and not t.healthy() and t.pid() is None
    assert _listeners(SPARE_PORT) == []
    assert t.stop() is False  # stopping a stopped twin is harmless too


def test_s3_put_get(twin: Twin) -> None:
    s3 = boto3.client("s3", **twin.client_kwargs())
    bucket = f"test-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="dir/hello.txt", Body=b"hello twin")
    assert s3.get_object(Bucket=bucket, Key="dir/hello.txt")["Body"].read() == b"hello twin"
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="dir/")
    assert [o["Key"] for o in listed["Contents"]] == ["dir/hello.txt"]
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=bucket, Key="dir/missing.txt")


def test_restart_keeps_objects_and_bucket_settings(spare_twin: Twin) -> None:
    t = spare_twin
    t.start()
    s3 = boto3.client("s3", **t.client_kwargs())
    s3.create_bucket(Bucket="persisted")
    s3.put_bucket_versioning(Bucket="persisted", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket="persisted", Key="a/b.parquet", Body=b"PAR1 kept")
    t.stop()
    t.start()
    assert s3.get_object(Bucket="persisted", Key="a/b.parquet")["Body"].read() == b"PAR1 kept"
    # PERSIST_STATE: settings saved at a clean stop come back too (Terraform's state stays true).
    assert s3.get_bucket_versioning(Bucket="persisted").get("Status") == "Enabled"

    # A crash saves no settings, but object bodies are on disk as soon as the PUT returns.
    s3.put_object(Bucket="persisted", Key="a/c.parquet", Body=b"PAR1 crash")
    assert t.kill() is True
    assert not t.is_running()
    t.start()
    assert s3.get_object(Bucket="persisted", Key="a/c.parquet")["Body"].read() == b"PAR1 crash"


def test_wipe_deletes_state(spare_twin: Twin) -> None:
    t = spare_twin
    t.start()
    boto3.client("s3", **t.client_kwargs()).create_bucket(Bucket="doomed")
    t.wipe()
    assert not t.is_running() and not t.settings.state_dir.exists()
    t.start()
    names = [b["Name"] for b in boto3.client("s3", **t.client_kwargs()).list_buckets()["Buckets"]]
    assert "doomed" not in names


def test_env_points_a_child_process_at_the_twin(twin: Twin) -> None:
    bucket = f"env-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", **twin.client_kwargs()).create_bucket(Bucket=bucket)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(twin.env())
    code = "import boto3\nfor b in boto3.client('s3').list_buckets()['Buckets']: print(b['Name'])"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert bucket in out.stdout.split()


def test_cli_status_and_help(twin: Twin) -> None:
    env = dict(os.environ)
    env.update(
        {
            "TWIN_PORT": str(twin.settings.port),
            "TWIN_STATE_DIR": str(twin.settings.state_dir),
        }
    )
    cli = [sys.executable, "-m", "localstack.twin"]
    status = subprocess.run([*cli, "status"], env=env, capture_output=True, text=True, cwd=ROOT)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "healthy" in status.stdout and twin.endpoint_url in status.stdout

    env["TWIN_STATE_DIR"] = str(twin.settings.state_dir.parent / "no-such-twin")
    down = subprocess.run([*cli, "status"], env=env, capture_output=True, text=True, cwd=ROOT)
    assert down.returncode == 3

    helptext = subprocess.run([*cli, "--help"], capture_output=True, text=True, cwd=ROOT)
    assert helptext.returncode == 0
    for command in ("install", "start", "stop", "status", "logs", "wipe"):
        assert command in helptext.stdout
