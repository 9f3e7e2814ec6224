#!/usr/bin/env bash
# The streaming job on EMR Serverless: terraform/scripts/stream.sh {start|stop|status}.
#   start   start the job run; when one runs already, cancel it, wait until it has ended, and
#           start the new code/config (an upgrade). Either way the query resumes from its S3
#           checkpoint: no data lost, none processed twice (the lake writes are idempotent per
#           micro-batch).
#   stop    cancel the running job run (the checkpoint stays for the next start); the
#           application stops by itself after its idle timeout.
#   status  the application's state and the stream's job runs with their states.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need terraform aws jq

cmd="${1:-status}"
tf_init
APP="$(output stream_job .application_id)"
NAME="$(output stream_job .job_name)"
case "$cmd" in
  start)
    cancel_runs "$APP" "$NAME"
    request="$(mktemp)"
    trap 'rm -f "$request"' EXIT
    output stream_job .request >"$request"
    run="$(aws emr-serverless start-job-run --cli-input-json "file://$request" --query jobRunId --output text)"
    say "started STREAMING job run $run on application $APP"
    say "logs: CloudWatch log group $(output stream_job .log_group), stream prefix 'stream'"
    ;;
  stop) cancel_runs "$APP" "$NAME" ;;
  status)
    say "application $APP: $(aws emr-serverless get-application --application-id "$APP" --query application.state --output text)"
    aws emr-serverless list-job-runs --application-id "$APP" --max-results 10 \
      --query "jobRuns[?name=='$NAME'].[id,state,createdAt,stateDetails]" --output table
    ;;
  *) die "usage: $0 {start|stop|status}" ;;
esac
