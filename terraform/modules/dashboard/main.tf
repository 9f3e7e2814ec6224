data "aws_region" "current" {}

locals {
  https = var.certificate_arn != null
  login = local.https && var.cognito != null
  image = "${aws_ecr_repository.this.repository_url}:${var.image_tag}"
  # ALB and target group names: at most 32 characters, no hyphen at either end. A longer name
  # keeps its first 23 characters and gets 8 of its hash (unique, and never ends in "-").
  lb_name  = "${var.name}-dash"
  alb_name = length(local.lb_name) <= 32 ? local.lb_name : "${substr(local.lb_name, 0, 23)}-${substr(sha1(local.lb_name), 0, 8)}"
}

# ---- image registry and cluster --------------------------------------------------------------

resource "aws_ecr_repository" "this" {
  name = "${var.name}/dashboard"
  # Every push gets a new tag (the git commit); a tag never moves under a running service.
  image_tag_mutability = "IMMUTABLE"
  force_delete         = true # teardown removes the images with the repository

  image_scanning_configuration {
    scan_on_push = true
  }
  encryption_configuration {
    encryption_type = "KMS" # the AWS-managed aws/ecr key
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

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
  tags = var.tags
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:Streamlit's server log holds no trip records; CloudWatch's default encryption is enough.
  #checkov:skip=CKV_AWS_338:Container logs are for operations; a year of retention is not needed.
  name              = "/ecs/${var.name}/dashboard"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

# ---- roles: the execution role pulls the image and writes logs; the task role does nothing ---

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
  name_prefix        = "${substr(var.name, 0, 24)}-dash-ex-"
  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "secrets" {
  count = length(var.secrets) > 0 ? 1 : 0

  statement {
    actions   = ["secretsmanager:GetSecretValue", "ssm:GetParameters"]
    resources = values(var.secrets)
  }
}

resource "aws_iam_role_policy" "secrets" {
  count = length(var.secrets) > 0 ? 1 : 0

  name   = "read-dashboard-secrets"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.secrets[0].json
}

resource "aws_iam_role" "task" {
  name_prefix        = "${substr(var.name, 0, 24)}-dash-tk-"
  description        = "The dashboard calls only the public HTTP API: no AWS permissions."
  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json
  tags               = var.tags
}

# ---- task definition and service -------------------------------------------------------------

resource "aws_ecs_task_definition" "this" {
  family                   = "${var.name}-dashboard"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([{
    name      = "dashboard"
    image     = local.image
    essential = true
    #checkov:skip=CKV_AWS_336:Streamlit writes its cache and session files under the home directory.
    readonlyRootFilesystem = false
    portMappings           = [{ containerPort = var.container_port, protocol = "tcp" }]
    environment = [for k, v in merge(var.environment, {
      DASH_API_URL = var.api_url
      DASH_HOST    = "0.0.0.0" # inside the task's own network namespace; the SG admits the ALB only
      DASH_PORT    = tostring(var.container_port)
    }) : { name = k, value = v }]
    secrets = [for k, arn in var.secrets : { name = k, valueFrom = arn }]
    healthCheck = {
      command     = ["CMD-SHELL", "python -c \"import urllib.request; urllib.request.urlopen('http://127.0.0.1:${var.container_port}${var.health_check_path}', timeout=4)\""]
      interval    = 30
      timeout     = 5
      retries     = 3
      startPeriod = 30
    }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this.name
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = "dashboard"
      }
    }
  }])
  tags = var.tags
}

resource "aws_security_group" "alb" {
  name        = "${var.name}-dash-alb"
  description = "Dashboard ALB: HTTP(S) from allowed_cidrs, out to the tasks only."
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-dash-alb" })
}

resource "aws_vpc_security_group_ingress_rule" "alb" {
  #checkov:skip=CKV_AWS_260:Port 80 only redirects to HTTPS when a certificate is given; without one it is the documented first-look fallback.
  for_each = { for pair in setproduct(var.allowed_cidrs, local.https ? [80, 443] : [80]) : "${pair[0]}-${pair[1]}" => pair }

  security_group_id = aws_security_group.alb.id
  description       = "HTTP(S) from ${each.value[0]}"
  cidr_ipv4         = each.value[0]
  ip_protocol       = "tcp"
  from_port         = each.value[1]
  to_port           = each.value[1]
}

resource "aws_vpc_security_group_egress_rule" "alb_to_tasks" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To the dashboard tasks"
  referenced_security_group_id = aws_security_group.tasks.id
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
}

resource "aws_vpc_security_group_egress_rule" "alb_to_cognito" {
  count = local.login ? 1 : 0

  security_group_id = aws_security_group.alb.id
  description       = "HTTPS to the Cognito token endpoint (ALB authentication)"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_security_group" "tasks" {
  name        = "${var.name}-dash-tasks"
  description = "Dashboard tasks: Streamlit from the ALB; HTTPS out (HTTP API, ECR, logs)."
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-dash-tasks" })
}

