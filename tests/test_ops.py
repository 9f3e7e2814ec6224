"""make aws-check and make aws-smoke (ops/).

The check runs as the user runs it (``python -m ops check`` in a subprocess) on a copy of the
Terraform tree, without AWS credentials; the cost estimate follows the configuration Terraform
evaluates. The smoke runs against the twin: the API Terraform deployed there, the real stream
job, the real producer CLI and a real dashboard; and against a stack with no stream running.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ops.config import SmokeSettings
from ops.prices import HOURS_PER_MONTH, emr_worker_gb, estimate, p
from ops.report import Report
from ops.smoke import SmokeError
from ops.smoke import run as smoke_run
from ops.tfconfig import load
from tests.conftest import ROOT

GOOD_TFVARS = """\
region      = "us-east-1"
environment = "prod"
name_prefix = "taxi-ops-test"
alarm_emails = ["oncall@example.com"]
dashboard_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
dashboard_domain_name     = "taxi.example.com"
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of terraform/ (roots and modules) with a tfvars and a backend file."""
    dst = tmp_path / "terraform"
    for part in ("envs/aws", "modules"):
        shutil.copytree(
            ROOT / "terraform" / part,
            dst / part,
            ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"),
        )
    (dst / "envs/aws/terraform.tfvars").write_text(GOOD_TFVARS)
    (dst / "envs/aws/backend.hcl").write_text('bucket = "state"\n')
    return dst


def no_aws_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a machine without AWS credentials (and no instance role to ask)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OPS_", "TF_VAR_"))}
    return {
        **env,
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def run_check(
    tree: Path, tmp_path: Path, env: dict[str, str] | None = None
) -> tuple[int, dict[str, list[tuple[str, str]]], str]:
    proc = subprocess.run(
        [sys.executable, "-m", "ops", "check"],
        cwd=ROOT,
        env=env or {**no_aws_env(tmp_path), "OPS_TERRAFORM_DIR": str(tree)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    by_name: dict[str, list[tuple[str, str]]] = {}
    for line in proc.stdout.splitlines():
        status, _, rest = line.partition("  ")
        if status in ("PASS", "WARN", "FAIL", "SKIP"):
            name, _, reason = rest.partition(": ")
            by_name.setdefault(name.split(" (")[0], []).append((status, reason))
    return proc.returncode, by_name, proc.stdout + proc.stderr


def statuses(by_name: dict[str, list[tuple[str, str]]], name: str) -> set[str]:
    return {s for s, _ in by_name.get(name, [])}


# ---- aws-check ------------------------------------------------------------------------------


def test_check_runs_without_credentials(tree: Path, tmp_path: Path) -> None:
    rc, by_name, out = run_check(tree, tmp_path)
    assert rc == 0, out
    assert not any("FAIL" in statuses(by_name, n) for n in by_name), out
    for tool in ("terraform", "docker", "jq", "mvn", "java"):
        assert statuses(by_name, f"tool {tool}") == {"PASS"}, out
    assert statuses(by_name, "tool aws") <= {"PASS", "WARN"}, out  # v1 here: a WARN
    assert statuses(by_name, "names") == {"PASS"}, out
    assert statuses(by_name, "dashboard login") == {"PASS"}, out
    for aws_part in ("credentials", "zones", "quotas"):
        assert statuses(by_name, aws_part) == {"SKIP"}, out
    assert "no AWS credentials" in by_name["credentials"][0][1]
    assert "stream + producer running" in out and "USD/month" in out


def test_too_long_prefix_fails(tree: Path, tmp_path: Path) -> None:
    tfvars = tree / "envs/aws/terraform.tfvars"
    tfvars.write_text(GOOD_TFVARS.replace('"taxi-ops-test"', '"' + "a" * 40 + '"'))
    rc, by_name, out = run_check(tree, tmp_path)
    assert rc == 1, out
    assert statuses(by_name, "names") == {"FAIL"}, out
    assert "query-results" in by_name["names"][0][1] or "fails" in by_name["names"][0][1]


def test_missing_dashboard_choice_fails_and_opt_in_warns(tree: Path, tmp_path: Path) -> None:
    tfvars = tree / "envs/aws/terraform.tfvars"
    without = "\n".join(ln for ln in GOOD_TFVARS.splitlines() if "dashboard" not in ln)
    tfvars.write_text(without + "\n")
    rc, by_name, out = run_check(tree, tmp_path)
    assert rc == 1 and statuses(by_name, "dashboard login") == {"FAIL"}, out
    # Terraform's own rule refuses it too, and the other checks and the estimate still run.
    assert "FAIL" in statuses(by_name, "terraform variables"), out
    assert "Traceback" not in out and "USD/month" in out, out

    tfvars.write_text(without + "\ndashboard_public_without_login = true\n")
    rc, by_name, out = run_check(tree, tmp_path)
    assert rc == 0 and statuses(by_name, "dashboard login") == {"WARN"}, out


@pytest.mark.twin
def test_check_aws_calls_against_the_twin(tree: Path, tmp_path: Path, twin: Any) -> None:
    """The account, zone and quota checks call a real endpoint: the twin lists us-east-1a..c
    as use1-az1..3, and use1-az3 is a zone EMR Serverless does not run in."""
    env = {
        **no_aws_env(tmp_path),
        "OPS_TERRAFORM_DIR": str(tree),
        "AWS_ENDPOINT_URL": twin.endpoint_url,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }

    def check() -> tuple[int, dict[str, list[tuple[str, str]]], str]:
        return run_check(tree, tmp_path, env)

    rc, by_name, out = check()
    assert rc == 0, out
    assert statuses(by_name, "credentials") == {"PASS"} and "000000000000" in out, out
    (zones,) = by_name["zones"]
    assert zones[0] == "PASS" and "excluded use1-az3" in zones[1], out
    assert "subnets in use1-az1, use1-az2" in zones[1], out
    # The twin has no Service Quotas API: said, not failed.
    assert statuses(by_name, "quota VPCs") == {"WARN"}, out

    tfvars = tree / "envs/aws/terraform.tfvars"
    tfvars.write_text(GOOD_TFVARS + "az_count = 3\n")
    rc, by_name, out = check()
    assert rc == 1 and by_name["zones"][0][0] == "FAIL", out
    assert "2 usable" in by_name["zones"][0][1] and "az_count 3" in by_name["zones"][0][1], out


# ---- the cost estimate ----------------------------------------------------------------------


def stream_line_hourly(tree: Path) -> float:
    cfg = load(tree, tree / "envs/aws/terraform.tfvars")
    (line,) = [x for x in estimate(cfg, tree).lines if x.item == "EMR Serverless"]
    return line.hourly


def test_cost_lines_follow_the_configuration(tree: Path) -> None:
    cfg = load(tree, tree / "envs/aws/terraform.tfvars")
    est = estimate(cfg, tree)
    drv, exe = cfg.module("stream", "driver"), cfg.module("stream", "executor")
    assert (drv["cores"], exe["cores"], exe["instances"]) == (1, 2, 1)  # the module defaults
    by_item = {(x.item, x.detail.split(" ")[0]): x for x in est.lines}
    emr = next(x for x in est.lines if x.item == "EMR Serverless")
    assert emr.hourly == pytest.approx(
        3 * p("emr_serverless_vcpu_hour") + (5 + 5) * p("emr_serverless_gb_hour")
    )
    assert by_item[("MSK Serverless", "cluster")].hourly == p("msk_serverless_cluster_hour")
    assert by_item[("NAT gateway", "1")].hourly == p("nat_hour")  # single_nat_gateway default
    full = ("deployed", "stream running", "producer running")
    assert est.hourly(*full) == pytest.approx(sum(x.hourly for x in est.lines))
    assert est.monthly(*full) == pytest.approx(
        sum(x.hourly for x in est.lines) * HOURS_PER_MONTH + sum(x.monthly_fixed for x in est.lines)
    )
    assert emr_worker_gb("4g") == 5 and emr_worker_gb("8g") == 9 and emr_worker_gb("1024m") == 2


def test_tfvars_change_the_estimate(tree: Path) -> None:
    tfvars = tree / "envs/aws/terraform.tfvars"
    base = estimate(load(tree, tfvars), tree)
    tfvars.write_text(
        GOOD_TFVARS + 'msk_mode = "provisioned"\naz_count = 3\nsingle_nat_gateway = false\n'
    )
    est = estimate(load(tree, tfvars), tree)
    items = {x.item: x for x in est.lines}
    assert "MSK Serverless" not in items and "MSK Serverless" in {x.item for x in base.lines}
    assert items["MSK provisioned"].hourly == pytest.approx(2 * p("kafka.t3.small"))
    assert items["NAT gateway"].hourly == pytest.approx(3 * p("nat_hour"))


def test_executor_size_changes_the_estimate(tree: Path) -> None:
    before = stream_line_hourly(tree)
    # The module default...
    stream_vars = tree / "modules/stream/variables.tf"
    text = stream_vars.read_text()
    old = 'default = { cores = 2, memory = "4g", instances = 1 }'
    assert old in text
    new = 'default = { cores = 4, memory = "8g", instances = 1 }'
    stream_vars.write_text(text.replace(old, new))
    after_default = stream_line_hourly(tree)
    assert after_default - before == pytest.approx(
        2 * p("emr_serverless_vcpu_hour") + (9 - 5) * p("emr_serverless_gb_hour")
    )
    # ...and a root variable wired into the module call, set in the tfvars.
    root = tree / "envs/aws"
    (root / "variables.tf").write_text(
        (root / "variables.tf").read_text()
        + '\nvariable "stream_executor" {\n  type = any\n  default = null\n}\n'
    )
    main = (root / "main.tf").read_text()
    call = 'module "stream" {\n  source = "../../modules/stream"\n'
    assert call in main
    (root / "main.tf").write_text(main.replace(call, call + "  executor = var.stream_executor\n"))
    (root / "terraform.tfvars").write_text(
        GOOD_TFVARS + 'stream_executor = { cores = 2, memory = "4g", instances = 3 }\n'
    )
    tripled = stream_line_hourly(tree)
    assert tripled - before == pytest.approx(
        4 * p("emr_serverless_vcpu_hour") + 10 * p("emr_serverless_gb_hour")
    )


def test_smoke_runs_the_producer_task_terraform_describes() -> None:
    """send_ecs builds its RunTask request from the module's run_producer_command output (the
    string modules/producer/outputs.tf renders) and reads the task's exit code. botocore's
    Stubber checks each request against the ECS API model."""
    import boto3
    from botocore.stub import Stubber

    from ops.smoke import Target, producer_args, send_ecs

    network = {
        "awsvpcConfiguration": {
            "subnets": ["subnet-1", "subnet-2"],
            "securityGroups": ["sg-1"],
            "assignPublicIp": "DISABLED",
        }
    }
    cluster = "arn:aws:ecs:us-east-1:123456789012:cluster/taxi"
    taskdef = "arn:aws:ecs:us-east-1:123456789012:task-definition/taxi-producer:3"
    command = (
        f"aws ecs run-task --cluster {cluster} --launch-type FARGATE --task-definition {taskdef} "
        f"--network-configuration '{json.dumps(network)}'"
    )
    target = Target("https://api", None, None, {"ecs": {"run_producer_command": command}})
    s = SmokeSettings(trips=7, timeout_s=30)
    args = producer_args(s, date(2022, 3, 4), seed=5)
    assert args[:2] == ["synthetic", "--count"] and "2022-03-04T11:00:00+00:00" in args

    ecs = boto3.client("ecs", region_name="us-east-1", aws_access_key_id="x",
                       aws_secret_access_key="x")  # fmt: skip
    arn = "arn:aws:ecs:us-east-1:123456789012:task/taxi/abc"
    stopped = {"tasks": [{"taskArn": arn, "lastStatus": "STOPPED",
                          "containers": [{"name": "producer", "exitCode": 0}]}]}  # fmt: skip
    with Stubber(ecs) as stub:
        stub.add_response(
            "run_task",
            {"tasks": [{"taskArn": arn}], "failures": []},
            {
                "cluster": cluster,
                "taskDefinition": taskdef,
                "launchType": "FARGATE",
                "networkConfiguration": network,
                "overrides": {
                    "containerOverrides": [
                        {"name": "producer", "command": ["python", "-m", "producer", *args]}
                    ]
                },
            },
        )
        stub.add_response("describe_tasks", stopped, {"cluster": cluster, "tasks": [arn]})
        stub.add_response("describe_tasks", stopped, {"cluster": cluster, "tasks": [arn]})
        assert send_ecs(s, target, args, ecs) == "ECS task abc"
        stub.assert_no_pending_responses()

    failed = {"tasks": [{"taskArn": arn, "lastStatus": "STOPPED", "stoppedReason": "boom",
                         "containers": [{"name": "producer", "exitCode": 1}]}]}  # fmt: skip
    with Stubber(ecs) as stub:
        stub.add_response("run_task", {"tasks": [{"taskArn": arn}], "failures": []})
        stub.add_response("describe_tasks", failed)
        stub.add_response("describe_tasks", failed)
        with pytest.raises(SmokeError, match="exited 1 \\(boom\\)"):
            send_ecs(s, target, args, ecs)


def test_smoke_signs_in_as_the_dashboard_task_does() -> None:
    """The token settings come from the running dashboard service's task definition and its
    secret (envs/aws cognito.tf puts them there); each request checked by Stubber."""
    import boto3
    from botocore.stub import Stubber

    from ops.smoke import Target, oauth_from_dashboard_task

    keys = {"region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "x"}
    ecs, sm = boto3.client("ecs", **keys), boto3.client("secretsmanager", **keys)
    taskdef = "arn:aws:ecs:us-east-1:123456789012:task-definition/taxi-dashboard:7"
    secret_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:taxi/dashboard-oauth-x"
    env = {
        "DASH_API_URL": "https://api",
        "DASH_OAUTH_TOKEN_URL": "https://taxi.auth.us-east-1.amazoncognito.com/oauth2/token",
        "DASH_OAUTH_CLIENT_ID": "client123",
        "DASH_OAUTH_SCOPE": "nyc-taxi-api/read",
    }
    target = Target(
        "https://api", None, True, {"ecs": {"cluster": "taxi", "dashboard_service": "dash"}}
    )
    with Stubber(ecs) as e, Stubber(sm) as m:
        e.add_response(
            "describe_services",
            {"services": [{"serviceName": "dash", "taskDefinition": taskdef}]},
            {"cluster": "taxi", "services": ["dash"]},
        )
        e.add_response(
            "describe_task_definition",
            {
                "taskDefinition": {
                    "containerDefinitions": [
                        {
                            "name": "dashboard",
                            "environment": [{"name": k, "value": v} for k, v in env.items()],
                            "secrets": [
                                {"name": "DASH_OAUTH_CLIENT_SECRET", "valueFrom": secret_arn}
                            ],
                        }
                    ]
                }
            },
            {"taskDefinition": taskdef},
        )
        m.add_response("get_secret_value", {"SecretString": "s3cr3t"}, {"SecretId": secret_arn})
        assert oauth_from_dashboard_task(target, ecs, sm) == (
            env["DASH_OAUTH_TOKEN_URL"],
            "client123",
            "s3cr3t",
            "nyc-taxi-api/read",
        )


# ---- aws-smoke against the twin -------------------------------------------------------------


def smoke(**kw: Any) -> tuple[Report, str, float]:
    out = io.StringIO()
    report = Report(out)
    started = time.monotonic()
    smoke_run(SmokeSettings(**kw), report)
    elapsed = time.monotonic() - started
    print(out.getvalue())
    return report, out.getvalue(), elapsed


@pytest.mark.kafka
@pytest.mark.twin
def test_smoke_fails_clearly_when_no_stream_runs(kafka_broker: Any, lake: dict[str, Any]) -> None:
    from tests.fixtures.kafka import fresh_topic

    assert lake["api_url"], "envs/local did not deploy the api module"
    topic = fresh_topic(kafka_broker)  # nobody reads it
    report, out, elapsed = smoke(
        producer="local",
        bootstrap=kafka_broker.bootstrap,
        topic=topic,
        api_url=lake["api_url"],
        dashboard_url="",
        trips=20,
        timeout_s=45,
        poll_s=5,
        seed=1,
    )
    assert report.failed
    assert report.by_name("api").status == "PASS", out
    assert report.by_name("send").status == "PASS", out
    wait = report.by_name("trips in the API")
    assert wait.status == "FAIL", out
    assert "counts 0 of 20" in wait.reason and "Is the stream running" in wait.reason, out
    assert report.by_name("dashboard").status == "SKIP"  # not configured: never a PASS
    assert elapsed < 45 + 120, f"the smoke took {elapsed:.0f} s with a 45 s timeout"


@pytest.mark.kafka
@pytest.mark.twin
@pytest.mark.spark
def test_smoke_passes_against_the_twin(kafka_broker: Any, twin: Any, lake: dict[str, Any]) -> None:
    from tests.dash_support import run_dashboard
    from tests.stream_support import new_stream

    stream = new_stream(kafka_broker, twin, lake)
    bucket = lake["lake"]["bucket_names"]["lake"]
    # The API's Glue tables read the lake bucket's root: the stream writes there, as in AWS.
    job = stream.start(
        available_now=False,
        STREAM_LAKE_URI=f"s3a://{bucket}",
        STREAM_CHECKPOINT_URI=f"{stream.checkpoints_uri}smoke/{stream.topic}",
    )
    try:
        with run_dashboard(lake["api_url"], stream.work / "dashboard.log") as dash_url:
            report, out, _ = smoke(
                producer="local",
                bootstrap=kafka_broker.bootstrap,
                topic=stream.topic,
                api_url=lake["api_url"],
                dashboard_url=dash_url,
                dashboard_login=False,
                trips=50,
                timeout_s=600,
                poll_s=5,
            )
        assert job.poll() is None, stream.log_tail()
    finally:
        os.killpg(job.pid, signal.SIGTERM)
        try:
            job.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(job.pid, signal.SIGKILL)
    assert not report.failed, out + stream.log_tail()
    for name in ("api", "send", "trips in the API", "dashboard"):
        assert report.by_name(name).status == "PASS", out
    assert "counts all 50 trips" in report.by_name("trips in the API").reason
