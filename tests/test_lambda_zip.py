"""The Lambda zip as Lambda runs it, and the API's region (finding 7 of issue 13).

The twin's own Lambda runs the zip with the twin's Python, which can import the twin's packages:
it cannot prove the zip complete. Here the zip Terraform deployed is unpacked alone and run by a
clean Python 3.11 holding only what the python3.11 runtime provides (the standard library and
the AWS SDK at the runtime's versions), through tests/lambda_driver.py: the handler string,
the function's environment, the routes and the API id are read from envs/local's Terraform
state, the runtime's own variables are added, and every endpoint of the app's OpenAPI document
is invoked with API Gateway HTTP API payload 2.0 events. Each answer must equal the one through
the twin's API Gateway (`make local`'s path), over the same lake.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from lambda_api.config import ApiSettings
from lambda_api.engines import AthenaEngine
from localstack.terraform import Terraform
from localstack.twin import Twin
from tests.api_lake import Lake, expected_summary, in_range, write_lake
from tests.conftest import ROOT
from tests.fixtures.twin import lake_target
from tests.test_api_twin import RANGE, same

DRIVER = ROOT / "tests" / "lambda_driver.py"
RUNTIME = "python3.11"
# What the python3.11 runtime adds to the standard library: the AWS SDK. AWS's runtime table
# lists boto3-1.27.1 botocore-1.30.1 for python3.11 (quoted from it by boto's maintainers in
# boto/botocore#3082); the SDK's dependencies at their releases of that time (July 2023).
# Lambda updates this SDK now and then; the zip bundles its own, which comes first on sys.path.
RUNTIME_SDK = (
    "boto3==1.27.1",
    "botocore==1.30.1",
    "s3transfer==0.6.1",
    "jmespath==1.0.1",
    "python-dateutil==2.8.2",
    "six==1.16.0",
    "urllib3==1.26.16",
)
# Lambda's limits for a .zip function (quotas page): 50 MB zipped upload, 250 MB unzipped.
ZIPPED_MAX, UNZIPPED_MAX = 50 * 2**20, 250 * 2**20
# AL2 (the python3.11 runtime's OS) has glibc 2.26: a manylinux_2_x wheel with x > 26 fails there.
GLIBC = (2, 26)
# Values for the parameters of every OpenAPI operation (over tests/api_lake.py's lake).
PATH_VALUES = {"trip_id": "t0007", "zone_id": "236"}
QUERY_VALUES = {**RANGE, "date": "2025-01-15"}
# Answers that must be errors, as the app gives them: bad values, a repeated key, unknown ids
# and an unknown path under /v1 (API Gateway's proxy route hands it to the function).
ERROR_REQUESTS: list[tuple[str, list[tuple[str, str]], int]] = [
    ("/v1/trips", [("limit", "5000")], 422),
    ("/v1/summary", [("service", "purple")], 422),
    ("/v1/summary", [("service", "yellow"), ("service", "green")], 422),
    ("/v1/timeseries", [*RANGE.items(), ("interval", "7m")], 422),
    ("/v1/zones/999", [], 404),
    ("/v1/trips/no-such-trip", [("date", "2025-01-15")], 404),
    ("/v1/no-such-route", [], 404),
]
# Declared routes outside the OpenAPI document.
EXTRA_PATHS = ("/openapi.json", "/docs")
# Fields that hold the clock of the call, not the data.
CLOCK_FIELDS = {"/v1/status": ("now",)}


# ---- finding 7: the region follows Lambda's ------------------------------------------------


@pytest.fixture
def no_region(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("API_AWS_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_region_follows_lambdas_aws_region(no_region: pytest.MonkeyPatch) -> None:
    no_region.setenv("AWS_REGION", "eu-central-1")
    no_region.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    settings = ApiSettings(engine="athena", lake_uri="s3://lake")
    assert settings.aws_region == "eu-central-1"
    engine = AthenaEngine(settings)
    assert engine.athena.meta.region_name == engine.s3.meta.region_name == "eu-central-1"


def test_region_from_aws_default_region(no_region: pytest.MonkeyPatch) -> None:
    no_region.setenv("AWS_DEFAULT_REGION", "ap-southeast-2")
    assert ApiSettings().aws_region == "ap-southeast-2"


def test_api_aws_region_still_wins(no_region: pytest.MonkeyPatch) -> None:
    no_region.setenv("AWS_REGION", "eu-central-1")
    no_region.setenv("API_AWS_REGION", "us-west-2")
    assert ApiSettings().aws_region == "us-west-2"
    assert ApiSettings(aws_region="sa-east-1").aws_region == "sa-east-1"


def test_region_default_without_any(no_region: pytest.MonkeyPatch) -> None:
    assert ApiSettings().aws_region == "us-east-1"


# ---- the runtime: a clean Python with only what python3.11 provides ------------------------


def _uv() -> str:
    found = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    assert Path(found).exists(), "uv is needed to make the runtime venv (make install)"
    return found


@pytest.fixture(scope="session")
def runtime_python() -> Path:
    """A venv without site packages holding only RUNTIME_SDK; cached by interpreter and pins."""
    base = Path(
        getattr(sys, "_base_executable", sys.executable)
    ).resolve()  # the interpreter line the project uses (3.11)
    key = hashlib.sha256("\n".join([str(base), sys.version, *RUNTIME_SDK]).encode()).hexdigest()
    cache = ROOT / ".local" / "lambda-runtime"
    venv = cache / f"venv-{key[:16]}"
    python = venv / "bin" / "python"
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / "install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a concurrent session waits, then reuses it
        if not (venv / ".complete").exists():
            tmp = cache / f"tmp-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            uv = _uv()
            subprocess.run([uv, "venv", "-q", "--python", str(base), str(tmp)], check=True)
            subprocess.run(
                [uv, "pip", "install", "-q", "--python", str(tmp / "bin" / "python"),
                 "--only-binary", ":all:", *RUNTIME_SDK],
                check=True,
            )  # fmt: skip
            (tmp / ".complete").write_text("\n".join(RUNTIME_SDK) + "\n")
            shutil.rmtree(venv, ignore_errors=True)
            tmp.rename(venv)  # bin/python finds its prefix from its own path
    listed = subprocess.run(
        [str(python), "-I", "-c", "import importlib.metadata as m, json, sys; print(json.dumps("
         "[sys.version_info[:2], sorted(f'{d.name}=={d.version}' for d in m.distributions())]))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    version, dists = json.loads(listed.stdout)
    assert tuple(version) == (3, 11), f"the runtime is {RUNTIME}, this Python is {version}"
    assert dists == sorted(RUNTIME_SDK), f"the runtime venv holds more than the SDK: {dists}"
    return python


# ---- the function as Terraform deployed it -------------------------------------------------


def state_resources(terraform: Terraform) -> list[dict[str, Any]]:
    """Every resource of envs/local's state (``terraform show -json``), through child modules."""
    shown = json.loads(terraform.run("show", "-json", capture=True).stdout)
    out: list[dict[str, Any]] = []
    todo = [shown["values"]["root_module"]]
    while todo:
        module = todo.pop()
        out.extend(module.get("resources", []))
        todo.extend(module.get("child_modules", []))
    return out


