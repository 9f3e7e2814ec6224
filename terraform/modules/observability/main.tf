data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition
  namespace = "NycTaxi/Pipeline"
  pipeline  = { Pipeline = var.name }
  alarm_actions = {
    alarm_actions = [aws_sns_topic.alarms.arn]
    ok_actions    = [aws_sns_topic.alarms.arn]
  }
}

# ---- the alarm topic, encrypted with a key CloudWatch and EventBridge may use ----------------

data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_111:A key policy's Resource "*" means this key only; the account root keeps administering it (AWS's default key policy).
  #checkov:skip=CKV_AWS_356:A key policy's Resource "*" means this key only.
  #checkov:skip=CKV_AWS_109:A key policy's Resource "*" means this key only; without the root statement the key could become unmanageable.
  statement {
    sid       = "AccountAdmin"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account}:root"]
    }
  }
  statement {
    sid       = "AlarmPublishers"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "events.amazonaws.com"]
    }
  }
}

resource "aws_kms_key" "alarms" {
  description             = "${var.name} alarm topic (the AWS-managed SNS key cannot be used by CloudWatch alarms)."
  enable_key_rotation     = true
  deletion_window_in_days = 7
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = var.tags
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = aws_kms_key.alarms.arn
  tags              = var.tags
}

data "aws_iam_policy_document" "topic" {
  statement {
    sid       = "CloudWatchAlarms"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
  statement {
    sid       = "JobFailureEvents"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.job_failed.arn]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.topic.json
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.alarm_emails)

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

# ---- stream job failed / not running ---------------------------------------------------------

resource "aws_cloudwatch_event_rule" "job_failed" {
  name        = "${var.name}-job-failed"
  description = "An EMR Serverless job run of the platform failed."
  event_pattern = jsonencode({
    source        = ["aws.emr-serverless"]
    "detail-type" = ["EMR Serverless Job Run State Change"]
    detail = {
      state         = ["FAILED"]
      applicationId = concat([var.stream_application_id], var.batch_application_ids)
    }
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "job_failed" {
  rule      = aws_cloudwatch_event_rule.job_failed.name
  target_id = "sns"
  arn       = aws_sns_topic.alarms.arn
}

resource "aws_cloudwatch_metric_alarm" "stream_not_running" {
  alarm_name          = "${var.name}-stream-not-running"
  alarm_description   = "No job runs on the stream's EMR Serverless application (failed past its retry policy, or never started: terraform/scripts/stream.sh start)."
  namespace           = "AWS/EMRServerless"
  metric_name         = "RunningJobs"
  dimensions          = { ApplicationId = var.stream_application_id }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions.alarm_actions
  ok_actions          = local.alarm_actions.ok_actions
  tags                = var.tags
}

# ---- freshness and dead letters (from the probe's metrics) -----------------------------------

resource "aws_cloudwatch_metric_alarm" "freshness" {
  alarm_name          = "${var.name}-freshness-slo"
  alarm_description   = "The stream's last micro-batch is older than ${var.freshness_slo_seconds} s (or the probe cannot read its status)."
  namespace           = local.namespace
  metric_name         = "FreshnessSeconds"
  dimensions          = local.pipeline
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.freshness_slo_seconds
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions.alarm_actions
  ok_actions          = local.alarm_actions.ok_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  alarm_name          = "${var.name}-dead-letter-rate"
  alarm_description   = "More than ${var.dead_letter_ratio_threshold * 100}% of the records read are rejected to dead_letters/."
  namespace           = local.namespace
  metric_name         = "RejectedRatio"
  dimensions          = local.pipeline
  statistic           = "Average"
  period              = 900
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.dead_letter_ratio_threshold
  treat_missing_data  = "notBreaching" # no data is the freshness alarm's business
  alarm_actions       = local.alarm_actions.alarm_actions
  ok_actions          = local.alarm_actions.ok_actions
  tags                = var.tags
}

# ---- API --------------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "api_5xx" {
  alarm_name          = "${var.name}-api-5xx"
  alarm_description   = "The HTTP API answered more than ${var.api_5xx_threshold} 5xx in 5 minutes."
  namespace           = "AWS/ApiGateway"
  metric_name         = "5xx"
  dimensions          = { ApiId = var.api_id, Stage = var.api_stage }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.api_5xx_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions.alarm_actions
  ok_actions          = local.alarm_actions.ok_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  alarm_name          = "${var.name}-api-lambda-errors"
  alarm_description   = "The API's Lambda failed more than ${var.lambda_errors_threshold} times in 5 minutes."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = var.lambda_function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.lambda_errors_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions.alarm_actions
  ok_actions          = local.alarm_actions.ok_actions
  tags                = var.tags
}

# ---- the probe Lambda -------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "probe" {
  #checkov:skip=CKV_AWS_158:The probe logs metric values only; CloudWatch's default encryption is enough.
  #checkov:skip=CKV_AWS_338:Probe logs are for debugging; two weeks is enough.
  name              = "/aws/lambda/${var.name}-probe"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "probe" {
  statement {
    sid       = "ReadStatus"
    actions   = ["s3:GetObject"]
    resources = ["arn:${local.partition}:s3:::${var.lake_bucket}/${var.progress_key}"]
  }
  statement {
    sid       = "PutMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"] # PutMetricData has no resource type; the condition pins the namespace
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [local.namespace]
    }
  }
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.probe.arn}:*"]
  }
}

