variable "name_prefix" {
  description = "Prefix of every name: buckets are <prefix>-lake, -checkpoints, -query-results, -artifacts; the Athena workgroup is <prefix>. On AWS it must make bucket names globally unique."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,40}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-42 characters of lowercase letters, digits and hyphens (it becomes part of S3 bucket names)."
  }
}

variable "tables" {
  description = "The lake's tables, from contract/tables.json (`.tables`): name => description, columns and partition keys. Columns are never typed in HCL; the contract is the one source."
  type = map(object({
    description = string
    columns = list(object({
      name    = string
      type    = string
      comment = string
    }))
    partition_keys = list(object({
      name    = string
      type    = string
      comment = string
    }))
  }))

  validation {
    condition     = alltrue([for t in values(var.tables) : length(t.columns) > 0])
    error_message = "Every table needs at least one column."
  }
}

variable "database_name" {
  description = "Glue catalog database name; null derives it from name_prefix (hyphens become underscores, which Athena requires)."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "KMS key for the buckets and Athena results; null uses SSE-S3 (AES256)."
  type        = string
  default     = null
}

variable "force_destroy" {
  description = "Allow destroy to delete non-empty buckets and a workgroup with saved queries (local and throwaway stacks only)."
  type        = bool
  default     = false
}

variable "versioning" {
  description = "Which buckets keep object versions. Off for checkpoints (Spark rewrites and deletes them constantly) and query results (disposable)."
  type = object({
    lake          = optional(bool, true)
    checkpoints   = optional(bool, false)
    query_results = optional(bool, false)
    artifacts     = optional(bool, true)
  })
  default = {}
}

variable "noncurrent_version_expiration_days" {
  description = "Days an overwritten or deleted object version is kept in a versioned bucket."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which an unfinished multipart upload (a crashed writer's parts) is aborted and its parts deleted."
  type        = number
  default     = 2

  validation {
    condition     = var.abort_incomplete_multipart_upload_days >= 1
    error_message = "abort_incomplete_multipart_upload_days must be at least 1."
  }
}

variable "query_results_expiration_days" {
  description = "Days Athena query results are kept in the query-results bucket."
  type        = number
  default     = 7

  validation {
    condition     = var.query_results_expiration_days >= 1
    error_message = "query_results_expiration_days must be at least 1."
  }
}

variable "dead_letter_retention_days" {
  description = "Days rejected records stay under <lake>/dead_letters/; null keeps them forever."
  type        = number
  default     = 90
}

variable "checkpoint_retention_days" {
  description = "Expire objects in the checkpoints bucket after this many days; null (default) never does. Only for buckets whose queries are restarted from scratch: Spark writes a query's metadata once, so expiring a live query's checkpoint breaks it."
  type        = number
  default     = null
}

variable "enable_partition_projection" {
  description = "Add Athena partition projection to the Glue tables (partitions found from the path template, no MSCK/AddPartition). Without it Athena sees no partition, so no row. The twin's Athena ignores it."
  type        = bool
  default     = false
}

variable "partition_projection" {
  description = "Projection settings per partition key name: each key/value becomes the table parameter projection.<key>.<setting>. Every partition key of every table needs an entry when projection is on. The default is the one definition both envs use."
  type        = map(map(string))
  default = {
    dt = {
      type   = "date"
      format = "yyyy-MM-dd"
      # From the contract's earliest valid pickup (contract/rules.py, pickup_after_2009: TLC
      # records start 2009-01-01); a dt before the range start is invisible to Athena.
      range           = "2009-01-01,NOW"
      interval        = "1"
      "interval.unit" = "DAYS"
    }
    hour = {
      type   = "integer"
      range  = "0,23"
      digits = "2"
    }
  }
}

variable "athena_bytes_scanned_cutoff_per_query" {
  description = "Cancel an Athena query after it scans this many bytes (cost guard, at least 10 MB); null for no limit."
  type        = number
  default     = null
}

variable "tags" {
  description = "Tags for every resource (on top of the provider's default_tags)."
  type        = map(string)
  default     = {}
}