@pytest.fixture(scope="module")
def function(lake: dict[str, Any], terraform_local: Terraform) -> dict[str, Any]:
    """The api module's function, routes and API id, as applied to the twin."""
    assert lake["api_url"], "envs/local did not deploy the api module"
    res = state_resources(terraform_local)
    by_type: dict[str, list[dict[str, Any]]] = {}
    for r in res:
        if r["mode"] == "managed":
            by_type.setdefault(r["type"], []).append(r["values"])
    (fn,) = by_type["aws_lambda_function"]
    (api,) = by_type["aws_apigatewayv2_api"]
    (integration,) = by_type["aws_apigatewayv2_integration"]
    assert fn["runtime"] == RUNTIME and fn["architectures"] == ["x86_64"], fn["runtime"]
    assert integration["payload_format_version"] == "2.0"
    return {
        "function": fn,
        "api_id": api["id"],
        "routes": sorted(r["route_key"] for r in by_type["aws_apigatewayv2_route"]),
    }


def unpack(zip_path: Path, dest: Path, drop: str | None = None) -> Path:
    """The zip unpacked alone into ``dest`` (``drop``: leave out entries under that folder)."""
    dest.mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            if drop is None or not info.filename.startswith(f"{drop}/"):
                zf.extract(info, dest)
    return dest


@pytest.fixture(scope="module")
def zip_path(function: dict[str, Any]) -> Path:
    # The file Terraform uploaded (the lake fixture built it as `make local` does).
    path = Path(function["function"]["filename"])
    if not path.is_absolute():
        path = (ROOT / "terraform" / "envs" / "local" / path).resolve()
    assert path.exists(), path
    return path


