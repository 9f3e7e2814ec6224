"""Issue 13, the Terraform findings 2, 3, 6 and 8, checked on plans of envs/aws without an account.

`terraform test` of envs/aws (tests/plan.tftest.hcl, mocked provider) applies each run against
the mocks; the runs with ``expect_failures`` pass only when the plan is refused. These tests read
the runs' results and final states (resource values and dependencies as Terraform recorded them):

- 2: every Lambda function with active tracing runs with a role that may write to X-Ray;
- 3: subnets avoid the zones EMR Serverless does not support, chosen by zone ID
  (plus modules/network/tests/zones.tftest.hcl, run on a copy of the module);
- 6: no login-less dashboard unless asked for; with a certificate and a domain the ALB logs in;
- 8: name prefixes that would make invalid names are refused, ALB names stay valid, and the
  dashboard's task waits for the secret's value.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.fixtures.twin import TEST_DIR
from tests.iam_policy import MANAGED_POLICIES
from tests.tf_support import run_terraform_test, terraform_for

# Each test runs `terraform test` itself (not through a fixture): not part of `make test-unit`.
pytestmark = pytest.mark.service

ENV = ROOT / "terraform" / "envs" / "aws"
NETWORK = ROOT / "terraform" / "modules" / "network"

# What Lambda needs on the execution role of a function with tracing_config mode Active.
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")


def terraform_test(root: Path, work_dir: Path) -> dict[str, Any]:
    return run_terraform_test(terraform_for(root, work_dir))


@pytest.fixture(scope="module")
def plan_runs(tftest: dict[str, Any]) -> dict[str, Any]:
    return tftest  # the session's run of envs/aws/tests/plan.tftest.hcl


def resources(state: dict[str, Any]) -> list[dict[str, Any]]:
    """Every resource and data source of a run's state, through every child module."""
    out: list[dict[str, Any]] = []
    todo = [state["root_module"]]
    while todo:
        module = todo.pop()
        out.extend(module.get("resources", []))
        todo.extend(module.get("child_modules", []))
    return out


def of_type(state: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in resources(state) if r["type"] == kind and r["mode"] == "managed"]


def one(state: dict[str, Any], address: str) -> dict[str, Any]:
    found = [r for r in resources(state) if r["address"] == address]
    assert len(found) == 1, f"{address}: {len(found)} in the state"
    return found[0]


def run_state(plan_runs: dict[str, Any], run: str) -> dict[str, Any]:
    assert plan_runs["runs"].get(run) == "pass", (run, plan_runs["errors"])
    state: dict[str, Any] = plan_runs["states"][run]
    return state


# ---- finding 2: X-Ray permissions for traced functions ---------------------------------------


def allowed_actions(state: dict[str, Any], role: dict[str, Any]) -> list[str]:
    """Actions the role's attached managed policies (as tests/iam_policy.py has them) and inline
    policies allow."""
    name, rid = role["values"]["name"], role["values"]["id"]
    actions: list[str] = []
    documents: list[dict[str, Any]] = []
    for attachment in of_type(state, "aws_iam_role_policy_attachment"):
        if attachment["values"]["role"] == name:
            arn = attachment["values"]["policy_arn"]
            assert arn in MANAGED_POLICIES, f"unknown managed policy {arn}: add it to iam_policy.py"
            documents.append(MANAGED_POLICIES[arn])
    documents += [json.loads(p["values"]["policy"]) for p in of_type(state, "aws_iam_role_policy")
                  if p["values"]["role"] in (name, rid)]  # fmt: skip
    for document in documents:
        # Documents from aws_iam_policy_document are mocked (no statements) in the plan.
        for statement in document.get("Statement", []):
            if statement.get("Effect") == "Allow":
                listed = statement.get("Action", [])
                actions += [listed] if isinstance(listed, str) else listed
    return actions


def test_traced_lambda_functions_may_write_to_xray(plan_runs: dict[str, Any]) -> None:
    state = run_state(plan_runs, "defaults_plan_without_an_account")
    functions = of_type(state, "aws_lambda_function")
    traced = [f for f in functions if f["values"]["tracing_config"][0:1] == [{"mode": "Active"}]]
    assert [f["address"] for f in traced] == ["module.api.aws_lambda_function.this"]
    roles = of_type(state, "aws_iam_role")
    for function in traced:
        mine = [r for r in roles if r["values"]["arn"] == function["values"]["role"]]
        assert len(mine) == 1, f"{function['address']}: give its role its own ARN in the mocks"
        allowed = allowed_actions(state, mine[0])
        for action in XRAY_ACTIONS:
            assert any(fnmatch.fnmatchcase(action, a) for a in allowed), (
                f"{function['address']} traces actively; its role {mine[0]['address']} "
                f"may not {action} (Lambda refuses to create the function)"
            )