resource "aws_vpc_security_group_ingress_rule" "tasks_from_alb" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "Streamlit from the ALB"
  referenced_security_group_id = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
}

resource "aws_vpc_security_group_egress_rule" "tasks_https" {
  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to the HTTP API, ECR and CloudWatch Logs"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_lb" "this" {
  #checkov:skip=CKV2_AWS_28:A WAF web ACL (about 5 USD/month + requests) is left to the operator; login is enforced by Cognito on HTTPS.
  #checkov:skip=CKV_AWS_150:Deletion protection is a variable (deletion_protection) so that one-command teardown works.
  #checkov:skip=CKV_AWS_91:Access logs are a variable (alb_access_logs_bucket): they need a bucket policy for the regional ELB account.
  name                       = local.alb_name
  internal                   = false
  load_balancer_type         = "application"
  subnets                    = var.public_subnet_ids
  security_groups            = [aws_security_group.alb.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection

  dynamic "access_logs" {
    for_each = var.alb_access_logs_bucket == null ? [] : [var.alb_access_logs_bucket]
    content {
      bucket  = access_logs.value
      prefix  = "alb/dashboard"
      enabled = true
    }
  }
  tags = var.tags
}

resource "aws_lb_target_group" "this" {
  #checkov:skip=CKV_AWS_378:TLS ends at the ALB; ALB to task is HTTP inside the VPC, limited to the ALB's security group.
  name        = local.alb_name
  port        = var.container_port
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = var.vpc_id

  health_check {
    path                = var.health_check_path
    matcher             = "200"
    interval            = 15
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  # Streamlit keeps each viewer's session in one server process: pin a browser to a task.
  stickiness {
    type            = "lb_cookie"
    enabled         = true
    cookie_duration = 86400
  }
  deregistration_delay = 30
  tags                 = var.tags
}

resource "aws_lb_listener" "http" {
  #checkov:skip=CKV_AWS_2:Plain HTTP serves only when no certificate is given (documented fallback); with one it redirects to HTTPS.
  #checkov:skip=CKV_AWS_103:See CKV_AWS_2: TLS policy applies on the HTTPS listener.
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  lifecycle {
    precondition {
      condition     = var.cognito == null || local.https
      error_message = "cognito is set without certificate_arn: the ALB authenticates only on HTTPS listeners, so the dashboard would be served without the login you asked for. Set certificate_arn."
    }
    precondition {
      condition     = local.login || var.public_without_login
      error_message = "The dashboard would be served without login (certificate_arn and cognito are needed for the ALB's Cognito login) to ${jsonencode(var.allowed_cidrs)}: anyone there who finds the URL uses it, and with it the API credentials it holds. Set certificate_arn and cognito, or set public_without_login = true to accept that."
    }
  }

  default_action {
    type             = local.https ? "redirect" : "forward"
    target_group_arn = local.https ? null : aws_lb_target_group.this.arn

    dynamic "redirect" {
      for_each = local.https ? [1] : []
      content {
        port        = "443"
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }
  }
  tags = var.tags
}

resource "aws_lb_listener" "https" {
  count = local.https ? 1 : 0

  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  dynamic "default_action" {
    for_each = local.login ? [var.cognito] : []
    content {
      type  = "authenticate-cognito"
      order = 1
      authenticate_cognito {
        user_pool_arn       = default_action.value.user_pool_arn
        user_pool_client_id = default_action.value.user_pool_client_id
        user_pool_domain    = default_action.value.user_pool_domain
      }
    }
  }

  default_action {
    type             = "forward"
    order            = local.login ? 2 : 1
    target_group_arn = aws_lb_target_group.this.arn
  }
  tags = var.tags
}

resource "aws_ecs_service" "this" {
  name                   = "dashboard"
  cluster                = aws_ecs_cluster.this.id
  task_definition        = aws_ecs_task_definition.this.arn
  desired_count          = var.desired_count
  launch_type            = "FARGATE"
  propagate_tags         = "SERVICE"
  enable_execute_command = false

  network_configuration {
    subnets          = var.task_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = var.assign_public_ip
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.this.arn
    container_name   = "dashboard"
    container_port   = var.container_port
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
  health_check_grace_period_seconds = 60

  depends_on = [aws_lb_listener.http, aws_lb_listener.https]
  tags       = var.tags
}

resource "aws_route53_record" "this" {
  count = var.domain_name != null && var.route53_zone_id != null ? 1 : 0

  zone_id = var.route53_zone_id
  name    = var.domain_name
  type    = "A"

  alias {
    name                   = aws_lb.this.dns_name
    zone_id                = aws_lb.this.zone_id
    evaluate_target_health = true
  }
}
