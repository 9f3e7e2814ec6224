"""``python -m lambda_api.build``: ``dist/lambda_api.zip`` for Lambda (Linux x86_64, Python 3.11).

Dependencies are the closure of the handler's runtime packages in ``uv.lock`` (exact versions,
never duckdb/pyarrow/pyspark), installed as manylinux2014 x86_64 wheels only (``uv pip install
--target --python-platform``, or ``pip download`` when the venv has pip) into a cache folder keyed
by that pin list, so a second build only re-zips. The zip is reproducible: sorted entries, fixed
timestamps and modes, no ``__pycache__``; ``source_code_hash`` changes only with the content.

boto3/botocore are bundled (the twin's Lambda Python has no boto3, and a pinned SDK is the same
everywhere) with botocore's service models pruned to what the handler calls.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import canonicalize_name
from pydantic_settings import BaseSettings, SettingsConfigDict

from lambda_api.config import REPO

# What the handler imports (directly or through contract/); everything else comes from the lock.
RUNTIME_ROOTS = (
    "fastapi",
    "mangum",
    "pydantic",
    "pydantic-settings",
    "sqlglot",
    "cachetools",
    "orjson",
    "boto3",
)
# The environment the wheels are for, to evaluate the lock's dependency markers.
LAMBDA_ENV = {
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "python_version": "3.11",
    "python_full_version": "3.11.9",
    "extra": "",
}
# Source files of the project that go in, relative to the repo.
SOURCES = (
    ("lambda_api", ("*.py", "sql/*.sql")),
    ("contract", ("*.py", "taxi_zone_lookup.csv")),
)
# Not needed on Lambda: the dev server, this builder.
EXCLUDE_SOURCES = {"lambda_api/__main__.py", "lambda_api/build.py"}
# botocore/data/<service>: keep only these models (the rest is ~90% of the unzipped size).
BOTOCORE_SERVICES = ("athena", "s3", "sts", "sso", "sso-oidc")
EPOCH = (1980, 1, 1, 0, 0, 0)


class BuildSettings(BaseSettings):
    """Where the build reads and writes; env vars ``LAMBDA_BUILD_*``."""

    model_config = SettingsConfigDict(env_prefix="LAMBDA_BUILD_")

    lock: Path = REPO / "uv.lock"
    output: Path = REPO / "dist" / "lambda_api.zip"
    cache_dir: Path = REPO / ".local" / "lambda-build"
    python_version: str = "3.11"
    platform: str = "manylinux2014_x86_64"
    uv: Path = REPO / ".tools" / "bin" / "uv"


def pins(lock: Path, roots: Iterable[str] = RUNTIME_ROOTS) -> dict[str, str]:
    """name -> version for ``roots`` and everything they need on Lambda, from uv.lock."""
    packages = {canonicalize_name(p["name"]): p for p in tomllib.loads(lock.read_text())["package"]}
    out: dict[str, str] = {}
    todo = [canonicalize_name(r) for r in roots]
    while todo:
        name = todo.pop()
        if name in out:
            continue
        if name not in packages:
            raise SystemExit(f"{name} is not in {lock}; add it to pyproject.toml and uv lock")
        pkg = packages[name]
        out[name] = pkg["version"]
        for dep in pkg.get("dependencies", []):
            marker = dep.get("marker")
            if marker is None or Marker(marker).evaluate(LAMBDA_ENV):
                todo.append(canonicalize_name(dep["name"]))
    return dict(sorted(out.items()))


def install(s: BuildSettings, pinned: dict[str, str]) -> Path:
    """The site folder with the pinned wheels unpacked; reused while the pin list is the same."""
    spec = [f"{n}=={v}" for n, v in pinned.items()]
    key = hashlib.sha256("\n".join([s.platform, s.python_version, *spec]).encode()).hexdigest()
    site = s.cache_dir / f"site-{key[:16]}"
    if (site / ".complete").exists():
        return site
    tmp = s.cache_dir / f"tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    pip = [sys.executable, "-m", "pip"]
    has_pip = subprocess.run([*pip, "--version"], capture_output=True).returncode == 0
    if has_pip:
        wheels = s.cache_dir / "wheels"
        _run(
            [*pip, "download", "--quiet", "--no-deps", "--only-binary=:all:",
             "--platform", s.platform, "--python-version", s.python_version,
             "--implementation", "cp", "--dest", str(wheels), *spec]
        )  # fmt: skip
        for name, version in pinned.items():
            _unpack_wheel(wheels, name, version, tmp)
    else:
        _run(
            [str(s.uv), "pip", "install", "--quiet", "--no-deps", "--only-binary", ":all:",
             "--python-platform", f"x86_64-{s.platform.split('_')[0]}",
             "--python-version", s.python_version, "--target", str(tmp), *spec]
        )  # fmt: skip
    shutil.rmtree(tmp / "bin", ignore_errors=True)
    _prune_botocore(tmp)
    (tmp / ".complete").write_text("\n".join(spec) + "\n")
    shutil.rmtree(site, ignore_errors=True)
    tmp.rename(site)
    return site


def _unpack_wheel(wheels: Path, name: str, version: str, dest: Path) -> None:
    stem = f"{name.replace('-', '_')}-{version}-"
    found = [w for w in wheels.glob("*.whl") if w.name.lower().startswith(stem.lower())]
    if not found:
        raise SystemExit(f"no wheel for {name}=={version} in {wheels}")
    with zipfile.ZipFile(found[0]) as zf:
        zf.extractall(dest)


def _prune_botocore(site: Path) -> None:
    data = site / "botocore" / "data"
    if not data.is_dir():
        return
    for entry in data.iterdir():
        if entry.is_dir() and entry.name not in BOTOCORE_SERVICES:
            shutil.rmtree(entry)


def _run(cmd: Sequence[str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}")


def _entries(site: Path) -> dict[str, Path]:
    """arcname -> file, for the dependencies and the project's sources."""
    out: dict[str, Path] = {}
    for path in site.rglob("*"):
        rel = path.relative_to(site).as_posix()
        if path.is_file() and rel != ".complete" and not _skip(rel):
            out[rel] = path
    for package, patterns in SOURCES:
        for pattern in patterns:
            for path in (REPO / package).glob(pattern):
                rel = path.relative_to(REPO).as_posix()
                if rel not in EXCLUDE_SOURCES and not _skip(rel):
                    out[rel] = path
    return out


