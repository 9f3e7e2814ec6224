"""terraform/envs/aws, terraform/bootstrap and docker-compose.yml, checked without an account.

fmt and validate for each root, `terraform test` of envs/aws against a mocked provider, checkov
(0 failed checks, every skip with a reason), the build artifacts the roots upload, the probe
Lambda, and docker-compose.yml against the Compose Specification's schema (no Docker here).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
import yaml
from botocore.validate import ParamValidator
from moto import mock_aws

from localstack.terraform import Terraform, TerraformSettings
from tests.conftest import ROOT
from tests.fixtures.twin import TEST_DIR
from tests.tf_support import resources

TERRAFORM = ROOT / "terraform"
AWS_ROOTS = {"bootstrap": TERRAFORM / "bootstrap", "aws": TERRAFORM / "envs" / "aws"}
NEW_MODULES = (
    *("network", "streaming", "stream", "dashboard"),
    *("producer", "maintenance", "observability"),
)
COMPOSE = ROOT / "docker-compose.yml"
COMPOSE_SCHEMA = ROOT / "tests" / "schemas" / "compose-spec.json"
PROBE = TERRAFORM / "modules" / "observability" / "probe" / "index.py"
ARTIFACTS = TERRAFORM / "scripts" / "artifacts.py"


def load(path: Path, name: str) -> Any:
    """A module from a file outside the packages (the probe Lambda, the build script)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def terraform_for(name: str) -> Terraform:
    # The mirror CLI config of localstack.terraform; state and TF_DATA_DIR under .local/test*.
    settings = TerraformSettings(root=AWS_ROOTS[name], work_dir=TEST_DIR / f"terraform-{name}")
    return Terraform(settings, quiet=True)


