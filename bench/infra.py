"""The benchmarks' own broker, twin and lake: ports and folders no developer or test run uses."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from bench.procs import PeakRss
from localstack.kafka import KafkaBroker, KafkaSettings
from localstack.terraform import Terraform, TerraformError, TerraformSettings
from localstack.twin import Twin, TwinSettings

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / ".local" / "bench"
# BENCH_PORT_OFFSET=N: a second benchmark beside a running one gets its own broker and twin
# (each suite stops its services at the end, which would cut the other one's short).
OFFSET = int(os.environ.get("BENCH_PORT_OFFSET", "0"))
KAFKA_PORT, KAFKA_CONTROLLER_PORT = 29092 + OFFSET, 29093 + OFFSET
TWIN_PORT = 24566 + OFFSET
_SUFFIX = f"-{OFFSET}" if OFFSET else ""


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def kafka() -> Iterator[KafkaBroker]:
    """A fresh broker (data wiped) for one suite; stopped at the end."""
    broker = KafkaBroker(
        KafkaSettings(
            port=KAFKA_PORT,
            controller_port=KAFKA_CONTROLLER_PORT,
            runtime_dir=BENCH_DIR / f"kafka{_SUFFIX}",
        )
    )
    broker.stop()  # one left behind by a killed run still holds the folder and ports
    broker.wipe()
    try:
        broker.start()
        log(f"kafka up at {broker.bootstrap} (pid {broker.pid()})")
        yield broker
    finally:
        broker.stop()


@dataclass(frozen=True)
class Lake:
    twin: Twin
    bucket: str
    checkpoints_uri: str  # s3a://bucket/prefix/
    outputs: dict[str, Any]  # `terraform output` of envs/local (e.g. api_url)

    @property
    def scratch(self) -> list[tuple[str, str]]:
        """(bucket, prefix) of everything the benchmarks write."""
        ck_bucket, ck_prefix = self.checkpoints_uri.removeprefix("s3a://").split("/", 1)
        return [(self.bucket, "bench/"), (ck_bucket, f"{ck_prefix}bench/")]

    def s3(self) -> Any:
        return boto3.client("s3", **self.twin.client_kwargs())

    def delete_prefix(self, bucket: str, prefix: str) -> int:
        s3, n = self.s3(), 0
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            for i in range(0, len(keys), 1000):
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys[i : i + 1000]})
            n += len(keys)
        return n


@contextlib.contextmanager
def lake() -> Iterator[Lake]:
    """The twin on its bench port with envs/local applied (kept between runs: apply is then a
    quick no-op); everything under ``bench/`` is deleted before and after."""
    state = BENCH_DIR / f"twin{_SUFFIX}"
    twin = Twin(TwinSettings(port=TWIN_PORT, host="127.0.0.1", state_dir=state))
    tf = Terraform(
        TerraformSettings(
            work_dir=BENCH_DIR / f"terraform{_SUFFIX}", aws_endpoint_url=twin.endpoint_url
        ),
        quiet=True,
    )
    twin.start()
    try:
        try:
            took = tf.apply()
        except TerraformError:
            # Twin state and Terraform state disagree (one was wiped): start both afresh.
            log("terraform apply failed on the kept twin; wiping it and applying again")
            twin.wipe()
            for old in tf.settings.work_dir.glob("terraform.tfstate*"):
                old.unlink()
            twin.start()
            took = tf.apply()
        log(f"twin up at {twin.endpoint_url} (pid {twin.pid()}), lake applied in {took:.0f} s")
        outputs = tf.outputs()
        out = outputs["lake"]
        lk = Lake(
            twin=twin,
            bucket=out["bucket_names"]["lake"],
            checkpoints_uri=out["checkpoints_uri"].replace("s3://", "s3a://"),
            outputs=outputs,
        )
        for bucket, prefix in lk.scratch:
            lk.delete_prefix(bucket, prefix)
        try:
            yield lk
        finally:
            for bucket, prefix in lk.scratch:
                lk.delete_prefix(bucket, prefix)
    finally:
        twin.stop()


def run_measured(
    cmd: Sequence[str],
    env: dict[str, str],
    log_file: Path,
    timeout_s: float,
) -> tuple[int, float, float]:
    """Run ``cmd`` to the end with its tree's peak RSS sampled; (returncode, seconds, MiB)."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    with log_file.open("ab") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        with PeakRss(proc.pid) as rss:
            try:
                rc = proc.wait(timeout_s)
            finally:
                if proc.poll() is None:
                    os.killpg(proc.pid, 9)
                    proc.wait(30)
    return rc, time.monotonic() - t0, rss.mib
