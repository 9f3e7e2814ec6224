"""The stream and compaction jobs as EMR Serverless runs them, against the test broker and twin.

The artifacts are those `make aws-build` builds (terraform/scripts/artifacts.py); the job
parameters are the StartJobRun requests terraform/envs/aws declares (outputs.stream_job.request
and the compaction schedule's target input), read from a mocked-provider `terraform test` of the
real configuration with that build. EMR's part is played by tests/emr_support.py: every URI of
spark.jars / spark.submit.pyFiles / spark.archives and the entry point fetched from what
Terraform uploads, archives unpacked into ``./<#alias>``, and spark-submit of pyspark 4.0.2 run
by a Python that has only what EMR's image has (pyspark, py4j, the stdlib). Only the
substitutions listed below (each with its reason) differ from what EMR would run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from spark.session import ensure_jars
from tests.conftest import ROOT
from tests.emr_support import JobRun, Staged, emr_python, spark_submit, stage
from tests.fixtures.kafka import OFFSET, fresh_topic
from tests.fixtures.twin import TEST_DIR
from tests.stream_support import Feed, assert_exactly_once, duck, objects, read_lake, send_feed
from tests.tf_support import plan_with_build, resources

WORK = TEST_DIR / "emr-run"
BUILD = WORK / "build"
STAND_INS = ROOT / "terraform" / "envs" / "aws" / "tests" / "fixtures" / "build"
RUN_TIMEOUT_S = 900  # two cores shared by many test sessions
DAY = "2025-01-15"  # stream_support.build_feed's trips are picked up on this day
UI_PORT = 14040 + OFFSET
# Stands in for the executor JVM options EMR's spark-defaults set: the job must keep them.
EMR_EXECUTOR_JAVA_OPTIONS = "-XX:OnOutOfMemoryError='kill -9 %p' -Demr.stand-in=1"


@dataclass
class Plan:
    stream: JobRun
    compact: JobRun
    uploaded: dict[str, Path]  # s3:// URI -> the local file Terraform uploads there
    buckets: dict[str, str]  # the mocked plan's bucket names


@pytest.fixture(scope="module")
def build() -> Path:
    """`make aws-build`'s EMR artifacts (code zip, pydeps, jars); the API and probe zips are
    stand-ins (the plan only hashes them; tests/test_lambda_zip.py runs the real one)."""
    shutil.rmtree(BUILD, ignore_errors=True)
    script = ROOT / "terraform" / "scripts" / "artifacts.py"
    steps = ["code", "pydeps", "jars"]
    subprocess.run([sys.executable, str(script), *steps, "--out", str(BUILD)], check=True)
    for name in ("lambda_api.zip", "probe.zip"):
        shutil.copyfile(STAND_INS / name, BUILD / name)
    return BUILD


@pytest.fixture(scope="module")
def plan(build: Path) -> Plan:
    state, env_dir = plan_with_build(build, WORK / "plan")
    res = resources(state)
    uploaded = {
        f"s3://{v['bucket']}/{v['key']}": (env_dir / v["source"]).resolve()
        for a, v in res.items()
        if a.startswith("module.stream.aws_s3_object.")
    }
    # The copy of the repo plan_with_build ran in is byte-identical: point at the real files.
    src = env_dir.parents[2]
    uploaded = {
        uri: ROOT / p.relative_to(src) if p.is_relative_to(src) else p
        for uri, p in uploaded.items()
    }
    schedule = res["module.maintenance.aws_scheduler_schedule.compact"]["target"][0]
    return Plan(
        stream=JobRun.from_request(state["outputs"]["stream_job"]["value"]["request"]),
        compact=JobRun.from_request(json.loads(schedule["input"])),
        uploaded=uploaded,
        buckets=state["outputs"]["bucket_names"]["value"],
    )


@pytest.fixture(scope="module")
def emr_jars(build: Path) -> list[Path]:
    """Jars EMR's classpath has and the build therefore leaves out (hadoop-aws, the AWS SDK, the
    cloud committers): the rest of spark/jars/pom.xml's resolution."""
    ours = {j.name for j in (build / "jars").glob("*.jar")}
    return [j for j in ensure_jars(WORK / "pom-jars") if j.name not in ours]


