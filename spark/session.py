"""The SparkSession of the job: loopback only, scratch under .local/, UTC, the pom's jars."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pyspark.sql import SparkSession

from spark.config import ROOT, StreamSettings

POM = Path(__file__).resolve().parent / "jars" / "pom.xml"
CHECKPOINT_MANAGER = "org.apache.spark.internal.io.cloud.AbortableStreamBasedCheckpointFileManager"
STATE_STORES = {
    "hdfs": "org.apache.spark.sql.execution.streaming.state.HDFSBackedStateStoreProvider",
    "rocksdb": "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider",
}


def ensure_jars(jars_dir: Path) -> list[Path]:
    """The pom's jars in ``jars_dir``, copied from ~/.m2 by Maven when missing or stale."""
    stamp = jars_dir / ".pom-copied"
    if not stamp.exists() or stamp.stat().st_mtime < POM.stat().st_mtime:
        for old in jars_dir.glob("*.jar"):  # a changed pom must not leave old versions behind
            old.unlink()
        subprocess.run(
            [
                "mvn", "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
                f"-Djars.dir={jars_dir}",
            ],
            check=True,
        )  # fmt: skip
        stamp.touch()
    jars = sorted(jars_dir.glob("*.jar"))
    if not jars:
        raise RuntimeError(f"no jars in {jars_dir} after mvn dependency:copy-dependencies")
    return jars


def build_session(s: StreamSettings) -> SparkSession:
    local = s.master is not None and s.master.startswith("local")
    scratch = s.local_dir.resolve()
    scratch.mkdir(parents=True, exist_ok=True)
    jvm_opts = f"-XX:-UsePerfData -Djava.io.tmpdir={scratch}"
    b = SparkSession.builder.appName(s.app_name)
    if s.master:
        b = b.master(s.master)
    if local:
        # Read when the JVM starts: keep every socket on loopback, workers on this Python.
        os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
        os.environ["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p
        )
        b = (
            b.config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.memory", s.driver_memory)
            .config("spark.driver.extraJavaOptions", jvm_opts)
            .config("spark.pyspark.python", sys.executable)
            .config("spark.pyspark.driver.python", sys.executable)
            .config("spark.executor.extraJavaOptions", jvm_opts)
            # Else the UI listens on 0.0.0.0:4040. On EMR it stays on (EMR's defaults): the
            # running stream's live UI in EMR Studio, and EMR's JVM options are kept.
            .config("spark.ui.enabled", "false")
        )
    if s.jars_dir is not None:
        b = b.config("spark.jars", ",".join(str(p) for p in ensure_jars(s.jars_dir.resolve())))
    b = (
        b.config("spark.ui.showConsoleProgress", "false")
        .config("spark.local.dir", str(scratch))
        .config("spark.hadoop.hadoop.tmp.dir", str(scratch / "hadoop"))
        .config("spark.hadoop.fs.s3a.buffer.dir", str(scratch / "s3a"))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(s.shuffle_partitions))
        .config("spark.sql.streaming.stateStore.providerClass", STATE_STORES[s.state_store])
    )
    if s.abortable_checkpoints:
        b = b.config("spark.sql.streaming.checkpointFileManagerClass", CHECKPOINT_MANAGER)
    if s.s3_endpoint:  # the twin; in AWS s3a/EMRFS find the endpoint and credentials themselves
        b = (
            b.config("spark.hadoop.fs.s3a.endpoint", s.s3_endpoint)
            .config("spark.hadoop.fs.s3a.endpoint.region", s.s3_region)
            .config("spark.hadoop.fs.s3a.path.style.access", str(s.path_style).lower())
            .config(
                "spark.hadoop.fs.s3a.connection.ssl.enabled",
                str(s.s3_endpoint.startswith("https")).lower(),
            )
        )
    if s.aws_access_key_id and s.aws_secret_access_key:
        b = (
            b.config(
                "spark.hadoop.fs.s3a.aws.credentials.provider",
                "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
            )
            .config("spark.hadoop.fs.s3a.access.key", s.aws_access_key_id)
            .config("spark.hadoop.fs.s3a.secret.key", s.aws_secret_access_key.get_secret_value())
        )
    spark = b.getOrCreate()
    spark.sparkContext.setLogLevel(s.log_level)
    return spark
