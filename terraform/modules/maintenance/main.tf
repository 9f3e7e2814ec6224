data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name
  python_env = {
    PYSPARK_PYTHON = var.pyspark_python
    PYTHONPATH     = "./pydeps"
  }
  lake_uri = "s3://${var.lake_bucket}"

  # StartJobRun as EventBridge Scheduler's universal target sends it; the execution id makes
  # a retried invocation idempotent.
  start_job_run = {
    ApplicationId    = aws_emrserverless_application.this.id
    ExecutionRoleArn = aws_iam_role.job.arn
    ClientToken      = "<aws.scheduler.execution-id>"
    Name             = "${var.name}-compact"
    JobDriver = {
      SparkSubmit = {
        EntryPoint          = var.entrypoint_uri
        EntryPointArguments = concat(["--lake-uri", local.lake_uri], var.compact_args)
      }
    }
    ConfigurationOverrides = {
      ApplicationConfiguration = [{
        Classification = "spark-defaults"
        Properties = merge(
          {
            "spark.submit.pyFiles" = var.code_uri
            "spark.archives"       = "${var.pydeps_uri}#pydeps"
            # Compaction runs on the driver (pyarrow); one small executor is the minimum.
            "spark.driver.cores"              = "2"
            "spark.driver.memory"             = "8g"
            "spark.executor.cores"            = "1"
            "spark.executor.memory"           = "2g"
            "spark.executor.instances"        = "1"
            "spark.dynamicAllocation.enabled" = "false"
          },
          { for k, v in local.python_env : "spark.emr-serverless.driverEnv.${k}" => v },
          { for k, v in local.python_env : "spark.executorEnv.${k}" => v },
          # pyarrow's S3 client on the driver (spark/lake.py's LakeTarget) needs the region.
          { "spark.emr-serverless.driverEnv.STREAM_S3_REGION" = local.region },
        )
      }]
      MonitoringConfiguration = {
        CloudWatchLoggingConfiguration = {
          Enabled             = true
          LogGroupName        = aws_cloudwatch_log_group.this.name
          LogStreamNamePrefix = "compact"
        }
      }
    }
  }
}

resource "aws_emrserverless_application" "this" {
  name          = var.name
  release_label = var.release_label
  type          = "spark"
  architecture  = "X86_64"

  maximum_capacity {
    cpu    = var.max_capacity.cpu
    memory = var.max_capacity.memory
  }
  auto_start_configuration {
    enabled = true
  }
  auto_stop_configuration {
    enabled              = true
    idle_timeout_minutes = 5 # a nightly batch: stop right after
  }
  network_configuration {
    subnet_ids         = var.subnet_ids
    security_group_ids = var.security_group_ids
  }
  tags = var.tags
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:Compaction logs list partitions and file counts, no records; CloudWatch's default encryption is enough.
  #checkov:skip=CKV_AWS_338:Batch logs are for operations; a year of retention is not needed.
  name              = "/emr-serverless/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

data "aws_iam_policy_document" "job_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["emr-serverless.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

data "aws_iam_policy_document" "job" {
  statement {
    sid       = "ReadCode"
    actions   = ["s3:GetObject"]
    resources = ["arn:${local.partition}:s3:::${var.artifacts_bucket}/${trimsuffix(var.artifacts_prefix, "/")}/*"]
  }
  statement {
    sid     = "ListBuckets"
    actions = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [
      "arn:${local.partition}:s3:::${var.lake_bucket}",
      "arn:${local.partition}:s3:::${var.artifacts_bucket}",
    ]
  }
  statement {
    sid       = "RewriteLakeFiles"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = ["arn:${local.partition}:s3:::${var.lake_bucket}/*"]
  }
  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
  statement {
    sid       = "DescribeLogGroups"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account}:log-group:*"]
  }
  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "UseBucketKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role" "job" {
  name_prefix        = "${substr(var.name, 0, 26)}-job-"
  description        = "Execution role of the ${var.name} compaction job."
  assume_role_policy = data.aws_iam_policy_document.job_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "job" {
  name   = "compact-lake"
  role   = aws_iam_role.job.id
  policy = data.aws_iam_policy_document.job.json
}

# ---- the schedule ----------------------------------------------------------------------------

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    actions   = ["emr-serverless:StartJobRun"]
    resources = [aws_emrserverless_application.this.arn]
  }
  statement {
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.job.arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["emr-serverless.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name_prefix        = "${substr(var.name, 0, 24)}-sched-"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "start-compaction"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

resource "aws_scheduler_schedule" "compact" {
  #checkov:skip=CKV_AWS_297:The schedule's input names resources only (no secrets); the AWS-owned key is enough.
  name                         = "${var.name}-compact"
  description                  = "Compacts small Parquet files of the lake's recent partitions."
  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = "UTC"

  flexible_time_window {
    mode                      = "FLEXIBLE"
    maximum_window_in_minutes = 30
  }

  target {
    arn      = "arn:aws:scheduler:::aws-sdk:emrserverless:startJobRun"
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode(local.start_job_run)

    retry_policy {
      maximum_retry_attempts = 3
    }
  }
}
