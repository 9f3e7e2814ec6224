"""The real TLC samples kept in the repository's ``data/`` folder (sources: data/README.md).

One setting names the folder, ``DATA_DIR`` (default: the repository's ``data/``); the demo
replay, the tests, the benchmarks and the profile fitter all find their files through it. A
missing file is an error that names it, never a silent skip.
"""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_DATA = Path(__file__).resolve().parents[1] / "data"

GREEN_2020 = "tlc/green_tripdata_2020-04_sample1000.csv"
YELLOW_2020 = "tlc/yellow_tripdata_2020-04_sample1000.csv"
YELLOW_2025 = "tlc/yellow_tripdata_2025-02_sample5000.parquet"
# Every trip sample, by name: the replay tests map each one, the profile is fitted on all.
TRIP_SAMPLES = (GREEN_2020, YELLOW_2020, YELLOW_2025)
ZONE_SHAPES = "tlc/taxi_zones.geojson.gz"  # source of streamlit_app/assets/taxi_zones.geojson


class MissingDataFile(FileNotFoundError):
    pass


def require(path: Path) -> Path:
    """``path`` if it is a file, else an error naming it and where the samples come from."""
    if not path.is_file():
        raise MissingDataFile(
            f"{path} does not exist (the real TLC samples are in the repository's data/ "
            "folder, listed in data/README.md; DATA_DIR names another folder)"
        )
    return path


class DataSettings(BaseSettings):
    """Where the reference data is: env var ``DATA_DIR``."""

    model_config = SettingsConfigDict(env_prefix="")

    data_dir: Path = REPO_DATA

    def file(self, name: str) -> Path:
        return require(self.data_dir / name)

    def trip_samples(self) -> list[Path]:
        return [self.file(name) for name in TRIP_SAMPLES]
