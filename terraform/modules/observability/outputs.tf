output "alarm_topic_arn" {
  description = "SNS topic every alarm publishes to."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_names" {
  description = "Names of the CloudWatch alarms, by what they watch."
  value = {
    stream_not_running = aws_cloudwatch_metric_alarm.stream_not_running.alarm_name
    freshness          = aws_cloudwatch_metric_alarm.freshness.alarm_name
    dead_letters       = aws_cloudwatch_metric_alarm.dead_letters.alarm_name
    api_5xx            = aws_cloudwatch_metric_alarm.api_5xx.alarm_name
    lambda_errors      = aws_cloudwatch_metric_alarm.lambda_errors.alarm_name
  }
}

output "job_failed_rule" {
  description = "EventBridge rule that sends failed EMR Serverless job runs to the topic."
  value       = aws_cloudwatch_event_rule.job_failed.name
}

output "dashboard_name" {
  description = "CloudWatch dashboard name."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "dashboard_url" {
  description = "Console URL of the CloudWatch dashboard."
  value       = "https://${local.region}.console.aws.amazon.com/cloudwatch/home?region=${local.region}#dashboards:name=${aws_cloudwatch_dashboard.this.dashboard_name}"
}
