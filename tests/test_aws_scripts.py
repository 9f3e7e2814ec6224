"""terraform/scripts (deploy.sh, destroy.sh, stream.sh) run as they are, against stand-ins.

The `aws`, `terraform` and `docker` on PATH are tests/standins: they record every call and play
what the scripts meet on AWS (EMR Serverless applications STARTED -> STOPPING -> STOPPED, job runs
RUNNING -> CANCELLING -> CANCELLED, the provider refusing to update or delete a started
application, immutable ECR tags). Outputs, resource addresses and ids come from `terraform test`
of the real envs/aws configuration (the session's `tftest`, tests/fixtures/aws_plan.py), so the
scripts read the shapes the real root produces. The scripts run from a copy in a clean git
repository (the image tag is its commit), with DEPLOY_SKIP_BUILD=1 and stand-in artifacts: no
Maven, no network.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import xform_name

from tests.conftest import ROOT

SCRIPTS = ROOT / "terraform" / "scripts"
STREAM_APP, COMPACT_APP = "00streamapp", "00compactapp"
STREAM_ADDR = "module.stream.aws_emrserverless_application.this"
COMPACT_ADDR = "module.maintenance.aws_emrserverless_application.this"
ARTIFACTS = ("spark-job.zip", "pydeps.tar.gz", "probe.zip", "lambda_api.zip")

Call = dict[str, Any]


# ---- the world the stand-ins play ------------------------------------------------------------


def cli_model() -> dict[str, Any]:
    """CLI operation and option names of the services the scripts call, from botocore's model."""
    session = botocore.session.get_session()
    out: dict[str, Any] = {}
    for service in ("emr-serverless", "ecr", "ecs"):
        model = session.get_service_model(service)
        ops = {}
        for name in model.operation_names:
            shape = model.operation_model(name).input_shape
            members = {}
            for member, s in (shape.members if shape is not None else {}).items():
                members["--" + xform_name(member, "-")] = {
                    "member": member,
                    "type": s.type_name,
                    "item": s.member.type_name if s.type_name == "list" else None,
                    # The CLI fills idempotency tokens itself.
                    "required": member in shape.required_members
                    and not s.metadata.get("idempotencyToken"),
                }
            ops[xform_name(name, "-")] = {"operation": name, "members": members}
        out[service] = ops
    return out


def managed_resources(state: dict[str, Any]) -> list[dict[str, Any]]:
    out, todo = [], [state["root_module"]]
    while todo:
        module = todo.pop()
        out += [r for r in module.get("resources", []) if r["mode"] == "managed"]
        todo += module.get("child_modules", [])
    return out


@pytest.fixture(scope="module")
def real_root(tftest: dict[str, Any]) -> dict[str, Any]:
    """Outputs and resources of the defaults run of envs/aws/tests/plan.tftest.hcl.

    The mocked provider gives every application the same id and both repositories the same
    URL: the two applications get ids of their own and the URLs take the repositories' names.
    """
    # Only this run's state is needed (test_terraform_aws.py checks that every run passes).
    state = tftest["states"].get("defaults_plan_without_an_account")
    assert state is not None, "\n".join(tftest["errors"])
    outputs = copy.deepcopy(state["outputs"])
    resources = {r["address"]: r for r in copy.deepcopy(managed_resources(state))}
    assert {STREAM_ADDR, COMPACT_ADDR} <= set(resources), "the two EMR applications moved"
    resources[STREAM_ADDR]["values"]["id"] = STREAM_APP
    resources[COMPACT_ADDR]["values"]["id"] = COMPACT_APP
    stream = outputs["stream_job"]["value"]
    stream["application_id"] = stream["request"]["applicationId"] = STREAM_APP
    outputs["compaction_job"]["value"]["application_id"] = COMPACT_APP
    registry = outputs["ecr_repositories"]["value"]["app"].split("/", 1)[0]
    for key, module in (("app", "producer"), ("dashboard", "dashboard")):
        name = resources[f"module.{module}.aws_ecr_repository.this"]["values"]["name"]
        outputs["ecr_repositories"]["value"][key] = f"{registry}/{name}"
    return {"outputs": outputs, "resources": resources, "cli_model": cli_model()}


