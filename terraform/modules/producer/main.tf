data "aws_region" "current" {}

locals {
  region = data.aws_region.current.name
  image  = "${aws_ecr_repository.this.repository_url}:${var.image_tag}"
  # The producer and the topic tool sign SASL/OAUTHBEARER tokens with the task role
  # (aws-msk-iam-sasl-signer-python); PRODUCER_MSK_IAM_REGION turns that on.
  kafka_env = [
    { name = "PRODUCER_BOOTSTRAP_SERVERS", value = var.kafka_bootstrap },
    { name = "PRODUCER_TOPIC", value = var.topic },
    { name = "PRODUCER_MSK_IAM_REGION", value = local.region },
  ]
  network = {
    awsvpcConfiguration = {
      subnets        = var.subnet_ids
      securityGroups = concat([aws_security_group.tasks.id], var.extra_security_group_ids)
      assignPublicIp = var.assign_public_ip ? "ENABLED" : "DISABLED"
    }
  }
}

resource "aws_ecr_repository" "this" {
  name                 = "${var.name}/app"
  image_tag_mutability = "IMMUTABLE"
  force_delete         = true

  image_scanning_configuration {
    scan_on_push = true
  }
  encryption_configuration {
    encryption_type = "KMS"
  }
  tags = var.tags
}

resource "aws_ecr_lifecycle_policy" "this" {
  repository = aws_ecr_repository.this.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the 10 newest images"
      selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 10 }
      action       = { type = "expire" }
    }]
  })
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:Producer logs hold counts and errors, no records; CloudWatch's default encryption is enough.
  #checkov:skip=CKV_AWS_338:Task logs are for operations; a year of retention is not needed.
  name              = "/ecs/${var.name}/producer"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_security_group" "tasks" {
  #checkov:skip=CKV2_AWS_5:Attached to the producer tasks by run-task and the EventBridge schedule's network configuration (checkov does not see either).
  name        = "${var.name}-producer"
  description = "Producer and topic tasks: HTTPS out (ECR, logs, STS); Kafka via the MSK client group."
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-producer" })
}

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to ECR, CloudWatch Logs and STS"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

# ---- roles -----------------------------------------------------------------------------------

data "aws_iam_policy_document" "ecs_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name_prefix        = "${substr(var.name, 0, 24)}-prod-ex-"
  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_iam_role" "producer" {
  name_prefix        = "${substr(var.name, 0, 24)}-producer-"
  description        = "Writes the topic, nothing else."
  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "producer" {
  name   = "write-topic"
  role   = aws_iam_role.producer.id
  policy = var.producer_policy_json
}

resource "aws_iam_role" "topics" {
  name_prefix        = "${substr(var.name, 0, 24)}-topics-"
  description        = "Creates and configures the topic, nothing else."
  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "topics" {
  name   = "create-topic"
  role   = aws_iam_role.topics.id
  policy = var.admin_policy_json
}

# ---- task definitions ------------------------------------------------------------------------

resource "aws_ecs_task_definition" "producer" {
  family                   = "${var.name}-producer"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.producer.arn

  container_definitions = jsonencode([{
    name                   = "producer"
    image                  = local.image
    essential              = true
    readonlyRootFilesystem = true
    command                = concat(["python", "-m", "producer"], var.command)
    environment            = local.kafka_env
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this.name
        awslogs-region        = local.region
        awslogs-stream-prefix = "producer"
      }
    }
  }])
  tags = var.tags
}

# One-off at deploy (terraform/scripts/deploy.sh runs it and waits): creates the topic with the
# project's own code, idempotently.
resource "aws_ecs_task_definition" "topics" {
  family                   = "${var.name}-topics"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.topics.arn

  container_definitions = jsonencode([{
    name                   = "topics"
    image                  = local.image
    essential              = true
    readonlyRootFilesystem = true
    command = [
      "python", "-m", "producer.topics", var.topic,
      "--partitions", tostring(var.topic_partitions),
      "--retention-ms", tostring(var.topic_retention_hours * 3600 * 1000),
    ]
    environment = local.kafka_env
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this.name
        awslogs-region        = local.region
        awslogs-stream-prefix = "topics"
      }
    }
  }])
  tags = var.tags
}

# ---- optional schedule -----------------------------------------------------------------------

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
    actions   = ["ecs:RunTask"]
    resources = [trimsuffix(aws_ecs_task_definition.producer.arn, ":${aws_ecs_task_definition.producer.revision}")]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [var.cluster_arn]
    }
  }
  statement {
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.execution.arn, aws_iam_role.producer.arn]
  }
}

resource "aws_iam_role" "scheduler" {
  count = var.schedule_expression == null ? 0 : 1

  name_prefix        = "${substr(var.name, 0, 24)}-prod-sch-"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "scheduler" {
  count = var.schedule_expression == null ? 0 : 1

  name   = "run-producer"
  role   = aws_iam_role.scheduler[0].id
  policy = data.aws_iam_policy_document.scheduler.json
}

resource "aws_scheduler_schedule" "producer" {
  #checkov:skip=CKV_AWS_297:The schedule's input names resources only (no secrets); the AWS-owned key is enough.
  count = var.schedule_expression == null ? 0 : 1

  name                = "${var.name}-producer"
  schedule_expression = var.schedule_expression

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = var.cluster_arn
    role_arn = aws_iam_role.scheduler[0].arn

    ecs_parameters {
      task_definition_arn = aws_ecs_task_definition.producer.arn
      launch_type         = "FARGATE"
      network_configuration {
        subnets          = var.subnet_ids
        security_groups  = concat([aws_security_group.tasks.id], var.extra_security_group_ids)
        assign_public_ip = var.assign_public_ip
      }
    }
    retry_policy {
      maximum_retry_attempts = 2
    }
  }
}
