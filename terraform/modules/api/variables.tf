variable "name" {
  description = "Name of the function, the HTTP API and the IAM role (and prefix of the log groups)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9-_]{1,56}$", var.name))
    error_message = "name must be 1-56 letters, digits, hyphens or underscores (Lambda and IAM name limits)."
  }
}

variable "zip_path" {
  description = "Path of the function zip built by `python -m lambda_api.build` (dist/lambda_api.zip)."
  type        = string
}

variable "handler" {
  description = "Lambda handler of the zip."
  type        = string
  default     = "lambda_api.handler.handler"
}

variable "memory_mb" {
  description = "Function memory (MB); CPU scales with it, and cold starts (imports) with CPU."
  type        = number
  default     = 1024
}

variable "timeout_s" {
  description = "Function timeout (s). Keep it below API Gateway's 30 s integration limit and above the API's per-query limit."
  type        = number
  default     = 29

  validation {
    condition     = var.timeout_s >= 3 && var.timeout_s <= 29
    error_message = "timeout_s must be 3..29: API Gateway HTTP APIs stop waiting after 30 s."
  }
}

variable "environment" {
  description = "Extra environment variables of the function (API_* settings, see lambda_api/config.py); merged over the ones this module derives."
  type        = map(string)
  default     = {}
}

variable "athena_database" {
  description = "Glue database the API queries (lake module output `database_name`)."
  type        = string
}

variable "athena_workgroup" {
  description = "Athena workgroup of the queries (lake module output `athena_workgroup`)."
  type        = string
}

variable "lake_bucket" {
  description = "Lake bucket name: the function reads its tables through Athena and the stream's progress JSON directly."
  type        = string
}

variable "query_results_bucket" {
  description = "Bucket where the Athena workgroup writes results (the function needs read/write there)."
  type        = string
}

variable "query_timeout_s" {
  description = "Per-query time limit of the API (API_QUERY_TIMEOUT_S); below timeout_s."
  type        = number
  default     = 20
}

variable "jwt_issuer" {
  description = "Issuer URL of a JWT authorizer on the data routes (e.g. a Cognito user pool's); null: no authorizer."
  type        = string
  default     = null
}

variable "jwt_audience" {
  description = "Accepted audiences (e.g. Cognito app client ids) of the JWT authorizer; required when jwt_issuer is set."
  type        = list(string)
  default     = []
}

variable "cors_allow_origins" {
  description = "Origins allowed to call the API from a browser; empty: no CORS configuration."
  type        = list(string)
  default     = []
}

variable "throttling_burst_limit" {
  description = "Stage default route burst limit (requests)."
  type        = number
  default     = 100
}

variable "throttling_rate_limit" {
  description = "Stage default route steady-state rate limit (requests per second)."
  type        = number
  default     = 50
}

variable "log_retention_days" {
  description = "Retention of the function's and the access log groups."
  type        = number
  default     = 14
}

variable "kms_key_arn" {
  description = "KMS key of the lake and result buckets, if any: the function gets decrypt/generate-data-key on it. Null: SSE-S3."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
