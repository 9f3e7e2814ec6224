"""``terraform test`` of terraform/envs/aws against its mocked provider, parsed: shared by the
static checks (tests/test_terraform_aws.py) and the EMR-shaped run (tests/test_emr_run.py)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from localstack.terraform import Terraform, TerraformSettings
from tests.conftest import ROOT

AWS_ENV = ROOT / "terraform" / "envs" / "aws"
PLAN_TEST = AWS_ENV / "tests" / "plan.tftest.hcl"


def run_terraform_test(tf: Terraform, *args: str) -> dict[str, Any]:
    """``terraform test -json -verbose``: the summary, each run's status and final state, the
    errors, and each failed run's error details (what a user reads under "Error:")."""
    tf.run("init", "-input=false", "-backend=false")
    result = tf.run("test", "-json", "-verbose", *args, ok_codes=(0, 1), capture=True)
    events = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return {
        "returncode": result.returncode,
        "summary": next((e["test_summary"] for e in events if e["type"] == "test_summary"), None),
        "runs": {
            e["test_run"]["run"]: e["test_run"]["status"]
            for e in events
            if e["type"] == "test_run" and e["test_run"].get("progress") == "complete"
        },
        "states": {e["@testrun"]: e["test_state"] for e in events if e["type"] == "test_state"},
        "errors": [e["@message"] for e in events if e["@level"] == "error"],
        "details": {
            e["@testrun"]: e["diagnostic"].get("detail", "")
            for e in events
            if e["type"] == "diagnostic" and e["@level"] == "error" and "@testrun" in e
        },
    }


def terraform_for(root: Path, work_dir: Path) -> Terraform:
    """The project's runner (mirror CLI config, TF_DATA_DIR and state under ``work_dir``)."""
    return Terraform(TerraformSettings(root=root, work_dir=work_dir), quiet=True)


def block(text: str, opening: str) -> str:
    """The HCL block that starts with ``opening`` (e.g. ``mock_provider "aws" {``), braces
    inside quoted strings skipped."""
    start = text.index(opening)
    depth, i, quoted = 0, start, False
    while i < len(text):
        c = text[i]
        if quoted:
            if c == "\\":
                i += 1
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c == "#":
            i = text.index("\n", i)
            continue
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
        i += 1
    raise ValueError(f"unbalanced block {opening!r}")


def plan_with_build(build_dir: Path, work_dir: Path) -> tuple[dict[str, Any], Path]:
    """The final state of envs/aws applied to the mocks of plan.tftest.hcl with the real build in
    ``build_dir``, and the folder its relative paths start from.

    A test file's own ``build_dir`` wins over -var, and terraform test only reads test files
    inside the root module, so this runs a byte-identical copy of terraform/ (and the files it
    reads from contract/ and spark/) with one more test file: the same mocks, one run.
    """
    src = work_dir / "src"
    shutil.rmtree(src, ignore_errors=True)
    skip = shutil.ignore_patterns(".terraform", "terraform.tfstate*", "__pycache__")
    for folder in ("terraform", "contract", "spark"):
        shutil.copytree(ROOT / folder, src / folder, ignore=skip)
    env = src / AWS_ENV.relative_to(ROOT)
    plan = (env / "tests" / "plan.tftest.hcl").read_text()
    # The mocks, the file's variables (build_dir: the real build) and those of its first run.
    variables = block(plan, "\nvariables {")
    assert re.search(r"^\s*build_dir\s*=.*$", variables, re.M), variables
    variables = re.sub(
        r"^(\s*build_dir\s*=).*$", rf"\1 {json.dumps(str(build_dir))}", variables, flags=re.M
    )
    mocks = block(plan, 'mock_provider "aws" {')
    first_run = block(plan, "\nrun ")
    run_vars = block(first_run, "variables {") if "  variables {" in first_run else ""
    (env / "emr-tests").mkdir()
    (env / "emr-tests" / "emr.tftest.hcl").write_text(
        "# Written by tests/tf_support.py from tests/plan.tftest.hcl, with the real build.\n"
        f"{mocks}\n{variables}\n\n"
        f'run "emr" {{\n  command = apply\n  {run_vars}\n}}\n'
    )
    settings = TerraformSettings(root=env, work_dir=work_dir / "terraform")
    result = run_terraform_test(Terraform(settings, quiet=True), "-test-directory=emr-tests")
    assert result["returncode"] == 0 and "emr" in result["states"], "\n".join(result["errors"])
    return result["states"]["emr"], env


def resources(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """address -> values, through every child module."""
    out: dict[str, dict[str, Any]] = {}
    todo = [state["root_module"]]
    while todo:
        module = todo.pop()
        out.update({r["address"]: r["values"] for r in module.get("resources", [])})
        todo.extend(module.get("child_modules", []))
    return out
