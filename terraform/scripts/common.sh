# Shared by deploy.sh, destroy.sh and stream.sh: paths, the terraform wrapper, output access.
# shellcheck shell=bash
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ROOT="$REPO/terraform/envs/aws"
BUILD="$REPO/.local/build"
PY="${PY:-$REPO/.venv/bin/python}"
export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1

say() { printf '\033[1m[aws]\033[0m %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

tf() { terraform -chdir="$ROOT" "$@"; }

# Optional variable file next to the root (copy terraform.tfvars.example).
tf_var_args() {
  if [[ -f "$ROOT/terraform.tfvars" ]]; then echo "-var-file=$ROOT/terraform.tfvars"; fi
}

tf_init() {
  [[ -f "$ROOT/backend.hcl" ]] || die "no $ROOT/backend.hcl: run the bootstrap first (terraform/README.md, 'Fresh account')"
  tf init -input=false -backend-config="$ROOT/backend.hcl" >/dev/null
}

# `output NAME [jq filter]`: one Terraform output, as JSON or filtered with jq.
output() {
  local json
  json="$(tf output -json "$1")"
  if [[ $# -gt 1 ]]; then jq -r "$2" <<<"$json"; else echo "$json"; fi
}

need() {
  local missing=()
  for tool in "$@"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  [[ ${#missing[@]} -eq 0 ]] || die "missing tools: ${missing[*]}"
}
