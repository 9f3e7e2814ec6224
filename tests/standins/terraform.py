"""Stand-in of the `terraform` CLI for envs/aws: outputs, a saved plan, apply and destroy.

The outputs and the plan's resource changes are the test's (taken from `terraform test` of the
real configuration). apply and destroy fail as the AWS provider does when an EMR Serverless
application they would update or delete is not CREATED or STOPPED.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tests.standins.world import fail, recorded, world

APP_TYPE = "aws_emrserverless_application"
MUTABLE = ("CREATED", "STOPPED")


def targeted(address: str, targets: list[str]) -> bool:
    return not targets or any(
        address == t or address.startswith((t + ".", t + "[")) for t in targets
    )


def blocked(w: dict[str, Any], changes: list[dict[str, Any]]) -> str | None:
    """The provider's error for the first application change AWS would refuse, if any."""
    for rc in changes:
        actions = rc["change"]["actions"]
        if rc["type"] != APP_TYPE or not {"update", "delete"} & set(actions):
            continue
        app_id = rc["change"]["before"]["id"]
        state = w["applications"][app_id]["state"]
        if state not in MUTABLE:
            verb, op = (
                ("updating", "UpdateApplication")
                if "update" in actions
                else ("deleting", "DeleteApplication")
            )
            return (
                f"Error: {verb} EMR Serverless Application ({app_id}): operation error EMR "
                f"Serverless: {op}, https response error StatusCode: 400, ValidationException: "
                f"Application {app_id} must be in one of the following statuses "
                f"[CREATED, STOPPED]. Current status: {state}\n  with {rc['address']}"
            )
    return None


def output(w: dict[str, Any], args: list[str]) -> int:
    names = [a for a in args if not a.startswith("-")]
    outputs: dict[str, Any] = {} if w["destroyed"] else w["outputs"]
    if not names:
        if "-json" in args:
            print(json.dumps(outputs, indent=2))
        else:
            for k, v in outputs.items():
                print(f"{k} = {json.dumps(v['value'])}")
        return 0
    if names[0] not in outputs:
        return fail(f'Error: Output "{names[0]}" not found')
    value = outputs[names[0]]["value"]
    print(json.dumps(value) if "-json" in args or not isinstance(value, str) else value)
    return 0


def plan(w: dict[str, Any], args: list[str], cwd: Path) -> int:
    changes = [rc for rc in w["resource_changes"] if rc["change"]["actions"] != ["no-op"]]
    out = next((a.split("=", 1)[1] for a in args if a.startswith("-out=")), None)
    if out is not None:
        path = Path(out) if Path(out).is_absolute() else cwd / out
        doc = {"format_version": "1.2", "resource_changes": w["resource_changes"]}
        path.write_text(json.dumps(doc))
    print(
        f"Plan: {len(changes)} to change."
        if changes
        else "No changes. Your infrastructure matches the configuration."
    )
    return 0


def show(args: list[str], cwd: Path) -> int:
    files = [a for a in args if not a.startswith("-")]
    if "-json" not in args or not files:
        return fail("stand-in: only `terraform show -json PLANFILE` is played")
    path = Path(files[0]) if Path(files[0]).is_absolute() else cwd / files[0]
    print(path.read_text())
    return 0


def apply(w: dict[str, Any], args: list[str], cwd: Path) -> int:
    files = [a for a in args if not a.startswith("-") and a not in values_of(args)]
    targets = [a.split("=", 1)[1] for a in args if a.startswith("-target=")]
    if files:
        if any(a in ("-var", "-var-file") or a.startswith("-var-file=") for a in args):
            return fail("Error: Can't set variables when applying a saved plan")
        path = Path(files[0]) if Path(files[0]).is_absolute() else cwd / files[0]
        changes = json.loads(path.read_text())["resource_changes"]
    else:
        changes = [rc for rc in w["resource_changes"] if targeted(rc["address"], targets)]
    error = blocked(w, changes)
    if error:
        return fail(error)
    done = {rc["address"] for rc in changes}
    for rc in w["resource_changes"]:
        if rc["address"] in done:
            rc["change"]["actions"] = ["no-op"]  # applied: the next plan has nothing to do
    w["destroyed"] = False
    print("Apply complete!")
    return 0


def destroy(w: dict[str, Any]) -> int:
    deletes = [
        {
            "type": APP_TYPE,
            "address": a.get("address", app_id),
            "change": {"actions": ["delete"], "before": {"id": app_id}},
        }
        for app_id, a in w["applications"].items()
        if a["state"] != "TERMINATED"
    ]
    error = blocked(w, deletes)
    if error:
        return fail(error)
    for app in w["applications"].values():
        app["state"] = "TERMINATED"
    w["destroyed"] = True
    print("Destroy complete!")
    return 0


def values_of(args: list[str]) -> set[str]:
    """The values of `-var NAME=VALUE` pairs (not plan files)."""
    return {args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-var", "-var-file")}


def call(argv: list[str]) -> int:
    cwd = Path.cwd()
    args = list(argv)
    while args and args[0].startswith("-chdir="):
        cwd = Path(args.pop(0).split("=", 1)[1])
    if not args:
        return fail("usage: terraform [-chdir=DIR] <command> [args]")
    command, rest = args[0], args[1:]
    if command == "init":
        print("Terraform has been successfully initialized!")
        return 0
    if command == "show":
        return show(rest, cwd)
    with world() as w:
        if command == "output":
            return output(w, rest)
        if command == "plan":
            return plan(w, rest, cwd)
        if command == "apply":
            return apply(w, rest, cwd)
        if command == "destroy":
            return destroy(w)
    return fail(f"stand-in: terraform {command} is not played")


def main(argv: list[str]) -> int:
    return recorded("terraform", call, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
