"""Stand-in of the `aws` CLI: EMR Serverless job runs and applications, ECR images, ECS tasks.

Options are checked against botocore's model of each operation (STANDIN_AWS_MODEL, written by
the test from botocore: unknown options and missing required ones fail as in the CLI), and
--query/--output are applied as the CLI does. Service errors exit 254 with the CLI's message.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jmespath

from tests.standins.world import ACTIVE, ENDED, change, fail, record, settle, world

GLOBAL_OPTIONS = {"--query", "--output", "--region", "--profile", "--endpoint-url"}
GLOBAL_FLAGS = {"--no-cli-pager", "--no-paginate", "--debug"}
ACCOUNT = "123456789012"
APP_ARN = f"arn:aws:emr-serverless:us-east-1:{ACCOUNT}:/applications"


class ApiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def now() -> str:
    return datetime.now(UTC).isoformat()


def model() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(Path(os.environ["STANDIN_AWS_MODEL"]).read_text())
    return loaded


def parse_value(spec: dict[str, Any], values: list[str]) -> Any:
    kind = spec["type"]
    if kind == "list":
        return [parse_value({"type": spec["item"], "item": None}, [v]) for v in values]
    if len(values) != 1:
        raise SystemExit(fail(f"aws: error: expected one value for a {kind}, got {values}", 252))
    raw = values[0]
    if kind == "integer":
        return int(raw)
    if kind == "boolean":
        return raw.lower() == "true"
    if kind in ("structure", "map"):
        if raw.lstrip().startswith("{"):
            return json.loads(raw)
        return dict(pair.split("=", 1) for pair in raw.split(","))  # shorthand k=v,k2=v2
    return raw


def parse(
    service: str, operation: str, args: list[str]
) -> tuple[str, dict[str, Any], dict[str, str]]:
    ops = model().get(service)
    if ops is None or operation not in ops:
        raise SystemExit(fail(f"aws: error: argument operation: Invalid choice: {operation}", 252))
    spec = ops[operation]
    params: dict[str, Any] = {}
    options: dict[str, str] = {}
    i = 0
    while i < len(args):
        name = args[i]
        if not name.startswith("--"):
            raise SystemExit(fail(f"aws: error: unexpected argument {name}", 252))
        j = i + 1
        while j < len(args) and not args[j].startswith("--"):
            j += 1
        values = args[i + 1 : j]
        i = j
        if name in GLOBAL_FLAGS:
            continue
        if name in GLOBAL_OPTIONS:
            options[name] = values[0]
        elif name == "--cli-input-json":
            raw = values[0]
            text = (
                Path(raw.removeprefix("file://")).read_text() if raw.startswith("file://") else raw
            )
            given = json.loads(text)
            members = {m["member"] for m in spec["members"].values()}
            unknown = sorted(set(given) - members)
            if unknown:
                raise SystemExit(fail(f"Parameter validation failed: unknown keys {unknown}", 252))
            params = {**given, **params}
        elif name in spec["members"]:
            member = spec["members"][name]
            params[member["member"]] = parse_value(member, values)
        else:
            raise SystemExit(fail(f"aws: error: Unknown options: {name}", 252))
    missing = [
        cli for cli, m in spec["members"].items() if m["required"] and m["member"] not in params
    ]
    if missing:
        raise SystemExit(fail(f"aws: error: the following arguments are required: {missing}", 252))
    return spec["operation"], params, options


def to_text(value: Any) -> str:
    """The CLI's text output: scalars as they are, a list's scalars tab-separated, rows per line."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, list):
        if all(not isinstance(v, dict | list) for v in value):
            return "\t".join(to_text(v) for v in value)
        return "\n".join(to_text(v) for v in value)
    if isinstance(value, dict):
        return "\t".join(to_text(v) for v in value.values() if not isinstance(v, dict | list))
    return str(value)


# ---- EMR Serverless ------------------------------------------------------------------------


