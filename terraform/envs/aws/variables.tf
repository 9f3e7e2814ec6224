variable "region" {
  description = "AWS region of the whole platform."
  type        = string
  default     = "us-east-1"
}

variable "environment" {
  description = "Environment name (tag and part of resource names)."
  type        = string
  default     = "prod"
}

variable "name_prefix" {
  description = "Prefix of every name. Bucket names derive from it and must be globally unique: add something of yours (e.g. the account id)."
  type        = string
  default     = "nyc-taxi"
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

# ---- network ----

variable "vpc_cidr" {
  description = "IPv4 range of the VPC."
  type        = string
  default     = "10.40.0.0/16"
}

variable "az_count" {
  description = "Availability zones to span (2 or 3)."
  type        = number
  default     = 2
}

variable "egress" {
  description = "Egress of the private subnets: nat (default; the dashboard reaches the HTTP API), endpoints (interface endpoints, no internet: dashboard tasks then run in public subnets with a public IP, inbound still ALB-only) or none."
  type        = string
  default     = "nat"

  validation {
    condition     = contains(["nat", "endpoints", "none"], var.egress)
    error_message = "egress must be nat, endpoints or none."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway instead of one per AZ (cheaper, less available)."
  type        = bool
  default     = true
}

# ---- streaming ----

variable "msk_mode" {
  description = "MSK Serverless (serverless) or a provisioned MSK cluster (provisioned)."
  type        = string
  default     = "serverless"

  validation {
    condition     = contains(["serverless", "provisioned"], var.msk_mode)
    error_message = "msk_mode must be serverless or provisioned."
  }
}

variable "topic" {
  description = "Kafka topic of the trips."
  type        = string
  default     = "trips"
}

variable "topic_partitions" {
  description = "Partitions of the topic."
  type        = number
  default     = 4
}

# ---- build artifacts (terraform/scripts/build.sh writes them) ----

variable "build_dir" {
  description = "Folder of the built artifacts: spark-job.zip, pydeps.tar.gz, jars/, probe.zip, lambda_api.zip. Relative paths are relative to this root."
  type        = string
  default     = "../../../.local/build"
}

variable "app_image_tag" {
  description = "Tag of the app image (producer + topic tool) pushed by the deploy script."
  type        = string
  default     = "latest"
}

variable "dashboard_image_tag" {
  description = "Tag of the dashboard image pushed by the deploy script."
  type        = string
  default     = "latest"
}

# ---- stream job ----

variable "stream_env" {
  description = "Extra STREAM_* settings of the stream job (spark/config.py)."
  type        = map(string)
  default     = {}
}

variable "compaction_schedule" {
  description = "When the compaction job runs (EventBridge Scheduler expression, UTC)."
  type        = string
  default     = "cron(15 3 * * ? *)"
}

variable "producer_schedule" {
  description = "Schedule of the producer task (e.g. \"rate(1 hour)\" with a 55-minute run); null: on demand only."
  type        = string
  default     = null
}

variable "producer_command" {
  description = "Arguments of `python -m producer` in the producer task."
  type        = list(string)
  default     = ["synthetic", "--duration", "3300", "--rate", "20", "--bad-fraction", "0.01"]
}

# ---- API and login ----

variable "api_jwt_auth" {
  description = "Require a Cognito JWT on the HTTP API (issuer/audience passed to the api module)."
  type        = bool
  default     = true
}

variable "api_throttle" {
  description = "Stage throttling of the HTTP API."
  type = object({
    rate_limit  = number
    burst_limit = number
  })
  default = { rate_limit = 50, burst_limit = 100 }
}

# ---- dashboard ----

variable "dashboard_certificate_arn" {
  description = "ACM certificate (same region) for the dashboard's HTTPS listener; null serves plain HTTP without login (first look only)."
  type        = string
  default     = null
}

variable "dashboard_domain_name" {
  description = "DNS name of the dashboard, covered by the certificate; with both set, Cognito login protects it."
  type        = string
  default     = null
}

variable "route53_zone_id" {
  description = "Hosted zone for dashboard_domain_name (null: create the DNS record yourself)."
  type        = string
  default     = null
}

variable "dashboard_allowed_cidrs" {
  description = "IPv4 ranges that may reach the dashboard's ALB."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

# ---- operations ----

variable "alarm_emails" {
  description = "E-mail addresses that receive the alarms."
  type        = list(string)
  default     = []
}

variable "freshness_slo_seconds" {
  description = "Freshness SLO of the stream (age of the last micro-batch)."
  type        = number
  default     = 300
}

variable "force_destroy" {
  description = "Let destroy delete non-empty buckets (terraform/scripts/destroy.sh sets it just before tearing down)."
  type        = bool
  default     = false
}
