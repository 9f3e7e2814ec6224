"""Build what terraform/envs/aws uploads: ``python terraform/scripts/artifacts.py [--out DIR]``.

Writes into ``.local/build/`` (envs/aws's ``build_dir``):

- ``spark-job.zip``: the contract/ and spark/ packages (``--py-files`` of the EMR jobs);
- ``pydeps.tar.gz``: their Python dependencies, pinned by uv.lock, as manylinux x86_64 wheels
  for Python 3.11, files at the archive's root: ``spark.archives=...#pydeps`` unpacks the archive
  *into* ``./pydeps``, which is the jobs' ``PYTHONPATH``;
- ``jars/``: the JVM jars the stream needs beyond EMR's own: the Kafka source from
  spark/jars/pom.xml (hadoop-aws and the AWS SDK are EMR's) and aws-msk-iam-auth;
- ``probe.zip``: the freshness probe Lambda (terraform/modules/observability/probe).

Every archive is reproducible (sorted entries, fixed timestamps and modes, no ``__pycache__``),
so Terraform's ``source_hash`` changes only when the content does. Nothing is fetched when the
jobs run: everything they load is in these files.
"""

from __future__ import annotations

import argparse
import gzip
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # run as a script: the project's packages are importable

from lambda_api.build import pins  # noqa: E402
from spark.session import ensure_jars  # noqa: E402

EPOCH = (1980, 1, 1, 0, 0, 0)
UV = REPO / ".tools" / "bin" / "uv"
# EMR Serverless runs Amazon Linux 2023 (glibc 2.34); pyarrow 26 ships manylinux_2_28 wheels only.
PLATFORM = "x86_64-manylinux_2_28"
PYTHON = "3.11"
# What the stream and compaction jobs import beyond pyspark and numpy (which EMR provides).
JOB_DEPENDENCIES = ("pydantic", "pydantic-settings", "orjson", "pyarrow")
PACKAGES = ("contract", "spark")
PACKAGE_FILES = ("*.py", "*.csv", "*.json")
# Jars of the pom that EMR does not ship (it has hadoop-aws, the AWS SDK v2, the committers).
EMR_JAR_PREFIXES = (
    "spark-sql-kafka-0-10_",
    "spark-token-provider-kafka-0-10_",
    "kafka-clients-",
    "commons-pool2-",
)
# MSK IAM auth for the Kafka source; its SDK dependencies are on EMR's classpath.
MSK_IAM_AUTH = "software.amazon.msk:aws-msk-iam-auth:2.3.2"
PROBE = REPO / "terraform" / "modules" / "observability" / "probe" / "index.py"


def write_zip(out: Path, entries: dict[str, Path]) -> Path:
    """A zip of ``arcname -> file`` that is byte-identical for identical inputs."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for arcname in sorted(entries):
            info = zipfile.ZipInfo(arcname, EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, entries[arcname].read_bytes())
    tmp.replace(out)
    return out


def package_entries(root: Path = REPO, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for package in packages:
        for pattern in PACKAGE_FILES:
            for path in (root / package).glob(pattern):
                out[path.relative_to(root).as_posix()] = path
    return out


def build_code(out: Path) -> Path:
    return write_zip(out / "spark-job.zip", package_entries())


def build_probe(out: Path) -> Path:
    return write_zip(out / "probe.zip", {"index.py": PROBE})


def write_tar_gz(out: Path, root: Path) -> Path:
    """tar.gz of the files under ``root``, at the archive's root (no top folder: Spark unpacks
    an archive into its ``#alias`` folder), reproducible (no owners, times or gzip name)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(p for p in root.rglob("*") if "__pycache__" not in p.parts):
            if path.is_dir() or path.name in (".complete", ".lock"):  # uv's markers
                continue
            info = tarfile.TarInfo(path.relative_to(root).as_posix())
            info.size = path.stat().st_size
            info.mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
            with path.open("rb") as fh:
                tar.addfile(info, fh)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write(buf.getvalue())
    return out


def build_pydeps(out: Path) -> Path:
    pinned = pins(REPO / "uv.lock", JOB_DEPENDENCIES)
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        subprocess.run(
            [str(UV if UV.exists() else "uv"), "pip", "install", "--quiet", "--no-deps",
             "--only-binary", ":all:", "--python-platform", PLATFORM, "--python-version", PYTHON,
             "--target", tmp, *(f"{n}=={v}" for n, v in pinned.items())],
            check=True,
        )  # fmt: skip
        shutil.rmtree(Path(tmp) / "bin", ignore_errors=True)
        return write_tar_gz(out / "pydeps.tar.gz", Path(tmp))


def build_jars(out: Path) -> list[Path]:
    jars_out = out / "jars"
    shutil.rmtree(jars_out, ignore_errors=True)
    jars_out.mkdir(parents=True)
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        for jar in ensure_jars(Path(tmp)):
            if jar.name.startswith(EMR_JAR_PREFIXES):
                shutil.copy2(jar, jars_out / jar.name)
    subprocess.run(
        ["mvn", "-q", "-B", "dependency:copy", f"-Dartifact={MSK_IAM_AUTH}",
         f"-DoutputDirectory={jars_out}"],
        check=True,
    )  # fmt: skip
    jars = sorted(jars_out.glob("*.jar"))
    missing = [p for p in (*EMR_JAR_PREFIXES, "aws-msk-iam-auth-") if not any(
        j.name.startswith(p) for j in jars
    )]  # fmt: skip
    if missing:
        raise SystemExit(f"jars missing after the build: {missing}")
    return jars


STEPS = {"code": build_code, "probe": build_probe, "pydeps": build_pydeps, "jars": build_jars}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="terraform/scripts/artifacts.py", description=__doc__)
    p.add_argument("steps", nargs="*", help=f"any of {', '.join(STEPS)} (default: all)")
    p.add_argument("--out", type=Path, default=REPO / ".local" / "build")
    args = p.parse_args(argv)
    if unknown := set(args.steps) - set(STEPS):
        p.error(f"unknown steps: {sorted(unknown)}")
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for step in args.steps or list(STEPS):
        result = STEPS[step](out)
        print(f"{step}: {result}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