# ---- Terraform ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", [*AWS_ROOTS.values(), *(TERRAFORM / "modules" / m for m in NEW_MODULES)]
)
def test_fmt_is_clean(path: Path) -> None:
    result = subprocess.run(
        ["terraform", "fmt", "-check", "-recursive", "-diff", str(path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"terraform fmt would change:\n{result.stdout}"


@pytest.mark.parametrize("name", sorted(AWS_ROOTS))
def test_root_validates(name: str) -> None:
    result = terraform_for(name).validate()
    assert result["valid"], json.dumps(result["diagnostics"], indent=2)
    assert result["warning_count"] == 0, json.dumps(result["diagnostics"], indent=2)


def test_envs_aws_plans_without_an_account(tftest: dict[str, Any]) -> None:
    """envs/aws/tests/plan.tftest.hcl: mocked provider, every run block must pass."""
    assert tftest["returncode"] == 0, "\n".join(tftest["errors"])
    summary = tftest["summary"]
    assert summary["status"] == "pass" and summary["failed"] == 0 and summary["errored"] == 0
    assert summary["passed"] >= 4


def api_errors(service: str, operation: str, params: dict[str, Any]) -> str:
    """botocore's own validation of request parameters against the AWS API model."""
    model = botocore.session.get_session().get_service_model(service)
    report = ParamValidator().validate(params, model.operation_model(operation).input_shape)
    return str(report.generate_report()) if report.has_errors() else ""


def camel(obj: Any, keep: tuple[str, ...] = ("Properties",)) -> Any:
    """PascalCase SDK member names (EventBridge Scheduler's universal targets) to the model's."""
    if isinstance(obj, list):
        return [camel(v, keep) for v in obj]
    if not isinstance(obj, dict):
        return obj
    return {k[0].lower() + k[1:]: (v if k in keep else camel(v, keep)) for k, v in obj.items()}


def test_stream_request_is_a_valid_start_job_run(tftest: dict[str, Any]) -> None:
    outputs = tftest["states"]["defaults_plan_without_an_account"]["outputs"]
    request = outputs["stream_job"]["value"]["request"]
    # stream.sh sends it as is; the CLI adds the client token.
    assert api_errors("emr-serverless", "StartJobRun", {**request, "clientToken": "t"}) == ""
    assert request["mode"] == "STREAMING" and request["name"] == "nyc-taxi-prod-stream"


def test_compaction_schedule_sends_a_valid_start_job_run(tftest: dict[str, Any]) -> None:
    state = resources(tftest["states"]["defaults_plan_without_an_account"])
    schedule = state["module.maintenance.aws_scheduler_schedule.compact"]
    target = schedule["target"][0]
    assert target["arn"] == "arn:aws:scheduler:::aws-sdk:emrserverless:startJobRun"
    request = json.loads(target["input"])
    assert api_errors("emr-serverless", "StartJobRun", camel(request)) == ""
    args = request["JobDriver"]["SparkSubmit"]["EntryPointArguments"]
    outputs = tftest["states"]["defaults_plan_without_an_account"]["outputs"]
    lake = outputs["bucket_names"]["value"]["lake"]
    assert args[:2] == ["--lake-uri", f"s3://{lake}"]
    assert request["JobDriver"]["SparkSubmit"]["EntryPoint"].endswith("/stream/code/compact.py")


def test_container_definitions_are_valid_for_ecs(tftest: dict[str, Any]) -> None:
    state = resources(tftest["states"]["defaults_plan_without_an_account"])
    containers = {
        a: json.loads(v["container_definitions"])
        for a, v in state.items()
        if v.get("container_definitions") is not None
    }
    assert len(containers) == 3
    for address, definitions in containers.items():
        family = state[address]["family"]
        params = {"family": family, "containerDefinitions": definitions}
        assert api_errors("ecs", "RegisterTaskDefinition", params) == "", address
    dashboard = containers["module.dashboard.aws_ecs_task_definition.this"][0]
    env = {e["name"]: e["value"] for e in dashboard["environment"]}
    assert env["DASH_API_URL"] == "https://abc123.execute-api.us-east-1.amazonaws.com/"
    assert dashboard["portMappings"] == [{"containerPort": 8501, "protocol": "tcp"}]
    topics = containers["module.producer.aws_ecs_task_definition.topics"][0]
    assert topics["command"][:4] == ["python", "-m", "producer.topics", "trips"]
    assert {"name": "PRODUCER_MSK_IAM_REGION", "value": "us-east-1"} in topics["environment"]


def test_module_interfaces_are_documented() -> None:
    # terraform-aws-modules layout: the four files + README, every variable typed and described.
    for module in NEW_MODULES:
        folder = TERRAFORM / "modules" / module
        for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
            assert (folder / name).is_file(), f"{module}/{name}"
    for folder in [*(TERRAFORM / "modules" / m for m in NEW_MODULES), *AWS_ROOTS.values()]:
        text = (folder / "variables.tf").read_text()
        blocks = re.split(r'^variable "', text, flags=re.M)[1:]
        assert blocks, folder
        for block in blocks:
            name = block.split('"', 1)[0]
            assert re.search(r"^\s+description\s*=", block, re.M), f"{folder.name}.{name}"
            assert re.search(r"^\s+type\s*=", block, re.M), f"{folder.name}.{name}"


def test_every_checkov_skip_says_why() -> None:
    skips = []
    for path in TERRAFORM.rglob("*.tf"):
        if ".terraform" in path.parts:
            continue
        skips += re.findall(r"#checkov:skip=(.*)", path.read_text())
    assert len(skips) > 20
    for skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+:.{12,}", skip), f"skip without a reason: {skip}"


def checkov_binary() -> str | None:
    candidates = [os.environ.get("CHECKOV"), shutil.which("checkov")]
    candidates.append(str(ROOT / ".local" / "checkov" / "venv" / "bin" / "checkov"))
    return next((c for c in candidates if c and Path(c).is_file()), None)


@pytest.mark.service  # checkov lives in its own env (`make checkov-install`) and takes ~30 s
def test_checkov_finds_no_failed_check() -> None:
    binary = checkov_binary()
    # `make test` installs it (its own env, like the twin's): a missing checkov is a failure.
    assert binary is not None, "checkov is not installed: run `make checkov-install`"
    result = subprocess.run(
        [binary, "-d", str(TERRAFORM), "--framework", "terraform", "--skip-download",
         "--quiet", "-o", "json"],
        capture_output=True,
        text=True,
    )  # fmt: skip
    report = json.loads(result.stdout)
    summary = report["summary"] if isinstance(report, dict) else report[0]["summary"]
    failed = report["results"]["failed_checks"] if isinstance(report, dict) else []
    listing = [(f["check_id"], f["resource"], f["file_path"]) for f in failed]
    assert summary["failed"] == 0, json.dumps(listing, indent=1)
    assert summary["passed"] > 300


# ---- what the deploy uploads ---------------------------------------------------------------


@pytest.fixture(scope="module")
def build_dir() -> Path:
    out = TEST_DIR / "aws-build"
    shutil.rmtree(out, ignore_errors=True)
    script = ARTIFACTS
    subprocess.run([sys.executable, str(script), "code", "probe", "--out", str(out)], check=True)
    return out


def test_job_zip_runs_the_job_code_from_the_zip(build_dir: Path, tmp_path: Path) -> None:
    job = build_dir / "spark-job.zip"
    names = zipfile.ZipFile(job).namelist()
    assert "spark/__main__.py" in names and "spark/compact.py" in names
    assert "contract/taxi_zone_lookup.csv" in names and "contract/tables.json" in names
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    # What EMR does with --py-files and the STREAM_* env of the stream module, in a clean
    # interpreter whose only project code is the zip.
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "import spark, contract\n"
        "from importlib import resources\n"
        "from spark.config import StreamSettings\n"
        "s = StreamSettings()\n"
        "zones = resources.files('contract').joinpath('taxi_zone_lookup.csv').read_text()\n"
        "print(spark.__file__, s.master, s.jars_dir, s.progress_log, s.lake_uri, "
        "len(zones.splitlines()))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STREAM_", "PYTHONPATH"))}
    env.update(STREAM_MASTER="none", STREAM_JARS_DIR="none", STREAM_PROGRESS_LOG="none")
    env.update(STREAM_LAKE_URI="s3://lake-bucket")
    out = subprocess.run(
        [sys.executable, "-c", code, str(job)], cwd=tmp_path, env=env,
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert out[0].startswith(str(job))
    assert out[1:] == ["None", "None", "None", "s3://lake-bucket", "266"]


def test_archives_are_reproducible(build_dir: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    script = ARTIFACTS
    time.sleep(1.1)  # a build that stamped times would now differ
    subprocess.run([sys.executable, str(script), "code", "probe", "--out", str(again)], check=True)
    for name in ("spark-job.zip", "probe.zip"):
        assert (again / name).read_bytes() == (build_dir / name).read_bytes(), name


def test_pydeps_archive_layout(tmp_path: Path) -> None:
    write_tar_gz = load(ARTIFACTS, "artifacts").write_tar_gz
    site = tmp_path / "site"
    (site / "pkg" / "__pycache__").mkdir(parents=True)
    (site / "pkg" / "__init__.py").write_text("x = 1\n")
    (site / "pkg" / "__pycache__" / "m.pyc").write_bytes(b"junk")
    first = write_tar_gz(tmp_path / "a.tar.gz", site).read_bytes()
    time.sleep(1.1)
    second = write_tar_gz(tmp_path / "b.tar.gz", site).read_bytes()
    assert first == second
    # Files at the root: spark.archives=...#pydeps unpacks the archive into ./pydeps, which is
    # PYTHONPATH; a top folder would put the packages one level too deep (./pydeps/pydeps/).
    with tarfile.open(tmp_path / "a.tar.gz") as tar:
        assert tar.getnames() == ["pkg/__init__.py"]


# ---- the freshness probe -------------------------------------------------------------------


def test_probe_metrics_from_a_progress_record() -> None:
    metrics_from = load(PROBE, "probe").metrics_from

    rec = {"trigger_at": "2026-01-02T03:04:05.000Z", "rows_in": 200, "rejected": 5}
    now = 1767323045.0 + 90  # 2026-01-02T03:04:05Z + 90 s
    got = metrics_from({**rec, "kafka_lag": 12}, now)
    assert got == {"FreshnessSeconds": 90.0, "RejectedRatio": 0.025, "KafkaLag": 12.0}
    assert metrics_from({**rec, "rows_in": 0, "kafka_lag": None}, now)["RejectedRatio"] == 0.0


def test_probe_handler_publishes_the_lake_status(monkeypatch: pytest.MonkeyPatch) -> None:
    handler = load(PROBE, "probe").handler

    for k, v in {
        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1", "LAKE_BUCKET": "lake",
        "PROGRESS_KEY": "_pipeline/progress/latest.json", "PIPELINE": "nyc-taxi-prod",
    }.items():  # fmt: skip
        monkeypatch.setenv(k, v)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="lake")
        progress = {"trigger_at": "2026-01-02T03:04:05Z", "rows_in": 10, "rejected": 1}
        s3.put_object(
            Bucket="lake", Key="_pipeline/progress/latest.json", Body=json.dumps(progress)
        )
        values = handler({}, None)
        metrics = boto3.client("cloudwatch", region_name="us-east-1").list_metrics(
            Namespace="NycTaxi/Pipeline"
        )["Metrics"]
    assert values["RejectedRatio"] == 0.1 and values["FreshnessSeconds"] > 0
    assert sorted(m["MetricName"] for m in metrics) == ["FreshnessSeconds", "RejectedRatio"]
    assert all(m["Dimensions"] == [{"Name": "Pipeline", "Value": "nyc-taxi-prod"}] for m in metrics)


# ---- docker-compose.yml ------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return doc


def schema_errors(doc: dict[str, Any]) -> list[str]:
    import jsonschema

    schema = json.loads(COMPOSE_SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(doc)]


def test_compose_file_matches_the_compose_spec(compose: dict[str, Any]) -> None:
    assert schema_errors(compose) == []


def test_compose_schema_rejects_mistakes(compose: dict[str, Any]) -> None:
    # Proves the schema bites: a misspelt key and a wrongly typed value are both caught.
    typo = json.loads(json.dumps(compose))
    typo["services"]["kafka"]["helthcheck"] = typo["services"]["kafka"].pop("healthcheck")
    assert any("helthcheck" in e for e in schema_errors(typo))
    wrong = json.loads(json.dumps(compose))
    wrong["services"]["api"]["depends_on"]["terraform"]["condition"] = "finished"
    assert schema_errors(wrong)


def test_compose_mirrors_make_local(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {
        "kafka",
        "twin",
        "terraform",
        "topics",
        "stream",
        "api",
        "dashboard",
        "producer",
    } <= set(services)
    assert re.fullmatch(r"apache/kafka:4\.1\.\d+", services["kafka"]["image"])
    for name, svc in services.items():
        for port in svc.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
        for dep in svc.get("depends_on", {}):
            assert dep in services, f"{name} depends on unknown {dep}"
    targets = set(re.findall(r"^FROM \S+ AS (\S+)$", (ROOT / "Dockerfile").read_text(), re.M))
    for name, svc in services.items():
        build = svc.get("build")
        if build is not None:
            dockerfile = ROOT / build.get("dockerfile", "Dockerfile")
            assert dockerfile.is_file(), name
            if "target" in build:
                assert build["target"] in targets, f"{name}: no stage {build['target']}"
    stream = services["stream"]["environment"]
    assert stream["STREAM_KAFKA_BOOTSTRAP"] == "kafka:19092"
    assert services["dashboard"]["environment"]["DASH_API_URL"] == "http://api:8000"
