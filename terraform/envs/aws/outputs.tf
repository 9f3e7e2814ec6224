output "api_url" {
  description = "Base URL of the HTTP API."
  value       = module.api.invoke_url
}

output "dashboard_url" {
  description = "URL of the dashboard (http:// when no certificate was given)."
  value       = module.dashboard.url
}

output "bucket_names" {
  description = "Lake buckets by role: lake, checkpoints, query_results, artifacts."
  value       = module.lake.bucket_names
}

output "bootstrap_brokers" {
  description = "MSK bootstrap servers (SASL/IAM, port 9098)."
  value       = module.streaming.bootstrap_brokers
}

output "stream_start_command" {
  description = "Starts (or, when one runs, upgrades) the streaming job run; it resumes from the S3 checkpoint."
  value       = "terraform/scripts/stream.sh start"
}

output "stream_job" {
  description = "What terraform/scripts/stream.sh needs: application id, job name, the StartJobRun request."
  value = {
    application_id = module.stream.application_id
    job_name       = module.stream.job_name
    request        = module.stream.start_job_run
    log_group      = module.stream.log_group_name
    checkpoint_uri = module.stream.checkpoint_uri
  }
}

output "compaction_job" {
  description = "The compaction's EMR Serverless application (destroy.sh stops it first) and its schedule."
  value = {
    application_id = module.maintenance.application_id
    schedule_name  = module.maintenance.schedule_name
    log_group      = module.maintenance.log_group_name
  }
}

output "ecr_repositories" {
  description = "Where the deploy script pushes the images."
  value = {
    app       = module.producer.ecr_repository_url
    dashboard = module.dashboard.ecr_repository_url
  }
}

output "ecs" {
  description = "ECS cluster, dashboard service and the producer/topic tasks (run-task commands)."
  value = {
    cluster              = module.dashboard.cluster_name
    dashboard_service    = module.dashboard.service_name
    run_producer_command = module.producer.run_producer_command
    run_topics_command   = module.producer.run_topics_command
    producer_log_group   = module.producer.log_group_name
  }
}

output "athena" {
  description = "Glue database and Athena workgroup of the lake."
  value = {
    database             = module.lake.database_name
    workgroup            = module.lake.athena_workgroup
    partition_projection = module.lake.partition_projection_enabled
  }
}

output "cognito" {
  description = "User pool and clients (create users with aws cognito-idp admin-create-user)."
  value = {
    user_pool_id  = aws_cognito_user_pool.this.id
    issuer        = local.cognito_issuer
    api_client_id = aws_cognito_user_pool_client.api.id
    domain        = "${aws_cognito_user_pool_domain.this.domain}.auth.${var.region}.amazoncognito.com"
  }
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms."
  value       = module.observability.alarm_topic_arn
}

output "cloudwatch_dashboard_url" {
  description = "Console URL of the CloudWatch dashboard."
  value       = module.observability.dashboard_url
}
