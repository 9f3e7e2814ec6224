"""The local Kafka broker: one KRaft process (broker + controller) on 127.0.0.1.

Jars come from Maven Central into ~/.m2 (see ``pom.xml``); everything the broker writes (data,
logs, pid file, generated config, cached classpath) lives under ``KafkaSettings.runtime_dir``.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

# Where the class lives; confluent_kafka.admin re-exports it without marking it public for mypy.
from confluent_kafka.cimpl import NewTopic
from pydantic_settings import BaseSettings, SettingsConfigDict

from localstack.procs import alive

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
POM = HERE / "pom.xml"
LOG4J_CONFIG = HERE / "log4j2.properties"
# The pom is the one place the version is written down.
_VERSION = re.search(r"<kafka\.version>(.+?)</kafka\.version>", POM.read_text())
KAFKA_VERSION = _VERSION.group(1) if _VERSION else "unknown"
NODE_ID = 1


class KafkaSettings(BaseSettings):
    """Where and how the local broker runs; env vars ``KAFKA_*`` (e.g. ``KAFKA_PORT=19092``)."""

    # Not KAFKA_HOME: that name conventionally points at a Kafka distribution.
    model_config = SettingsConfigDict(env_prefix="KAFKA_")

    host: str = "127.0.0.1"
    port: int = 9092
    controller_port: int = 9093
    runtime_dir: Path = REPO / ".local" / "kafka"
    heap: str = "512m"  # measured RSS 360-735 MB with this heap; enough for local volumes
    topic: str = "trips"
    partitions: int = 4
    retention_ms: int = 24 * 3600 * 1000  # laptop disk: one day of trips is plenty to replay
    # Retention only deletes closed segments; Kafka's 1 GiB default would keep everything here.
    segment_bytes: int = 128 * 1024 * 1024
    # After kill -9 the restarted broker waits this long for its old registration to expire.
    session_timeout_ms: int = 3000
    # The first consumer group creates __consumer_offsets; 50 partitions (the default) take
    # seconds to create on 2 cores.
    offsets_partitions: int = 8
    auto_create_topics: bool = False  # a typo in a topic name should fail, not create a topic
    start_timeout_s: float = 60.0
    stop_timeout_s: float = 30.0
    java: str = "java"
    mvn: str = "mvn"

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def controller(self) -> str:
        return f"{self.host}:{self.controller_port}"


class KafkaError(RuntimeError):
    pass


def _port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def _ps(pid: int, field: str) -> str:
    """One ``ps`` column for ``pid`` ("" if there is no such process): macOS has no /proc."""
    r = subprocess.run(["ps", "-ww", "-o", f"{field}=", "-p", str(pid)], capture_output=True)
    return r.stdout.decode(errors="replace").strip()


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except FileNotFoundError:
        # No /proc (macOS), or the process is gone; ps splits on spaces, which is fine for
        # the exact-argument checks below as long as the runtime folder has no spaces.
        return _ps(pid, "command").split() if not Path("/proc/self").exists() else []


def new_cluster_id() -> str:
    """A new cluster id as Kafka's ``Uuid.randomUuid`` makes it: 16 random bytes, base64url."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cid.startswith("-"):  # Kafka skips these: they read as an option on a command line
            return cid


