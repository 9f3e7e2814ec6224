"""``python -m ops check``: is this machine and account ready for ``make deploy``, and what
will it cost? Only read-only AWS calls; what it cannot check (no credentials, no permission)
is a SKIP or WARN with the reason, never a crash. Exit status 1 only when a check FAILs."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ops.config import CheckSettings
from ops.prices import Estimate, estimate, render
from ops.report import Report
from ops.tfconfig import AwsConfig, TerraformError, load

# (tool, version command, version pattern, minimum (major, minor) or None, why it is needed)
TOOLS: list[tuple[str, list[str], str, tuple[int, int] | None, str]] = [
    ("terraform", ["terraform", "version"], r"Terraform v(\d+)\.(\d+)\.\d+", (1, 11), "apply"),
    ("aws", ["aws", "--version"], r"aws-cli/(\d+)\.(\d+)", (2, 0), "deploy/stream scripts"),
    ("docker", ["docker", "--version"], r"version (\d+)\.(\d+)", None, "image builds"),
    ("jq", ["jq", "--version"], r"jq-(\d+)\.(\d+)", None, "deploy scripts"),
    ("mvn", ["mvn", "-v"], r"Apache Maven (\d+)\.(\d+)", None, "Spark job jars"),
    ("java", ["java", "-version"], r'version "(\d+)(?:\.(\d+))?', (17, 0), "Maven, Spark"),
]

BUCKET_SUFFIXES = ("-lake", "-checkpoints", "-query-results", "-artifacts")


def _version(cmd: list[str], timeout: float) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return (proc.stdout + proc.stderr).strip()


def check_tools(report: Report, s: CheckSettings) -> None:
    for name, cmd, pattern, minimum, why in TOOLS:
        label = f"tool {name}"
        if shutil.which(cmd[0]) is None:
            report.add("FAIL", label, f"not on PATH (needed for {why}; terraform/README.md)")
            continue
        try:
            text = _version(cmd, s.tool_timeout_s)
        except (OSError, subprocess.TimeoutExpired) as exc:
            report.add("WARN", label, f"found, but `{' '.join(cmd)}` failed: {exc}")
            continue
        m = re.search(pattern, text)
        first = re.sub(r"\x1b\[[0-9;]*m", "", text.splitlines()[0]) if text else "?"
        if m is None:
            report.add("WARN", label, f"found, version unreadable: {first}")
            continue
        got = (int(m.group(1)), int(m.group(2) or 0))
        if minimum is not None and got < minimum:
            report.add("WARN", label, f"{first}: {minimum[0]}.{minimum[1]}+ expected ({why})")
        elif name == "java" and got[0] != 17:
            report.add("WARN", label, f"{first}: the project builds and tests with Java 17")
        else:
            report.add("PASS", label, first)
    if shutil.which("docker"):
        try:
            info = subprocess.run(
                ["docker", "info", "--format", "{{.ServerVersion}}"],
                capture_output=True,
                text=True,
                timeout=s.tool_timeout_s,
            )
            ok = info.returncode == 0 and info.stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        if ok:
            report.add("PASS", "docker engine", f"server {info.stdout.strip()}")
        else:
            report.add("WARN", "docker engine", "not reachable: deploy.sh builds images with it")


def check_files(report: Report, s: CheckSettings) -> None:
    if s.tfvars_path.exists():
        report.add("PASS", "tfvars", str(s.tfvars_path))
    else:
        report.add(
            "WARN",
            "tfvars",
            f"no {s.tfvars_path}: the defaults are checked; copy terraform.tfvars.example and "
            "set name_prefix (deploy.sh passes the file to every plan)",
        )
    backend = s.aws_root / "backend.hcl"
    if backend.exists():
        report.add("PASS", "state backend", str(backend))
    else:
        report.add(
            "WARN",
            "state backend",
            f"no {backend}: create the state bucket first (terraform/README.md, Fresh account)",
        )


def check_variables(report: Report, cfg: AwsConfig) -> None:
    for err in cfg.errors:
        report.add("FAIL", "terraform variables", f"terraform refuses the tfvars: {err}")
    for note in cfg.notes:
        report.add("WARN", "terraform variables", note)
    r = cfg.root
    cert, domain = r.get("dashboard_certificate_arn"), r.get("dashboard_domain_name")
    public_opt_in = bool(r.get("dashboard_public_without_login", False))
    if cert and domain:
        report.add("PASS", "dashboard login", f"HTTPS + Cognito login on {domain}")
    elif public_opt_in:
        report.add(
            "WARN",
            "dashboard login",
            "dashboard_public_without_login = true: anyone who can reach the ALB "
            f"({', '.join(r.get('dashboard_allowed_cidrs') or [])}) reads the API's data",
        )
    else:
        report.add(
            "FAIL",
            "dashboard login",
            "set dashboard_certificate_arn + dashboard_domain_name (HTTPS + Cognito login), or "
            "dashboard_public_without_login = true for an open dashboard; without either the "
            "plan stops",
        )
    prefix = str(r.get("name_prefix"))
    if prefix in ("nyc-taxi", "nyc-taxi-123456789012"):
        report.add(
            "WARN",
            "name_prefix",
            f"{prefix!r} is the example value: bucket names are global, add something of yours",
        )
    if not r.get("alarm_emails"):
        report.add("WARN", "alarm_emails", "empty: alarms reach nobody")


def _tf_regex(path: Path, var: str) -> str | None:
    """The regex of a module variable's `can(regex(...))` validation, read from the module."""
    text = path.read_text()
    m = re.search(rf'variable\s+"{var}".*?can\(regex\("((?:[^"\\]|\\.)*)"', text, re.S)
    return m.group(1).encode().decode("unicode_escape") if m else None