# ---- finding 3: zones by ID -----------------------------------------------------------------


def test_subnets_avoid_zones_emr_serverless_does_not_support(plan_runs: dict[str, Any]) -> None:
    # The run's zones: names us-east-1a.. map to use1-az3, use1-az6, use1-az1, ... (first is az3).
    state = run_state(plan_runs, "zones_skip_those_emr_serverless_does_not_support")
    subnets = of_type(state, "aws_subnet")
    assert len(subnets) == 6
    for tier in ("public", "private"):
        ids = [s["values"]["availability_zone_id"] for s in subnets
               if s["address"].startswith(f"module.network.aws_subnet.{tier}[")]  # fmt: skip
        assert sorted(ids) == ["use1-az1", "use1-az2", "use1-az4"], (tier, ids)
    emr = one(state, "module.stream.aws_emrserverless_application.this")
    private = {s["values"]["id"] for s in subnets if ".private[" in s["address"]}
    assert set(emr["values"]["network_configuration"][0]["subnet_ids"]) == private


def test_network_module_zone_choice(tmp_path: Path) -> None:
    """modules/network/tests/zones.tftest.hcl, on a copy (init writes a lock file)."""
    module = tmp_path / "network"
    shutil.copytree(NETWORK, module, ignore=shutil.ignore_patterns(".terraform*"))
    result = terraform_test(module, TEST_DIR / "terraform-network")
    assert result["returncode"] == 0, "\n".join(result["errors"])
    assert result["runs"] == {
        "subnets_avoid_use1_az3": "pass",
        "excluded_zone_ids_replace_the_region_table": "pass",
        "us_west_1_skips_usw1_az2": "pass",
        "too_few_supported_zones_fail_with_a_clear_message": "pass",
    }


# ---- finding 6: the dashboard is safe by default ---------------------------------------------


@pytest.mark.parametrize(
    "run",
    [
        "refuses_a_dashboard_without_login_by_default",
        "refuses_a_domain_without_certificate",
        "refuses_a_certificate_without_domain",
        "refuses_https_without_login_even_when_asked",
        "refuses_the_opt_in_next_to_a_login",
    ],
)
def test_login_less_dashboards_are_refused(plan_runs: dict[str, Any], run: str) -> None:
    # An expect_failures run passes only when the plan failed on that variable's validation.
    assert plan_runs["runs"].get(run) == "pass", (run, plan_runs["errors"])


# Plans a user gets refused, without expect_failures: the message must say what is missing.
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/test"
LONG_PREFIX = "nyc-taxi-123456789012-my-team-data-platform"  # + "-prod": 48 characters
REFUSED: dict[str, tuple[dict[str, str | bool], list[str]]] = {
    "no_login": (
        {},
        [
            "Missing: dashboard_certificate_arn and dashboard_domain_name",
            "dashboard_public_without_login = true",
            "anyone who finds the URL",
        ],
    ),
    "domain_only": (
        {"dashboard_domain_name": "taxi.example.com"},
        ["Missing: dashboard_certificate_arn.", "readable by anyone"],
    ),
    "certificate_only": (
        {"dashboard_certificate_arn": CERTIFICATE, "dashboard_public_without_login": True},
        ["without dashboard_domain_name", "/oauth2/idpresponse"],
    ),
    "long_prefix": (
        {"dashboard_public_without_login": True, "name_prefix": LONG_PREFIX},
        ["is 48 characters; at most 42"],
    ),
}


def test_refused_plans_say_what_is_missing(tmp_path: Path) -> None:
    # A copy of the configuration with one test file per refused plan (each stops at its error).
    for part in ("terraform", "contract"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns(".terraform"))
    (tmp_path / "spark").mkdir()
    for name in ("__main__.py", "compact.py"):
        shutil.copy(ROOT / "spark" / name, tmp_path / "spark" / name)
    tests = tmp_path / "terraform" / "envs" / "aws" / "tests"
    plan = (tests / "plan.tftest.hcl").read_text()
    header = plan[: plan.index('\nrun "')]  # the mocks, overrides and common variables
    (tests / "plan.tftest.hcl").unlink()
    for run, (variables, _) in REFUSED.items():
        values = "".join(f"    {k} = {json.dumps(v)}\n" for k, v in variables.items())
        block = f'run "{run}" {{\n  command = plan\n  variables {{\n{values}  }}\n}}\n'
        (tests / f"{run}.tftest.hcl").write_text(f"{header}\n{block}")
    result = terraform_test(tests.parent, TEST_DIR / "terraform-aws-refused")
    assert result["runs"] == dict.fromkeys(REFUSED, "error"), result["errors"]
    for run, (_, phrases) in REFUSED.items():
        detail = " ".join(result["details"].get(run, "").split())
        for phrase in phrases:
            assert phrase in detail, (run, phrase, detail)


