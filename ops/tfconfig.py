"""The AWS root's settings as Terraform itself evaluates them, without init, state or a provider.

``terraform console`` in a scratch folder holding only a ``variables.tf`` (and a tfvars file)
needs no providers, so it evaluates variable defaults, the user's tfvars and the root's
validation rules exactly as a plan would. Module inputs come from the module's own defaults,
unless the root's ``module`` block sets them to something that only reads ``var.*``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Module inputs the checks and the cost estimate read, by module folder.
MODULE_INPUTS: dict[str, tuple[str, ...]] = {
    "stream": ("driver", "executor", "max_capacity"),
    "maintenance": ("max_capacity",),
    "streaming": ("broker_instance_type", "broker_count", "broker_volume_gb"),
    "dashboard": ("cpu", "memory", "desired_count"),
    "producer": ("cpu", "memory"),
    "api": ("memory_mb",),
    "network": ("interface_endpoints",),
}

_VARIABLE = re.compile(r'^variable\s+"([A-Za-z0-9_-]+)"\s*\{', re.M)
_TFVARS_KEY = re.compile(r"^([A-Za-z0-9_]+)\s*=", re.M)
_MODULE = re.compile(r'^module\s+"([A-Za-z0-9_-]+)"\s*\{', re.M)


class TerraformError(Exception):
    """terraform is missing or refused the configuration."""


@dataclass
class AwsConfig:
    """Values of envs/aws: root variables (defaults + tfvars) and module inputs."""

    root: dict[str, Any]
    modules: dict[str, dict[str, Any]]
    tfvars: Path | None
    # Terraform's own complaints about the tfvars (failed validation rules), verbatim.
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # The network module's zones to avoid by region (null excluded_zone_ids uses it); None
    # when the module has no such table.
    zone_table: dict[str, list[str]] | None = None

    def excluded_zone_ids(self, region: str) -> list[str]:
        given = self.root.get("excluded_zone_ids")
        if given is not None:
            return list(given)
        return list((self.zone_table or {}).get(region, []))

    def module(self, name: str, key: str) -> Any:
        return self.modules[name][key]


def _blocks(text: str, header: re.Pattern[str]) -> dict[str, str]:
    """Top-level blocks by label. `terraform fmt` puts every top-level closing brace at
    column 0, so a block runs from its header to the next line that is just ``}``."""
    out = {}
    for m in header.finditer(text):
        end = re.compile(r"^\}\s*$", re.M).search(text, m.end())
        out[m.group(1)] = text[m.end() : end.start() if end else len(text)]
    return out


def _has_default(body: str) -> bool:
    return re.search(r"^  default\s*=", body, re.M) is not None


def _attribute(body: str, name: str) -> str | None:
    """The expression of a top-level attribute of a block body (may span lines)."""
    m = re.search(rf"^  {re.escape(name)}\s*=\s*", body, re.M)
    if m is None:
        return None
    depth, out, in_str = 0, [], False
    for ch in body[m.end() :]:
        if ch == "\n" and depth == 0 and not in_str:
            break
        out.append(ch)
        if ch == '"' and (len(out) < 2 or out[-2] != "\\"):
            in_str = not in_str
        elif not in_str and ch in "([{":
            depth += 1
        elif not in_str and ch in ")]}":
            depth -= 1
    return "".join(out).strip()


def one_line(expr: str) -> str:
    """A multi-line HCL literal on one line (the console reads line by line): newlines between
    elements become commas."""
    parts = [re.sub(r"\s+#.*$", "", ln).strip() for ln in expr.splitlines()]
    text = ", ".join(p for p in parts if p)
    text = re.sub(r"([\[{(]),\s*", r"\1 ", text)
    text = re.sub(r",\s*([\]})])", r" \1", text)
    return re.sub(r",\s*,", ",", text)


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def without_validations(text: str) -> str:
    """variables.tf without its validation blocks (fmt style: they open with `  validation {`
    and close with `  }`)."""
    return re.sub(r"^  validation \{.*?^  \}\n", "", text, flags=re.M | re.S)


def console(
    terraform: str,
    variables_tf: Path,
    exprs: dict[str, str],
    tfvars: Path | None = None,
    validate: bool = True,
) -> tuple[dict[str, Any], list[str]]:
    """Evaluate ``exprs`` (name -> HCL expression over var.*) next to ``variables_tf``.

    Returns the values (None for what is unknown: a required variable without a value) and
    Terraform's error messages (e.g. a failed validation rule of a tfvars value).
    """
    if shutil.which(terraform) is None:
        raise TerraformError(f"{terraform} not found on PATH")
    with tempfile.TemporaryDirectory(prefix="ops-tf-") as tmp:
        text = variables_tf.read_text()
        (Path(tmp) / "variables.tf").write_text(text if validate else without_validations(text))
        if tfvars is not None:
            shutil.copy(tfvars, Path(tmp) / "terraform.tfvars")
        # Non-interactive console prints only the last expression: one object of JSON strings,
        # each unknown value replaced so that it does not make the whole object unknown.
        items = ", ".join(f'"{k}" = jsonencode({one_line(v)})' for k, v in exprs.items())
        proc = subprocess.run(
            [terraform, "console", "-no-color"],
            input=f"{{ {items} }}\n",
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "TF_INPUT": "0"},  # TF_VAR_* count, as in a plan
        )
    out = _strip_ansi(proc.stdout + proc.stderr)
    errors = [_error_text(block) for block in out.split("Error: ")[1:]]
    parsed = _parse_console_object(proc.stdout)
    if parsed is None:
        if errors:
            return {k: None for k in exprs}, errors
        raise TerraformError(f"terraform console gave no value: {out.strip()[-2000:]}")
    return {k: (json.loads(v) if isinstance(v, str) else None) for k, v in parsed.items()}, errors


def _error_text(block: str) -> str:
    lines = [ln.strip(" │╷╵├─") for ln in block.splitlines()]
    text = " ".join(ln for ln in lines if ln and not ln.startswith(("on ", "Warning:")))
    return re.sub(r"\s+", " ", text).split(" Warning: ")[0].strip()


def _parse_console_object(stdout: str) -> dict[str, Any] | None:
    """Console prints an object as ``{\\n  "k" = "json..."\\n}``; unknown values print as
    ``(known after apply)``."""
    text = stdout.strip()
    if not text.startswith("{"):
        return None
    out: dict[str, Any] = {}
    for m in re.finditer(r'^\s*"([^"]+)"\s*=\s*(.+?)\s*$', text, re.M):
        raw = m.group(2)
        out[m.group(1)] = json.loads(raw) if raw.startswith('"') else None
    return out


def load(terraform_dir: Path, tfvars: Path | None, terraform: str = "terraform") -> AwsConfig:
    """Read envs/aws as a plan would: root variables with the tfvars, and module inputs."""
    root_dir = terraform_dir / "envs" / "aws"
    vars_tf = root_dir / "variables.tf"
    blocks = _blocks(vars_tf.read_text(), _VARIABLE)
    given = set(_TFVARS_KEY.findall(tfvars.read_text())) if tfvars else set()
    exprs = {n: f"var.{n}" for n, body in blocks.items() if _has_default(body) or n in given}

    main = "\n".join(p.read_text() for p in sorted(root_dir.glob("*.tf")))
    calls = _blocks(main, _MODULE)
    notes: list[str] = []
    overrides: dict[tuple[str, str], str] = {}
    by_source = {}
    for label, body in calls.items():
        src = _attribute(body, "source") or ""
        by_source[Path(src.strip('"')).name] = (label, body)
    for mod, keys in MODULE_INPUTS.items():
        if mod not in by_source:
            continue
        label, body = by_source[mod]
        for key in keys:
            expr = _attribute(body, key)
            if expr is None:
                continue
            if re.search(r"\b(module|local|data|resource|path|each|count)\.", expr):
                notes.append(
                    f"module.{label}.{key} = {expr} cannot be evaluated before a plan; "
                    "the estimate uses the module's default"
                )
                continue
            overrides[(mod, key)] = expr
            exprs[f"{mod}__{key}"] = expr

    def module_values(mod: str) -> dict[str, Any]:
        path = terraform_dir / "modules" / mod / "variables.tf"
        values, _ = console(terraform, path, {k: f"var.{k}" for k in MODULE_INPUTS[mod]})
        return values

    network = terraform_dir / "modules" / "network"
    table_expr = _attribute((network / "main.tf").read_text(), "unsupported_zone_ids")

    with ThreadPoolExecutor(max_workers=4) as pool:
        root_future = pool.submit(console, terraform, vars_tf, exprs, tfvars)
        mod_futures = {m: pool.submit(module_values, m) for m in MODULE_INPUTS}
        table_future = (
            pool.submit(console, terraform, network / "variables.tf", {"t": table_expr})
            if table_expr
            else None
        )
        root_values, errors = root_future.result()
        modules = {m: f.result() for m, f in mod_futures.items()}
        zone_table = table_future.result()[0]["t"] if table_future else None
    if errors and all(v is None for v in root_values.values()):
        # A failed validation makes every value unknown: read the values without the rules
        # (the errors above still FAIL the check) so that the other checks and the cost run.
        root_values, _ = console(terraform, vars_tf, exprs, tfvars, validate=False)
    for (mod, key), _expr in overrides.items():
        modules[mod][key] = root_values.pop(f"{mod}__{key}")
    return AwsConfig(root_values, modules, tfvars, errors, notes, zone_table)
