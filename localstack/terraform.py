"""Terraform for ``terraform/envs/local`` against the AWS twin, with every byte of state in .local/.

``python -m localstack.terraform {init,apply,plan,destroy,output}``. The provider comes from the
machine's offline mirror when there is one (/opt/tf-plugins), else from the public registry.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict

from localstack.twin import HEALTH_PATH, REPO, TwinSettings

PROVIDERS_FROM_MIRROR = ("registry.terraform.io/hashicorp/aws",)
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _athena_workgroup_gone(clients: Callable[[str], Any], attrs: dict[str, Any]) -> bool:
    athena = clients("athena")
    try:
        athena.get_work_group(WorkGroup=attrs["name"])
    except athena.exceptions.InvalidRequestException as exc:
        return "not found" in str(exc)
    return False


# What the twin can lose across a restart while Terraform's state still holds it. MiniStack
# fails to save its Athena state once a query result holds a timestamp ("Object of type
# datetime is not JSON serializable"; the API's queries do), so a restarted twin has no
# workgroup, and the AWS provider's refresh stops on the twin's "WorkGroup ... not found"
# instead of planning a create. Such resources leave the state before apply creates them again.
UNPERSISTED: dict[str, Callable[[Callable[[str], Any], dict[str, Any]], bool]] = {
    "aws_athena_workgroup": _athena_workgroup_gone,
}


class TerraformSettings(BaseSettings):
    """Which root to apply and where its state goes; env vars ``TFRUN_*``."""

    model_config = SettingsConfigDict(env_prefix="TFRUN_")

    binary: str = "terraform"
    root: Path = REPO / "terraform" / "envs" / "local"
    # State, TF_DATA_DIR and the CLI config: outside the repo tree, one folder per stack.
    work_dir: Path = REPO / ".local" / "terraform"
    plugin_mirror: Path = Path("/opt/tf-plugins")
    # None: the twin's endpoint from TwinSettings (TWIN_HOST/TWIN_PORT).
    aws_endpoint_url: str | None = None


class TerraformError(RuntimeError):
    pass


class Terraform:
    """Runs terraform for one root module with state kept in ``settings.work_dir``."""

    def __init__(
        self,
        settings: TerraformSettings | None = None,
        *,
        variables: dict[str, str] | None = None,
        quiet: bool = False,
    ) -> None:
        self.settings = settings or TerraformSettings()
        s = self.settings
        twin = TwinSettings()
        self.endpoint_url = s.aws_endpoint_url or f"http://{twin.host}:{twin.port}"
        self.variables = {"aws_endpoint_url": self.endpoint_url, **(variables or {})}
        # quiet: capture output (tests); it is still shown when a command fails.
        self.quiet = quiet
        self.state_file = s.work_dir / "terraform.tfstate"
        self.data_dir = s.work_dir / "data"
        self.cli_config = s.work_dir / "terraform.rc"
        self._init_stamp = self.data_dir / ".init-stamp"

    # ---- environment --------------------------------------------------------------------------

    def _write_cli_config(self) -> Path | None:
        mirror = self.settings.plugin_mirror
        if not mirror.is_dir():
            return None  # no mirror: the public registry (or the user's own CLI config)
        include = ", ".join(f'"{p}"' for p in PROVIDERS_FROM_MIRROR)
        text = (
            "# Written by localstack.terraform: providers from the machine's offline mirror.\n"
            "provider_installation {\n"
            "  filesystem_mirror {\n"
            f'    path    = "{mirror}"\n'
            f"    include = [{include}]\n"
            "  }\n"
            "  direct {\n"
            f"    exclude = [{include}]\n"
            "  }\n"
            "}\n"
        )
        self.settings.work_dir.mkdir(parents=True, exist_ok=True)
        if not self.cli_config.exists() or self.cli_config.read_text() != text:
            self.cli_config.write_text(text)
        return self.cli_config

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "TF_DATA_DIR": str(self.data_dir),
                "TF_IN_AUTOMATION": "1",
                "TF_INPUT": "0",
                "CHECKPOINT_DISABLE": "1",  # no version check call to HashiCorp
            }
        )
        env.update({f"TF_VAR_{k}": v for k, v in self.variables.items()})
        cli_config = self._write_cli_config()
        if cli_config is not None:
            env["TF_CLI_CONFIG_FILE"] = str(cli_config)
        return env

    def run(
        self, *args: str, ok_codes: Sequence[int] = (0,), capture: bool | None = None
    ) -> subprocess.CompletedProcess[str]:
        capture = self.quiet if capture is None else capture
        cmd = [self.settings.binary, f"-chdir={self.settings.root}", *args]
        result = subprocess.run(
            cmd,
            env=self.env(),
            text=True,
            capture_output=capture,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if result.returncode not in ok_codes:
            output = f"\n{result.stdout}\n{result.stderr}" if capture else ""
            raise TerraformError(f"{' '.join(cmd)} exited {result.returncode}{output}")
        return result

    # ---- commands -----------------------------------------------------------------------------

    def _config_digest(self) -> str:
        # Re-init only when the configuration, the lock file or the state path changed.
        h = hashlib.sha256(str(self.state_file).encode())
        tf_dir = self.settings.root.parent.parent
        for path in sorted(tf_dir.rglob("*")):
            if path.suffix in (".tf", ".hcl") and ".terraform" not in path.parts:
                h.update(str(path).encode())
                h.update(path.read_bytes())
        return h.hexdigest()

    def init(self, force: bool = False) -> None:
        stamp = self._init_stamp
        if not force and stamp.exists() and stamp.read_text() == self._config_digest():
            return
        self.settings.work_dir.mkdir(parents=True, exist_ok=True)
        self.run(
            "init",
            "-input=false",
            "-reconfigure",  # the state path is ours to choose; nothing to migrate
            f"-backend-config=path={self.state_file}",
        )
        # Digest taken after init: init itself may add hashes to the lock file.
        self._init_stamp.write_text(self._config_digest())

    def validate(self) -> dict[str, Any]:
        """``terraform validate -json`` without touching any state or backend."""
        self.run("init", "-input=false", "-backend=false")
        self._init_stamp.unlink(missing_ok=True)  # that init had no backend
        out = self.run("validate", "-json", ok_codes=(0, 1), capture=True)
        result: dict[str, Any] = json.loads(out.stdout)
        return result

    def _is_local(self) -> bool:
        return urllib.parse.urlsplit(self.endpoint_url).hostname in LOOPBACK

    def _check_endpoint(self) -> None:
        # Fail early and clearly when the twin is down, instead of after provider retries.
        if not self._is_local():
            return
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(self.endpoint_url + HEALTH_PATH, timeout=3):
                return
        except (urllib.error.URLError, OSError) as exc:
            raise TerraformError(
                f"no AWS twin answers at {self.endpoint_url} ({exc}); "
                "start it with `python -m localstack.twin start`"
            ) from exc

    def forget_gone(self) -> list[str]:
        """Drop from the state what the twin lost across a restart (``UNPERSISTED``), so that
        apply creates it again; the addresses dropped."""
        if not self._is_local() or not self.state_file.exists():
            return []
        import boto3

        twin = TwinSettings()
        session = boto3.session.Session(
            aws_access_key_id=self.variables.get("aws_access_key_id", twin.access_key_id),
            aws_secret_access_key=self.variables.get(
                "aws_secret_access_key", twin.secret_access_key
            ),
            region_name=self.variables.get("region", twin.region),
        )

        def clients(service: str) -> Any:
            return session.client(service, endpoint_url=self.endpoint_url)

        gone = []
        for res in json.loads(self.state_file.read_text()).get("resources", []):
            check = UNPERSISTED.get(res["type"])
            if res.get("mode") != "managed" or check is None:
                continue
            for inst in res["instances"]:
                if check(clients, inst["attributes"]):
                    gone.append(_address(res, inst))
        if gone:
            print(f"the twin lost {', '.join(gone)}; applying creates it again", file=sys.stderr)
            self.run("state", "rm", *gone, capture=True)
        return gone

    def apply(self) -> float:
        """Create or update everything; idempotent. Returns the seconds apply took."""
        self._check_endpoint()
        self.init()
        self.forget_gone()
        started = time.monotonic()
        self.run("apply", "-auto-approve", "-input=false")
        return time.monotonic() - started

    def plan(self) -> bool:
        """Plan with -detailed-exitcode; True when changes are pending."""
        self._check_endpoint()
        self.init()
        result = self.run("plan", "-input=false", "-detailed-exitcode", ok_codes=(0, 2))
        return result.returncode == 2

    def destroy(self) -> None:
        self._check_endpoint()
        self.init()
        self.run("destroy", "-auto-approve", "-input=false")

    def outputs(self) -> dict[str, Any]:
        """``terraform output -json`` as {name: value}."""
        self.init()
        result = self.run("output", "-json", capture=True)
        raw: dict[str, dict[str, Any]] = json.loads(result.stdout or "{}")
        return {name: o["value"] for name, o in raw.items()}


def _address(res: dict[str, Any], inst: dict[str, Any]) -> str:
    """A state resource instance's address: ``module.lake.aws_athena_workgroup.this["k"]``."""
    addr = f"{res['type']}.{res['name']}"
    if "module" in res:
        addr = f"{res['module']}.{addr}"
    key = inst.get("index_key")
    if key is None:
        return addr
    return f"{addr}[{json.dumps(key)}]"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m localstack.terraform",
        description="Terraform for terraform/envs/local against the running AWS twin. State: "
        ".local/terraform/ (env TFRUN_WORK_DIR); endpoint: the twin's (TWIN_PORT) or "
        "TFRUN_AWS_ENDPOINT_URL.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="install providers and modules (skipped when nothing changed)")
    sub.add_parser("apply", help="create or update the stack (no prompt)")
    sub.add_parser("plan", help="show pending changes; exit 2 when there are some")
    sub.add_parser("destroy", help="delete the stack (no prompt)")
    sub.add_parser("output", help="print the outputs as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    tf = Terraform()
    try:
        if args.command == "init":
            tf.init(force=True)
        elif args.command == "apply":
            took = tf.apply()
            print(f"applied to {tf.endpoint_url} in {took:.0f} s", file=sys.stderr)
        elif args.command == "plan":
            return 2 if tf.plan() else 0
        elif args.command == "destroy":
            tf.destroy()
        elif args.command == "output":
            print(json.dumps(tf.outputs(), indent=2))
    except TerraformError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
