"""IAM covers what the code calls: every AWS call each component makes, allowed by its AWS role.

Each component runs its real AWS path against the twin through a recording proxy
(tests/fixtures/aws_recorder.py), signed with its own access key id: the API on Athena (Lambda
settings from the plan), the stream job (a real Spark run, lake and checkpoint URIs from the
plan's job request), the compaction (``python -m spark.compact`` with the plan's arguments), the
freshness probe's handler. Each recorded (action, resource) must be allowed by that component's
role in the plan of envs/aws (mocked provider), and so must what the services do on the role's
behalf (IMPLICIT below). A new boto3 call without its permission is recorded, so it fails here.

Not run here, covered by IMPLICIT only: the producer and topic tool (MSK IAM, no AWS API call:
the signer presigns locally), the dashboard (no AWS SDK use; ECS injects its secret) and EMRFS
(the stream on EMR writes checkpoints with EMRFS, here with S3A: both need Get/Put/Delete/List
on the same prefixes).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from lambda_api.app import create_app
from lambda_api.config import ApiSettings
from localstack.twin import Twin
from tests.api_lake import write_lake
from tests.conftest import ROOT
from tests.fixtures.aws_recorder import Call, RecordingProxy, recording
from tests.fixtures.kafka import fresh_topic
from tests.fixtures.twin import lake_target
from tests.iam_policy import Plan, Policy, evaluate
from tests.stream_support import E2E_DIR, Stream, send_feed
from tests.test_terraform_aws import PROBE, load

pytestmark = pytest.mark.twin

# Each component's access key id -> its role in the plan of envs/aws.
ROLES = {
    "api": "module.api.aws_iam_role.this",
    "stream": "module.stream.aws_iam_role.job",
    "compact": "module.maintenance.aws_iam_role.job",
    "probe": "module.observability.aws_iam_role.probe",
    "producer": "module.producer.aws_iam_role.producer",
    "topics": "module.producer.aws_iam_role.topics",
    "dashboard-exec": "module.dashboard.aws_iam_role.execution",
    "producer-exec": "module.producer.aws_iam_role.execution",
    "compact-scheduler": "module.maintenance.aws_iam_role.scheduler",
    "probe-scheduler": "module.observability.aws_iam_role.scheduler",
}
DAY = "2025-01-15"  # the day of tests/api_lake.py and of the stream feed


# ---- the plan and the names ------------------------------------------------------------------


@pytest.fixture(scope="module")
def plan(tftest: dict[str, Any]) -> Plan:
    """The final state of envs/aws/tests/plan.tftest.hcl's default run (mocked provider)."""
    states = tftest["states"]
    assert "defaults_plan_without_an_account" in states, "\n".join(tftest["errors"])
    return Plan(states["defaults_plan_without_an_account"])


@dataclass
class Names:
    """Twin resource names <-> the plan's, and the accounts, to compare ARNs."""

    twin_to_plan: dict[str, str]
    twin_account: str
    plan_account: str
    # The stream and the compaction write a bucket of their own on the twin (it stands for the
    # plan's lake bucket too), so the session lake other test files compare to stays as written.
    own_lake: tuple[str, str] = ("", "")

    def to_plan(self, arn: str) -> str:
        if arn == "*":
            return arn
        parts = arn.split(":", 5)
        if parts[2] == "s3":
            bucket, _, key = parts[5].partition("/")
            return f"arn:aws:s3:::{self.twin_to_plan.get(bucket, bucket)}" + (
                f"/{key}" if key else ""
            )
        if parts[4] == self.twin_account:
            parts[4] = self.plan_account
        parts[5] = "/".join(self.twin_to_plan.get(p, p) for p in parts[5].split("/"))
        return ":".join(parts)

    def to_twin(self, value: str) -> str:
        for twin, planned in self.twin_to_plan.items():
            value = value.replace(planned, twin)
        return value

    def to_own_lake(self, value: str) -> str:
        session, own = self.own_lake
        value = self.to_twin(value)
        return own if value == session else value.replace(f"s3://{session}", f"s3://{own}")