resource "aws_iam_role" "probe" {
  name_prefix        = "${substr(var.name, 0, 26)}-probe-"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "probe" {
  name   = "read-status-put-metrics"
  role   = aws_iam_role.probe.id
  policy = data.aws_iam_policy_document.probe.json
}

resource "aws_lambda_function" "probe" {
  #checkov:skip=CKV_AWS_117:The probe calls only S3 and CloudWatch public endpoints; a VPC would add a NAT dependency and nothing else.
  #checkov:skip=CKV_AWS_116:A missed minute is covered by the next one; a dead-letter queue would hold nothing worth replaying.
  #checkov:skip=CKV_AWS_173:Its environment holds a bucket name and a key, nothing secret.
  #checkov:skip=CKV_AWS_272:Code signing needs a signing profile the project does not run; the zip is built and uploaded by Terraform from the repository.
  #checkov:skip=CKV_AWS_115:No reserved concurrency: a new account's limit (10) leaves nothing to reserve; one call a minute needs none.
  #checkov:skip=CKV_AWS_50:No X-Ray tracing: one S3 read and one PutMetricData a minute; tracing would need X-Ray permissions for nothing.
  function_name    = "${var.name}-probe"
  description      = "Stream freshness and reject ratio from _pipeline/progress/latest.json to CloudWatch."
  role             = aws_iam_role.probe.arn
  runtime          = "python3.11"
  handler          = "index.handler"
  filename         = var.probe_zip
  source_code_hash = filebase64sha256(var.probe_zip)
  timeout          = 20
  memory_size      = 128

  environment {
    variables = {
      LAKE_BUCKET      = var.lake_bucket
      PROGRESS_KEY     = var.progress_key
      PIPELINE         = var.name
      METRIC_NAMESPACE = local.namespace
    }
  }
  depends_on = [aws_cloudwatch_log_group.probe]
  tags       = var.tags
}

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.probe.arn]
  }
}

resource "aws_iam_role" "scheduler" {
  name_prefix        = "${substr(var.name, 0, 24)}-probe-sch-"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "invoke-probe"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

resource "aws_scheduler_schedule" "probe" {
  #checkov:skip=CKV_AWS_297:The schedule's input names resources only (no secrets); the AWS-owned key is enough.
  name                = "${var.name}-probe"
  schedule_expression = "rate(1 minute)"

  flexible_time_window {
    mode = "OFF"
  }
  target {
    arn      = aws_lambda_function.probe.arn
    role_arn = aws_iam_role.scheduler.arn
    retry_policy {
      maximum_retry_attempts = 0 # the next minute's run replaces a failed one
    }
  }
}

# ---- dashboard --------------------------------------------------------------------------------

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({
    widgets = [
      {
        type = "metric", x = 0, y = 0, width = 12, height = 6
        properties = {
          title   = "Freshness (age of the last micro-batch, s)"
          region  = local.region
          stat    = "Maximum"
          period  = 60
          metrics = [[local.namespace, "FreshnessSeconds", "Pipeline", var.name]]
          annotations = {
            horizontal = [{ label = "SLO", value = var.freshness_slo_seconds }]
          }
        }
      },
      {
        type = "metric", x = 12, y = 0, width = 12, height = 6
        properties = {
          title  = "Rejected share and Kafka lag"
          region = local.region
          period = 60
          metrics = [
            [local.namespace, "RejectedRatio", "Pipeline", var.name, { stat = "Average" }],
            [local.namespace, "KafkaLag", "Pipeline", var.name, { stat = "Maximum", yAxis = "right" }],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 6, width = 12, height = 6
        properties = {
          title  = "Stream job runs"
          region = local.region
          stat   = "Maximum"
          period = 300
          metrics = [
            ["AWS/EMRServerless", "RunningJobs", "ApplicationId", var.stream_application_id],
            ["AWS/EMRServerless", "FailedJobs", "ApplicationId", var.stream_application_id],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 6, width = 12, height = 6
        properties = {
          title  = "API: requests, 5xx, latency p90"
          region = local.region
          period = 300
          metrics = [
            ["AWS/ApiGateway", "Count", "ApiId", var.api_id, "Stage", var.api_stage, { stat = "Sum" }],
            ["AWS/ApiGateway", "5xx", "ApiId", var.api_id, "Stage", var.api_stage, { stat = "Sum" }],
            ["AWS/ApiGateway", "Latency", "ApiId", var.api_id, "Stage", var.api_stage, { stat = "p90", yAxis = "right" }],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 12, width = 12, height = 6
        properties = {
          title  = "API Lambda: errors, throttles, duration p90"
          region = local.region
          period = 300
          metrics = [
            ["AWS/Lambda", "Errors", "FunctionName", var.lambda_function_name, { stat = "Sum" }],
            ["AWS/Lambda", "Throttles", "FunctionName", var.lambda_function_name, { stat = "Sum" }],
            ["AWS/Lambda", "Duration", "FunctionName", var.lambda_function_name, { stat = "p90", yAxis = "right" }],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 12, width = 12, height = 6
        properties = {
          title  = "Dashboard ALB: requests and target 5xx"
          region = local.region
          stat   = "Sum"
          period = 300
          metrics = [
            ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", var.alb_arn_suffix],
            ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", var.alb_arn_suffix],
          ]
        }
      },
    ]
  })
}