def name_rules(terraform_dir: Path, prefix: str, environment: str, account: str) -> list[str]:
    """Every rule the derived names break: the modules' Terraform validations, then the AWS
    limits (bucket 63, Cognito domain 63, EMR application and MSK cluster 64)."""
    name = f"{prefix}-{environment}"
    broken = []
    for module, var, value in (("lake", "name_prefix", name), ("api", "name", f"{name}-api")):
        rx = _tf_regex(terraform_dir / "modules" / module / "variables.tf", var)
        if rx is not None and not re.fullmatch(rx, value):
            broken.append(f"{module} module's {var} {value!r} ({len(value)} chars) fails /{rx}/")
    for suffix in BUCKET_SUFFIXES:
        bucket = f"{name}{suffix}"
        if len(bucket) > 63:
            broken.append(f"bucket {bucket!r} is {len(bucket)} chars (max 63)")
    domain = f"{name}-{account}"
    if len(domain) > 63:
        broken.append(f"Cognito domain {domain!r} is {len(domain)} chars (max 63)")
    for word in ("aws", "amazon", "cognito"):
        if word in domain:
            broken.append(f"Cognito domain {domain!r} contains the reserved word {word!r}")
    for kind, value in (
        ("EMR Serverless application", f"{name}-stream"),
        ("EMR Serverless application", f"{name}-maint"),
        ("MSK cluster", name),
        ("Lambda function", f"{name}-probe"),
        ("scheduler schedule", f"{name}-maint-compact"),
    ):
        if len(value) > 64:
            broken.append(f"{kind} name {value!r} is {len(value)} chars (max 64)")
    if not re.fullmatch(r"[a-z0-9-]+", environment):
        broken.append(f"environment {environment!r}: lowercase letters, digits, hyphens only")
    return broken


def check_names(report: Report, s: CheckSettings, cfg: AwsConfig, account: str | None) -> None:
    prefix, env = str(cfg.root["name_prefix"]), str(cfg.root["environment"])
    broken = name_rules(s.terraform_dir, prefix, env, account or "123456789012")
    where = "" if account else " (Cognito domain checked with a 12-digit account id)"
    if broken:
        report.add("FAIL", "names", "; ".join(broken))
    else:
        report.add("PASS", "names", f"every name derived from {prefix}-{env} fits{where}")


# ---- AWS ------------------------------------------------------------------------------------


