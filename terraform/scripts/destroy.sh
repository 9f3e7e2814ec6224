#!/usr/bin/env bash
# Tear the whole platform down, data included: stop the stream and both EMR Serverless
# applications (AWS deletes only a stopped application, and running workers hold network
# interfaces in the subnets), allow the buckets, secret and user pool to be deleted, then
# terraform destroy. The state bucket (terraform/bootstrap) stays.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need terraform aws jq

if [[ "${1:-}" != "--yes" ]]; then
  read -r -p "Delete the platform AND its data (lake, checkpoints, users)? Type 'destroy': " answer
  [[ "$answer" == "destroy" ]] || die "aborted"
fi
read -r -a VARS <<<"$(tf_var_args)"
VARS+=(-var force_destroy=true)

# The configuration hashes the build artifacts even to destroy: rebuild them on a fresh clone.
if [[ ! -f "$BUILD/pydeps.tar.gz" || ! -f "$BUILD/lambda_api.zip" ]]; then
  say "building the artifacts the configuration refers to"
  build_artifacts
fi

tf_init
say "1/3 stopping the stream and the EMR Serverless applications"
APPS="$(app_ids)"
[[ -n "$APPS" ]] || say "no EMR Serverless application in the outputs: nothing to stop"
for app in $APPS; do stop_application "$app"; done

say "2/3 marking buckets, user pool and secret deletable"
tf apply -auto-approve "${VARS[@]}" \
  -target=module.lake -target=aws_cognito_user_pool.this -target=aws_secretsmanager_secret.dashboard_client

say "3/3 terraform destroy"
tf destroy -auto-approve "${VARS[@]}"
say "done (the state bucket from terraform/bootstrap is kept)"
