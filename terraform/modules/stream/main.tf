data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  prefix    = trimsuffix(var.artifacts_prefix, "/")
  base_uri  = "s3://${var.artifacts_bucket}/${local.prefix}"

  jars = { for p in var.jar_paths : basename(p) => p }
  entrypoints = merge({ "stream.py" = var.entrypoint }, {
    for name, p in var.extra_entrypoints : "${name}.py" => p
  })

  lake_uri       = "s3://${var.lake_bucket}${var.lake_prefix == "" ? "" : "/${trim(var.lake_prefix, "/")}"}"
  checkpoint_uri = "s3://${var.checkpoints_bucket}/stream/${var.topic}"

  # How the job authenticates to MSK: the aws-msk-iam-auth jar's SASL mechanism, with the job
  # role's credentials from the default chain. Passed as STREAM_KAFKA_OPTIONS (JSON).
  kafka_iam_options = {
    "kafka.security.protocol"                  = "SASL_SSL"
    "kafka.sasl.mechanism"                     = "AWS_MSK_IAM"
    "kafka.sasl.jaas.config"                   = "software.amazon.msk.auth.iam.IAMLoginModule required;"
    "kafka.sasl.client.callback.handler.class" = "software.amazon.msk.auth.iam.IAMClientCallbackHandler"
  }

  # spark/config.py on EMR: s3:// (EMRFS), no master (EMR's), no local jar folder (spark.jars
  # from S3), no local progress log, scratch in the container's /tmp, checkpoint manager of
  # EMRFS (the abortable one needs S3A).
  env = merge({
    STREAM_KAFKA_BOOTSTRAP       = var.kafka_bootstrap
    STREAM_TOPIC                 = var.topic
    STREAM_KAFKA_OPTIONS         = jsonencode(local.kafka_iam_options)
    STREAM_LAKE_URI              = local.lake_uri
    STREAM_CHECKPOINT_URI        = local.checkpoint_uri
    STREAM_MASTER                = "none"
    STREAM_JARS_DIR              = "none"
    STREAM_PROGRESS_LOG          = "none"
    STREAM_LOCAL_DIR             = "/tmp/nyc-taxi-stream"
    STREAM_ABORTABLE_CHECKPOINTS = "false"
    STREAM_S3_REGION             = data.aws_region.current.name
  }, var.stream_env)

  python_env = {
    PYSPARK_PYTHON = var.pyspark_python
    PYTHONPATH     = "./pydeps"
  }

  spark_conf = merge(
    {
      "spark.jars"                      = join(",", [for k in sort(keys(local.jars)) : "${local.base_uri}/jars/${k}"])
      "spark.submit.pyFiles"            = "${local.base_uri}/code/${basename(var.code_zip)}"
      "spark.archives"                  = "${local.base_uri}/pydeps/${basename(var.pydeps_archive)}#pydeps"
      "spark.driver.cores"              = tostring(var.driver.cores)
      "spark.driver.memory"             = var.driver.memory
      "spark.executor.cores"            = tostring(var.executor.cores)
      "spark.executor.memory"           = var.executor.memory
      "spark.executor.instances"        = tostring(var.executor.instances)
      "spark.dynamicAllocation.enabled" = "false"
    },
    { for k, v in local.python_env : "spark.emr-serverless.driverEnv.${k}" => v },
    { for k, v in local.python_env : "spark.executorEnv.${k}" => v },
    { for k, v in local.env : "spark.emr-serverless.driverEnv.${k}" => v },
  )

  # The whole StartJobRun request; terraform/scripts/stream.sh sends it as is.
  start_job_run = {
    applicationId    = aws_emrserverless_application.this.id
    executionRoleArn = aws_iam_role.job.arn
    name             = var.name
    mode             = "STREAMING"
    retryPolicy      = { maxFailedAttemptsPerHour = var.max_failed_attempts_per_hour }
    jobDriver = {
      sparkSubmit = {
        entryPoint = "${local.base_uri}/code/stream.py"
      }
    }
    configurationOverrides = {
      applicationConfiguration = [{
        classification = "spark-defaults"
        properties     = local.spark_conf
      }]
      monitoringConfiguration = {
        cloudWatchLoggingConfiguration = {
          enabled             = true
          logGroupName        = aws_cloudwatch_log_group.this.name
          logStreamNamePrefix = "stream"
        }
      }
    }
    tags = var.tags
  }
}

# ---- artifacts: everything the job runs is in S3 before it starts (nothing fetched at run time)

resource "aws_s3_object" "code" {
  #checkov:skip=CKV_AWS_186:The artifacts bucket's default encryption (SSE-S3, or the stack's KMS key) applies.
  bucket      = var.artifacts_bucket
  key         = "${local.prefix}/code/${basename(var.code_zip)}"
  source      = var.code_zip
  source_hash = filemd5(var.code_zip)
  tags        = var.tags
}

