output "application_id" {
  description = "ID of the batch EMR Serverless application."
  value       = aws_emrserverless_application.this.id
}

output "job_role_arn" {
  description = "Execution role of the compaction job."
  value       = aws_iam_role.job.arn
}

output "schedule_name" {
  description = "EventBridge Scheduler schedule that starts compaction."
  value       = aws_scheduler_schedule.compact.name
}

output "log_group_name" {
  description = "CloudWatch log group of the compaction job."
  value       = aws_cloudwatch_log_group.this.name
}

output "start_job_run" {
  description = "The StartJobRun request the schedule sends (run it by hand with the CLI after replacing ClientToken)."
  value       = local.start_job_run
}
