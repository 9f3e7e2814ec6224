# Shared by deploy.sh, destroy.sh and stream.sh: paths, the terraform wrapper, output access,
# and the EMR Serverless job-run and application state changes they wait for.
# shellcheck shell=bash
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ROOT="$REPO/terraform/envs/aws"
BUILD="$REPO/.local/build"
PY="${PY:-$REPO/.venv/bin/python}"
export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
# How often (seconds) to poll a job run or application that is changing state, and for how long
# at most before giving up with an error (tests/test_aws_scripts.py shortens both).
POLL_SECONDS="${DEPLOY_POLL_SECONDS:-5}"
WAIT_SECONDS="${DEPLOY_WAIT_SECONDS:-900}"

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

# The artifacts the configuration uploads (and hashes, even to destroy). DEPLOY_SKIP_BUILD=1 uses
# what is in .local/build as it is (the script tests, which have no Maven and no time for it).
build_artifacts() {
  if [[ "${DEPLOY_SKIP_BUILD:-}" == "1" ]]; then
    local f
    for f in spark-job.zip pydeps.tar.gz probe.zip lambda_api.zip; do
      [[ -f "$BUILD/$f" ]] || die "DEPLOY_SKIP_BUILD=1 but $BUILD/$f is missing: run 'make aws-build'"
    done
    say "DEPLOY_SKIP_BUILD=1: using the artifacts in $BUILD as they are"
    return
  fi
  "$PY" "$REPO/terraform/scripts/artifacts.py" --out "$BUILD"
  "$PY" -m lambda_api.build --output "$BUILD/lambda_api.zip"
}

# ---- EMR Serverless: job runs and applications --------------------------------------------
# A run in one of these states keeps its application from stopping (StopApplication: "all
# scheduled and running jobs must be completed or cancelled"); CANCELLING ones are waited for.
CANCELLABLE=(SUBMITTED PENDING SCHEDULED RUNNING QUEUED)

# `job_runs APP NAME STATE...`: ids of the application's runs in those states; every run of the
# application when NAME is empty, else the runs of that name.
job_runs() {
  local app="$1" name="$2" query="jobRuns[].id"
  shift 2
  [[ -z "$name" ]] || query="jobRuns[?name=='$name'].id"
  aws emr-serverless list-job-runs --application-id "$app" --states "$@" \
    --query "$query" --output text | tr '\t' '\n' | grep -v -e '^$' -e '^None$' || true
}

wait_run_ended() {
  local app="$1" run="$2" state deadline=$((SECONDS + WAIT_SECONDS))
  while :; do
    state="$(aws emr-serverless get-job-run --application-id "$app" --job-run-id "$run" \
      --query jobRun.state --output text)"
    case "$state" in CANCELLED | FAILED | SUCCESS) return 0 ;; esac
    ((SECONDS < deadline)) || die "job run $run on application $app still $state after ${WAIT_SECONDS}s"
    sleep "$POLL_SECONDS"
  done
}

# `cancel_runs APP [NAME]`: cancel the active runs (of that name) and wait until each has ended.
cancel_runs() {
  local app="$1" name="${2:-}" run
  for run in $(job_runs "$app" "$name" "${CANCELLABLE[@]}"); do
    say "cancelling job run $run on application $app (a stream's checkpoint is kept)"
    aws emr-serverless cancel-job-run --application-id "$app" --job-run-id "$run" >/dev/null
  done
  for run in $(job_runs "$app" "$name" "${CANCELLABLE[@]}" CANCELLING); do
    wait_run_ended "$app" "$run"
  done
}

# `stop_application APP`: cancel its runs, stop it and wait until it is STOPPED (or CREATED: it
# never started). Terraform can update or delete an application only in these two states, and
# a stopped application's workers release their network interfaces in the VPC subnets.
stop_application() {
  local app="$1" state asked="" deadline
  cancel_runs "$app"
  deadline=$((SECONDS + WAIT_SECONDS))
  while :; do
    state="$(aws emr-serverless get-application --application-id "$app" \
      --query application.state --output text)"
    case "$state" in
      CREATED | STOPPED | TERMINATED) return 0 ;;
      STARTING | STARTED)
        if [[ -z "$asked" ]]; then
          say "stopping EMR Serverless application $app"
          aws emr-serverless stop-application --application-id "$app" >/dev/null
          asked=1
          continue # read the state it moved to
        fi
        ;;
    esac # CREATING, STOPPING: wait
    ((SECONDS < deadline)) || die "EMR Serverless application $app still $state after ${WAIT_SECONDS}s: stop it with 'aws emr-serverless stop-application --application-id $app' and run this again"
    sleep "$POLL_SECONDS"
  done
}

# `app_ids`: the ids of the stream's and the compaction's applications, from the outputs (none
# when the root was never applied).
app_ids() {
  local all
  all="$(tf output -json 2>/dev/null)" || all='{}'
  jq -r '.stream_job.value.application_id // empty, .compaction_job.value.application_id // empty' \
    <<<"${all:-"{}"}" | sort -u
}
