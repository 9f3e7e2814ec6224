"""EMR Serverless's side of a job run, here: its Python, how it stages a StartJobRun's artifacts,
and spark-submit with the request's parameters (tests/test_emr_run.py)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lambda_api.build import pins
from tests.conftest import ROOT

UV = ROOT / ".tools" / "bin" / "uv"
# emr-spark-8.0.0 runs Spark 4.0.2 with Python 3.11 (also 3.12, 3.13), per its release page
# (docs.aws.amazon.com/emr/latest/ReleaseGuide/emr-spark800-release.html). The page lists no
# Python packages beyond pyspark, so the jobs' Python gets pyspark + py4j + the stdlib only:
# everything else must come from pydeps.tar.gz.
EMR_PYTHON = "python3.11"
EMR_PACKAGES = ("pyspark", "py4j")
DRIVER_ENV = "spark.emr-serverless.driverEnv."
# Comma lists of URIs EMR fetches before the driver starts (the entry point too).
URI_LISTS = ("spark.jars", "spark.submit.pyFiles", "spark.archives")


def emr_python() -> Path:
    """A clean venv (no site packages) with only what EMR's image has; cached under .local/ by
    its requirements, installed from the uv cache (uv.lock's pins, no second copy)."""
    requirements = [f"{n}=={v}" for n, v in pins(ROOT / "uv.lock", EMR_PACKAGES).items()]
    key = hashlib.sha256("\n".join([EMR_PYTHON, *requirements]).encode()).hexdigest()[:12]
    home = ROOT / ".local" / "emr-python" / key
    python = home / "bin" / "python"
    home.parent.mkdir(parents=True, exist_ok=True)
    with (home.parent / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent test sessions build it once
        if not (home / ".complete").exists():
            base = shutil.which(EMR_PYTHON)
            assert base, f"{EMR_PYTHON} is not on PATH (EMR Serverless runs the jobs on it)"
            shutil.rmtree(home, ignore_errors=True)
            subprocess.run([base, "-m", "venv", "--without-pip", str(home)], check=True)
            uv = str(UV if UV.exists() else "uv")
            subprocess.run(
                [uv, "pip", "install", "--quiet", "--python", str(python), *requirements],
                check=True,
            )
            (home / ".complete").write_text("\n".join(requirements) + "\n")
    return python


def spark_home(python: Path) -> Path:
    found = subprocess.run(
        [str(python), "-c", "import pyspark, os; print(os.path.dirname(pyspark.__file__))"],
        capture_output=True, text=True, check=True, env={"PATH": os.environ["PATH"]},
    ).stdout.strip()  # fmt: skip
    return Path(found)


@dataclass
class JobRun:
    """The parts of a StartJobRun request that decide what runs (both spellings: the CLI's
    camelCase and EventBridge Scheduler's PascalCase)."""

    entry_point: str
    arguments: list[str]
    conf: dict[str, str]

    @classmethod
    def from_request(cls, request: dict[str, Any]) -> JobRun:
        def get(obj: dict[str, Any], name: str) -> Any:
            return obj.get(name[0].lower() + name[1:], obj.get(name))

        submit = get(get(request, "JobDriver"), "SparkSubmit")
        conf: dict[str, str] = {}
        for c in get(get(request, "ConfigurationOverrides"), "ApplicationConfiguration"):
            if get(c, "Classification") == "spark-defaults":
                conf.update(get(c, "Properties"))
        params = get(submit, "SparkSubmitParameters")
        assert not params, f"sparkSubmitParameters are not staged by this test: {params}"
        return cls(get(submit, "EntryPoint"), list(get(submit, "EntryPointArguments") or []), conf)

    @property
    def driver_env(self) -> dict[str, str]:
        return {k[len(DRIVER_ENV) :]: v for k, v in self.conf.items() if k.startswith(DRIVER_ENV)}


@dataclass
class Staged:
    cwd: Path  # the driver's working directory: archives unpacked here under their #alias
    entry_point: Path
    conf: dict[str, str]
    fetched: list[str] = field(default_factory=list)


def stage(run: JobRun, uploaded: dict[str, Path], work: Path) -> Staged:
    """What EMR Serverless does before the driver starts: fetch the entry point and every URI
    of spark.jars / spark.submit.pyFiles / spark.archives from S3 (here: the files Terraform
    uploads to those keys; a URI nothing uploads fails, as it would on S3), and unpack each
    archive into ``<working dir>/<alias>``."""
    shutil.rmtree(work, ignore_errors=True)
    cwd = work / "cwd"
    cwd.mkdir(parents=True)
    fetched: list[str] = []

    def fetch(uri: str) -> Path:
        assert uri in uploaded, f"{uri}: no aws_s3_object uploads it (would be a 404 on S3)"
        u = urlsplit(uri)
        local = work / "s3" / u.netloc / u.path.lstrip("/")
        local.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(uploaded[uri], local)
        fetched.append(uri)
        return local

    conf = dict(run.conf)
    for key in URI_LISTS:
        if key not in conf:
            continue
        local_uris = []
        for item in conf[key].split(","):
            uri, _, alias = item.partition("#")
            local = fetch(uri)
            if key == "spark.archives":
                assert alias, f"{item}: an archive without #alias lands in a generated folder"
                with tarfile.open(local) as tar:
                    tar.extractall(cwd / alias, filter="data")
            local_uris.append(local.as_uri() + (f"#{alias}" if alias else ""))
        conf[key] = ",".join(local_uris)
    return Staged(cwd, fetch(run.entry_point), conf, fetched)


def spark_submit(
    python: Path,
    staged: Staged,
    *,
    master: str,
    conf: dict[str, str],
    env: dict[str, str],
    arguments: list[str],
    log: Path,
) -> subprocess.Popen[str]:
    """``spark-submit`` of the pyspark install in ``python``'s venv, in the staged working
    directory, with exactly ``env`` (nothing of this process's environment leaks in)."""
    home = spark_home(python)
    cmd = [str(home / "bin" / "spark-submit"), "--master", master]
    for k, v in sorted(conf.items()):
        cmd += ["--conf", f"{k}={v}"]
    cmd += [str(staged.entry_point), *arguments]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        out.write(" ".join(cmd) + "\n")
        out.flush()
        return subprocess.Popen(
            cmd,
            cwd=staged.cwd,
            env={**env, "SPARK_HOME": str(home)},
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
