variable "name" {
  description = "Name prefix of the batch application, roles, log group and schedule."
  type        = string
}

variable "release_label" {
  description = "EMR Serverless release of the batch application (same as the stream's)."
  type        = string
  default     = "emr-spark-8.0.0"
}

variable "subnet_ids" {
  description = "Private subnets of the workers (S3 through the gateway endpoint)."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the workers (outbound HTTPS)."
  type        = list(string)
}

variable "max_capacity" {
  description = "Upper bound of the batch application's workers (cost guard)."
  type = object({
    cpu    = string
    memory = string
  })
  default = {
    cpu    = "4 vCPU"
    memory = "16 GB"
  }
}

variable "schedule_expression" {
  description = "When compaction runs (EventBridge Scheduler expression, UTC)."
  type        = string
  default     = "cron(15 3 * * ? *)"
}

variable "entrypoint_uri" {
  description = "s3:// URI of the compaction entry script (spark/compact.py, uploaded by the stream module)."
  type        = string
}

variable "code_uri" {
  description = "s3:// URI of the code zip (contract/ + spark/)."
  type        = string
}

variable "pydeps_uri" {
  description = "s3:// URI of the Python dependencies archive."
  type        = string
}

variable "pyspark_python" {
  description = "Python interpreter of the driver and executors."
  type        = string
  default     = "/usr/bin/python3.11"
}

variable "artifacts_bucket" {
  description = "Bucket holding the code (read)."
  type        = string
}

variable "artifacts_prefix" {
  description = "Key prefix of the code in the artifacts bucket."
  type        = string
}

variable "lake_bucket" {
  description = "Bucket of the lake (compaction rewrites partitions in place)."
  type        = string
}

variable "compact_args" {
  description = "Arguments of `python -m spark.compact` (see its --help); the default compacts yesterday's partitions of every table."
  type        = list(string)
  default     = ["--days-ago", "1"]
}

variable "kms_key_arn" {
  description = "KMS key of the lake bucket, if any."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Days the compaction logs are kept."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags for every resource (on top of the provider's default_tags)."
  type        = map(string)
  default     = {}
}
