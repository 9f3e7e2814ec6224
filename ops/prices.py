"""What envs/aws creates and what it costs per hour and per month, from its configuration.

Unit prices: AWS on-demand list prices for us-east-1 as published on each service's pricing
page (URL per entry), as of PRICES_AS_OF, the same figures as terraform/README.md "Monthly
cost". They were not re-read online from the build machine: check the page before relying on
them. Other regions differ by a few percent up or down. No free tier, no savings plans.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from ops.tfconfig import AwsConfig

PRICES_AS_OF = "2026-11-25"
HOURS_PER_MONTH = 730


@dataclass(frozen=True)
class Price:
    usd: float
    unit: str
    page: str


PRICES: dict[str, Price] = {
    "msk_serverless_cluster_hour": Price(
        0.75, "cluster-hour", "https://aws.amazon.com/msk/pricing/"
    ),
    "msk_serverless_partition_hour": Price(
        0.0015, "partition-hour", "https://aws.amazon.com/msk/pricing/"
    ),
    "msk_storage_gb_month": Price(0.10, "GB-month", "https://aws.amazon.com/msk/pricing/"),
    "kafka.t3.small": Price(0.0456, "broker-hour", "https://aws.amazon.com/msk/pricing/"),
    "kafka.m5.large": Price(0.21, "broker-hour", "https://aws.amazon.com/msk/pricing/"),
    "kafka.m7g.large": Price(0.204, "broker-hour", "https://aws.amazon.com/msk/pricing/"),
    "emr_serverless_vcpu_hour": Price(0.052624, "vCPU-hour", "https://aws.amazon.com/emr/pricing/"),
    "emr_serverless_gb_hour": Price(0.0057785, "GB-hour", "https://aws.amazon.com/emr/pricing/"),
    "fargate_vcpu_hour": Price(0.04048, "vCPU-hour", "https://aws.amazon.com/fargate/pricing/"),
    "fargate_gb_hour": Price(0.004445, "GB-hour", "https://aws.amazon.com/fargate/pricing/"),
    "alb_hour": Price(0.0225, "ALB-hour", "https://aws.amazon.com/elasticloadbalancing/pricing/"),
    "alb_lcu_hour": Price(
        0.008, "LCU-hour", "https://aws.amazon.com/elasticloadbalancing/pricing/"
    ),
    "nat_hour": Price(0.045, "NAT gateway-hour", "https://aws.amazon.com/vpc/pricing/"),
    "nat_gb": Price(0.045, "GB processed", "https://aws.amazon.com/vpc/pricing/"),
    "public_ipv4_hour": Price(0.005, "address-hour", "https://aws.amazon.com/vpc/pricing/"),
    "endpoint_az_hour": Price(
        0.01, "endpoint AZ-hour", "https://aws.amazon.com/privatelink/pricing/"
    ),
    "lambda_million_requests": Price(
        0.20, "million requests", "https://aws.amazon.com/lambda/pricing/"
    ),
    "lambda_gb_second": Price(0.0000166667, "GB-second", "https://aws.amazon.com/lambda/pricing/"),
    "http_api_million_requests": Price(
        1.00, "million requests", "https://aws.amazon.com/api-gateway/pricing/"
    ),
    "athena_tb_scanned": Price(
        5.00, "TB scanned (10 MB minimum per query)", "https://aws.amazon.com/athena/pricing/"
    ),
    "cloudwatch_alarm_month": Price(
        0.10, "alarm-month", "https://aws.amazon.com/cloudwatch/pricing/"
    ),
    "cloudwatch_dashboard_month": Price(
        3.00, "dashboard-month", "https://aws.amazon.com/cloudwatch/pricing/"
    ),
    "kms_key_month": Price(1.00, "key-month", "https://aws.amazon.com/kms/pricing/"),
    "secret_month": Price(0.40, "secret-month", "https://aws.amazon.com/secrets-manager/pricing/"),
}


def p(key: str) -> float:
    return PRICES[key].usd


@dataclass(frozen=True)
class Line:
    """One thing that costs money: per hour while ``when`` holds, plus a fixed monthly part."""

    item: str
    detail: str
    hourly: float
    monthly_fixed: float = 0.0
    when: str = "deployed"  # deployed | stream running | producer running

    @property
    def monthly(self) -> float:
        return self.hourly * HOURS_PER_MONTH + self.monthly_fixed


@dataclass
class Estimate:
    lines: list[Line]
    per_use: list[tuple[str, float]]  # (what, USD)
    unknown: list[str]  # sizes the table has no price for

    def hourly(self, *whens: str) -> float:
        return sum(x.hourly for x in self.lines if x.when in whens)

    def monthly(self, *whens: str) -> float:
        return sum(x.monthly for x in self.lines if x.when in whens)


def memory_gb(text: str) -> float:
    """Spark/EMR memory strings: 4g, 4096m, "16 GB"."""
    m = re.fullmatch(r"\s*([\d.]+)\s*([gGmM])[bB]?\s*", text)
    if m is None:
        raise ValueError(f"cannot read memory size {text!r}")
    value = float(m.group(1))
    return value if m.group(2).lower() == "g" else value / 1024


def emr_worker_gb(spark_memory: str) -> int:
    """EMR Serverless bills a worker's memory as Spark memory plus its overhead (10 %, at least
    384 MB), in whole GB."""
    gb = memory_gb(spark_memory)
    return math.ceil(gb + max(0.375, 0.1 * gb) - 1e-9)


def fargate(cpu_units: float, memory_mb: float) -> float:
    return cpu_units / 1024 * p("fargate_vcpu_hour") + memory_mb / 1024 * p("fargate_gb_hour")


def alarm_count(terraform_dir: Path) -> int:
    text = (terraform_dir / "modules" / "observability" / "main.tf").read_text()
    return len(re.findall(r'^resource\s+"aws_cloudwatch_metric_alarm"', text, re.M))


def estimate(cfg: AwsConfig, terraform_dir: Path) -> Estimate:
    r, mod = cfg.root, cfg.module
    lines: list[Line] = []
    unknown: list[str] = []
    azs = int(r["az_count"])

    if r["msk_mode"] == "serverless":
        parts = int(r["topic_partitions"])
        lines.append(Line("MSK Serverless", "cluster", p("msk_serverless_cluster_hour")))
        lines.append(
            Line(
                "MSK Serverless", f"{parts} partitions", parts * p("msk_serverless_partition_hour")
            )
        )
    else:
        kind = str(mod("streaming", "broker_instance_type"))
        n = int(mod("streaming", "broker_count"))
        gb = float(mod("streaming", "broker_volume_gb"))
        if kind in PRICES:
            lines.append(Line("MSK provisioned", f"{n} x {kind}", n * p(kind)))
        else:
            unknown.append(f"MSK broker type {kind} (no price in ops/prices.py)")
        lines.append(
            Line("MSK storage", f"{n} x {gb:g} GB", 0.0, n * gb * p("msk_storage_gb_month"))
        )

    egress = r["egress"]
    if egress == "nat":
        nats = 1 if r["single_nat_gateway"] else azs
        lines.append(Line("NAT gateway", f"{nats} x", nats * p("nat_hour")))
        lines.append(Line("Public IPv4", f"{nats} NAT EIP", nats * p("public_ipv4_hour")))
    elif egress == "endpoints":
        eps = list(mod("network", "interface_endpoints"))
        lines.append(
            Line(
                "Interface endpoints",
                f"{len(eps)} x {azs} AZs ({', '.join(eps)})",
                len(eps) * azs * p("endpoint_az_hour"),
            )
        )

    lines.append(Line("ALB", "dashboard (idle; LCUs per use)", p("alb_hour")))
    lines.append(Line("Public IPv4", f"ALB, {azs} AZs", azs * p("public_ipv4_hour")))
    tasks_public = egress != "nat"  # without NAT the tasks run in public subnets
    dcpu, dmem = float(mod("dashboard", "cpu")), float(mod("dashboard", "memory"))
    dn = int(mod("dashboard", "desired_count"))
    lines.append(
        Line(
            "Fargate",
            f"dashboard {dn} x {dcpu / 1024:g} vCPU/{dmem / 1024:g} GB",
            dn * (fargate(dcpu, dmem) + (p("public_ipv4_hour") if tasks_public else 0)),
        )
    )
    alarms = alarm_count(terraform_dir)
    lines.append(
        Line(
            "CloudWatch",
            f"{alarms} alarms + 1 dashboard",
            0.0,
            alarms * p("cloudwatch_alarm_month") + p("cloudwatch_dashboard_month"),
        )
    )
    secrets = 1 if r["api_jwt_auth"] else 0
    lines.append(
        Line(
            "KMS + Secrets Manager",
            f"1 key + {secrets} secret",
            0.0,
            p("kms_key_month") + secrets * p("secret_month"),
        )
    )

    drv, exe = mod("stream", "driver"), mod("stream", "executor")
    vcpu = float(drv["cores"]) + float(exe["cores"]) * int(exe["instances"])
    gb = emr_worker_gb(drv["memory"]) + emr_worker_gb(exe["memory"]) * int(exe["instances"])
    lines.append(
        Line(
            "EMR Serverless",
            f"stream: driver {drv['cores']} vCPU/{drv['memory']} + {exe['instances']} x executor "
            f"{exe['cores']} vCPU/{exe['memory']} = {vcpu:g} vCPU, {gb} GB billed",
            vcpu * p("emr_serverless_vcpu_hour") + gb * p("emr_serverless_gb_hour"),
            when="stream running",
        )
    )
    pcpu, pmem = float(mod("producer", "cpu")), float(mod("producer", "memory"))
    lines.append(
        Line(
            "Fargate",
            f"producer task {pcpu / 1024:g} vCPU/{pmem / 1024:g} GB",
            fargate(pcpu, pmem) + (p("public_ipv4_hour") if tasks_public else 0),
            when="producer running",
        )
    )

    lambda_gb = float(mod("api", "memory_mb")) / 1024
    per_1000_api = (
        p("http_api_million_requests") / 1000
        + p("lambda_million_requests") / 1000
        + 1000 * lambda_gb * 1.0 * p("lambda_gb_second")
        + 1000 * 10 / 1024 / 1024 * p("athena_tb_scanned")
    )
    per_use = [
        (
            f"1,000 API requests (HTTP API + Lambda {lambda_gb:g} GB x 1 s + one 10 MB Athena "
            "query each)",
            per_1000_api,
        ),
        ("1 Athena query (10 MB minimum)", 10 / 1024 / 1024 * p("athena_tb_scanned")),
        ("1 GB through the NAT gateway", p("nat_gb") if egress == "nat" else 0.0),
        ("1 LCU-hour of the ALB", p("alb_lcu_hour")),
    ]
    return Estimate(lines, per_use, unknown)


def render(est: Estimate) -> str:
    out = [f"{'item':<22} {'detail':<70} {'USD/h':>8} {'USD/month':>10}"]
    for x in est.lines:
        when = "" if x.when == "deployed" else f" [{x.when}]"
        out.append(f"{x.item:<22} {x.detail + when:<70} {x.hourly:>8.4f} {x.monthly:>10.2f}")
    idle = ("deployed",)
    full = ("deployed", "stream running", "producer running")
    out.append(
        f"{'deployed, stream stopped':<93} {est.hourly(*idle):>8.4f} {est.monthly(*idle):>10.2f}"
    )
    out.append(
        f"{'stream + producer running':<93} {est.hourly(*full):>8.4f} {est.monthly(*full):>10.2f}"
    )
    out.append("per use: " + "; ".join(f"{what}: {usd:.2g} USD" for what, usd in est.per_use))
    out.append(
        f"prices: us-east-1 list prices as of {PRICES_AS_OF} (ops/prices.py, one AWS pricing "
        "page per entry); MSK data in/out, S3 requests and logs not included"
    )
    return "\n".join(out)