def _aws_error(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def check_account(report: Report, session: Any) -> str | None:
    import botocore.exceptions as be

    if session.get_credentials() is None:
        report.add(
            "SKIP",
            "credentials",
            "no AWS credentials found (env vars, ~/.aws, SSO, instance role): the account, "
            "zone and quota checks are skipped",
        )
        return None
    try:
        who = session.client("sts").get_caller_identity()
    except (be.BotoCoreError, be.ClientError) as exc:
        report.add("FAIL", "credentials", f"sts get-caller-identity refused: {_aws_error(exc)}")
        return None
    report.add("PASS", "credentials", f"account {who['Account']} as {who['Arn']}")
    return str(who["Account"])


def check_zones(report: Report, session: Any, region: str, cfg: AwsConfig) -> None:
    """The zones the network module will choose: by zone id, minus excluded_zone_ids (or the
    module's table of zones EMR Serverless does not run in), at least az_count of them."""
    import botocore.exceptions as be

    try:
        zones = session.client("ec2").describe_availability_zones(
            Filters=[
                {"Name": "state", "Values": ["available"]},
                {"Name": "zone-type", "Values": ["availability-zone"]},
            ]
        )["AvailabilityZones"]
    except (be.BotoCoreError, be.ClientError) as exc:
        report.add("WARN", "zones", f"cannot list zones: {_aws_error(exc)}")
        return
    az_count = int(cfg.root["az_count"])
    ids = {z["ZoneId"]: z["ZoneName"] for z in zones}
    excluded = set(cfg.excluded_zone_ids(region))
    usable = [i for i in sorted(ids) if i not in excluded]
    shown = ", ".join(f"{ids[i]}={i}" for i in sorted(ids))
    detail = (
        f"{shown}; excluded {', '.join(sorted(excluded & set(ids))) or 'none'}; "
        f"{len(usable)} usable, subnets in {', '.join(usable[:az_count])}"
    )
    if len(usable) < az_count:
        report.add("FAIL", "zones", f"{detail}: fewer than az_count {az_count}")
    elif cfg.zone_table is None:
        report.add("WARN", "zones", f"{detail}; the network module has no zone table")
    elif not excluded and cfg.root.get("excluded_zone_ids") is None:
        report.add(
            "WARN",
            "zones",
            f"{detail}; no documented EMR Serverless zone limit for {region}: if MSK or EMR "
            "refuse a subnet's zone, add it to excluded_zone_ids",
        )
    else:
        report.add("PASS", "zones", f"{detail} (az_count {az_count})")


def _quotas(client: Any, service: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for page in client.get_paginator("list_service_quotas").paginate(ServiceCode=service):
        for q in page["Quotas"]:
            out[q["QuotaName"]] = float(q["Value"])
    return out


def _capacity_vcpu(text: str) -> float:
    return float(str(text).split()[0])


def check_quotas(report: Report, session: Any, cfg: AwsConfig) -> None:
    import botocore.exceptions as be

    sq = session.client("service-quotas")
    ec2 = session.client("ec2")
    drv, exe = cfg.module("stream", "driver"), cfg.module("stream", "executor")
    stream_vcpu = float(drv["cores"]) + float(exe["cores"]) * int(exe["instances"])
    max_vcpu = _capacity_vcpu(cfg.module("stream", "max_capacity")["cpu"]) + _capacity_vcpu(
        cfg.module("maintenance", "max_capacity")["cpu"]
    )
    nats = (
        0
        if cfg.root["egress"] != "nat"
        else (1 if cfg.root["single_nat_gateway"] else int(cfg.root["az_count"]))
    )

    def one(
        name: str, service: str, match: str, need: float, used: Callable[[], float] | None = None
    ) -> None:
        try:
            quotas = _quotas(sq, service)
            hits = {k: v for k, v in quotas.items() if match.lower() in k.lower()}
            if not hits:
                report.add("WARN", name, f"no {service} quota named like {match!r}")
                return
            qname, value = next(iter(sorted(hits.items())))
            in_use = used() if used else 0.0
        except (be.BotoCoreError, be.ClientError) as exc:
            report.add("WARN", name, f"cannot read: {_aws_error(exc)}")
            return
        free = value - in_use
        text = f"{qname} = {value:g}" + (f", {in_use:g} in use" if used else "")
        if free < need:
            report.add("FAIL", name, f"{text}; the deployment needs {need:g}")
        else:
            report.add("PASS", name, f"{text}; needs {need:g}")

    one("quota EMR Serverless vCPU", "emr-serverless", "vCPU", stream_vcpu)
    if max_vcpu > stream_vcpu:
        report.add(
            "PASS",
            "EMR Serverless capacity",
            f"stream {stream_vcpu:g} vCPU running; applications may scale to {max_vcpu:g} vCPU "
            "together (max_capacity)",
        )
    one("quota VPCs", "vpc", "VPCs per Region", 1, lambda: len(ec2.describe_vpcs()["Vpcs"]))
    if nats:
        one(
            "quota Elastic IPs",
            "ec2",
            "EC2-VPC Elastic IPs",
            nats,
            lambda: len(ec2.describe_addresses()["Addresses"]),
        )
        one("quota NAT gateways", "vpc", "NAT gateways per Availability Zone", 1)
    one("quota Fargate vCPU", "fargate", "On-Demand vCPU", 1)
    if cfg.root["msk_mode"] == "serverless":
        one("quota MSK Serverless", "kafka", "serverless", 1)
    else:
        one("quota MSK brokers", "kafka", "broker", float(cfg.module("streaming", "broker_count")))


def _what(cfg: AwsConfig) -> str:
    r = cfg.root
    azs = r["az_count"]
    nat = (
        f"{1 if r['single_nat_gateway'] else azs} NAT gateway(s)"
        if r["egress"] == "nat"
        else f"egress {r['egress']}"
    )
    msk = (
        "MSK Serverless"
        if r["msk_mode"] == "serverless"
        else f"MSK {cfg.module('streaming', 'broker_count')} x "
        f"{cfg.module('streaming', 'broker_instance_type')}"
    )
    login = "HTTPS + Cognito" if r.get("dashboard_domain_name") else "HTTP"
    return (
        f"VPC over {azs} AZs ({nat}), {msk} (topic {r['topic']}, {r['topic_partitions']} "
        "partitions), EMR Serverless stream + compaction apps, 4 S3 buckets + Glue + Athena, "
        f"Lambda + HTTP API, Cognito, ECS dashboard behind an ALB ({login}), producer task "
        "definition, SNS + alarms + probe Lambda, CloudWatch dashboard"
    )


def run(s: CheckSettings, report: Report) -> Estimate | None:
    started = time.monotonic()
    check_tools(report, s)
    check_files(report, s)
    tfvars = s.tfvars_path if s.tfvars_path.exists() else None
    try:
        cfg = load(s.terraform_dir, tfvars, s.terraform_bin)
    except TerraformError as exc:
        report.add("SKIP", "configuration", f"cannot evaluate envs/aws: {exc}")
        return None
    check_variables(report, cfg)
    region = s.region or str(cfg.root["region"])

    try:
        import boto3

        session = boto3.Session(region_name=region)
        account = check_account(report, session)
    except Exception as exc:  # a broken ~/.aws/config must not stop the offline checks
        report.add("WARN", "credentials", f"cannot set up a boto3 session: {_aws_error(exc)}")
        account = None
    check_names(report, s, cfg, account)
    if account is None:
        for name in ("zones", "quotas"):
            report.add("SKIP", name, f"needs AWS credentials for {region}")
    else:
        check_zones(report, session, region, cfg)
        check_quotas(report, session, cfg)

    est = estimate(cfg, s.terraform_dir)
    report.add("PASS", "what gets created", _what(cfg))
    for u in est.unknown:
        report.add("WARN", "cost", u)
    if region != "us-east-1":
        report.add("WARN", "cost", f"prices are us-east-1's; {region} differs")
    report.text(render(est))
    report.text(f"aws-check: {report.summary()} in {time.monotonic() - started:.1f} s")
    return est