def _skip(rel: str) -> bool:
    parts = rel.split("/")
    return "__pycache__" in parts or rel.endswith((".pyc", ".pyo"))


def write_zip(entries: dict[str, Path], output: Path, stamp: Path) -> bool:
    """Write the zip (atomically); False when the file already had exactly this content.

    ``stamp`` remembers the digest of the inputs and of the zip made from them, so an unchanged
    build skips compressing again.
    """
    inputs = hashlib.sha256()
    for arcname in sorted(entries):
        inputs.update(arcname.encode() + b"\0" + entries[arcname].read_bytes() + b"\0")
    done = [inputs.hexdigest(), _digest(output)] if output.exists() else None
    if done and stamp.exists() and stamp.read_text().split() == done:
        return False
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.{os.getpid()}")
    with zipfile.ZipFile(tmp, "w") as zf:
        for arcname in sorted(entries):
            info = zipfile.ZipInfo(arcname, EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16  # regular file, rw-r--r--
            info.create_system = 3  # unix, so the mode above is honoured
            zf.writestr(info, entries[arcname].read_bytes(), compresslevel=9)
    changed = not output.exists() or _digest(output) != _digest(tmp)
    if changed:
        tmp.replace(output)
    else:
        tmp.unlink()
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(f"{inputs.hexdigest()} {_digest(output)}\n")
    return changed


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(settings: BuildSettings | None = None) -> Path:
    s = settings or BuildSettings()
    started = time.monotonic()
    pinned = pins(s.lock)
    banned = {"duckdb", "pyarrow", "pyspark", "numpy"} & set(pinned)
    if banned:
        raise SystemExit(f"runtime closure pulls in {sorted(banned)}: not for the Lambda zip")
    site = install(s, pinned)
    stamp = s.cache_dir / f"{s.output.name}.sha256"
    changed = write_zip(_entries(site), s.output, stamp)
    size = s.output.stat().st_size / 1e6
    verb = "wrote" if changed else "unchanged"
    print(
        f"{verb} {s.output} ({size:.1f} MB, {len(pinned)} packages, "
        f"{time.monotonic() - started:.1f} s)",
        file=sys.stderr,
    )
    return s.output


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lambda_api.build", description=__doc__)
    parser.add_argument("--output", type=Path, help="zip path (default dist/lambda_api.zip)")
    parser.add_argument("--list", action="store_true", help="print the pinned packages and exit")
    args = parser.parse_args(argv)
    s = BuildSettings()
    if args.output:
        s.output = args.output
    if args.list:
        for name, version in pins(s.lock).items():
            print(f"{name}=={version}")
        return 0
    build(s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
