"""Stream job configuration: env vars with prefix ``STREAM_`` (some also as CLI flags)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local" / "spark"


class StreamSettings(BaseSettings):
    # populate_by_name: fields with an env alias still take their own name as a keyword.
    # env_parse_none_str: "none" sets an optional field to None from the environment (EMR
    # Serverless: STREAM_MASTER=none, STREAM_JARS_DIR=none, STREAM_PROGRESS_LOG=none).
    model_config = SettingsConfigDict(
        env_prefix="STREAM_", populate_by_name=True, env_parse_none_str="none"
    )

    app_name: str = "nyc-taxi-stream"

    # --- Kafka source
    kafka_bootstrap: str = "127.0.0.1:9092"
    topic: str = "trips"
    starting_offsets: str = "earliest"  # only used when the checkpoint is new
    # Bounds one micro-batch, hence the memory of a batch and the size of a replay after a crash.
    max_offsets_per_trigger: int | None = 200_000
    # False once after a stop longer than the topic's retention: resume from the earliest offset
    # Kafka has, each partition's lost range logged (docs/stream.md). Then back to True.
    fail_on_data_loss: bool = True
    kafka_options: dict[str, str] = {}  # extra kafka.* consumer properties (e.g. MSK IAM auth)

    # --- Micro-batches and dedup
    trigger_interval: str = "10 seconds"
    # A trip_id seen again within this much *processing* time is dropped (see README: the
    # watermark is the batch's trigger time, not pickup_at, so replays of old files are not
    # "late" and dropped whole, and state stays bounded).
    dedup_window: str = "1 hour"
    shuffle_partitions: int = 4
    state_store: str = "hdfs"  # "hdfs" (in-memory + checkpoint files) or "rocksdb"
    # spark-hadoop-cloud's checkpoint manager: streams each file to S3 instead of write+rename
    # (half the writes on the twin). Needs that jar, which the pom supplies.
    abortable_checkpoints: bool = True

    # --- Lake (Parquet written with pyarrow) and checkpoint (written by Spark's Hadoop FS)
    # s3a://bucket[/prefix] locally, s3://bucket[/prefix] on EMR (EMRFS), file:///dir for tests.
    lake_uri: str = "s3a://nyc-taxi-lake-local"
    checkpoint_uri: str | None = None  # default: <lake_uri>/_pipeline/checkpoint/<topic>
    # The AWS twin's S3 endpoint and test keys. In AWS all are absent: the SDKs' default chain
    # (EMR job role) applies. The standard AWS_* variables are read when STREAM_* are unset.
    s3_endpoint: str | None = Field(
        None,
        validation_alias=AliasChoices(
            "STREAM_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"
        ),
    )
    s3_path_style: bool | None = None  # None: path-style exactly when an endpoint is set
    s3_region: str = Field(
        "us-east-1",
        validation_alias=AliasChoices("STREAM_S3_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
    )
    aws_access_key_id: str | None = Field(
        None, validation_alias=AliasChoices("STREAM_AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID")
    )
    aws_secret_access_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("STREAM_AWS_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY")
    )

    # --- Spark runtime (master None = let spark-submit / EMR decide)
    master: str | None = "local[*]"
    driver_memory: str = "2g"
    local_dir: Path = LOCAL / "tmp"
    # Folder of the pom's jars for spark.jars; None on EMR, where --jars come from S3.
    jars_dir: Path | None = LOCAL / "jars"
    zone_table: str | None = None  # None: contract/taxi_zone_lookup.csv shipped with the code
    progress_log: Path | None = LOCAL / "progress.jsonl"
    log_level: str = "WARN"

    @field_validator("lake_uri", "checkpoint_uri")
    @classmethod
    def _scheme(cls, v: str | None) -> str | None:
        if v is not None and urlsplit(v).scheme not in ("s3a", "s3", "file"):
            raise ValueError(f"{v}: scheme must be s3a://, s3:// or file://")
        return v.rstrip("/") if v else v

    @property
    def path_style(self) -> bool:
        return self.s3_endpoint is not None if self.s3_path_style is None else self.s3_path_style

    @property
    def checkpoint(self) -> str:
        return self.checkpoint_uri or f"{self.lake_uri}/_pipeline/checkpoint/{self.topic}"
