data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  # arn:<partition>:<service>:<region>:<account>: the service is part of the ARN.
  region_account = "${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
  athena_arn     = "arn:${data.aws_partition.current.partition}:athena:${local.region_account}"
  glue_arn       = "arn:${data.aws_partition.current.partition}:glue:${local.region_account}"
  jwt            = var.jwt_issuer != null

  # Docs and health stay open (API Gateway's authorizer would also block the browser's /docs);
  # every data route sits behind the JWT authorizer when one is configured.
  routes = {
    "GET /health"       = false
    "GET /docs"         = false
    "GET /openapi.json" = false
    "GET /v1/{proxy+}"  = true
  }

  environment = merge(
    {
      API_ENGINE           = "athena"
      API_ATHENA_DATABASE  = var.athena_database
      API_ATHENA_WORKGROUP = var.athena_workgroup
      API_LAKE_URI         = "s3://${var.lake_bucket}"
      API_QUERY_TIMEOUT_S  = tostring(var.query_timeout_s)
    },
    var.environment,
  )
}

# ---- IAM -------------------------------------------------------------------------------------

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = var.name
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "access" {
  statement {
    sid = "Logs"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
    ]
    resources = ["${aws_cloudwatch_log_group.function.arn}:*"]
  }

  statement {
    sid = "Athena"
    actions = [
      "athena:StartQueryExecution",
      "athena:GetQueryExecution",
      "athena:GetQueryResults",
      "athena:StopQueryExecution",
    ]
    resources = ["${local.athena_arn}:workgroup/${var.athena_workgroup}"]
  }

  statement {
    sid = "GlueRead"
    actions = [
      "glue:GetDatabase",
      "glue:GetTable",
      "glue:GetTables",
      "glue:GetPartition",
      "glue:GetPartitions",
    ]
    resources = [
      "${local.glue_arn}:catalog",
      "${local.glue_arn}:database/${var.athena_database}",
      "${local.glue_arn}:table/${var.athena_database}/*",
    ]
  }

  statement {
    sid       = "LakeRead"
    actions   = ["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"]
    resources = ["arn:${data.aws_partition.current.partition}:s3:::${var.lake_bucket}", "arn:${data.aws_partition.current.partition}:s3:::${var.lake_bucket}/*"]
  }

  statement {
    sid = "QueryResults"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:ListBucket",
      "s3:GetBucketLocation",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = ["arn:${data.aws_partition.current.partition}:s3:::${var.query_results_bucket}", "arn:${data.aws_partition.current.partition}:s3:::${var.query_results_bucket}/*"]
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "Kms"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "access" {
  name   = "query-lake"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.access.json
}

# Active tracing: Lambda sends the function's segments to X-Ray with the execution role, and
# refuses to create a traced function whose role may not (xray:PutTraceSegments and
# xray:PutTelemetryRecords; X-Ray has no resource-level permissions).
resource "aws_iam_role_policy_attachment" "xray" {
  role       = aws_iam_role.this.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
}

# ---- Function --------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "function" {
  #checkov:skip=CKV_AWS_158:Log data is operational (no trip records); SSE with the service key is enough here.
  #checkov:skip=CKV_AWS_338:Retention is a variable; a year of API logs is not needed by default.
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:The function calls only public AWS APIs (Athena, S3); no VPC resources to reach.
  #checkov:skip=CKV_AWS_116:Synchronous API Gateway invocations: the client sees the error, there is nothing to dead-letter.
  #checkov:skip=CKV_AWS_173:Environment variables hold names, no secrets.
  #checkov:skip=CKV_AWS_272:Code signing is out of scope for this stack.
  #checkov:skip=CKV_AWS_115:Concurrency is bounded by the stage's throttling.
  function_name    = var.name
  description      = "NYC taxi lake API (FastAPI + Mangum over Athena)."
  role             = aws_iam_role.this.arn
  filename         = var.zip_path
  source_code_hash = filebase64sha256(var.zip_path)
  handler          = var.handler
  runtime          = "python3.11"
  architectures    = ["x86_64"]
  memory_size      = var.memory_mb
  timeout          = var.timeout_s
  tags             = var.tags

  environment {
    variables = local.environment
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [aws_cloudwatch_log_group.function, aws_iam_role_policy.access, aws_iam_role_policy_attachment.xray]
}

# ---- HTTP API --------------------------------------------------------------------------------

resource "aws_apigatewayv2_api" "this" {
  name          = var.name
  description   = "NYC taxi lake API."
  protocol_type = "HTTP"
  tags          = var.tags

  dynamic "cors_configuration" {
    for_each = length(var.cors_allow_origins) > 0 ? [1] : []
    content {
      allow_origins = var.cors_allow_origins
      allow_methods = ["GET", "OPTIONS"]
      allow_headers = ["authorization", "content-type", "x-api-key"]
      max_age       = 3600
    }
  }
}

resource "aws_apigatewayv2_integration" "lambda" {
  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = aws_lambda_function.this.invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 30000
}

resource "aws_apigatewayv2_authorizer" "jwt" {
  count = local.jwt ? 1 : 0

  api_id           = aws_apigatewayv2_api.this.id
  name             = "${var.name}-jwt"
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]

  jwt_configuration {
    issuer   = var.jwt_issuer
    audience = var.jwt_audience
  }

  lifecycle {
    precondition {
      condition     = length(var.jwt_audience) > 0
      error_message = "jwt_audience must name at least one audience when jwt_issuer is set."
    }
  }
}

resource "aws_apigatewayv2_route" "this" {
  #checkov:skip=CKV_AWS_309:Health and docs are public on purpose; data routes use the JWT authorizer when configured.
  for_each = local.routes

  api_id             = aws_apigatewayv2_api.this.id
  route_key          = each.key
  target             = "integrations/${aws_apigatewayv2_integration.lambda.id}"
  authorization_type = each.value && local.jwt ? "JWT" : "NONE"
  authorizer_id      = each.value && local.jwt ? aws_apigatewayv2_authorizer.jwt[0].id : null
}

resource "aws_cloudwatch_log_group" "access" {
  #checkov:skip=CKV_AWS_158:Access logs carry no trip records; SSE with the service key is enough here.
  #checkov:skip=CKV_AWS_338:Retention is a variable.
  name              = "/aws/apigateway/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true
  tags        = var.tags

  default_route_settings {
    throttling_burst_limit = var.throttling_burst_limit
    throttling_rate_limit  = var.throttling_rate_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      ip                 = "$context.identity.sourceIp"
      requestTime        = "$context.requestTime"
      routeKey           = "$context.routeKey"
      status             = "$context.status"
      responseLength     = "$context.responseLength"
      integrationLatency = "$context.integrationLatency"
      integrationError   = "$context.integrationErrorMessage"
      authorizerError    = "$context.authorizer.error"
    })
  }
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowApiGatewayInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*/*"
}