class Sandbox:
    """A clean git copy of the scripts, the stand-ins first on PATH, and their shared state."""

    def __init__(self, tmp: Path, root: dict[str, Any]) -> None:
        self.repo = tmp / "repo"
        self.state = tmp / "world.json"
        self.log = tmp / "calls.jsonl"
        shutil.copytree(SCRIPTS, self.repo / "terraform" / "scripts", ignore=_only_shell)
        (self.repo / "terraform" / "envs" / "aws").mkdir(parents=True)
        (self.repo / "terraform" / "envs" / "aws" / "backend.hcl").write_text('bucket = "s"\n')
        git = ["git", "-C", str(self.repo), "-c", "user.name=t", "-c", "user.email=t@t"]
        subprocess.run([*git, "init", "-q"], check=True)
        subprocess.run([*git, "add", "."], check=True)
        subprocess.run([*git, "commit", "-q", "-m", "scripts"], check=True)
        self.tag = subprocess.run(
            [*git, "rev-parse", "--short=12", "HEAD"], check=True, capture_output=True, text=True
        ).stdout.strip()
        build = self.repo / ".local" / "build"  # untracked: the tree stays clean
        build.mkdir(parents=True)
        for name in ARTIFACTS:
            (build / name).write_bytes(b"stand-in artifact")
        bin_dir = tmp / "bin"
        bin_dir.mkdir()
        for tool in ("aws", "terraform", "docker"):
            launcher = bin_dir / tool
            launcher.write_text(
                f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(ROOT)!r})\n"
                f"from tests.standins.{tool} import main\nsys.exit(main(sys.argv[1:]))\n"
            )
            launcher.chmod(0o755)
        mvn = bin_dir / "mvn"  # `need` wants it; with DEPLOY_SKIP_BUILD=1 nothing may call it
        mvn.write_text("#!/bin/sh\necho 'stand-in: mvn must not run' >&2\nexit 1\n")
        mvn.chmod(0o755)
        (tmp / "cli-model.json").write_text(json.dumps(root["cli_model"]))
        self.env = {
            "PATH": f"{bin_dir}:/usr/bin:/bin",  # not /usr/local/bin: no real terraform/docker
            "HOME": str(tmp),
            "TMPDIR": str(tmp),
            "PY": sys.executable,
            "DEPLOY_SKIP_BUILD": "1",
            "DEPLOY_POLL_SECONDS": "0",
            "DEPLOY_WAIT_SECONDS": "60",
            "STANDIN_STATE": str(self.state),
            "STANDIN_LOG": str(self.log),
            "STANDIN_AWS_MODEL": str(tmp / "cli-model.json"),
        }
        changes = [
            {
                "address": addr,
                "type": r["type"],
                "mode": "managed",
                "change": {"actions": ["no-op"], "before": r["values"], "after": r["values"]},
            }
            for addr, r in root["resources"].items()
        ]
        self.write(
            {
                "settle_polls": 3,
                "applications": {
                    STREAM_APP: {"name": "stream", "state": "CREATED", "address": STREAM_ADDR},
                    COMPACT_APP: {"name": "compact", "state": "CREATED", "address": COMPACT_ADDR},
                },
                "job_runs": {},
                "images": {
                    url.split("/", 1)[1]: []
                    for url in root["outputs"]["ecr_repositories"]["value"].values()
                },
                "local_images": [],
                "tasks": {},
                "outputs": root["outputs"],
                "resource_changes": changes,
                "destroyed": False,
            }
        )
        self.stream_name = root["outputs"]["stream_job"]["value"]["job_name"]

    def read(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.state.read_text())
        return loaded

    def write(self, world: dict[str, Any]) -> None:
        self.state.write_text(json.dumps(world, indent=1))

    def edit(self, change: Callable[[dict[str, Any]], None]) -> None:
        world = self.read()
        change(world)
        self.write(world)

    def running(self, compaction_run: bool = True, state: str = "RUNNING") -> None:
        """Both applications STARTED, the stream's run (in `state`) and a compaction run."""

        def start(w: dict[str, Any]) -> None:
            for app in w["applications"].values():
                app["state"] = "STARTED"
            w["job_runs"]["00oldstream"] = {
                "applicationId": STREAM_APP,
                "name": self.stream_name,
                "mode": "STREAMING",
                "state": state,
            }
            if compaction_run:
                w["job_runs"]["00compactrun"] = {
                    "applicationId": COMPACT_APP,
                    "name": "nyc-taxi-prod-compact",
                    "state": "RUNNING",
                }

        self.edit(start)

    def plan_changes(self, address: str, actions: list[str]) -> None:
        def plan(w: dict[str, Any]) -> None:
            for rc in w["resource_changes"]:
                if rc["address"] == address:
                    rc["change"]["actions"] = actions

        self.edit(plan)

    def images_pushed(self) -> None:
        def push(w: dict[str, Any]) -> None:
            for tags in w["images"].values():
                tags.append(self.tag)

        self.edit(push)

    def run(self, script: str, *args: str) -> subprocess.CompletedProcess[str]:
        self.log.write_text("")
        return subprocess.run(
            ["bash", str(self.repo / "terraform" / "scripts" / script), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    def calls(self) -> list[Call]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]


def _only_shell(folder: str, names: list[str]) -> list[str]:
    return [n for n in names if not n.endswith(".sh")]


@pytest.fixture
def sandbox(tmp_path: Path, real_root: dict[str, Any]) -> Sandbox:
    return Sandbox(tmp_path, real_root)


# ---- reading the call log --------------------------------------------------------------------


def emr(call: Call, operation: str, app: str | None = None) -> bool:
    argv = call["argv"]
    return (
        call["tool"] == "aws"
        and argv[:2] == ["emr-serverless", operation]
        and (app is None or option(argv, "--application-id") == app)
    )


def emr_call(operation: str, app: str) -> Callable[[Call], bool]:
    return lambda c: emr(c, operation, app)


def option(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else None


def tf(call: Call, command: str) -> bool:
    args = [a for a in call["argv"] if not a.startswith("-chdir=")]
    return call["tool"] == "terraform" and args[:1] == [command]


def first(calls: list[Call], match: Callable[[Call], bool]) -> int:
    return next((i for i, c in enumerate(calls) if match(c)), -1)


def seen_stopped(calls: list[Call], app: str) -> int:
    """Index of the first get-application that answered STOPPED for `app` (-1: never)."""

    def stopped(c: Call) -> bool:
        result = c["result"] or {}
        return emr(c, "get-application", app) and result["application"]["state"] == "STOPPED"

    return first(calls, stopped)


def explain(result: subprocess.CompletedProcess[str], calls: list[Call]) -> str:
    shown = "\n".join(f"{c['tool']} {' '.join(c['argv'])[:150]} -> {c['rc']}" for c in calls)
    return f"rc={result.returncode}\nstderr:\n{result.stderr[-3000:]}\ncalls:\n{shown}"


# ---- destroy ---------------------------------------------------------------------------------


def test_destroy_stops_and_waits_for_both_applications_before_terraform_destroy(
    sandbox: Sandbox,
) -> None:
    sandbox.running()
    result = sandbox.run("destroy.sh", "--yes")
    calls = sandbox.calls()
    assert result.returncode == 0, explain(result, calls)
    destroy = first(calls, lambda c: tf(c, "destroy"))
    assert destroy > 0, explain(result, calls)
    for app in (STREAM_APP, COMPACT_APP):
        cancel = first(calls, emr_call("cancel-job-run", app))
        stop = first(calls, emr_call("stop-application", app))
        stopped = seen_stopped(calls, app)
        assert 0 <= cancel < stop < stopped < destroy, explain(result, calls)
    world = sandbox.read()
    assert {a["state"] for a in world["applications"].values()} == {"TERMINATED"}
    assert {r["state"] for r in world["job_runs"].values()} == {"CANCELLED"}


def test_destroy_gives_up_with_a_clear_error_when_an_application_does_not_stop(
    sandbox: Sandbox,
) -> None:
    sandbox.running(compaction_run=False)
    sandbox.edit(lambda w: w["applications"][COMPACT_APP].update(stuck=True))
    sandbox.env["DEPLOY_WAIT_SECONDS"] = "5"
    result = sandbox.run("destroy.sh", "--yes")
    calls = sandbox.calls()
    assert result.returncode != 0, explain(result, calls)
    assert f"application {COMPACT_APP} still STOPPING" in result.stderr, result.stderr
    assert first(calls, lambda c: tf(c, "destroy")) == -1, explain(result, calls)


# ---- deploy: upgrades and re-runs ------------------------------------------------------------


def test_upgrade_that_changes_the_application_stops_it_before_apply_and_restarts_the_stream(
    sandbox: Sandbox,
) -> None:
    sandbox.running(compaction_run=False)
    sandbox.plan_changes(STREAM_ADDR, ["update"])
    result = sandbox.run("deploy.sh")
    calls = sandbox.calls()
    assert result.returncode == 0, explain(result, calls)
    apply = first(calls, lambda c: tf(c, "apply") and not any("-target" in a for a in c["argv"]))
    cancel = first(calls, lambda c: emr(c, "cancel-job-run", STREAM_APP))
    stop = first(calls, lambda c: emr(c, "stop-application", STREAM_APP))
    start = first(calls, lambda c: emr(c, "start-job-run"))
    assert 0 <= cancel < stop < seen_stopped(calls, STREAM_APP) < apply < start, explain(
        result, calls
    )
    # The compaction application is not in the plan: left alone.
    assert first(calls, lambda c: emr(c, "stop-application", COMPACT_APP)) == -1
    world = sandbox.read()
    runs = [r for r in world["job_runs"].values() if r["name"] == sandbox.stream_name]
    assert sorted(r["state"] for r in runs) == ["CANCELLED", "SUBMITTED"]
    assert world["applications"][STREAM_APP]["state"] == "STARTED"


def test_replacing_the_compaction_application_stops_it_first(sandbox: Sandbox) -> None:
    sandbox.running()
    sandbox.plan_changes(COMPACT_ADDR, ["delete", "create"])
    result = sandbox.run("deploy.sh")
    calls = sandbox.calls()
    assert result.returncode == 0, explain(result, calls)
    apply = first(calls, lambda c: tf(c, "apply") and not any("-target" in a for a in c["argv"]))
    assert 0 <= seen_stopped(calls, COMPACT_APP) < apply, explain(result, calls)
    assert first(calls, lambda c: emr(c, "stop-application", STREAM_APP)) == -1


def test_unchanged_plan_stops_no_application(sandbox: Sandbox) -> None:
    sandbox.running()
    result = sandbox.run("deploy.sh")
    calls = sandbox.calls()
    assert result.returncode == 0, explain(result, calls)
    assert first(calls, lambda c: emr(c, "stop-application")) == -1, explain(result, calls)
    # The stream is still upgraded (cancel, wait, start); the compaction run is left to finish.
    assert first(calls, lambda c: emr(c, "cancel-job-run", COMPACT_APP)) == -1
    assert sandbox.read()["job_runs"]["00compactrun"]["state"] == "RUNNING"
    assert first(calls, lambda c: emr(c, "start-job-run")) > 0


def test_second_deploy_of_the_same_commit_builds_and_pushes_no_image(sandbox: Sandbox) -> None:
    first_run = sandbox.run("deploy.sh")
    calls = sandbox.calls()
    assert first_run.returncode == 0, explain(first_run, calls)
    pushed = [c["argv"][1] for c in calls if c["tool"] == "docker" and c["argv"][0] == "push"]
    assert sorted(pushed) == sorted(
        f"{url}:{sandbox.tag}"
        for url in sandbox.read()["outputs"]["ecr_repositories"]["value"].values()
    )
    again = sandbox.run("deploy.sh")
    calls = sandbox.calls()
    assert again.returncode == 0, explain(again, calls)
    assert [c["argv"] for c in calls if c["tool"] == "docker"] == [], explain(again, calls)
    assert again.stderr.count("in the registry already: not built again") == 2


def test_deploy_builds_only_the_image_that_is_missing(sandbox: Sandbox) -> None:
    app_repo = sandbox.read()["outputs"]["ecr_repositories"]["value"]["app"]
    sandbox.edit(lambda w: w["images"][app_repo.split("/", 1)[1]].append(sandbox.tag))
    result = sandbox.run("deploy.sh")
    calls = sandbox.calls()
    assert result.returncode == 0, explain(result, calls)
    pushed = [c["argv"][1] for c in calls if c["tool"] == "docker" and c["argv"][0] == "push"]
    assert len(pushed) == 1 and not pushed[0].startswith(app_repo + ":"), explain(result, calls)


# ---- stream.sh -------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["RUNNING", "PENDING", "QUEUED"])
def test_stream_start_cancels_an_active_run_and_waits_before_starting(
    sandbox: Sandbox, state: str
) -> None:
    sandbox.running(compaction_run=False, state=state)
    result = sandbox.run("stream.sh", "start")
    calls = sandbox.calls()
    assert result.returncode == 0, explain(result, calls)
    cancel = first(calls, lambda c: emr(c, "cancel-job-run", STREAM_APP))

    def ended(c: Call) -> bool:
        return emr(c, "get-job-run") and c["result"]["jobRun"]["state"] == "CANCELLED"

    start = first(calls, lambda c: emr(c, "start-job-run"))
    assert 0 <= cancel < first(calls, ended) < start, explain(result, calls)
    assert calls[start]["result"]["applicationId"] == STREAM_APP
    request = option(calls[start]["argv"], "--cli-input-json")
    assert request is not None and request.startswith("file://")


def test_stream_stop_and_status(sandbox: Sandbox) -> None:
    sandbox.running(compaction_run=False)
    result = sandbox.run("stream.sh", "stop")
    assert result.returncode == 0, explain(result, sandbox.calls())
    assert sandbox.read()["job_runs"]["00oldstream"]["state"] == "CANCELLED"
    status = sandbox.run("stream.sh", "status")
    assert status.returncode == 0, explain(status, sandbox.calls())
    assert f"application {STREAM_APP}: STARTED" in status.stderr
    assert "00oldstream" in status.stdout


# ---- the stand-ins refuse what AWS refuses ---------------------------------------------------


def test_standins_refuse_what_aws_refuses(sandbox: Sandbox) -> None:
    sandbox.running()

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, env=sandbox.env, capture_output=True, text=True)

    busy = run("aws", "emr-serverless", "stop-application", "--application-id", COMPACT_APP)
    assert busy.returncode == 254 and "must be completed or cancelled" in busy.stderr
    typo = run("aws", "emr-serverless", "get-application", "--application_id", STREAM_APP)
    assert typo.returncode == 252
    destroy = run("terraform", f"-chdir={sandbox.repo}", "destroy", "-auto-approve")
    assert destroy.returncode == 1 and "Current status: STARTED" in destroy.stderr
    repo = sandbox.read()["outputs"]["ecr_repositories"]["value"]["app"]
    sandbox.images_pushed()
    run("docker", "build", "-t", f"{repo}:{sandbox.tag}", ".")
    push = run("docker", "push", f"{repo}:{sandbox.tag}")
    assert push.returncode == 1 and "immutable" in push.stderr
