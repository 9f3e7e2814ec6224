#!/usr/bin/env bash
# The streaming job on EMR Serverless: terraform/scripts/stream.sh {start|stop|status}.
#   start   start the job run; when one runs already, cancel it and start the new code/config
#           (an upgrade). Either way the query resumes from its S3 checkpoint: no data lost,
#           none processed twice (the lake writes are idempotent per micro-batch).
#   stop    cancel the running job run (the checkpoint stays for the next start).
#   status  the job runs of the stream and their states.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need terraform aws jq

ACTIVE='SUBMITTED PENDING SCHEDULED RUNNING'

app_id() { output stream_job .application_id; }
job_name() { output stream_job .job_name; }

active_runs() {
  local app="$1" name="$2" state
  for state in $ACTIVE; do
    aws emr-serverless list-job-runs --application-id "$app" --states "$state" \
      --query "jobRuns[?name=='$name'].id" --output text
  done | tr '\t' '\n' | grep -v '^$' || true
}

wait_stopped() {
  local app="$1" run="$2" state
  for _ in $(seq 1 120); do
    state="$(aws emr-serverless get-job-run --application-id "$app" --job-run-id "$run" \
      --query jobRun.state --output text)"
    case "$state" in CANCELLED|FAILED|SUCCESS) return 0 ;; esac
    sleep 5
  done
  die "job run $run still $state after 10 minutes"
}

stop_runs() {
  local app="$1" name="$2" run
  for run in $(active_runs "$app" "$name"); do
    say "cancelling job run $run (the checkpoint is kept)"
    aws emr-serverless cancel-job-run --application-id "$app" --job-run-id "$run" >/dev/null
    wait_stopped "$app" "$run"
  done
}

cmd="${1:-status}"
tf_init
APP="$(app_id)"
NAME="$(job_name)"
case "$cmd" in
  start)
    stop_runs "$APP" "$NAME"
    request="$(mktemp)"
    trap 'rm -f "$request"' EXIT
    output stream_job .request >"$request"
    run="$(aws emr-serverless start-job-run --cli-input-json "file://$request" --query jobRunId --output text)"
    say "started STREAMING job run $run on application $APP"
    say "logs: CloudWatch log group $(output stream_job .log_group), stream prefix 'stream'"
    ;;
  stop) stop_runs "$APP" "$NAME" ;;
  status)
    aws emr-serverless list-job-runs --application-id "$APP" --max-results 10 \
      --query "jobRuns[?name=='$NAME'].[id,state,createdAt,stateDetails]" --output table
    ;;
  *) die "usage: $0 {start|stop|status}" ;;
esac