resource "aws_s3_object" "entrypoint" {
  #checkov:skip=CKV_AWS_186:The artifacts bucket's default encryption (SSE-S3, or the stack's KMS key) applies.
  for_each = local.entrypoints

  bucket      = var.artifacts_bucket
  key         = "${local.prefix}/code/${each.key}"
  source      = each.value
  source_hash = filemd5(each.value)
  tags        = var.tags
}

resource "aws_s3_object" "pydeps" {
  #checkov:skip=CKV_AWS_186:The artifacts bucket's default encryption (SSE-S3, or the stack's KMS key) applies.
  bucket      = var.artifacts_bucket
  key         = "${local.prefix}/pydeps/${basename(var.pydeps_archive)}"
  source      = var.pydeps_archive
  source_hash = filemd5(var.pydeps_archive)
  tags        = var.tags
}

resource "aws_s3_object" "jar" {
  #checkov:skip=CKV_AWS_186:The artifacts bucket's default encryption (SSE-S3, or the stack's KMS key) applies.
  for_each = local.jars

  bucket      = var.artifacts_bucket
  key         = "${local.prefix}/jars/${each.key}"
  source      = each.value
  source_hash = filemd5(each.value)
  tags        = var.tags
}

# ---- the application -------------------------------------------------------------------------

resource "aws_security_group" "workers" {
  #checkov:skip=CKV2_AWS_5:Attached to the EMR Serverless application's network configuration (checkov does not recognise that resource as an attachment).
  name        = "${var.name}-emr"
  description = "EMR Serverless workers: outbound HTTPS (S3, STS, logs) only; Kafka via the MSK client group."
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-emr" })
}

resource "aws_vpc_security_group_egress_rule" "workers_https" {
  security_group_id = aws_security_group.workers.id
  description       = "HTTPS to AWS APIs (S3 gateway endpoint, STS, CloudWatch Logs)"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_emrserverless_application" "this" {
  name          = var.name
  release_label = var.release_label
  type          = "spark"
  architecture  = "X86_64" # the pydeps archive holds x86_64 wheels

  maximum_capacity {
    cpu    = var.max_capacity.cpu
    memory = var.max_capacity.memory
  }

  auto_start_configuration {
    enabled = true
  }

  auto_stop_configuration {
    enabled              = true
    idle_timeout_minutes = var.auto_stop_idle_minutes
  }

  network_configuration {
    subnet_ids         = var.subnet_ids
    security_group_ids = concat([aws_security_group.workers.id], var.extra_security_group_ids)
  }

  tags = var.tags
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:Driver/executor logs carry no trip records; CloudWatch's default encryption is enough.
  #checkov:skip=CKV_AWS_338:Job logs are for operations; a year of retention is not needed.
  name              = "/emr-serverless/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

# ---- the job's role: its artifacts (read), the lake and checkpoint (read-write), the topic ---

data "aws_iam_policy_document" "assume" {
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
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:emr-serverless:${data.aws_region.current.name}:${local.account}:/applications/*"]
    }
  }
}

data "aws_iam_policy_document" "job" {
  statement {
    sid       = "ReadArtifacts"
    actions   = ["s3:GetObject"]
    resources = ["arn:${local.partition}:s3:::${var.artifacts_bucket}/${local.prefix}/*"]
  }
  statement {
    sid     = "ListBuckets"
    actions = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [
      "arn:${local.partition}:s3:::${var.lake_bucket}",
      "arn:${local.partition}:s3:::${var.checkpoints_bucket}",
      "arn:${local.partition}:s3:::${var.artifacts_bucket}",
    ]
  }
  statement {
    sid     = "ReadWriteLakeAndCheckpoint"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = [
      "arn:${local.partition}:s3:::${var.lake_bucket}/${var.lake_prefix == "" ? "" : "${trim(var.lake_prefix, "/")}/"}*",
      "arn:${local.partition}:s3:::${var.checkpoints_bucket}/stream/*",
    ]
  }
  statement {
    # The S3 filesystem probes the checkpoint folder's parent with a HEAD of the key "stream";
    # without GetObject on that one key S3 answers 403 and the job fails at start.
    sid       = "ProbeCheckpointParent"
    actions   = ["s3:GetObject"]
    resources = ["arn:${local.partition}:s3:::${var.checkpoints_bucket}/stream"]
  }
  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
  statement {
    sid       = "DescribeLogGroups"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["arn:${local.partition}:logs:${data.aws_region.current.name}:${local.account}:log-group:*"]
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
  description        = "Execution role of the ${var.name} stream job."
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "job" {
  name   = "lake-and-artifacts"
  role   = aws_iam_role.job.id
  policy = data.aws_iam_policy_document.job.json
}

resource "aws_iam_role_policy" "kafka" {
  name   = "read-topic"
  role   = aws_iam_role.job.id
  policy = var.kafka_policy_json
}