def application(w: dict[str, Any], app_id: str) -> dict[str, Any]:
    app: dict[str, Any] | None = w["applications"].get(app_id)
    if app is None or app["state"] == "TERMINATED":
        raise ApiError("ResourceNotFoundException", f"Application {app_id} does not exist")
    return app


def job_run(w: dict[str, Any], app_id: str, run_id: str) -> dict[str, Any]:
    run: dict[str, Any] | None = w["job_runs"].get(run_id)
    if run is None or run["applicationId"] != app_id:
        raise ApiError("ResourceNotFoundException", f"Job run {run_id} does not exist")
    return run


def run_view(run_id: str, run: dict[str, Any]) -> dict[str, Any]:
    return {
        "applicationId": run["applicationId"],
        "jobRunId": run_id,
        "id": run_id,
        "name": run["name"],
        "mode": run.get("mode", "BATCH"),
        "arn": f"{APP_ARN}/{run['applicationId']}/jobruns/{run_id}",
        "state": run["state"],
        "stateDetails": "",
        "createdAt": run.get("createdAt", now()),
        "updatedAt": now(),
        "releaseLabel": "emr-spark-8.0.0",
        "type": "Spark",
    }


def get_application(w: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
    app = application(w, p["applicationId"])
    settle(app, w["settle_polls"])
    return {
        "application": {
            "applicationId": p["applicationId"],
            "name": app["name"],
            "state": app["state"],
            "type": "Spark",
            "autoStartConfiguration": {"enabled": True},
        }
    }


def stop_application(w: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
    app = application(w, p["applicationId"])
    if app["state"] not in ("STARTING", "STARTED"):
        raise ApiError(
            "ValidationException",
            "Application cannot be STOPPED. Applications must be "
            f"in one of the following statuses: [STARTING, STARTED]. Current: {app['state']}",
        )
    busy = [
        i
        for i, r in w["job_runs"].items()
        if r["applicationId"] == p["applicationId"] and r["state"] in ACTIVE
    ]
    if busy:
        raise ApiError(
            "ValidationException",
            "All scheduled and running jobs must be completed or "
            f"cancelled before stopping an application: {busy}",
        )
    change(app, "STOPPING")
    return {}


def list_job_runs(w: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
    application(w, p["applicationId"])
    states = p.get("states")
    runs = [
        run_view(i, r)
        for i, r in w["job_runs"].items()
        if r["applicationId"] == p["applicationId"] and (not states or r["state"] in states)
    ]
    return {"jobRuns": runs[: p.get("maxResults", 50)]}


def get_job_run(w: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
    run = job_run(w, p["applicationId"], p["jobRunId"])
    settle(run, w["settle_polls"])
    return {"jobRun": run_view(p["jobRunId"], run)}


def cancel_job_run(w: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
    run = job_run(w, p["applicationId"], p["jobRunId"])
    if run["state"] in ENDED or run["state"] == "CANCELLING":
        raise ApiError("ValidationException", f"Job run {p['jobRunId']} is {run['state']}")
    change(run, "CANCELLING")
    return {"applicationId": p["applicationId"], "jobRunId": p["jobRunId"]}


def start_job_run(w: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
    app = application(w, p["applicationId"])
    if app["state"] in ("CREATING", "STOPPING"):
        raise ApiError("ValidationException", f"Application is {app['state']}")
    change(app, "STARTED")  # auto-start: a job run starts a CREATED or STOPPED application
    run_id = "00run" + uuid.uuid4().hex[:10]
    w["job_runs"][run_id] = {
        "applicationId": p["applicationId"],
        "name": p.get("name", ""),
        "mode": p.get("mode", "BATCH"),
        "state": "SUBMITTED",
        "createdAt": now(),
    }
    return {
        "applicationId": p["applicationId"],
        "jobRunId": run_id,
        "arn": run_view(run_id, w["job_runs"][run_id])["arn"],
    }


# ---- ECR and ECS ---------------------------------------------------------------------------


def describe_images(w: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
    repo = p["repositoryName"]
    if repo not in w["images"]:
        raise ApiError(
            "RepositoryNotFoundException",
            f"The repository with name '{repo}' does not exist in the registry with id '{ACCOUNT}'",
        )
    found = []
    for image_id in p.get("imageIds", []):
        tag = image_id.get("imageTag")
        if tag not in w["images"][repo]:
            raise ApiError(
                "ImageNotFoundException",
                f"The image with imageId {{imageDigest:'null', "
                f"imageTag:'{tag}'}} does not exist within the repository with name "
                f"'{repo}' in the registry with id '{ACCOUNT}'",
            )
        found.append(
            {
                "registryId": ACCOUNT,
                "repositoryName": repo,
                "imageTags": [tag],
                "imageDigest": "sha256:" + uuid.uuid5(uuid.NAMESPACE_URL, tag).hex,
            }
        )
    return {"imageDetails": found}


def run_task(w: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
    arn = (
        f"arn:aws:ecs:us-east-1:{ACCOUNT}:task/{p['cluster'].rsplit('/', 1)[-1]}/{uuid.uuid4().hex}"
    )
    w["tasks"][arn] = {"exitCode": w.get("task_exit_code", 0)}
    return {"tasks": [{"taskArn": arn, "lastStatus": "PROVISIONING"}], "failures": []}


def describe_tasks(w: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
    tasks = [
        {
            "taskArn": t,
            "lastStatus": "STOPPED",
            "containers": [{"name": "app", "exitCode": w["tasks"][t]["exitCode"]}],
        }
        for t in p["tasks"]
        if t in w["tasks"]
    ]
    return {"tasks": tasks, "failures": []}


HANDLERS: dict[tuple[str, str], Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]] = {
    ("emr-serverless", "get-application"): get_application,
    ("emr-serverless", "stop-application"): stop_application,
    ("emr-serverless", "list-job-runs"): list_job_runs,
    ("emr-serverless", "get-job-run"): get_job_run,
    ("emr-serverless", "cancel-job-run"): cancel_job_run,
    ("emr-serverless", "start-job-run"): start_job_run,
    ("ecr", "describe-images"): describe_images,
    ("ecs", "run-task"): run_task,
    ("ecs", "describe-tasks"): describe_tasks,
}


def call(argv: list[str]) -> tuple[int, Any]:
    if len(argv) < 2:
        return fail("usage: aws <service> <operation> [options]", 252), None
    service, operation, args = argv[0], argv[1], argv[2:]
    if (service, operation) == ("ecr", "get-login-password"):
        print("stand-in-ecr-password")
        return 0, None
    if (service, operation) == ("ecs", "wait"):
        # `aws ecs wait tasks-stopped --cluster C --tasks T`: the stand-in's tasks end at once.
        return (0, None) if args[:1] == ["tasks-stopped"] else (fail("unknown waiter", 252), None)
    op_name, params, options = parse(service, operation, args)
    handler = HANDLERS.get((service, operation))
    if handler is None:
        return fail(f"stand-in: aws {service} {operation} is not played"), None
    try:
        with world() as w:
            response = handler(w, params)
    except ApiError as e:
        print(
            f"\nAn error occurred ({e.code}) when calling the {op_name} operation: {e}",
            file=sys.stderr,
        )
        return 254, {"error": e.code}
    shown = jmespath.search(options["--query"], response) if "--query" in options else response
    fmt = options.get("--output", "json")
    if fmt == "text":
        print(to_text(shown))
    elif shown is not None or fmt == "json":
        print(json.dumps(shown, indent=4))
    return 0, response


def main(argv: list[str]) -> int:
    rc, result = 1, None
    try:
        rc, result = call(argv)
    except SystemExit as e:
        rc = int(e.code or 0)
    finally:
        record("aws", argv, rc, result)
    return rc
