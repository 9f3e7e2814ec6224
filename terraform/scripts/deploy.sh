#!/usr/bin/env bash
# Build every artifact and deploy the platform to AWS, in order:
#   1. artifacts: Spark job zip + Python deps + jars, probe and API Lambda zips (.local/build/)
#   2. terraform apply of the two ECR repositories, then docker build + push of both images
#   3. terraform apply of everything (uploads the artifacts, rolls the ECS service)
#   4. the topic, created by the project's own code (one-off ECS task of the app image)
#   5. the stream job started, or upgraded when it runs (resumes from its checkpoint)
# Prerequisites and a fresh account's first steps: terraform/README.md.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need terraform aws docker jq mvn
[[ -x "$PY" ]] || die "no $PY: run 'make install' first"

TAG="$(git -C "$REPO" rev-parse --short=12 HEAD)"
if [[ -n "$(git -C "$REPO" status --porcelain --untracked-files=no)" ]]; then TAG="$TAG-dirty-$(date +%s)"; fi
read -r -a VARS <<<"$(tf_var_args)"
VARS+=(-var "app_image_tag=$TAG" -var "dashboard_image_tag=$TAG")

say "1/5 building artifacts into $BUILD"
"$PY" "$REPO/terraform/scripts/artifacts.py" --out "$BUILD"
"$PY" -m lambda_api.build --output "$BUILD/lambda_api.zip"

say "2/5 image repositories, then images tagged $TAG"
tf_init
tf apply -auto-approve "${VARS[@]}" \
  -target=module.producer.aws_ecr_repository.this -target=module.dashboard.aws_ecr_repository.this
APP_REPO="$(output ecr_repositories .app)"
DASH_REPO="$(output ecr_repositories .dashboard)"
REGISTRY="${APP_REPO%%/*}"
aws ecr get-login-password | docker login --username AWS --password-stdin "$REGISTRY"
docker build --platform linux/amd64 --target app -t "$APP_REPO:$TAG" "$REPO"
docker build --platform linux/amd64 -f "$REPO/streamlit_app/Dockerfile" -t "$DASH_REPO:$TAG" "$REPO"
docker push "$APP_REPO:$TAG"
docker push "$DASH_REPO:$TAG"

say "3/5 terraform apply"
tf apply -auto-approve "${VARS[@]}"

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
