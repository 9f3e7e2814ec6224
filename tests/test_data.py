"""The reference data lives in the repository: a clone with nothing beside it finds every file,
a missing file is an error that names it, and no code reaches outside the repository for data."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from producer.samples import REPO_DATA, TRIP_SAMPLES, ZONE_SHAPES, DataSettings, MissingDataFile
from streamlit_app import geo
from tests.conftest import ROOT

# Built from parts so that this file does not match its own search.
OUTSIDE = re.compile(
    "|".join([r"\.\./" + "shared", r"/ \"" + "shared" + r"\"", "shared/" + "data"])
)


def _repo_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [f for f in out.stdout.splitlines() if (ROOT / f).is_file()]


def test_no_code_reads_data_outside_the_repository() -> None:
    hits = []
    for name in _repo_files():
        path = ROOT / name
        if path.suffix in (".parquet", ".gz", ".zip") or name == "uv.lock":
            continue
        text = path.read_text(errors="replace")
        hits += [f"{name}: {m.group(0)}" for m in OUTSIDE.finditer(text)]
    assert hits == []


def test_a_clone_with_nothing_beside_it_finds_every_file(tmp_path: Path) -> None:
    clone = tmp_path / "clone"  # and nothing beside it
    for name in _repo_files():
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, clone / name)
    env = {k: v for k, v in os.environ.items() if k not in ("DATA_DIR", "PYTHONPATH")}
    env["PYTHONPATH"] = str(clone)
    profile = tmp_path / "profile.json"
    fit = subprocess.run(
        [sys.executable, "-m", "producer.fit_profile", "--out", str(profile)],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert fit.returncode == 0, fit.stderr
    # The samples are the ones the committed profile was fitted on.
    assert json.loads(profile.read_text()) == json.loads(
        (ROOT / "producer/profile.json").read_text()
    )
    code = (
        "import json\n"
        "from bench.producer import YELLOW\n"
        "from localstack.stack import StackSettings\n"
        "from tests.conftest import TLC_FILES\n"
        "print(json.dumps([str(p) for p in [YELLOW, *StackSettings().demo_files, *TLC_FILES]]))\n"
    )
    used = subprocess.run(
        [sys.executable, "-c", code],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert used.returncode == 0, used.stderr
    paths = [Path(p) for p in json.loads(used.stdout)]
    assert len(paths) == 5
    assert all(p.is_relative_to(clone / "data") and p.is_file() for p in paths), paths


def test_a_missing_file_is_an_error_that_names_it(tmp_path: Path) -> None:
    with pytest.raises(MissingDataFile, match=re.escape(str(tmp_path / TRIP_SAMPLES[0]))):
        DataSettings(data_dir=tmp_path).trip_samples()
    # The env var names the folder.
    env = {**os.environ, "DATA_DIR": str(tmp_path)}
    fit = subprocess.run(
        [sys.executable, "-m", "producer.fit_profile", "--out", str(tmp_path / "p.json")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert fit.returncode != 0 and str(tmp_path / TRIP_SAMPLES[0]) in fit.stderr
    assert not (tmp_path / "p.json").exists()


def test_the_stack_refuses_a_missing_demo_file_before_starting_anything(tmp_path: Path) -> None:
    from localstack.stack import Stack, StackSettings

    missing = tmp_path / "no-such.parquet"
    stack = Stack(StackSettings(local_dir=tmp_path / "local", demo_files=[missing]))
    with pytest.raises(MissingDataFile, match=re.escape(str(missing))):
        stack.up()
    assert not (tmp_path / "local").exists()  # no log folder: nothing was started


def test_data_readme_names_every_file_with_its_hash() -> None:
    readme = (REPO_DATA / "README.md").read_text()
    listed = dict(
        (name, digest) for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", readme, re.M)
    )
    files = sorted(str(p.relative_to(REPO_DATA)) for p in REPO_DATA.rglob("*") if p.is_file())
    assert files == sorted([*TRIP_SAMPLES, ZONE_SHAPES, "README.md"])
    for name in files:
        if name == "README.md":
            continue
        raw = (REPO_DATA / name).read_bytes()
        if name.endswith(".gz"):
            raw, name = gzip.decompress(raw), name.removesuffix(".gz")
        assert hashlib.sha256(raw).hexdigest() == listed[name], name
        assert f"`{name}" in readme  # and it has a row in the table
    zones = ROOT / "contract" / "taxi_zone_lookup.csv"
    assert (
        hashlib.sha256(zones.read_bytes()).hexdigest() == listed["../contract/taxi_zone_lookup.csv"]
    )
    size = sum(p.stat().st_size for p in REPO_DATA.rglob("*"))
    assert size < 3_000_000  # a few MB at most: the repository stays quick to clone


def test_the_shipped_zone_shapes_rebuild_from_the_kept_source() -> None:
    source = geo.read_source(REPO_DATA / ZONE_SHAPES)
    assert len(source["features"]) == 263
    assert geo.simplify(source) == geo.load_zones()