@pytest.fixture(scope="module")
def task_root(zip_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Outside the repository, so any file read from the checkout shows as read from outside.
    return unpack(zip_path, tmp_path_factory.mktemp("lambda") / "task")


def runtime_env(
    function: dict[str, Any], twin: Twin, task_root: Path, python: Path, home: Path
) -> dict[str, str]:
    """The function's variables (Terraform) plus what the Lambda runtime sets; nothing else."""
    fn = function["function"]
    s = twin.settings
    name = fn["function_name"]
    variables = fn["environment"][0]["variables"] if fn["environment"] else {}
    return {
        **variables,
        # Set by Lambda for every python3.11 function (configuration-envvars).
        "_HANDLER": fn["handler"],
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn['runtime']}",
        "AWS_REGION": s.region,
        "AWS_DEFAULT_REGION": s.region,
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn["memory_size"]),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}",
        "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
        "AWS_ACCESS_KEY_ID": s.access_key_id,
        "AWS_SECRET_ACCESS_KEY": s.secret_access_key,
        "AWS_SESSION_TOKEN": "role-session-token",
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_RUNTIME_DIR": str(python.parent.parent),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PATH": f"{python.parent}:/usr/local/bin:/usr/bin:/bin",
        # Lambda's home holds no AWS config: an empty folder, not this machine's ~/.aws.
        "HOME": str(home),
        # The twin stands in for AWS; its own Lambda points the SDK at it the same way.
        "AWS_ENDPOINT_URL": twin.endpoint_url,
    }


