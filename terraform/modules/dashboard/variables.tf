variable "name" {
  description = "Name prefix of the ECR repository, ECS cluster and service, ALB and roles."
  type        = string

  validation {
    # ECR repository names are lowercase; ALB names may not start with "internal-".
    condition     = can(regex("^[a-z][a-z0-9-]{0,62}[a-z0-9]$", var.name)) && !startswith(var.name, "internal-")
    error_message = "name must be 2-64 lowercase letters, digits and hyphens, start with a letter, end with a letter or digit, and not start with \"internal-\"."
  }
}

variable "vpc_id" {
  description = "VPC of the ALB and the tasks."
  type        = string
}

variable "public_subnet_ids" {
  description = "Subnets of the internet-facing ALB (two AZs or more)."
  type        = list(string)
}

variable "task_subnet_ids" {
  description = "Subnets of the Fargate tasks (private ones when they have NAT egress)."
  type        = list(string)
}

variable "assign_public_ip" {
  description = "Give tasks a public IP (only when task_subnet_ids are public subnets: private subnets without NAT cannot reach the HTTP API). Inbound stays limited to the ALB."
  type        = bool
  default     = false
}

variable "image_tag" {
  description = "Tag of the dashboard image in the module's ECR repository (the deploy script pushes it, e.g. the git commit)."
  type        = string
  default     = "latest"
}

variable "api_url" {
  description = "Base URL of the HTTP API the dashboard reads (DASH_API_URL)."
  type        = string
}

variable "environment" {
  description = "More DASH_* settings for the container (see streamlit_app/config.py)."
  type        = map(string)
  default     = {}
}

variable "secrets" {
  description = "Container env vars taken from Secrets Manager or SSM at start: name => secret/parameter ARN."
  type        = map(string)
  default     = {}
}

variable "cpu" {
  description = "Task CPU units (1024 = 1 vCPU)."
  type        = number
  default     = 512
}

variable "memory" {
  description = "Task memory in MiB."
  type        = number
  default     = 1024
}

variable "desired_count" {
  description = "Number of dashboard tasks."
  type        = number
  default     = 1
}

variable "container_port" {
  description = "Port Streamlit listens on."
  type        = number
  default     = 8501
}

variable "health_check_path" {
  description = "Streamlit's health endpoint."
  type        = string
  default     = "/_stcore/health"
}

variable "allowed_cidrs" {
  description = "IPv4 ranges that may reach the ALB."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "certificate_arn" {
  description = "ACM certificate for HTTPS on the ALB. null: plain HTTP on port 80 (no Cognito login: the ALB authenticates only on HTTPS listeners) - for a first look only."
  type        = string
  default     = null
}

variable "cognito" {
  description = "Cognito login in front of the dashboard (needs certificate_arn): the user pool ARN, an app client with a secret and the code grant, and the pool's domain prefix."
  type = object({
    user_pool_arn       = string
    user_pool_client_id = string
    user_pool_domain    = string
  })
  default = null
}

variable "public_without_login" {
  description = "Serve the dashboard without a login (no certificate_arn or no cognito): everyone in allowed_cidrs can use it, and so read whatever the API credentials it holds can read. false (default): the plan fails unless the Cognito login is configured."
  type        = bool
  default     = false
}

variable "domain_name" {
  description = "DNS name of the dashboard (for the Route 53 alias); null uses the ALB's own name."
  type        = string
  default     = null
}

variable "route53_zone_id" {
  description = "Hosted zone to create domain_name in; null creates no record."
  type        = string
  default     = null
}

variable "alb_access_logs_bucket" {
  description = "S3 bucket for ALB access logs (its policy must allow the ELB log delivery); null turns them off."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "Protect the ALB from deletion (turn off before a teardown)."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Days the container logs are kept."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags for every resource (on top of the provider's default_tags)."
  type        = map(string)
  default     = {}
}