def listeners(state: dict[str, Any]) -> dict[int, list[dict[str, Any]]]:
    """port -> the listener's default actions in order."""
    out: dict[int, list[dict[str, Any]]] = {}
    for listener in of_type(state, "aws_lb_listener"):
        actions = listener["values"]["default_action"]
        out[listener["values"]["port"]] = sorted(actions, key=lambda a: a["order"] or 0)
    return out


def test_certificate_and_domain_put_cognito_login_in_front(plan_runs: dict[str, Any]) -> None:
    state = run_state(plan_runs, "https_with_cognito_login")
    by_port = listeners(state)
    assert set(by_port) == {80, 443}
    assert [a["type"] for a in by_port[80]] == ["redirect"]
    assert by_port[80][0]["redirect"][0]["protocol"] == "HTTPS"
    assert [a["type"] for a in by_port[443]] == ["authenticate-cognito", "forward"]
    login = by_port[443][0]["authenticate_cognito"][0]
    client = one(state, "aws_cognito_user_pool_client.dashboard_login[0]")["values"]
    pool = one(state, "aws_cognito_user_pool.this")["values"]
    domain = one(state, "aws_cognito_user_pool_domain.this")["values"]
    assert login["user_pool_client_id"] == client["id"]
    assert login["user_pool_arn"] == pool["arn"]
    assert login["user_pool_domain"] == domain["domain"]
    assert client["callback_urls"] == ["https://taxi.example.com/oauth2/idpresponse"]


@pytest.mark.parametrize(
    "run", ["defaults_plan_without_an_account", "public_dashboard_on_its_own_domain_when_asked"]
)
def test_public_dashboard_only_when_asked(plan_runs: dict[str, Any], run: str) -> None:
    state = run_state(plan_runs, run)
    by_port = listeners(state)
    assert set(by_port) == {80}
    assert [a["type"] for a in by_port[80]] == ["forward"]
    clients = [c["address"] for c in of_type(state, "aws_cognito_user_pool_client")]
    assert not any("dashboard_login" in c for c in clients)


# ---- finding 8: names and the secret's version -----------------------------------------------

ALB_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")
BUCKET_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9.-]{1,61}[a-z0-9])$")
COGNITO_DOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


@pytest.mark.parametrize(
    "run", ["defaults_plan_without_an_account", "long_names_give_valid_alb_names"]
)
def test_derived_names_are_valid(plan_runs: dict[str, Any], run: str) -> None:
    state = run_state(plan_runs, run)
    for kind in ("aws_lb", "aws_lb_target_group"):
        for r in of_type(state, kind):
            assert ALB_NAME.fullmatch(r["values"]["name"]), (r["address"], r["values"]["name"])
    for r in of_type(state, "aws_s3_bucket"):
        assert BUCKET_NAME.fullmatch(r["values"]["bucket"]), r["values"]["bucket"]
    domain = one(state, "aws_cognito_user_pool_domain.this")["values"]["domain"]
    assert COGNITO_DOMAIN.fullmatch(domain) and not re.search("aws|amazon|cognito", domain)


def test_long_alb_names_are_shortened_not_cut(plan_runs: dict[str, Any]) -> None:
    state = run_state(plan_runs, "long_names_give_valid_alb_names")
    name = one(state, "module.dashboard.aws_lb.this")["values"]["name"]
    # "nyc-taxi-123456789012-preprod-1-dash" cut at 32 would end in "-".
    assert len(name) == 32 and name.startswith("nyc-taxi-123456789012-p")
    target_group = one(state, "module.dashboard.aws_lb_target_group.this")["values"]["name"]
    assert target_group == name


@pytest.mark.parametrize(
    "run",
    [
        "rejects_a_too_long_name_prefix",
        "rejects_an_invalid_name_prefix",
        "rejects_a_reserved_word_in_the_name_prefix",
    ],
)
def test_invalid_name_prefixes_are_refused(plan_runs: dict[str, Any], run: str) -> None:
    assert plan_runs["runs"].get(run) == "pass", (run, plan_runs["errors"])


def test_dashboard_task_waits_for_the_secret_value(plan_runs: dict[str, Any]) -> None:
    state = run_state(plan_runs, "defaults_plan_without_an_account")
    task = one(state, "module.dashboard.aws_ecs_task_definition.this")
    assert "aws_secretsmanager_secret_version.dashboard_client" in task["depends_on"]
    secrets = json.loads(task["values"]["container_definitions"])[0]["secrets"]
    version = one(state, "aws_secretsmanager_secret_version.dashboard_client[0]")["values"]
    assert secrets == [{"name": "DASH_OAUTH_CLIENT_SECRET", "valueFrom": version["arn"]}]
