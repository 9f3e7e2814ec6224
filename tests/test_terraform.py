"""terraform/: formatting, validation, and envs/local applied to a fresh twin and read back."""

from __future__ import annotations

import io
import json
import subprocess
import time
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from contract import TABLES
from localstack.terraform import Terraform, TerraformSettings
from localstack.twin import Twin
from tests.conftest import ROOT
from tests.fixtures.twin import TEST_DIR

TERRAFORM_DIR = ROOT / "terraform"


def test_fmt_is_clean() -> None:
    result = subprocess.run(
        ["terraform", "fmt", "-check", "-recursive", "-diff", str(TERRAFORM_DIR)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"terraform fmt would change:\n{result.stdout}"


def test_envs_local_validates() -> None:
    tf = Terraform(TerraformSettings(work_dir=TEST_DIR / "terraform-validate"), quiet=True)
    result = tf.validate()
    assert result["valid"], json.dumps(result["diagnostics"], indent=2)
    assert result["warning_count"] == 0, json.dumps(result["diagnostics"], indent=2)


@pytest.mark.twin
def test_second_plan_is_empty(lake: dict[str, Any], terraform_local: Terraform) -> None:
    assert terraform_local.plan() is False, "a plan right after apply wants changes"


@pytest.mark.twin
def test_glue_tables_match_the_contract(lake: dict[str, Any], twin: Twin) -> None:
    glue = boto3.client("glue", **twin.client_kwargs())
    out = lake["lake"]
    db = out["database_name"]
    assert sorted(out["table_names"]) == sorted(t.name for t in TABLES)
    for table in TABLES:
        got = glue.get_table(DatabaseName=db, Name=table.name)["Table"]
        sd = got["StorageDescriptor"]
        columns = [
            {"name": c["Name"], "type": c["Type"], "comment": c["Comment"]} for c in sd["Columns"]
        ]
        keys = [
            {"name": k["Name"], "type": k["Type"], "comment": k["Comment"]}
            for k in got["PartitionKeys"]
        ]
        assert columns == table.glue_columns(), table.name
        assert keys == table.glue_partition_keys(), table.name
        assert got["TableType"] == "EXTERNAL_TABLE"
        assert sd["Location"] == f"s3://{out['bucket_names']['lake']}/{table.name}/"
        assert sd["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
        # On, as in envs/aws: the twin ignores it, the tests' Trino reads through it.
        assert got["Parameters"]["projection.enabled"] == "true"


@pytest.mark.twin
def test_buckets_are_encrypted_private_and_tls_only(lake: dict[str, Any], twin: Twin) -> None:
    s3 = boto3.client("s3", **twin.client_kwargs())
    names = lake["lake"]["bucket_names"]
    assert set(names) == {"lake", "checkpoints", "query_results", "artifacts"}
    for role, bucket in names.items():
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
        assert rules["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(block.values()) and len(block) == 4, role
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        deny = policy["Statement"][0]
        assert deny["Effect"] == "Deny"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        versioning = s3.get_bucket_versioning(Bucket=bucket).get("Status")
        assert versioning == ("Enabled" if role in ("lake", "artifacts") else None), role

    results = s3.get_bucket_lifecycle_configuration(Bucket=names["query_results"])["Rules"]
    assert results[0]["Expiration"]["Days"] == 7
    lake_rules = {
        r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=names["lake"])["Rules"]
    }
    assert lake_rules["expire-dead-letters"]["Filter"]["Prefix"] == "dead_letters/"
    assert "AbortIncompleteMultipartUpload" in lake_rules["bucket-hygiene"]


@pytest.mark.twin
def test_athena_workgroup_enforces_results_location(lake: dict[str, Any], twin: Twin) -> None:
    athena = boto3.client("athena", **twin.client_kwargs())
    out = lake["lake"]
    wg = athena.get_work_group(WorkGroup=out["athena_workgroup"])["WorkGroup"]
    config = wg["Configuration"]
    assert config["EnforceWorkGroupConfiguration"] is True
    assert config["ResultConfiguration"]["OutputLocation"] == out["query_results_uri"]
    assert out["query_results_uri"].startswith(f"s3://{out['bucket_names']['query_results']}/")
    assert config["ResultConfiguration"]["EncryptionConfiguration"]["EncryptionOption"] == "SSE_S3"


@pytest.mark.twin
def test_athena_reads_a_partition_through_the_glue_table(lake: dict[str, Any], twin: Twin) -> None:
    # Also proves the twin runs real SQL (DuckDB installed beside it), not mock results.
    kw = twin.client_kwargs()
    s3, athena = boto3.client("s3", **kw), boto3.client("athena", **kw)
    out = lake["lake"]
    table = pa.table(
        {
            "window_start": pa.array([0, 0], pa.timestamp("us")),
            "service": ["yellow", "green"],
            "pickup_zone_id": pa.array([132, 138], pa.int32()),
            "trips": pa.array([5, 7], pa.int64()),
        }
    )
    buf = io.BytesIO()
    pq.write_table(table, buf)
    # A day no other test writes: the session's lake bucket is shared with other tests.
    key = "zone_metrics/dt=1999-12-31/hour=23/part-test.parquet"
    s3.put_object(Bucket=out["bucket_names"]["lake"], Key=key, Body=buf.getvalue())

    qid = athena.start_query_execution(
        QueryString="SELECT sum(trips) AS trips, max(dt) AS dt, max(hour) AS hour "
        "FROM zone_metrics WHERE dt = '1999-12-31'",
        QueryExecutionContext={"Database": out["database_name"]},
        WorkGroup=out["athena_workgroup"],
    )["QueryExecutionId"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if status["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        time.sleep(0.2)
    assert status["State"] == "SUCCEEDED", status
    rows = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
    assert [c["VarCharValue"] for c in rows[0]["Data"]] == ["trips", "dt", "hour"]
    assert [c["VarCharValue"] for c in rows[1]["Data"]] == ["12", "1999-12-31", "23"]


@pytest.mark.twin
def test_partition_projection_parameters(
    lake: dict[str, Any], terraform_local: Terraform, tmp_path: Any
) -> None:
    # Planned, not applied: the rendered parameters are what Athena on AWS will read.
    tf = Terraform(
        terraform_local.settings, variables={"enable_partition_projection": "true"}, quiet=True
    )
    plan_file = tmp_path / "projection.tfplan"
    tf.run("plan", "-input=false", f"-out={plan_file}")
    plan = json.loads(tf.run("show", "-json", str(plan_file), capture=True).stdout)
    params = {
        rc["index"]: rc["change"]["after"]["parameters"]
        for rc in plan["resource_changes"]
        if rc["type"] == "aws_glue_catalog_table"
    }
    lake_bucket = lake["lake"]["bucket_names"]["lake"]
    trips = params["trips"]
    assert trips["projection.enabled"] == "true"
    assert (
        trips["storage.location.template"] == f"s3://{lake_bucket}/trips/dt=${{dt}}/hour=${{hour}}/"
    )
    assert trips["projection.dt.type"] == "date"
    assert trips["projection.dt.format"] == "yyyy-MM-dd"
    assert trips["projection.hour.type"] == "integer"
    assert trips["projection.hour.range"] == "0,23"
    assert trips["projection.hour.digits"] == "2"
    dead = params["dead_letters"]
    assert dead["storage.location.template"] == f"s3://{lake_bucket}/dead_letters/dt=${{dt}}/"
    assert not any(k.startswith("projection.hour") for k in dead)
