"""``python -m ops smoke``: after a deploy, do trips make it from the producer to the API and is
the dashboard served (behind its login when it has one)?

How it recognises its own trips: it picks a random past day whose ``/v1/summary`` counts zero,
backfills N synthetic trips into that day (``producer synthetic --start/--end``: dropoffs in
11:00-13:00, so every pickup falls inside the day), and waits until the summary over the day
counts exactly N. More than N means the day was not its own: a FAIL, never a guess.

In AWS the trips come from the producer ECS task (run-task with a command override); against
the twin, from ``python -m producer synthetic`` here. Endpoints: SMOKE_* env vars, else
``terraform output`` of envs/aws.
"""

from __future__ import annotations

import json
import random
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import requests
from pydantic import SecretStr

from ops.config import ROOT, SmokeSettings
from ops.report import Report

FIRST_DAY = date(2021, 1, 1)  # inside Athena's partition projection range (2020-)
DAYS = 4 * 365


class SmokeError(Exception):
    pass


@dataclass
class Target:
    api_url: str
    dashboard_url: str | None
    dashboard_login: bool | None
    outputs: dict[str, Any]
    region: str | None = None  # of the ECS/Secrets Manager calls


def terraform_outputs(s: SmokeSettings) -> dict[str, Any]:
    proc = subprocess.run(
        ["terraform", f"-chdir={s.terraform_dir / 'envs' / 'aws'}", "output", "-json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode != 0:
        raise SmokeError(f"terraform output failed (deployed? initialised?): {proc.stderr[-500:]}")
    return {k: v["value"] for k, v in json.loads(proc.stdout or "{}").items()}


def resolve(s: SmokeSettings) -> Target:
    outputs: dict[str, Any] = {}
    if s.api_url is None or s.dashboard_url is None or s.producer == "ecs":
        outputs = terraform_outputs(s)
    api = s.api_url or outputs.get("api_url")
    if not api:
        raise SmokeError("no API URL: set SMOKE_API_URL or deploy first (terraform output api_url)")
    dash = s.dashboard_url if s.dashboard_url is not None else outputs.get("dashboard_url")
    login, region = s.dashboard_login, s.region
    if s.producer == "ecs" and (login is None or region is None):
        from ops.config import CheckSettings
        from ops.tfconfig import load

        c = CheckSettings(terraform_dir=s.terraform_dir)
        cfg = load(s.terraform_dir, c.tfvars_path if c.tfvars_path.exists() else None)
        if login is None:
            login = bool(
                cfg.root["dashboard_certificate_arn"] and cfg.root["dashboard_domain_name"]
            )
        region = region or str(cfg.root["region"])
    return Target(str(api).rstrip("/"), dash or None, login, outputs, region)


# ---- the API ---------------------------------------------------------------------------------


class Api:
    def __init__(self, s: SmokeSettings, url: str) -> None:
        self.url, self.s = url, s
        self.http = requests.Session()
        self.http.trust_env = not url.startswith("http://127.0.0.1")
        self.token: Any = None  # streamlit_app.api.ClientCredentials once the API asks for one

    def use_token(self, token_url: str, client_id: str, secret: str, scope: str | None) -> None:
        # The dashboard's own token code: the smoke signs in exactly as the dashboard does.
        from streamlit_app.api import ClientCredentials
        from streamlit_app.config import DashSettings

        dash = DashSettings(
            api_url=self.url,
            oauth_token_url=token_url,
            oauth_client_id=client_id,
            oauth_client_secret=SecretStr(secret),
            oauth_scope=scope,
            api_timeout_s=self.s.http_timeout_s,
        )
        self.token = ClientCredentials(dash, self.http)

    def get(self, path: str, **params: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token.token()}"} if self.token else {}
        return self.http.get(
            f"{self.url}{path}", params=params, headers=headers, timeout=self.s.http_timeout_s
        )

    def summary_trips(self, day: date, bust: int = 0) -> int:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        # The API caches equal queries for cache_ttl_s: a different end each poll (seconds into
        # the next day, which holds nothing) makes every poll a fresh query.
        end = start + timedelta(days=1, seconds=bust)
        r = self.get("/v1/summary", start=start.isoformat(), end=end.isoformat())
        if r.status_code != 200:
            raise SmokeError(f"/v1/summary answered {r.status_code}: {r.text[:300]}")
        return int(r.json()["trips"])


def oauth_from_dashboard_task(t: Target, ecs: Any = None, sm: Any = None) -> tuple[str, ...]:
    """Token URL, client id, secret and scope as the dashboard's task gets them: its task
    definition's DASH_OAUTH_* environment and the client secret from Secrets Manager."""
    import boto3

    ecs_out = t.outputs["ecs"]
    ecs = ecs or boto3.client("ecs", region_name=t.region)
    svc = ecs.describe_services(
        cluster=ecs_out["cluster"], services=[ecs_out["dashboard_service"]]
    )["services"][0]
    task = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
    container = task["containerDefinitions"][0]
    env = {e["name"]: e["value"] for e in container.get("environment", [])}
    secrets = {x["name"]: x["valueFrom"] for x in container.get("secrets", [])}
    sm = sm or boto3.client("secretsmanager", region_name=t.region)
    secret = sm.get_secret_value(SecretId=secrets["DASH_OAUTH_CLIENT_SECRET"])["SecretString"]
    return (
        env["DASH_OAUTH_TOKEN_URL"],
        env["DASH_OAUTH_CLIENT_ID"],
        str(secret),
        env.get("DASH_OAUTH_SCOPE", ""),
    )


def connect(s: SmokeSettings, t: Target, report: Report) -> Api | None:
    api = Api(s, t.api_url)
    started = time.monotonic()
    try:
        health = api.get("/health")
        if health.status_code != 200:
            raise SmokeError(f"/health answered {health.status_code}: {health.text[:300]}")
        status = api.get("/v1/status")
        if status.status_code == 401:
            if s.oauth_token_url and s.oauth_client_id and s.oauth_client_secret:
                creds: tuple[str, ...] = (
                    s.oauth_token_url,
                    s.oauth_client_id,
                    s.oauth_client_secret.get_secret_value(),
                    s.oauth_scope or "",
                )
            elif s.producer == "ecs":
                creds = oauth_from_dashboard_task(t)
            else:
                raise SmokeError("the API wants a token (401): set SMOKE_OAUTH_* settings")
            api.use_token(creds[0], creds[1], creds[2], creds[3] or None)
            status = api.get("/v1/status")
        if status.status_code != 200:
            raise SmokeError(f"/v1/status answered {status.status_code}: {status.text[:300]}")
    except (SmokeError, requests.RequestException, KeyError, IndexError) as exc:
        report.add("FAIL", "api", f"{t.api_url}: {exc}", time.monotonic() - started)
        return None
    except Exception as exc:  # e.g. the token request (streamlit_app.api.ApiError), boto3
        report.add("FAIL", "api", f"{t.api_url}: {type(exc).__name__}: {exc}")
        return None
    how = "with a Cognito client-credentials token" if api.token else "without a token"
    report.add("PASS", "api", f"{t.api_url} answers {how}", time.monotonic() - started)
    return api


def pick_day(api: Api, rng: random.Random) -> date:
    for _ in range(8):
        day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        if api.summary_trips(day) == 0:
            return day
    raise SmokeError("8 random days between 2021 and 2024 all hold trips: set SMOKE_SEED")


# ---- sending -------------------------------------------------------------------------------


def producer_args(s: SmokeSettings, day: date, seed: int) -> list[str]:
    start = datetime(day.year, day.month, day.day, 11, tzinfo=UTC)
    return [
        "synthetic",
        "--count",
        str(s.trips),
        "--start",
        start.isoformat(),
        "--end",
        (start + timedelta(hours=2)).isoformat(),
        "--seed",
        str(seed),
    ]


def send_local(s: SmokeSettings, args: list[str]) -> str:
    if not s.bootstrap:
        raise SmokeError("SMOKE_PRODUCER=local needs SMOKE_BOOTSTRAP (the broker)")
    cmd = [sys.executable, "-m", "producer", *args, "--bootstrap", s.bootstrap]
    proc = subprocess.run(
        [*cmd, "--topic", s.topic, "--no-progress"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=s.timeout_s,
    )
    if proc.returncode != 0:
        raise SmokeError(f"producer exited {proc.returncode}: {proc.stderr[-1000:]}")
    return "python -m producer synthetic (local)"


def send_ecs(s: SmokeSettings, t: Target, args: list[str], ecs: Any = None) -> str:
    """The deployed producer task with the smoke's arguments instead of its usual command:
    cluster, task definition and network from the `ecs.run_producer_command` output."""
    import boto3

    outputs = t.outputs
    words = shlex.split(outputs["ecs"]["run_producer_command"])
    opt = {words[i]: words[i + 1] for i in range(len(words) - 1) if words[i].startswith("--")}
    ecs = ecs or boto3.client("ecs", region_name=t.region)
    run = ecs.run_task(
        cluster=opt["--cluster"],
        taskDefinition=opt["--task-definition"],
        launchType="FARGATE",
        networkConfiguration=json.loads(opt["--network-configuration"]),
        overrides={
            "containerOverrides": [
                {"name": "producer", "command": ["python", "-m", "producer", *args]}
            ]
        },
    )
    if run.get("failures"):
        raise SmokeError(f"ecs run-task failed: {run['failures']}")
    arn = run["tasks"][0]["taskArn"]
    ecs.get_waiter("tasks_stopped").wait(
        cluster=opt["--cluster"],
        tasks=[arn],
        WaiterConfig={"Delay": 6, "MaxAttempts": int(s.timeout_s / 6) + 1},
    )
    task = ecs.describe_tasks(cluster=opt["--cluster"], tasks=[arn])["tasks"][0]
    code = task["containers"][0].get("exitCode")
    if code != 0:
        raise SmokeError(
            f"producer task {arn} exited {code} ({task.get('stoppedReason')}); logs: "
            f"CloudWatch {outputs['ecs'].get('producer_log_group')}"
        )
    return f"ECS task {arn.rsplit('/', 1)[-1]}"


# ---- waiting -------------------------------------------------------------------------------


def _last_batch(api: Api) -> str:
    try:
        body = api.get("/v1/status").json()
    except (requests.RequestException, ValueError):
        return "unknown (/v1/status failed)"
    last = body.get("last_batch") or {}
    if not last:
        return "none: the stream has never written a batch"
    keys = ("batch_id", "timestamp", "batch_time", "written_at")
    return ", ".join(f"{k}={last[k]}" for k in keys if k in last) or json.dumps(last)[:200]


def wait_for_trips(s: SmokeSettings, api: Api, day: date, report: Report) -> None:
    started = time.monotonic()
    seen, polls = 0, 0
    while True:
        polls += 1
        try:
            seen = api.summary_trips(day, bust=polls)
        except (SmokeError, requests.RequestException) as exc:
            if time.monotonic() - started > s.timeout_s:
                report.add("FAIL", "trips in the API", str(exc), time.monotonic() - started)
                return
        if seen == s.trips:
            report.add(
                "PASS",
                "trips in the API",
                f"/v1/summary counts all {s.trips} trips of {day}",
                time.monotonic() - started,
            )
            return
        if seen > s.trips:
            report.add(
                "FAIL",
                "trips in the API",
                f"{seen} trips on {day}, {s.trips} sent: the day was not the smoke's own",
                time.monotonic() - started,
            )
            return
        if time.monotonic() - started + s.poll_s > s.timeout_s:
            report.add(
                "FAIL",
                "trips in the API",
                f"after {time.monotonic() - started:.0f} s (timeout {s.timeout_s:g} s) "
                f"/v1/summary counts {seen} of {s.trips} trips sent "
                f"for {day}; the stream's last batch: {_last_batch(api)}. Is the stream "
                "running (make stream-status; logs in its CloudWatch group)?",
                time.monotonic() - started,
            )
            return
        time.sleep(s.poll_s)


def check_dashboard(s: SmokeSettings, t: Target, report: Report) -> None:
    if not t.dashboard_url:
        report.add("SKIP", "dashboard", "no dashboard URL configured (SMOKE_DASHBOARD_URL)")
        return
    url = t.dashboard_url.rstrip("/")
    http = requests.Session()
    http.trust_env = not url.startswith("http://127.0.0.1")
    started = time.monotonic()
    last = ""
    while time.monotonic() - started < s.timeout_s:
        try:
            r = http.get(url + "/", allow_redirects=False, timeout=s.http_timeout_s)
            loc = r.headers.get("Location", "")
            if (
                r.status_code in (301, 302, 303, 307, 308)
                and loc.startswith("https://")
                and ("/oauth2/authorize" not in loc)
            ):
                r = http.get(loc, allow_redirects=False, timeout=s.http_timeout_s)  # HTTP->HTTPS
                loc = r.headers.get("Location", "")
            if r.status_code in (302, 303, 307) and "/oauth2/authorize" in loc:
                seen = "login"
            elif r.status_code == 200 and "streamlit" in r.text.lower():
                health = http.get(url + "/_stcore/health", timeout=s.http_timeout_s)
                seen = "page" if health.status_code == 200 else ""
                last = f"page served, /_stcore/health {health.status_code}"
            else:
                seen, last = "", f"HTTP {r.status_code} {loc}".strip()
        except requests.RequestException as exc:
            seen, last = "", f"{type(exc).__name__}: {exc}"
        if seen:
            took = time.monotonic() - started
            want = {True: "login", False: "page", None: seen}[t.dashboard_login]
            if seen != want:
                report.add(
                    "FAIL",
                    "dashboard",
                    f"{url} serves the {seen} but the configuration says {want}",
                    took,
                )
            elif seen == "login":
                report.add("PASS", "dashboard", f"{url} redirects to the Cognito login", took)
            else:
                report.add("PASS", "dashboard", f"{url} serves the dashboard (no login)", took)
            return
        time.sleep(min(s.poll_s, 5))
    report.add(
        "FAIL",
        "dashboard",
        f"{url} not serving after {s.timeout_s:g} s: {last}",
        time.monotonic() - started,
    )


def run(s: SmokeSettings, report: Report) -> None:
    started = time.monotonic()
    seed = s.seed if s.seed is not None else random.SystemRandom().randrange(2**31)
    try:
        target = resolve(s)
    except SmokeError as exc:
        report.add("FAIL", "endpoints", str(exc))
        return
    api = connect(s, target, report)
    if api is not None:
        try:
            day = pick_day(api, random.Random(seed))
            t0 = time.monotonic()
            args = producer_args(s, day, seed)
            how = send_local(s, args) if s.producer == "local" else send_ecs(s, target, args)
            report.add(
                "PASS",
                "send",
                f"{s.trips} synthetic trips dated {day} via {how} (seed {seed})",
                time.monotonic() - t0,
            )
            wait_for_trips(s, api, day, report)
        except (SmokeError, requests.RequestException, subprocess.TimeoutExpired) as exc:
            report.add("FAIL", "send", str(exc))
        except Exception as exc:  # boto3 errors: say which call failed, do not crash
            report.add("FAIL", "send", f"{type(exc).__name__}: {exc}")
    check_dashboard(s, target, report)
    report.text(f"aws-smoke: {report.summary()} in {time.monotonic() - started:.1f} s")