@pytest.fixture(scope="module")
def names(plan: Plan, lake: dict[str, Any], twin: Twin) -> Names:
    local = lake["lake"]
    mapping = {local["bucket_names"][k]: v for k, v in plan.output("bucket_names").items()}
    mapping[local["database_name"]] = plan.output("athena")["database"]
    mapping[local["athena_workgroup"]] = plan.output("athena")["workgroup"]
    own = f"{local['bucket_names']['lake']}-iam"
    boto3.client("s3", **twin.client_kwargs()).create_bucket(Bucket=own)  # setup: not recorded
    mapping[own] = plan.output("bucket_names")["lake"]
    account = plan.value("module.api.data.aws_caller_identity.current")["account_id"]
    return Names(mapping, "000000000000", account, (local["bucket_names"]["lake"], own))


# ---- running each component through the proxy -----------------------------------------------


def component_env(proxy: RecordingProxy, key: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": proxy.endpoint_url,
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }


def run_api(proxy: RecordingProxy, plan: Plan, names: Names) -> None:
    """The API on Athena with the Lambda's settings from the plan (twin names)."""
    env = plan.value("module.api.aws_lambda_function.this")["environment"][0]["variables"]
    settings = ApiSettings(
        engine=env["API_ENGINE"],
        lake_uri=names.to_twin(env["API_LAKE_URI"]),
        athena_database=names.to_twin(env["API_ATHENA_DATABASE"]),
        athena_workgroup=names.to_twin(env["API_ATHENA_WORKGROUP"]),
        aws_endpoint_url=proxy.endpoint_url,
        aws_access_key_id="api",
        aws_secret_access_key=SecretStr("test"),
        cache_ttl_s=0,
    )
    span = {"start": f"{DAY}T05:00:00Z", "end": f"{DAY}T08:00:00Z"}
    with TestClient(create_app(settings)) as client:
        for path, params in (
            ("/v1/status", {}),
            ("/v1/summary", span),
            ("/v1/trips", {**span, "limit": 5}),
            ("/v1/timeseries", {**span, "interval": "1h"}),
            ("/v1/quality/dead-letters", span),
        ):
            r = client.get(path, params=params)
            assert r.status_code == 200, (path, r.text)


def run_stream(
    proxy: RecordingProxy, plan: Plan, names: Names, kafka_broker: Any, twin: Twin
) -> None:
    """A short real Spark run with the plan's lake and checkpoint URIs (s3a:// here: no EMRFS)."""
    props = plan.output("stream_job")["request"]["configurationOverrides"]
    props = props["applicationConfiguration"][0]["properties"]
    driver_env = {
        k.removeprefix("spark.emr-serverless.driverEnv."): v
        for k, v in props.items()
        if k.startswith("spark.emr-serverless.driverEnv.")
    }
    env = {
        k: names.to_own_lake(driver_env[k]).replace("s3://", "s3a://")
        for k in ("STREAM_LAKE_URI", "STREAM_CHECKPOINT_URI", "STREAM_ABORTABLE_CHECKPOINTS")
    }
    topic = fresh_topic(kafka_broker, partitions=2)
    feed = send_feed(kafka_broker.bootstrap, topic, n_good=200, n_dupes=3, seed=13)
    assert feed.sent > 200
    stream = Stream(
        topic=topic,
        bootstrap=kafka_broker.bootstrap,
        lake_bucket="unused",
        checkpoints_uri="unused",
        twin_env=component_env(proxy, "stream"),
        work=E2E_DIR / f"iam-{topic}",
    )
    stream.run(**env)