class Runtime:
    """One cold start of the handler in the clean Python; then one event per call."""

    def __init__(self, python: Path, task_root: Path, handler: str, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [str(python), "-I", str(DRIVER), str(task_root), handler],
            cwd=task_root,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.init = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=30)
            raise AssertionError(f"the driver exited {self.proc.returncode}: {self.stderr()}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def stderr(self) -> str:
        assert self.proc.stderr is not None
        return self.proc.stderr.read()[-4000:] if self.proc.poll() is not None else ""

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(event) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        done = self._read()
        self.proc.wait(timeout=60)
        return done


def match_route(method: str, path: str, routes: list[str]) -> tuple[str, dict[str, str]] | None:
    """API Gateway's choice: an exact route, then the longest greedy {proxy+} one, then
    $default; None: no route, API Gateway answers 404 itself and the function never runs."""
    proxies = []
    for key in routes:
        if key == "$default":
            continue
        verb, template = key.split(" ", 1)
        if verb not in (method, "ANY"):
            continue
        if template == path:
            return key, {}
        if template.endswith("/{proxy+}"):
            prefix = template[: -len("{proxy+}")]
            if path.startswith(prefix) and len(path) > len(prefix):
                proxies.append((len(prefix), key, {"proxy": path[len(prefix) :]}))
    if proxies:
        _, key, params = max(proxies)
        return key, params
    return ("$default", {}) if "$default" in routes else None


def http_api_event(
    url: httpx.URL, route: tuple[str, dict[str, str]], function: dict[str, Any], region: str
) -> dict[str, Any]:
    """The payload 2.0 event API Gateway sends for a GET of ``url`` (path and raw query)."""
    api_id = function["api_id"]
    domain = f"{api_id}.execute-api.{region}.amazonaws.com"
    now = datetime.now(UTC)
    raw_query = url.query.decode()
    params: dict[str, str] = {}
    for key, value in url.params.multi_items():
        # The service joins a repeated key's values with commas (rawQueryString keeps both).
        params[key] = f"{params[key]},{value}" if key in params else value
    agent = "python-httpx/lambda-zip-test"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route[0],
        "rawPath": url.path,
        "rawQueryString": raw_query,
        "headers": {
            "accept": "*/*",
            "accept-encoding": "gzip, deflate",
            "content-length": "0",
            "host": domain,
            "user-agent": agent,
            "x-amzn-trace-id": f"Root=1-{int(now.timestamp()):08x}-{uuid.uuid4().hex[:24]}",
            "x-forwarded-for": "127.0.0.1",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        },
        "requestContext": {
            "accountId": "000000000000",
            "apiId": api_id,
            "domainName": domain,
            "domainPrefix": api_id,
            "http": {
                "method": "GET",
                "path": url.path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": agent,
            },
            "requestId": uuid.uuid4().hex[:16] + "=",
            "routeKey": route[0],
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if params:
        event["queryStringParameters"] = params
    if route[1]:
        event["pathParameters"] = route[1]
    return event


def requests_from_openapi(doc: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """One request per operation of the OpenAPI document, parameters filled from the tables."""
    out = []
    for template, item in sorted(doc["paths"].items()):
        assert set(item) <= {"get", "parameters"}, f"{template}: only GET is routed: {set(item)}"
        path, query = template, []
        for p in item["get"].get("parameters", []):
            name, where = p["name"], p["in"]
            if where == "path":
                assert name in PATH_VALUES, f"{template}: give PATH_VALUES a value for {name}"
                path = path.replace(f"{{{name}}}", PATH_VALUES[name])
            elif where == "query" and name in QUERY_VALUES:
                query.append((name, QUERY_VALUES[name]))
            elif p.get("required"):
                raise AssertionError(f"{template}: give QUERY_VALUES a value for {name}")
        out.append((path, query))
    return out


def parsed(status: int, headers: dict[str, str], body: str) -> dict[str, Any]:
    kind = headers.get("content-type", "")
    return {
        "status": status,
        "content-type": kind,
        "cache-control": headers.get("cache-control"),
        "body": json.loads(body) if kind.startswith("application/json") else body,
    }


def from_lambda(answer: dict[str, Any]) -> dict[str, Any]:
    assert "result" in answer, f"the handler failed: {answer}"
    r = answer["result"]
    body = r.get("body") or ""
    if r.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return parsed(r["statusCode"], {k.lower(): v for k, v in r["headers"].items()}, body)


def without_clock(path: str, answer: dict[str, Any]) -> dict[str, Any]:
    fields = CLOCK_FIELDS.get(path, ())
    if not fields or not isinstance(answer["body"], dict):
        return answer
    return {**answer, "body": {k: v for k, v in answer["body"].items() if k not in fields}}


@pytest.fixture(scope="module")
def lake_written(lake: dict[str, Any], twin: Twin) -> Lake:
    """tests/api_lake.py's lake in the session's lake bucket (the same objects test_api_twin
    writes; rewriting them is idempotent)."""
    target = lake_target(twin, lake)
    return write_lake(target)


@pytest.fixture(scope="module")
def gateway(lake: dict[str, Any], lake_written: Lake) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=lake["api_url"], timeout=60, trust_env=False) as c:
        yield c


# ---- the checks ----------------------------------------------------------------------------


def fits_runtime(tag: str) -> bool:
    """A wheel tag (possibly compressed, ``a.b-c-d.e``) that installs on python3.11 x86_64 AL2."""
    pys, abis, platforms = (part.split(".") for part in tag.split("-"))

    def platform_ok(p: str) -> bool:
        glibc = re.fullmatch(r"manylinux_(\d+)_(\d+)_x86_64", p)
        legacy = p in ("manylinux1_x86_64", "manylinux2010_x86_64", "manylinux2014_x86_64")
        return (
            p == "any" or legacy or (glibc is not None and (int(glibc[1]), int(glibc[2])) <= GLIBC)
        )

    def python_ok(py: str, abi: str) -> bool:
        if abi == "abi3":
            return bool(re.fullmatch(r"cp3(\d+)", py)) and int(py[3:]) <= 11
        return py in ("py3", "py311", "cp311") and abi in ("none", "cp311")

    return any(platform_ok(p) for p in platforms) and any(
        python_ok(py, abi) for py in pys for abi in abis
    )


def unfit_wheels(site: Path) -> list[str]:
    """Installed distributions none of whose wheel tags fits the runtime."""
    out = []
    for wheel in sorted(site.glob("*.dist-info/WHEEL")):
        tags = re.findall(r"^Tag: (\S+)$", wheel.read_text(), re.M)
        if not any(fits_runtime(t) for t in tags):
            out.append(f"{wheel.parent.name}: {tags}")
    return out


@pytest.mark.parametrize(
    ("tag", "fits"),
    [
        ("py3-none-any", True),
        ("py2.py3-none-any", True),
        ("cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64", True),
        ("cp38-abi3-manylinux_2_26_x86_64", True),
        ("py2-none-any", False),
        ("cp311-cp311-manylinux_2_28_x86_64", False),  # glibc 2.28 > AL2's 2.26
        ("cp311-cp311-musllinux_1_2_x86_64", False),
        ("cp311-cp311-manylinux2014_aarch64", False),
        ("cp311-cp311-macosx_11_0_arm64", False),
        ("cp312-cp312-manylinux2014_x86_64", False),
        ("cp312-abi3-manylinux2014_x86_64", False),
    ],
)
def test_wheel_tags_that_fit_the_runtime(tag: str, fits: bool) -> None:
    assert fits_runtime(tag) is fits


@pytest.mark.twin
def test_zip_fits_lambdas_limits_and_platform(zip_path: Path, task_root: Path) -> None:
    assert zip_path.stat().st_size <= ZIPPED_MAX
    unzipped = sum(p.stat().st_size for p in task_root.rglob("*") if p.is_file())
    assert unzipped <= UNZIPPED_MAX
    wrong = unfit_wheels(task_root)
    assert not wrong, f"wheels that do not run on {RUNTIME} x86_64 (AL2, glibc 2.26): {wrong}"


@pytest.mark.twin
def test_every_endpoint_answers_as_through_api_gateway(
    runtime_python: Path,
    task_root: Path,
    function: dict[str, Any],
    twin: Twin,
    gateway: httpx.Client,
    lake_written: Lake,
    tmp_path: Path,
) -> None:
    doc = gateway.get("/openapi.json").json()
    requests: list[tuple[str, list[tuple[str, str]], int | None]]
    requests = [(p, q, None) for p, q in requests_from_openapi(doc)]
    requests += [(p, [], None) for p in EXTRA_PATHS]
    requests += [(p, q, status) for p, q, status in ERROR_REQUESTS]
    assert len(doc["paths"]) >= 10, sorted(doc["paths"])

    # One URL per request: the same path and query bytes go to the gateway and into the event.
    urls = [httpx.URL(path, params=query) for path, query, _ in requests]

    home = tmp_path / "home"
    home.mkdir()
    env = runtime_env(function, twin, task_root, runtime_python, home)
    handler = function["function"]["handler"]
    started = time.monotonic()
    runtime = Runtime(runtime_python, task_root, handler, env)
    try:
        assert runtime.init.get("ready"), f"cold start failed: {runtime.init}"
        assert runtime.init["sys_path"][0] == str(task_root), runtime.init["sys_path"]
        answers = []
        for url in urls:
            route = match_route("GET", url.path, function["routes"])
            assert route is not None, f"{url}: no route of the api module reaches it"
            answers.append(
                runtime.invoke(http_api_event(url, route, function, twin.settings.region))
            )
    finally:
        done = runtime.close() if runtime.proc.poll() is None else {}
    took = time.monotonic() - started
    print(
        f"\nzip on the clean {RUNTIME}: cold import {runtime.init['init_ms']:.0f} ms, "
        f"{len(requests)} invocations, {took:.1f} s in all; system files read: "
        f"{done.get('opened_outside')}"
    )

    # Anchored to the known lake, so equal answers are not equally empty ones.
    summary = next(
        from_lambda(a)["body"]
        for (p, _, status), a in zip(requests, answers, strict=True)
        if p == "/v1/summary" and status is None
    )
    expected = expected_summary(
        in_range(lake_written.trips, *(datetime.fromisoformat(v) for v in RANGE.values()))
    )
    assert {k: summary[k] for k in expected} == expected, summary

    mismatches = []
    for (path, query, status), url, answer in zip(requests, urls, answers, strict=True):
        got = from_lambda(answer)
        r = gateway.get(url)
        want = parsed(r.status_code, dict(r.headers), r.text)
        if status is not None:
            assert got["status"] == status, f"{path}?{query}: {got}"
        else:
            assert got["status"] == 200, f"{path}?{query}: {got}"
        if not same(without_clock(path, got), without_clock(path, want)):
            mismatches.append(f"{path}?{query}\n  zip: {got}\n  api gateway: {want}")
    assert not mismatches, "\n".join(mismatches)

    # Lambda's filesystem: the zip, the runtime, /tmp. Nothing read from the checkout or the
    # project's venv, nothing written outside /tmp.
    assert done.get("done"), done
    outside = [p for p in done["opened_outside"] if not p.startswith(("/etc/", "/usr/share/"))]
    assert not outside, f"files read from outside the zip and the runtime: {outside}"
    assert not done["writes"], f"writes outside /tmp (read-only on Lambda): {done['writes']}"


@pytest.mark.twin
def test_a_zip_without_a_dependency_fails(
    runtime_python: Path,
    zip_path: Path,
    function: dict[str, Any],
    twin: Twin,
    tmp_path: Path,
) -> None:
    """The check can fail: the same zip less pydantic_core does not import on the runtime
    (the twin's Lambda would find pydantic_core in the twin's environment)."""
    task = unpack(zip_path, tmp_path / "task", drop="pydantic_core")
    assert not (task / "pydantic_core").exists()
    home = tmp_path / "home"
    home.mkdir()
    env = runtime_env(function, twin, task, runtime_python, home)
    runtime = Runtime(runtime_python, task, function["function"]["handler"], env)
    with contextlib.suppress(AssertionError):
        runtime.close()
    assert "init_error" in runtime.init, runtime.init
    assert runtime.init["errorType"] == "ModuleNotFoundError"
    assert "pydantic_core" in runtime.init["init_error"]