def base_env() -> dict[str, str]:
    """What the EMR container's environment has besides the driverEnv of the request."""
    java_home = os.environ.get("JAVA_HOME") or str(
        Path(shutil.which("java") or "/usr/bin/java").resolve().parent.parent
    )
    return {"PATH": "/usr/bin:/bin", "HOME": str(WORK / "home"), "JAVA_HOME": java_home,
            "LANG": "C.UTF-8"}  # fmt: skip


def rebucket(value: str, plan: Plan, twin_buckets: dict[str, str], prefix: str) -> str:
    """SUBSTITUTION: the mocked plan's lake and checkpoint buckets -> the twin's (under a prefix
    of this run, so no other test's objects are counted)."""
    for name in ("lake", "checkpoints"):
        value = value.replace(f"s3://{plan.buckets[name]}", f"s3://{twin_buckets[name]}/{prefix}")
    return value


def local_run(
    run: JobRun,
    staged: Staged,
    plan: Plan,
    twin: Any,
    twin_buckets: dict[str, str],
    prefix: str,
    python: Path,
) -> tuple[dict[str, str], dict[str, str]]:
    """The staged spark conf and the request's driver env with the substitutions every local
    run needs."""
    scratch = WORK / prefix / "scratch"
    conf = {k: rebucket(v, plan, twin_buckets, prefix) for k, v in staged.conf.items()}
    conf.update({
        # EMR's /usr/bin/python3.11 is the clean venv here.
        "spark.executorEnv.PYSPARK_PYTHON": str(python),
        # s3:// is EMRFS on EMR; here it is S3A, aimed at the twin through the STREAM_S3_* env.
        "spark.hadoop.fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.AbstractFileSystem.s3.impl": "org.apache.hadoop.fs.s3a.S3A",
        # Tests bind 127.0.0.1 only (the UI binds SPARK_LOCAL_IP, set in the env below).
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.host": "127.0.0.1",
        # Concurrent test sessions on one machine; EMR's driver has a host of its own.
        "spark.ui.port": str(UI_PORT),
        # Nothing outside the project folder (house rule): JVM temp files and perf data.
        "spark.driver.extraJavaOptions": f"-XX:-UsePerfData -Djava.io.tmpdir={scratch}",
        # Stands in for EMR's own spark-defaults (see EMR_EXECUTOR_JAVA_OPTIONS).
        "spark.executor.extraJavaOptions": EMR_EXECUTOR_JAVA_OPTIONS,
    })  # fmt: skip
    env = {k: rebucket(v, plan, twin_buckets, prefix) for k, v in run.driver_env.items()}
    env.update({
        **base_env(),
        "PYSPARK_PYTHON": str(python),  # EMR's /usr/bin/python3.11, as above
        "SPARK_LOCAL_IP": "127.0.0.1",  # loopback only
        # The twin's S3 and its test keys; on EMR the SDKs' default chain gives the job role.
        "STREAM_S3_ENDPOINT": twin.endpoint_url,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    })  # fmt: skip
    if "STREAM_LOCAL_DIR" in env:  # /tmp on EMR: scratch stays in the project folder here
        env["STREAM_LOCAL_DIR"] = str(scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    return conf, env


def wait(proc: subprocess.Popen[str], log: Path) -> None:
    try:
        rc = proc.wait(RUN_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    text = log.read_text(errors="replace")
    tail = "\n".join(x for x in text.splitlines()[-300:] if not x.startswith("\tat "))
    assert rc == 0, f"exit {rc}\n{tail[-8000:]}"


class UiProbe(threading.Thread):
    """Polls the driver's live UI (REST API) while the job runs; keeps the app's properties."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.base = f"http://127.0.0.1:{port}/api/v1/applications"
        self.properties: dict[str, str] | None = None
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set() and self.properties is None:
            try:
                with urllib.request.urlopen(self.base, timeout=2) as r:
                    app = json.load(r)[0]["id"]
                with urllib.request.urlopen(f"{self.base}/{app}/environment", timeout=5) as r:
                    self.properties = dict(json.load(r)["sparkProperties"])
            except (OSError, ValueError, IndexError, KeyError):
                time.sleep(0.5)


@dataclass
class StreamResult:
    feed: Feed
    lake_bucket: str
    prefix: str
    staged: Staged
    ui_properties: dict[str, str] | None


@pytest.fixture(scope="module")
def stream_run(
    plan: Plan, emr_jars: list[Path], kafka_broker: Any, twin: Any, lake: dict[str, Any]
) -> StreamResult:
    python = emr_python()
    shutil.rmtree(WORK / "emr", ignore_errors=True)  # runs of earlier sessions
    topic = fresh_topic(kafka_broker, partitions=4)
    prefix = f"emr/{topic}"
    twin_buckets = {
        "lake": lake["lake"]["bucket_names"]["lake"],
        "checkpoints": lake["lake"]["checkpoints_uri"].removeprefix("s3://").split("/")[0],
    }
    feed = send_feed(kafka_broker.bootstrap, topic, n_good=600, n_dupes=5, seed=13)

    staged = stage(plan.stream, plan.uploaded, WORK / prefix / "stream")
    conf, env = local_run(plan.stream, staged, plan, twin, twin_buckets, prefix, python)
    env.update({
        "STREAM_KAFKA_BOOTSTRAP": kafka_broker.bootstrap,  # the test broker, not MSK
        "STREAM_KAFKA_OPTIONS": "{}",  # it is PLAINTEXT: no IAM SASL (MSK's only listener)
        "STREAM_TOPIC": topic,  # a topic of its own in the session's broker
        # Several micro-batches, so each hour partition holds files for the compaction to merge.
        "STREAM_MAX_OFFSETS_PER_TRIGGER": "150",
    })  # fmt: skip
    # EMR's classpath has hadoop-aws and the AWS SDK; locally they join spark.jars.
    conf["spark.jars"] = ",".join([conf["spark.jars"], *(j.as_uri() for j in emr_jars)])
    # EMR runs it as a STREAMING job until cancelled; here it stops once the topic is drained.
    args = [*plan.stream.arguments, "--available-now"]
    log = WORK / prefix / "stream.log"
    probe = UiProbe(UI_PORT)
    probe.start()
    proc = spark_submit(
        python, staged, master="local[2]", conf=conf, env=env, arguments=args, log=log
    )
    try:
        wait(proc, log)
    finally:
        probe.done.set()
    return StreamResult(feed, twin_buckets["lake"], prefix, staged, probe.properties)


def test_stream_runs_from_the_artifacts_as_emr_stages_them(
    stream_run: StreamResult, twin: Any
) -> None:
    # Everything EMR fetches is an object Terraform uploads (checked by stage), and pydeps was
    # unpacked where PYTHONPATH (./pydeps) looks.
    assert (stream_run.staged.cwd / "pydeps" / "pydantic" / "__init__.py").is_file()
    view = read_lake(duck(twin.endpoint_url), stream_run.lake_bucket, stream_run.prefix)
    assert view.trips > 0
    # produced == trips in the lake + dead letters (+ the exact duplicates dropped), no trip twice
    assert_exactly_once(view, stream_run.feed)


def test_stream_keeps_emrs_ui_and_jvm_options(stream_run: StreamResult) -> None:
    # On EMR the job must not turn the live UI off nor replace EMR's executor JVM options.
    props = stream_run.ui_properties
    assert props is not None, "the running job had no live Spark UI"
    # Spark puts its own module options in front; EMR's must still be there, not replaced.
    assert EMR_EXECUTOR_JAVA_OPTIONS in props.get("spark.executor.extraJavaOptions", "")


def test_compaction_runs_as_emr_runs_it(
    stream_run: StreamResult, plan: Plan, twin: Any, lake: dict[str, Any]
) -> None:
    python = emr_python()
    s3 = boto3.client("s3", **twin.client_kwargs())
    day_prefix = f"{stream_run.prefix}/trips/dt={DAY}"
    before = objects(s3, stream_run.lake_bucket, day_prefix)
    partitions = {k.rsplit("/", 1)[0] for k in before}
    assert len(before) > len(partitions), "the stream left one file per partition: nothing to do"

    twin_buckets = {"lake": stream_run.lake_bucket, "checkpoints": "unused"}
    staged = stage(plan.compact, plan.uploaded, WORK / stream_run.prefix / "compact")
    conf, env = local_run(plan.compact, staged, plan, twin, twin_buckets, stream_run.prefix, python)
    args = [rebucket(a, plan, twin_buckets, stream_run.prefix) for a in plan.compact.arguments]
    # The schedule compacts yesterday; the feed's trips are from DAY.
    i = args.index("--days-ago")
    args[i : i + 2] = ["--date", DAY]
    log = WORK / stream_run.prefix / "compact.log"
    proc = spark_submit(python, staged, master="local[2]", conf=conf, env=env, arguments=args,
                        log=log)  # fmt: skip
    wait(proc, log)
    assert f"dt={DAY}:" in log.read_text()

    after = objects(s3, stream_run.lake_bucket, day_prefix)
    assert len(after) == len(partitions) < len(before)  # one file per partition now
    view = read_lake(duck(twin.endpoint_url), stream_run.lake_bucket, stream_run.prefix)
    assert_exactly_once(view, stream_run.feed)  # same rows, each trip once


# ---- stopped longer than the topic's retention (docs/stream.md) ----------------------------


def expire(bootstrap: str, topic: str) -> int:
    """What retention does to a stopped stream's topic: every record so far deleted. Returns
    how many were deleted."""
    from confluent_kafka import Consumer, TopicPartition
    from confluent_kafka.admin import AdminClient

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"expire-{topic}"})
    try:
        parts = consumer.list_topics(topic, timeout=30).topics[topic].partitions
        marks = {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30) for p in parts
        }
    finally:
        consumer.close()
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.delete_records([TopicPartition(topic, p, hi) for p, (_, hi) in marks.items()])
    for f in futures.values():
        f.result(60)
    return sum(hi - lo for lo, hi in marks.values())


def test_stream_past_retention_resumes_with_fail_on_data_loss_off(
    kafka_broker: Any, twin: Any, lake: dict[str, Any]
) -> None:
    from tests.stream_support import JOB_TIMEOUT_S, new_stream

    stream = new_stream(kafka_broker, twin, lake)
    first = send_feed(stream.bootstrap, stream.topic, n_good=40, n_dupes=0, seed=21)
    stream.run()
    # Sent while the stream is stopped, then gone (retention) before it starts again.
    gone = send_feed(stream.bootstrap, stream.topic, n_good=30, n_dupes=0, seed=22)
    deleted = expire(stream.bootstrap, stream.topic)
    assert deleted == first.sent + gone.sent
    last = send_feed(stream.bootstrap, stream.topic, n_good=30, n_dupes=0, seed=23)

    # The default (failOnDataLoss=true): the start fails, whatever the retries.
    proc = stream.start(available_now=True)
    try:
        assert proc.wait(JOB_TIMEOUT_S) != 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    log = stream.work / "job.log"
    assert "Some data may have been lost" in log.read_text(errors="replace")

    # What the docs tell the user to do: one start with STREAM_FAIL_ON_DATA_LOSS=false.
    offset = len(log.read_text(errors="replace"))
    stream.run(STREAM_FAIL_ON_DATA_LOSS="false")
    view = read_lake(duck(twin.endpoint_url), stream.lake_bucket, stream.prefix)
    assert view.trip_ids == first.good_ids | last.good_ids  # none twice, the gone ones missing
    assert view.trips + len(view.dead) == first.sent + last.sent
    # The loss is logged per partition with its offset range: [A, B) skipped, B - A records
    # (Spark 4.0.2 prints the range as "[MDC(OFFSET,A), MDC(UNTIL_OFFSET,B)]").
    skipped = re.findall(
        r"Offset (?:MDC\(OFFSET,)?(\d+)\)? is out of range, and records in\s*"
        r"\[(?:MDC\(OFFSET,)?\d+\)?, (?:MDC\(UNTIL_OFFSET,)?(\d+)",
        log.read_text()[offset:],
    )
    assert skipped, stream.log_tail()
    assert sum(int(b) - int(a) for a, b in skipped) == gone.sent
