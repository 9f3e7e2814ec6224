#!/usr/bin/env bash
# Build every artifact and deploy the platform to AWS, in order:
#   1. artifacts: Spark job zip + Python deps + jars, probe and API Lambda zips (.local/build/)
#   2. terraform apply of the two ECR repositories, then docker build + push of both images
#      (skipped for an image whose tag, the commit, is in its repository already: the
#      repositories are immutable, a second push of a tag fails)
#   3. terraform plan, then apply; an EMR Serverless application the plan updates or replaces
#      is stopped first (its runs cancelled): AWS changes or deletes only a stopped application
#   4. the topic, created by the project's own code (one-off ECS task of the app image)
#   5. the stream job started, or upgraded when it runs (resumes from its checkpoint)
# Prerequisites and a fresh account's first steps: terraform/README.md.
# DEPLOY_SKIP_BUILD=1 skips step 1 and uses .local/build as it is (the script tests do).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need terraform aws docker jq mvn
[[ -x "$PY" ]] || die "no $PY: run 'make install' first"

TAG="$(git -C "$REPO" rev-parse --short=12 HEAD)"
if [[ -n "$(git -C "$REPO" status --porcelain --untracked-files=no)" ]]; then TAG="$TAG-dirty-$(date +%s)"; fi
read -r -a VARS <<<"$(tf_var_args)"
VARS+=(-var "app_image_tag=$TAG" -var "dashboard_image_tag=$TAG")

# `image_exists REPOSITORY_URL TAG`: 0 when the tag is in the repository, 1 when it is not.
image_exists() {
  local err
  if err="$(aws ecr describe-images --repository-name "${1#*/}" --image-ids "imageTag=$2" \
    --query 'imageDetails[0].imageTags' --output text 2>&1 >/dev/null)"; then
    return 0
  fi
  [[ "$err" == *ImageNotFoundException* ]] && return 1
  die "cannot look up the image $1:$2: $err"
}

say "1/5 building artifacts into $BUILD"
build_artifacts

say "2/5 image repositories, then images tagged $TAG"
tf_init
tf apply -auto-approve "${VARS[@]}" \
  -target=module.producer.aws_ecr_repository.this -target=module.dashboard.aws_ecr_repository.this
APP_REPO="$(output ecr_repositories .app)"
DASH_REPO="$(output ecr_repositories .dashboard)"
REGISTRY="${APP_REPO%%/*}"
BUILDS=()
for image in "$APP_REPO" "$DASH_REPO"; do
  if image_exists "$image" "$TAG"; then
    say "$image:$TAG is in the registry already: not built again"
  else
    BUILDS+=("$image")
  fi
done
if [[ ${#BUILDS[@]} -gt 0 ]]; then
  aws ecr get-login-password | docker login --username AWS --password-stdin "$REGISTRY"
  for image in "${BUILDS[@]}"; do
    if [[ "$image" == "$APP_REPO" ]]; then
      docker build --platform linux/amd64 --target app -t "$image:$TAG" "$REPO"
    else
      docker build --platform linux/amd64 -f "$REPO/streamlit_app/Dockerfile" -t "$image:$TAG" "$REPO"
    fi
    docker push "$image:$TAG"
  done
fi

say "3/5 terraform plan and apply"
PLAN="$(mktemp "${TMPDIR:-/tmp}/deploy-XXXXXX.tfplan")"
trap 'rm -f "$PLAN"' EXIT
tf plan -input=false -out="$PLAN" "${VARS[@]}"
# Applications the plan updates or deletes (a replacement deletes): their ids before the change.
CHANGED_APPS="$(tf show -json "$PLAN" | jq -r '.resource_changes[]?
  | select(.type == "aws_emrserverless_application")
  | select(.change.actions | any(. == "update" or . == "delete"))
  | .change.before.id')"
for app in $CHANGED_APPS; do
  say "the plan changes EMR Serverless application $app: stopping it first (the stream restarts in step 5)"
  stop_application "$app"
done
tf apply -input=false "$PLAN"

say "4/5 creating the topic (ECS task of the app image)"
CLUSTER="$(output ecs .cluster)"
TOPICS_CMD="$(output ecs .run_topics_command)"
TASK="$(eval "$TOPICS_CMD --query 'tasks[0].taskArn' --output text")"
aws ecs wait tasks-stopped --cluster "$CLUSTER" --tasks "$TASK"
CODE="$(aws ecs describe-tasks --cluster "$CLUSTER" --tasks "$TASK" --query 'tasks[0].containers[0].exitCode' --output text)"
[[ "$CODE" == "0" ]] || die "topic task exited $CODE: see CloudWatch log group $(output ecs .producer_log_group)"

say "5/5 starting (or upgrading) the stream"
"$REPO/terraform/scripts/stream.sh" start

say "done"
tf output
