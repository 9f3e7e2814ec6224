"""Stop and start again: envs/local applied, used as the API uses it, the twin stopped and started
from its persisted state, applied again; the stack comes up with its data, twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from localstack.terraform import Terraform
from localstack.twin import Twin
from tests.fixtures.twin import TWIN_PORT, terraform_settings, twin_settings

pytestmark = pytest.mark.twin

# Its own twin (this test stops it): the session twin's port + 9, under .local/test-<offset>/.
RESTART_PORT = TWIN_PORT + 9


@pytest.fixture
def kept_twin() -> Iterator[tuple[Twin, Terraform]]:
    twin = Twin(twin_settings(port=RESTART_PORT, name="twin-restart"))
    twin.wipe()
    tf = Terraform(terraform_settings(twin, name="terraform-restart"), quiet=True)
    for old in tf.settings.work_dir.glob("terraform.tfstate*"):
        old.unlink()
    try:
        twin.start()
        yield twin, tf
    finally:
        twin.wipe()


def _count_trips(athena: Any, workgroup: str, database: str) -> int:
    """Trips counted through Athena, with a timestamp in the result as the API's queries have
    (MiniStack then fails to save its Athena state: "datetime is not JSON serializable")."""
    qid = athena.start_query_execution(
        QueryString="SELECT count(*) AS n, max(pickup_at) AS last_pickup FROM trips",
        QueryExecutionContext={"Database": database},
        WorkGroup=workgroup,
    )["QueryExecutionId"]
    for _ in range(120):
        status = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if status["State"] not in ("QUEUED", "RUNNING"):
            break
        time.sleep(0.5)
    assert status["State"] == "SUCCEEDED", status
    rows = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
    return int(rows[1]["Data"][0]["VarCharValue"])


def test_down_up_twice_keeps_the_stack_and_its_data(kept_twin: tuple[Twin, Terraform]) -> None:
    from lambda_api.build import build

    twin, tf = kept_twin
    build()  # as `make local` does: the API (Lambda + HTTP API) is part of the stack
    tf.apply()
    lake = tf.outputs()["lake"]
    bucket, workgroup = lake["bucket_names"]["lake"], lake["athena_workgroup"]
    s3 = boto3.client("s3", **twin.client_kwargs())
    athena = boto3.client("athena", **twin.client_kwargs())
    key = "trips/dt=2026-01-01/hour=00/kept.parquet"
    # Naive times: the twin's DuckDB needs pytz (not installed beside it) to return zoned ones.
    pickups = pa.array([datetime(2026, 1, 1, 0, m) for m in range(7)], pa.timestamp("us"))
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"pickup_at": pickups}), sink)
    s3.put_object(Bucket=bucket, Key=key, Body=sink.getvalue().to_pybytes())
    assert _count_trips(athena, workgroup, lake["database_name"]) == 7
    for _ in range(2):
        twin.stop()  # what `make local-down` does: SIGTERM, the twin saves what it can
        twin.start()
        tf.apply()  # `make local`: must come up whatever the twin failed to persist
        assert athena.get_work_group(WorkGroup=workgroup)["WorkGroup"]["Name"] == workgroup
        assert _count_trips(athena, workgroup, lake["database_name"]) == 7
    # Nothing left to change: Terraform's state and the twin agree.
    plan = tf.run("plan", "-input=false", "-detailed-exitcode", ok_codes=(0, 2), capture=True)
    assert plan.returncode == 0, plan.stdout