def run_compaction(proxy: RecordingProxy, plan: Plan, names: Names) -> None:
    """``python -m spark.compact`` with the schedule's arguments (the day fixed, not days-ago)."""
    target = plan.value("module.maintenance.aws_scheduler_schedule.compact")["target"][0]
    args = json.loads(target["input"])["JobDriver"]["SparkSubmit"]["EntryPointArguments"]
    lake_uri = names.to_own_lake(args[args.index("--lake-uri") + 1])
    env = {**os.environ, **component_env(proxy, "compact")}
    env = {k: v for k, v in env.items() if not k.startswith("STREAM_")}
    out = subprocess.run(
        [sys.executable, "-m", "spark.compact", "--lake-uri", lake_uri, "--date", DAY],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "files merged" in out.stdout and " 0 files merged" not in out.stdout, out.stdout


def run_probe(proxy: RecordingProxy, plan: Plan, names: Names) -> None:
    """The probe Lambda's handler with its environment from the plan."""
    env = plan.value("module.observability.aws_lambda_function.probe")["environment"][0]
    with pytest.MonkeyPatch.context() as mp:
        for k, v in {**env["variables"], **component_env(proxy, "probe")}.items():
            mp.setenv(k, names.to_own_lake(v))  # the progress the stream run wrote
        values = load(PROBE, "probe_iam").handler({}, None)
    assert "FreshnessSeconds" in values


@pytest.fixture(scope="module")
def recorded(
    plan: Plan, names: Names, lake: dict[str, Any], twin: Twin, kafka_broker: Any
) -> Iterator[list[Call]]:
    # The API's data, written as the stream writes it (setup: not recorded); the same in the
    # stream's own bucket, so the compaction has files to merge there.
    write_lake(lake_target(twin, lake))
    write_lake(dataclasses.replace(lake_target(twin, lake), uri=f"s3://{names.own_lake[1]}"))
    with recording(twin.endpoint_url) as proxy:
        run_api(proxy, plan, names)
        run_stream(proxy, plan, names, kafka_broker, twin)
        run_compaction(proxy, plan, names)
        run_probe(proxy, plan, names)
        yield list(proxy.calls)


# ---- what services do on a role's behalf -----------------------------------------------------


@dataclass(frozen=True)
class Need:
    principal: str
    action: str
    resource: str
    context: tuple[tuple[str, str], ...]
    why: str


Rule = Callable[[Plan, list[Call]], list[Need]]


def _log_group_arn(plan: Plan, name: str) -> str:
    """The ARN of the log group of that name in the plan (mocked, but the one policies use)."""
    for r in plan._res.values():
        if r["type"] == "aws_cloudwatch_log_group" and r["values"]["name"] == name:
            return str(r["values"]["arn"])
    return f"arn:aws:logs:us-east-1:123456789012:log-group:{name}"  # none: no policy names it


def lambda_needs(plan: Plan, who: str, address: str) -> list[Need]:
    f = plan.value(address)
    out = []
    # https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html#monitoring-cloudwatchlogs-prereqs
    group = (f.get("logging_config") or [{}])[0].get("log_group") or (
        f"/aws/lambda/{f['function_name']}"
    )
    stream = f"{_log_group_arn(plan, group)}:log-stream:2026/01/01/[$LATEST]0123"
    why = "Lambda writes the function's logs with its role"
    out += [Need(who, a, stream, (), why) for a in ("logs:CreateLogStream", "logs:PutLogEvents")]
    # https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html#services-xray-permissions
    if any(t.get("mode") == "Active" for t in f.get("tracing_config") or []):
        why = "active tracing: Lambda sends segments with the role (create fails without)"
        out += [
            Need(who, a, "*", (), why)
            for a in ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
        ]
    # https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions
    if any(v.get("subnet_ids") for v in f.get("vpc_config") or []):
        why = "a VPC function: Lambda manages its ENIs with the role"
        for a in (
            "CreateNetworkInterface",
            "DescribeNetworkInterfaces",
            "DeleteNetworkInterface",
            "AssignPrivateIpAddresses",
            "UnassignPrivateIpAddresses",
        ):
            out.append(Need(who, f"ec2:{a}", "*", (), why))
    return out


def rule_lambdas(plan: Plan, calls: list[Call]) -> list[Need]:
    return lambda_needs(plan, "api", "module.api.aws_lambda_function.this") + lambda_needs(
        plan, "probe", "module.observability.aws_lambda_function.probe"
    )


def rule_athena(plan: Plan, calls: list[Call]) -> list[Need]:
    """Athena runs a query with the caller's permissions on Glue and S3.
    https://docs.aws.amazon.com/athena/latest/ug/fine-grained-access-to-glue-resources.html
    https://docs.aws.amazon.com/athena/latest/ug/s3-permissions.html"""
    starters = {c.principal for c in calls if c.operation == "StartQueryExecution"}
    out: list[Need] = []
    account = plan.value("module.api.data.aws_caller_identity.current")["account_id"]
    glue = f"arn:aws:glue:us-east-1:{account}"
    wg = plan.value("module.lake.aws_athena_workgroup.this")["configuration"][0]
    results = wg["result_configuration"][0]["output_location"].removeprefix("s3://")
    rbucket = results.split("/", 1)[0]
    tables = [r["values"] for r in plan._res.values() if r["type"] == "aws_glue_catalog_table"]
    for who in sorted(starters):
        for t in tables:
            why = "Athena reads the table definitions with the caller's role"
            for res in (
                f"{glue}:catalog",
                f"{glue}:database/{t['database_name']}",
                f"{glue}:table/{t['database_name']}/{t['name']}",
            ):
                out += [
                    Need(who, f"glue:{a}", res, (), why)
                    for a in ("GetTable", "GetDatabase", "GetPartitions")
                ]
            loc = t["storage_descriptor"][0]["location"].removeprefix("s3://").rstrip("/")
            bucket = loc.split("/", 1)[0]
            why = "Athena reads the table's objects with the caller's role"
            out.append(Need(who, "s3:ListBucket", f"arn:aws:s3:::{bucket}", (), why))
            out.append(Need(who, "s3:GetBucketLocation", f"arn:aws:s3:::{bucket}", (), why))
            out.append(
                Need(who, "s3:GetObject", f"arn:aws:s3:::{loc}/dt=2025-01-15/x.parquet", (), why)
            )
        why = "Athena writes and reads the results location with the caller's role"
        for a in ("PutObject", "GetObject", "AbortMultipartUpload", "ListMultipartUploadParts"):
            out.append(Need(who, f"s3:{a}", f"arn:aws:s3:::{results}q.csv", (), why))
        for a in ("ListBucket", "GetBucketLocation"):
            out.append(Need(who, f"s3:{a}", f"arn:aws:s3:::{rbucket}", (), why))
    return out


def _artifacts(props: dict[str, str], entry: str) -> list[str]:
    uris = [entry, props.get("spark.submit.pyFiles", ""), props.get("spark.archives", "")]
    uris += props.get("spark.jars", "").split(",")
    return [u.split("#")[0].removeprefix("s3://") for u in uris if u]


def _emr_needs(
    who: str, props: dict[str, str], entry: str, logs: dict[str, Any], plan: Plan
) -> list[Need]:
    # https://docs.aws.amazon.com/emr/latest/EMR-Serverless-UserGuide/security-iam-runtime-role.html
    why = "EMR Serverless fetches the job's code, archives and jars with the job role"
    out = [
        Need(who, "s3:GetObject", f"arn:aws:s3:::{k}", (), why) for k in _artifacts(props, entry)
    ]
    # https://docs.aws.amazon.com/emr/latest/EMR-Serverless-UserGuide/logging.html#jobs-log-storage-cw-permissions
    if logs.get("enabled"):
        group = _log_group_arn(plan, logs["logGroupName"])
        why = "EMR Serverless ships driver/executor logs to CloudWatch with the job role"
        out.append(
            Need(
                who,
                "logs:DescribeLogGroups",
                "arn:aws:logs:us-east-1:123456789012:log-group:*",
                (),
                why,
            )
        )
        for a in ("CreateLogStream", "DescribeLogStreams", "PutLogEvents"):
            out.append(
                Need(
                    who,
                    f"logs:{a}",
                    f"{group}:log-stream:{logs.get('logStreamNamePrefix')}/x",
                    (),
                    why,
                )
            )
    return out


def _kafka_arns(plan: Plan) -> tuple[str, str, str]:
    cluster = plan.value("module.streaming.aws_msk_serverless_cluster.this[0]")
    arn = cluster["arn"]
    base, name_uuid = arn.split(":cluster/")
    topic = plan.output("stream_job")["request"]["configurationOverrides"]
    topic = topic["applicationConfiguration"][0]["properties"][
        "spark.emr-serverless.driverEnv.STREAM_TOPIC"
    ]
    return arn, f"{base}:topic/{name_uuid}/{topic}", f"{base}:group/{name_uuid}"


def rule_emr_jobs(plan: Plan, calls: list[Call]) -> list[Need]:
    req = plan.output("stream_job")["request"]
    props = req["configurationOverrides"]["applicationConfiguration"][0]["properties"]
    logs = req["configurationOverrides"]["monitoringConfiguration"][
        "cloudWatchLoggingConfiguration"
    ]
    out = _emr_needs("stream", props, req["jobDriver"]["sparkSubmit"]["entryPoint"], logs, plan)
    c = json.loads(
        plan.value("module.maintenance.aws_scheduler_schedule.compact")["target"][0]["input"]
    )
    cprops = c["ConfigurationOverrides"]["ApplicationConfiguration"][0]["Properties"]
    clogs = c["ConfigurationOverrides"]["MonitoringConfiguration"]["CloudWatchLoggingConfiguration"]
    clogs = {k[0].lower() + k[1:]: v for k, v in clogs.items()}
    out += _emr_needs("compact", cprops, c["JobDriver"]["SparkSubmit"]["EntryPoint"], clogs, plan)
    return out


def rule_kafka(plan: Plan, calls: list[Call]) -> list[Need]:
    """MSK IAM access control: the Kafka protocol requests each client makes, as IAM actions.
    https://docs.aws.amazon.com/msk/latest/developerguide/kafka-actions.html"""
    cluster, topic, groups = _kafka_arns(plan)
    group = f"{groups}/spark-kafka-source-0123-driver-0"  # Spark's source: its own group ids
    why = "MSK IAM authorizes each Kafka request of the client with its role"
    out = [
        Need(w, "kafka-cluster:Connect", cluster, (), why) for w in ("stream", "producer", "topics")
    ]
    out += [
        Need("stream", f"kafka-cluster:{a}", topic, (), why) for a in ("DescribeTopic", "ReadData")
    ]
    out += [
        Need("stream", f"kafka-cluster:{a}", group, (), why)
        for a in ("DescribeGroup", "AlterGroup")
    ]
    # The producer is idempotent (enable.idempotence): WriteDataIdempotently on the cluster.
    out.append(Need("producer", "kafka-cluster:WriteDataIdempotently", cluster, (), why))
    out += [
        Need("producer", f"kafka-cluster:{a}", topic, (), why)
        for a in ("DescribeTopic", "WriteData")
    ]
    # producer.topics: CreateTopics, then a metadata request for the leaders.
    out += [
        Need("topics", f"kafka-cluster:{a}", topic, (), why)
        for a in ("CreateTopic", "DescribeTopic")
    ]
    return out


def rule_ecs_execution(plan: Plan, calls: list[Call]) -> list[Need]:
    """What ECS does with a task's execution role: pull the image, create the log stream, read
    the secrets the container definitions reference.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html"""
    tasks = {
        "dashboard-exec": ["module.dashboard.aws_ecs_task_definition.this"],
        "producer-exec": [
            "module.producer.aws_ecs_task_definition.producer",
            "module.producer.aws_ecs_task_definition.topics",
        ],
    }
    out: list[Need] = []
    for who, addresses in tasks.items():
        for address in addresses:
            for c in json.loads(plan.value(address)["container_definitions"]):
                host, _, repo = c["image"].partition("/")
                account, region = host.split(".")[0], host.split(".")[3]
                repo_arn = f"arn:aws:ecr:{region}:{account}:repository/{repo.split(':')[0]}"
                why = f"{address}: ECS pulls {c['image']}"
                out.append(Need(who, "ecr:GetAuthorizationToken", "*", (), why))
                for a in ("BatchGetImage", "GetDownloadUrlForLayer", "BatchCheckLayerAvailability"):
                    out.append(Need(who, f"ecr:{a}", repo_arn, (), why))
                opts = c.get("logConfiguration", {}).get("options", {})
                if "awslogs-group" in opts:
                    group = _log_group_arn(plan, opts["awslogs-group"])
                    why = f"{address}: the awslogs driver writes with the execution role"
                    for a in ("CreateLogStream", "PutLogEvents"):
                        out.append(Need(who, f"logs:{a}", f"{group}:log-stream:x/y/z", (), why))
                for s in c.get("secrets", []):
                    why = f"{address}: ECS reads secret {s['name']} for the container"
                    out.append(Need(who, "secretsmanager:GetSecretValue", s["valueFrom"], (), why))
    return out


def rule_schedulers(plan: Plan, calls: list[Call]) -> list[Need]:
    """EventBridge Scheduler calls its target with the schedule's role.
    https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role
    https://docs.aws.amazon.com/emr/latest/EMR-Serverless-UserGuide/jobs-spark.html (PassRole)"""
    out: list[Need] = []
    c = plan.value("module.maintenance.aws_scheduler_schedule.compact")["target"][0]
    req = json.loads(c["input"])
    app = plan.value("module.maintenance.aws_emrserverless_application.this")["arn"]
    why = "the compaction schedule starts a job run and passes the job role"
    out.append(Need("compact-scheduler", "emr-serverless:StartJobRun", app, (), why))
    out.append(
        Need(
            "compact-scheduler",
            "iam:PassRole",
            req["ExecutionRoleArn"],
            (("iam:PassedToService", "emr-serverless.amazonaws.com"),),
            why,
        )
    )
    p = plan.value("module.observability.aws_scheduler_schedule.probe")["target"][0]
    why = "the probe schedule invokes the probe function"
    out.append(Need("probe-scheduler", "lambda:InvokeFunction", p["arn"], (), why))
    return out


IMPLICIT: list[Rule] = [
    rule_lambdas,
    rule_athena,
    rule_emr_jobs,
    rule_kafka,
    rule_ecs_execution,
    rule_schedulers,
]


# ---- the check -------------------------------------------------------------------------------


def denials(
    plan: Plan, names: Names, calls: list[Call], roles: dict[str, list[Policy]] | None = None
) -> list[str]:
    """'component action resource: reason' for each recorded need the component's role denies."""
    roles = roles or {who: plan.policies(addr) for who, addr in ROLES.items()}
    out = []
    for c in calls:
        assert c.principal in roles, f"a call signed by an unknown component: {c}"
        for action, resource in c.needs:
            arn = names.to_plan(resource)
            d = evaluate(roles[c.principal], action, arn, dict(c.context))
            if not d.allowed:
                out.append(f"{c.principal} {action} {arn} ({c.operation}): {d.reason}")
    return sorted(set(out))


def test_every_recorded_call_is_allowed_by_its_role(
    plan: Plan, names: Names, recorded: list[Call]
) -> None:
    by = {who: {a for c in recorded if c.principal == who for a, _ in c.needs} for who in ROLES}
    # The recording saw each component's real work (a broken run must not pass as "no calls").
    assert {"athena:StartQueryExecution", "athena:GetQueryResults", "s3:GetObject"} <= by["api"]
    assert {"s3:PutObject", "s3:GetObject", "s3:ListBucket"} <= by["stream"], by["stream"]
    assert {"s3:PutObject", "s3:DeleteObject", "s3:GetObject"} <= by["compact"], by["compact"]
    assert {"s3:GetObject", "cloudwatch:PutMetricData"} <= by["probe"], by["probe"]
    unmapped = [
        c for c in recorded if "UNMAPPED" in c.operation or any("UNMAPPED" in a for a, _ in c.needs)
    ]
    assert not unmapped, unmapped
    denied = denials(plan, names, recorded)
    assert not denied, "denied in AWS:\n" + "\n".join(denied)


def test_what_services_do_for_a_role_is_allowed(plan: Plan, recorded: list[Call]) -> None:
    roles = {who: plan.policies(addr) for who, addr in ROLES.items()}
    needs = [n for rule in IMPLICIT for n in rule(plan, recorded)]
    assert {n.principal for n in needs} == set(ROLES)
    denied = sorted(
        {
            f"{n.principal} {n.action} {n.resource}: {d.reason} -- {n.why}"
            for n in needs
            if not (
                d := evaluate(roles[n.principal], n.action, n.resource, dict(n.context))
            ).allowed
        }
    )
    assert not denied, "denied in AWS:\n" + "\n".join(denied)


def test_a_new_call_without_its_permission_fails_the_check(
    plan: Plan, names: Names, lake: dict[str, Any], twin: Twin
) -> None:
    """The check bites: the probe lists the lake (a call its role does not allow), and the stream's
    recorded calls are denied once its lake statement is removed from a copy of its policy."""
    import boto3

    bucket = lake["lake"]["bucket_names"]["lake"]
    with recording(twin.endpoint_url) as proxy:
        env = component_env(proxy, "probe")
        s3 = boto3.client(
            "s3",
            endpoint_url=env["AWS_ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id="probe",
            aws_secret_access_key="test",
        )
        s3.list_objects_v2(Bucket=bucket, Prefix="_pipeline/")
        calls = list(proxy.calls)
    assert [c.needs[0][0] for c in calls] == ["s3:ListBucket"]
    assert any("probe s3:ListBucket" in d for d in denials(plan, names, calls))

    policies = plan.policies(ROLES["stream"])
    cut = []
    for p in policies:
        doc = json.loads(json.dumps(p.document))
        doc["Statement"] = [
            s for s in doc["Statement"] if s.get("Sid") != "ReadWriteLakeAndCheckpoint"
        ]
        cut.append(Policy(p.name, doc))
    assert cut != policies, "the stream policy has no ReadWriteLakeAndCheckpoint statement"
    put = Call(
        "stream",
        "s3",
        "PUT /{bucket}/{key}",
        (("s3:PutObject", f"arn:aws:s3:::{bucket}/trips/dt={DAY}/hour=06/b.parquet"),),
    )
    assert denials(plan, names, [put], {"stream": policies}) == []
    assert denials(plan, names, [put], {"stream": cut})


# ---- the evaluator on tiny policies ----------------------------------------------------------


def doc(*statements: dict[str, Any]) -> list[Policy]:
    return [Policy("p", {"Version": "2012-10-17", "Statement": list(statements)})]


def test_evaluator_allows_what_a_statement_allows_and_nothing_else() -> None:
    p = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"})
    assert evaluate(p, "s3:GetObject", "arn:aws:s3:::b/k").allowed
    assert evaluate(p, "S3:getobject", "arn:aws:s3:::b/k").allowed  # actions ignore case
    assert not evaluate(p, "s3:GetObject", "arn:aws:s3:::B/k").allowed  # resources do not
    assert not evaluate(p, "s3:PutObject", "arn:aws:s3:::b/k").allowed
    assert not evaluate(p, "s3:GetObject", "arn:aws:s3:::bb/k").allowed
    assert evaluate(p, "s3:GetObject", "arn:aws:s3:::b").reason == "implicit deny"


def test_evaluator_explicit_deny_wins() -> None:
    p = doc(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {
            "Sid": "No",
            "Effect": "Deny",
            "Action": "s3:DeleteObject",
            "Resource": "arn:aws:s3:::b/*",
        },
    )
    assert evaluate(p, "s3:PutObject", "arn:aws:s3:::b/k").allowed
    d = evaluate(p, "s3:DeleteObject", "arn:aws:s3:::b/k")
    assert not d.allowed and d.reason == "explicit deny p/No"


def test_evaluator_wildcards_and_not_action() -> None:
    p = doc(
        {"Effect": "Allow", "Action": "glue:Get*", "Resource": "arn:aws:glue:*:1:table/db/t?ips"}
    )
    assert evaluate(p, "glue:GetTable", "arn:aws:glue:us-east-1:1:table/db/trips").allowed
    assert not evaluate(p, "glue:GetTable", "arn:aws:glue:us-east-1:1:table/db/strips").allowed
    assert not evaluate(p, "glue:DeleteTable", "arn:aws:glue:us-east-1:1:table/db/trips").allowed
    p = doc({"Effect": "Allow", "NotAction": ["iam:*", "s3:*"], "Resource": "*"})
    assert evaluate(p, "athena:StartQueryExecution", "x").allowed  # NotAction: all but iam, s3
    assert not evaluate(p, "iam:PassRole", "x").allowed
    assert not evaluate(p, "s3:GetObject", "x").allowed


def test_evaluator_conditions() -> None:
    p = doc(
        {
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": "NycTaxi/Pipeline"}},
        },
        {
            "Effect": "Deny",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
    )
    ns = {"cloudwatch:namespace": "NycTaxi/Pipeline"}
    assert evaluate(p, "cloudwatch:PutMetricData", "*", ns).allowed
    assert not evaluate(
        p, "cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": "Other"}
    ).allowed
    assert not evaluate(p, "cloudwatch:PutMetricData", "*").allowed  # key absent: no match
    assert evaluate(p, "s3:GetObject", "arn:aws:s3:::b/k").allowed  # TLS, as in AWS
    assert not evaluate(
        p, "s3:GetObject", "arn:aws:s3:::b/k", {"aws:SecureTransport": "false"}
    ).allowed


def test_plan_policies_are_rebuilt_from_their_documents(plan: Plan) -> None:
    """The mocked provider renders every policy document empty; the evaluator must not see that."""
    for who, address in ROLES.items():
        policies = plan.policies(address)
        assert policies and all(p.statements() for p in policies), who
    stream = plan.policies(ROLES["stream"])
    assert sorted(p.name for p in stream) == [
        "module.stream.aws_iam_role_policy.job",
        "module.stream.aws_iam_role_policy.kafka",
    ]