def tail_lines(path: Path, lines: int) -> list[str]:
    if not path.exists():
        return []
    with path.open("rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - 256 * 1024))
        return f.read().decode(errors="replace").splitlines()[-lines:]


class KafkaBroker:
    """Start, stop, kill and inspect the broker described by ``settings``.

    The pid file makes this usable across processes: ``start`` from the CLI, ``stop`` from another
    shell. A broker already running from the same runtime folder is reused, not started twice.
    """

    def __init__(self, settings: KafkaSettings | None = None) -> None:
        self.settings = settings or KafkaSettings()
        rt = self.settings.runtime_dir
        self.data_dir = rt / "data"
        self.logs_dir = rt / "logs"
        self.tmp_dir = rt / "tmp"
        self.pid_file = rt / "kafka.pid"
        self.classpath_file = rt / "classpath.txt"
        self.config_file = rt / "server.properties"
        self.server_log = self.logs_dir / "server.log"
        self.stdout_log = self.logs_dir / "stdout.log"
        self.last_start_s: float | None = None  # wall time of the last start that launched a JVM
        self._proc: subprocess.Popen[bytes] | None = None  # only to reap our own child
        self._launched_at: float | None = None

    @property
    def bootstrap(self) -> str:
        return self.settings.bootstrap

    # -- jars and storage ------------------------------------------------------------------

    def ensure_jars(self) -> str:
        """The broker's classpath; resolves the jars with Maven once, then reads the cache."""
        key_file = self.classpath_file.with_suffix(".key")
        key = hashlib.sha256(POM.read_bytes()).hexdigest()
        if self.classpath_file.exists() and key_file.exists() and key_file.read_text() == key:
            cp = self.classpath_file.read_text().strip()
            if cp and all(Path(j).exists() for j in cp.split(os.pathsep)):
                return cp
        if shutil.which(self.settings.mvn) is None:
            raise KafkaError(f"{self.settings.mvn!r} not found: apt-get install maven")
        self.settings.runtime_dir.mkdir(parents=True, exist_ok=True)
        base = [
            self.settings.mvn,
            "-q",
            "-B",
            "-f",
            str(POM),
            "dependency:build-classpath",
            f"-Dmdep.outputFile={self.classpath_file}",
            "-Dmdep.includeScope=runtime",
        ]
        # Offline first: once ~/.m2 has the jars this needs no network and is quicker.
        if subprocess.run([*base, "-o"], capture_output=True, timeout=300).returncode != 0:
            r = subprocess.run(base, capture_output=True, text=True, timeout=900)
            if r.returncode != 0:
                raise KafkaError(f"mvn could not resolve the Kafka jars:\n{r.stdout}{r.stderr}")
        key_file.write_text(key)
        return self.classpath_file.read_text().strip()

    def _java(self, main: str, *args: str, log_file: str, heap: str | None = None) -> list[str]:
        if shutil.which(self.settings.java) is None:
            raise KafkaError(f"{self.settings.java!r} not found: apt-get install openjdk-17-jre")
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        return [
            self.settings.java,
            f"-Xmx{heap or self.settings.heap}",
            "-XX:-UsePerfData",  # no hsperfdata files in /tmp
            "-Djava.awt.headless=true",
            # zstd/snappy unpack native libs into java.io.tmpdir: keep them in the project.
            f"-Djava.io.tmpdir={self.tmp_dir}",
            f"-XX:ErrorFile={self.logs_dir}/hs_err_pid%p.log",
            f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
            f"-Dkafka.logs.dir={self.logs_dir}",
            f"-Dkafka.log.file={log_file}",
            "-cp",
            self.ensure_jars(),
            main,
            *args,
        ]

    def run_tool(self, main: str, *args: str, timeout: float = 120, heap: str = "256m") -> str:
        """Run a Kafka command-line class with the broker's classpath; returns its stdout."""
        cmd = self._java(main, *args, log_file="tools.log", heap=heap)
        r = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.settings.runtime_dir,
            stdin=subprocess.DEVNULL,
        )
        if r.returncode != 0:
            raise KafkaError(
                f"{main} {' '.join(args)} failed ({r.returncode}):\n"
                f"{r.stdout[-4000:]}{r.stderr[-4000:]}"
            )
        return r.stdout

    def server_properties(self) -> dict[str, str]:
        s = self.settings
        return {
            "process.roles": "broker,controller",
            "node.id": str(NODE_ID),
            "listeners": f"PLAINTEXT://{s.host}:{s.port},CONTROLLER://{s.host}:{s.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{s.bootstrap}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            # --standalone formatting needs the bootstrap form, not controller.quorum.voters.
            "controller.quorum.bootstrap.servers": s.controller,
            "log.dirs": str(self.data_dir),
            "num.partitions": str(s.partitions),
            "auto.create.topics.enable": str(s.auto_create_topics).lower(),
            "log.retention.ms": str(s.retention_ms),
            "log.segment.bytes": str(s.segment_bytes),
            # One broker: every internal topic must live with a single replica.
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": str(s.offsets_partitions),
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "min.insync.replicas": "1",
            # Default 3 s delay before the first rebalance only slows tests and local runs down.
            "group.initial.rebalance.delay.ms": "0",
            "broker.session.timeout.ms": str(s.session_timeout_ms),
            "broker.heartbeat.interval.ms": str(max(100, s.session_timeout_ms // 3)),
        }

    def _write_config(self) -> None:
        self.settings.runtime_dir.mkdir(parents=True, exist_ok=True)
        lines = ["# Generated from KafkaSettings at each start; edits are overwritten."]
        lines += [f"{k}={v}" for k, v in self.server_properties().items()]
        self.config_file.write_text("\n".join(lines) + "\n")

    def is_formatted(self) -> bool:
        return (self.data_dir / "meta.properties").exists()

    def format_storage(self) -> bool:
        """Format the log dir for a new single-node cluster once; True if it formatted now."""
        if self.is_formatted():
            return False
        self._write_config()
        # The id StorageTool's random-uuid would print, without a JVM start (2 s on 2 cores).
        self.run_tool(
            "kafka.tools.StorageTool",
            "format",
            "-t",
            new_cluster_id(),
            "-c",
            str(self.config_file),
            "--standalone",
        )
        return True

    # -- process ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Serialise start/stop across processes sharing this runtime folder."""
        self.settings.runtime_dir.mkdir(parents=True, exist_ok=True)
        with (self.settings.runtime_dir / ".lock").open("w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def pid(self) -> int | None:
        """Pid of this runtime folder's broker if it is alive (a stale pid file reads as None)."""
        if self._proc is not None:
            self._proc.poll()  # reap our own child so a killed broker is not a zombie
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        if not alive(pid):
            return None
        cmdline = _cmdline(pid)
        # A reused pid belongs to some other program: only our config file proves it is ours.
        if "kafka.Kafka" not in cmdline or str(self.config_file) not in cmdline:
            return None
        return pid

    def is_running(self) -> bool:
        return self.pid() is not None

    def _admin(self) -> AdminClient:
        return AdminClient({"bootstrap.servers": self.bootstrap, "socket.timeout.ms": 5000})

    def is_ready(self, timeout: float = 5.0) -> bool:
        """The broker answers metadata requests and every partition it knows has a leader."""
        if not _port_open(self.settings.host, self.settings.port):
            return False
        try:
            md = self._admin().list_topics(timeout=timeout)
        except KafkaException:
            return False
        if not md.brokers:
            return False
        return all(p.leader >= 0 for t in md.topics.values() for p in t.partitions.values())

    def start(self, wait: bool = True, timeout: float | None = None) -> int:
        """Start the broker (or reuse the running one); returns its pid."""
        timeout = self.settings.start_timeout_s if timeout is None else timeout
        with self._lock():
            pid = self.pid()
            if pid is None:
                pid = self._launch()
            if wait:
                self._wait_ready(pid, timeout)
        return pid

    def _launch(self) -> int:
        s = self.settings
        for port in (s.port, s.controller_port):
            if _port_open(s.host, port):
                raise KafkaError(
                    f"{s.host}:{port} is taken by another process; "
                    f"set KAFKA_PORT / KAFKA_CONTROLLER_PORT"
                )
        t0 = time.monotonic()
        self.format_storage()
        self._write_config()
        cmd = self._java("kafka.Kafka", str(self.config_file), log_file="server.log")
        with self.stdout_log.open("ab") as out:
            out.write(f"\n--- start {time.strftime('%Y-%m-%d %H:%M:%S')} ---\n".encode())
            out.flush()
            # Own session: Ctrl-C in the shell that ran `start` must not take the broker down.
            self._proc = subprocess.Popen(
                cmd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=s.runtime_dir,
                start_new_session=True,
            )
        self.pid_file.write_text(f"{self._proc.pid}\n")
        self._launched_at = t0
        return self._proc.pid

    def _wait_ready(self, pid: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if not alive(pid):
                tail = "\n".join(tail_lines(self.stdout_log, 20) + tail_lines(self.server_log, 20))
                raise KafkaError(f"broker exited during start-up; last log lines:\n{tail}")
            if self.is_ready(timeout=2.0):
                break
            if time.monotonic() > deadline:
                raise KafkaError(f"broker not ready after {timeout:.0f} s; see {self.server_log}")
            time.sleep(0.2)
        if self._launched_at is not None:
            self.last_start_s = time.monotonic() - self._launched_at
            self._launched_at = None

    def _wait_gone(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.pid == pid:
                self._proc.poll()
            if not alive(pid):
                return True
            time.sleep(0.1)
        return not alive(pid)

    def _signal(self, sig: signal.Signals, timeout: float) -> int | None:
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return None
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        if not self._wait_gone(pid, timeout) and sig != signal.SIGKILL:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            self._wait_gone(pid, 10)
        if alive(pid):
            raise KafkaError(f"broker pid {pid} survived SIGKILL")
        if self._proc is not None and self._proc.pid == pid:
            self._proc.wait(10)  # our own child: reap it, or it lingers as a zombie
        self.pid_file.unlink(missing_ok=True)
        self._proc = None
        return pid

    def stop(self, timeout: float | None = None) -> int | None:
        """Clean shutdown (SIGTERM), SIGKILL if it takes longer than ``timeout``; the old pid."""
        with self._lock():
            return self._signal(
                signal.SIGTERM, self.settings.stop_timeout_s if timeout is None else timeout
            )

    def kill(self) -> int | None:
        """SIGKILL, as a crash would: for chaos tests. Returns the killed pid."""
        with self._lock():
            return self._signal(signal.SIGKILL, 10)

    def wipe(self) -> None:
        """Delete data and logs (keeps the cached classpath); refuses while the broker runs."""
        if self.is_running():
            raise KafkaError("broker is running: stop it first")
        for p in (self.data_dir, self.logs_dir, self.tmp_dir):
            shutil.rmtree(p, ignore_errors=True)
        for f in (self.pid_file, self.config_file):
            f.unlink(missing_ok=True)

    def status(self) -> dict[str, Any]:
        s = self.settings
        pid = self.pid()
        out: dict[str, Any] = {
            "running": pid is not None,
            "pid": pid,
            "kafka_version": KAFKA_VERSION,
            "bootstrap": s.bootstrap,
            "controller": s.controller,
            "runtime_dir": str(s.runtime_dir),
            "formatted": self.is_formatted(),
            "server_log": str(self.server_log),
        }
        if pid is not None:
            out["ready"] = self.is_ready(timeout=3.0)
            if out["ready"]:
                md = self._admin().list_topics(timeout=5)
                out["topics"] = {
                    n: len(t.partitions)
                    for n, t in sorted(md.topics.items())
                    if not n.startswith("__")
                }
        return out

    # -- topics ----------------------------------------------------------------------------

    def create_topic(
        self,
        name: str,
        partitions: int | None = None,
        config: dict[str, str] | None = None,
        timeout: float = 30,
    ) -> bool:
        """Create ``name`` unless it exists; True if created. Waits until every partition has
        a leader, so a producer can write to it at once."""
        s = self.settings
        cfg = {"retention.ms": str(s.retention_ms), "segment.bytes": str(s.segment_bytes)}
        new = NewTopic(
            name,
            num_partitions=partitions or s.partitions,
            replication_factor=1,
            config={**cfg, **(config or {})},
        )
        admin = self._admin()
        created = True
        try:
            admin.create_topics([new], operation_timeout=timeout)[name].result(timeout)
        except KafkaException as e:
            if e.args[0].name() != "TOPIC_ALREADY_EXISTS":
                raise
            created = False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            t = admin.list_topics(name, timeout=5).topics.get(name)
            if (
                t is not None
                and t.error is None
                and t.partitions
                and all(p.leader >= 0 for p in t.partitions.values())
            ):
                return created
            time.sleep(0.1)
        raise KafkaError(f"topic {name} has no leader after {timeout} s")

    def create_topics(self, names: Sequence[str] | None = None) -> dict[str, bool]:
        """Create the configured topics (idempotent); name -> True if created now."""
        return {n: self.create_topic(n) for n in (names or [self.settings.topic])}

    def delete_topic(self, name: str, timeout: float = 30) -> None:
        admin = self._admin()  # keep a reference: a collected client fails its own futures
        admin.delete_topics([name], operation_timeout=timeout)[name].result(timeout)
