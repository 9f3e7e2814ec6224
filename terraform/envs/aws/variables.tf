variable "region" {
  description = "AWS region of the whole platform."
  type        = string
  default     = "us-east-1"
}

variable "environment" {
  description = "Environment name (tag and part of resource names)."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[a-z0-9](?:[a-z0-9-]{0,14}[a-z0-9])?$", var.environment))
    error_message = "environment must be 1-16 lowercase letters, digits and hyphens, not starting or ending with a hyphen (it is part of bucket, ALB and Cognito domain names)."
  }
}

variable "name_prefix" {
  description = "Prefix of every name. Bucket names derive from it and must be globally unique: add something of yours (e.g. the account id). Lowercase letters, digits and hyphens; <name_prefix>-<environment> at most 42 characters."
  type        = string
  default     = "nyc-taxi"

  # Every name derives from "<name_prefix>-<environment>": S3 buckets "<name>-query-results"
  # (<= 63, lowercase, no "xn--"/"sthree-" start), the Cognito domain "<name>-<account id>"
  # (<= 63, lowercase; the words aws, amazon and cognito are reserved), the API role
  # "<name>-api" (<= 56 in the api module). ALB and target group names (<= 32) are shortened
  # with a hash in the dashboard module.
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be lowercase letters, digits and hyphens, start with a letter and end with a letter or digit (S3 bucket and Cognito domain rules)."
  }
  validation {
    condition     = length("${var.name_prefix}-${var.environment}") <= 42
    error_message = "\"<name_prefix>-<environment>\" is ${length("${var.name_prefix}-${var.environment}")} characters; at most 42 keep the bucket names (\"<name>-query-results\") within S3's 63."
  }
  validation {
    condition     = length(regexall("aws|amazon|cognito", "${var.name_prefix}-${var.environment}")) == 0
    error_message = "name_prefix and environment must not contain \"aws\", \"amazon\" or \"cognito\": Cognito refuses them in the user pool's domain prefix."
  }
  validation {
    condition     = !anytrue([for p in ["xn--", "sthree-", "amzn-s3-demo-", "internal-"] : startswith(var.name_prefix, p)])
    error_message = "name_prefix must not start with xn--, sthree- or amzn-s3-demo- (reserved by S3) or internal- (refused for ALB names)."
  }
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

variable "excluded_zone_ids" {
  description = "Availability Zone IDs the subnets must avoid (e.g. [\"use1-az3\"]). null: the network module's table of zones EMR Serverless does not support in the region."
  type        = list(string)
  default     = null
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
  description = "ACM certificate (same region) for the dashboard's HTTPS listener; needs dashboard_domain_name. With both, the ALB requires a Cognito login."
  type        = string
  default     = null

  # The ALB's login redirects back to https://<domain>/oauth2/idpresponse, and the browser
  # accepts HTTPS only on a name the certificate covers: not the ALB's *.elb.amazonaws.com.
  validation {
    condition     = var.dashboard_certificate_arn == null || var.dashboard_domain_name != null
    error_message = "dashboard_certificate_arn is set without dashboard_domain_name: the Cognito login needs the DNS name the certificate covers (its callback is https://<dashboard_domain_name>/oauth2/idpresponse). Set dashboard_domain_name (and route53_zone_id to have the record created)."
  }
}

variable "dashboard_domain_name" {
  description = "DNS name of the dashboard, covered by dashboard_certificate_arn; with both set, Cognito login protects it."
  type        = string
  default     = null
}

variable "dashboard_public_without_login" {
  description = "Serve the dashboard over plain HTTP without any login when no certificate and domain are given. It holds the Cognito client secret that reads the API, so anyone who finds the URL (and is in dashboard_allowed_cidrs) reads the API's data. false (default): without dashboard_certificate_arn + dashboard_domain_name the plan fails."
  type        = bool
  default     = false

  validation {
    condition = (var.dashboard_certificate_arn != null && var.dashboard_domain_name != null) || var.dashboard_public_without_login
    error_message = join(" ", [
      "The dashboard has no login: the ALB's Cognito login needs both dashboard_certificate_arn",
      "(an ACM certificate in this region) and dashboard_domain_name (a name it covers).",
      "Missing: ${join(" and ", compact([var.dashboard_certificate_arn == null ? "dashboard_certificate_arn" : "", var.dashboard_domain_name == null ? "dashboard_domain_name" : ""]))}.",
      "Either set them, or set dashboard_public_without_login = true to serve it over plain HTTP",
      "without login to dashboard_allowed_cidrs (${jsonencode(var.dashboard_allowed_cidrs)}): the dashboard holds",
      "the API's client secret, so the API's data is readable by anyone who finds the URL.",
    ])
  }
  validation {
    condition     = !(var.dashboard_public_without_login && var.dashboard_certificate_arn != null && var.dashboard_domain_name != null)
    error_message = "dashboard_public_without_login = true contradicts dashboard_certificate_arn + dashboard_domain_name: with them the dashboard always requires the Cognito login. Remove one or the other."
  }
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
