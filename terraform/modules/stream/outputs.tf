output "application_id" {
  description = "ID of the EMR Serverless application."
  value       = aws_emrserverless_application.this.id
}

output "application_arn" {
  description = "ARN of the EMR Serverless application."
  value       = aws_emrserverless_application.this.arn
}

output "job_role_arn" {
  description = "Execution role of the stream job."
  value       = aws_iam_role.job.arn
}

output "job_name" {
  description = "Name of the streaming job run (the start script cancels a running one of this name before an upgrade)."
  value       = local.start_job_run.name
}

output "start_job_run" {
  description = "The complete StartJobRun request (mode STREAMING, retry policy, Spark conf, STREAM_* env); `aws emr-serverless start-job-run --cli-input-json` takes it as is."
  value       = local.start_job_run
}

output "spark_conf" {
  description = "Spark properties of the job (spark-defaults), for jobs that share its code and jars."
  value       = local.spark_conf
}

output "artifact_uris" {
  description = "s3:// URIs of the uploaded code, entry scripts, Python deps and jars."
  value = {
    code        = "${local.base_uri}/code/${basename(var.code_zip)}"
    entrypoints = { for k in keys(local.entrypoints) : trimsuffix(k, ".py") => "${local.base_uri}/code/${k}" }
    pydeps      = "${local.base_uri}/pydeps/${basename(var.pydeps_archive)}"
    jars        = [for k in sort(keys(local.jars)) : "${local.base_uri}/jars/${k}"]
  }
}

output "artifacts_prefix" {
  description = "Key prefix of the artifacts in the artifacts bucket."
  value       = local.prefix
}

output "log_group_name" {
  description = "CloudWatch log group of the job's driver and executors."
  value       = aws_cloudwatch_log_group.this.name
}

output "checkpoint_uri" {
  description = "Where the streaming query keeps its checkpoint (a restart resumes from it)."
  value       = local.checkpoint_uri
}

output "lake_uri" {
  description = "STREAM_LAKE_URI of the job."
  value       = local.lake_uri
}

output "security_group_id" {
  description = "Security group of the workers."
  value       = aws_security_group.workers.id
}
