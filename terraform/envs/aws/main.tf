# The platform on AWS. One module per part, wired through outputs; envs/local runs the lake part
# on the AWS twin with the same module.

locals {
  contract = jsondecode(file("${path.root}/../../../contract/tables.json"))
  name     = "${var.name_prefix}-${var.environment}"

  build = abspath(startswith(var.build_dir, "/") ? var.build_dir : "${path.root}/${var.build_dir}")
  jars  = [for f in sort(fileset("${local.build}/jars", "*.jar")) : "${local.build}/jars/${f}"]

  # Without NAT, private tasks cannot call the public HTTP API: the dashboard then runs in the
  # public subnets with a public IP (its security group still admits only the ALB).
  dashboard_public = !module.network.has_internet_egress
}

module "network" {
  source = "../../modules/network"

  name               = local.name
  cidr_block         = var.vpc_cidr
  az_count           = var.az_count
  excluded_zone_ids  = var.excluded_zone_ids
  egress             = var.egress
  single_nat_gateway = var.single_nat_gateway
}

module "lake" {
  source = "../../modules/lake"

  name_prefix = local.name
  tables      = local.contract.tables
  # Athena finds partitions from the path template: no MSCK REPAIR, no AddPartition calls.
  # The settings are the module's default, the same as envs/local (where Trino tests them).
  enable_partition_projection           = true
  force_destroy                         = var.force_destroy
  athena_bytes_scanned_cutoff_per_query = 10 * 1024 * 1024 * 1024
}

module "streaming" {
  source = "../../modules/streaming"

  name       = local.name
  mode       = var.msk_mode
  vpc_id     = module.network.vpc_id
  subnet_ids = module.network.private_subnet_ids
  topics     = [var.topic]
}

module "stream" {
  source = "../../modules/stream"

  name                     = "${local.name}-stream"
  vpc_id                   = module.network.vpc_id
  subnet_ids               = module.network.private_subnet_ids
  extra_security_group_ids = [module.streaming.client_security_group_id]

  artifacts_bucket  = module.lake.artifacts_bucket
  code_zip          = "${local.build}/spark-job.zip"
  entrypoint        = "${path.root}/../../../spark/__main__.py"
  extra_entrypoints = { compact = "${path.root}/../../../spark/compact.py" }
  pydeps_archive    = "${local.build}/pydeps.tar.gz"
  jar_paths         = local.jars

  lake_bucket        = module.lake.lake_bucket
  checkpoints_bucket = module.lake.checkpoints_bucket
  kafka_bootstrap    = module.streaming.bootstrap_brokers
  topic              = var.topic
  kafka_policy_json  = module.streaming.consumer_policy_json
  stream_env         = var.stream_env
}

module "maintenance" {
  source = "../../modules/maintenance"

  name                = "${local.name}-maint"
  subnet_ids          = module.network.private_subnet_ids
  security_group_ids  = [module.stream.security_group_id]
  schedule_expression = var.compaction_schedule
  entrypoint_uri      = module.stream.artifact_uris.entrypoints["compact"]
  code_uri            = module.stream.artifact_uris.code
  pydeps_uri          = module.stream.artifact_uris.pydeps
  artifacts_bucket    = module.lake.artifacts_bucket
  artifacts_prefix    = module.stream.artifacts_prefix
  lake_bucket         = module.lake.lake_bucket
}

module "api" {
  source = "../../modules/api"

  name                   = "${local.name}-api"
  zip_path               = "${local.build}/lambda_api.zip"
  lake_bucket            = module.lake.lake_bucket
  query_results_bucket   = module.lake.query_results_bucket
  athena_database        = module.lake.database_name
  athena_workgroup       = module.lake.athena_workgroup
  throttling_rate_limit  = var.api_throttle.rate_limit
  throttling_burst_limit = var.api_throttle.burst_limit

  jwt_issuer   = var.api_jwt_auth ? local.cognito_issuer : null
  jwt_audience = var.api_jwt_auth ? local.api_audience : []
}

module "dashboard" {
  source = "../../modules/dashboard"

  name              = local.name
  vpc_id            = module.network.vpc_id
  public_subnet_ids = module.network.public_subnet_ids
  task_subnet_ids   = local.dashboard_public ? module.network.public_subnet_ids : module.network.private_subnet_ids
  assign_public_ip  = local.dashboard_public
  image_tag         = var.dashboard_image_tag
  api_url           = module.api.invoke_url
  environment       = var.api_jwt_auth ? local.dashboard_oauth_env : {}
  # The version's ARN (the secret's): the task definition then waits for the value to exist.
  secrets         = var.api_jwt_auth ? { DASH_OAUTH_CLIENT_SECRET = aws_secretsmanager_secret_version.dashboard_client[0].arn } : {}
  allowed_cidrs   = var.dashboard_allowed_cidrs
  certificate_arn = var.dashboard_certificate_arn
  domain_name     = var.dashboard_domain_name
  route53_zone_id = var.route53_zone_id
  # variables.tf refuses a dashboard without login unless this says so.
  public_without_login = var.dashboard_public_without_login
  cognito = local.dashboard_login ? {
    user_pool_arn       = aws_cognito_user_pool.this.arn
    user_pool_client_id = aws_cognito_user_pool_client.dashboard_login[0].id
    user_pool_domain    = aws_cognito_user_pool_domain.this.domain
  } : null
}

module "producer" {
  source = "../../modules/producer"

  name                     = local.name
  cluster_arn              = module.dashboard.cluster_arn
  vpc_id                   = module.network.vpc_id
  subnet_ids               = local.dashboard_public ? module.network.public_subnet_ids : module.network.private_subnet_ids
  assign_public_ip         = local.dashboard_public
  extra_security_group_ids = [module.streaming.client_security_group_id]
  image_tag                = var.app_image_tag
  kafka_bootstrap          = module.streaming.bootstrap_brokers
  topic                    = var.topic
  topic_partitions         = var.topic_partitions
  producer_policy_json     = module.streaming.producer_policy_json
  admin_policy_json        = module.streaming.admin_policy_json
  command                  = var.producer_command
  schedule_expression      = var.producer_schedule
}

module "observability" {
  source = "../../modules/observability"

  name                  = local.name
  alarm_emails          = var.alarm_emails
  stream_application_id = module.stream.application_id
  batch_application_ids = [module.maintenance.application_id]
  lake_bucket           = module.lake.lake_bucket
  probe_zip             = "${local.build}/probe.zip"
  freshness_slo_seconds = var.freshness_slo_seconds
  api_id                = module.api.api_id
  lambda_function_name  = module.api.function_name
  alb_arn_suffix        = module.dashboard.alb_arn_suffix
}
