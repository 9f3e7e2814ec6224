variable "region" {
  description = "Region of the state bucket (use the platform's region)."
  type        = string
  default     = "us-east-1"
}

variable "state_bucket" {
  description = "Name of the S3 bucket for Terraform state (globally unique), e.g. <name_prefix>-tfstate-<account id>."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket))
    error_message = "state_bucket must be a valid S3 bucket name."
  }
}

variable "noncurrent_version_days" {
  description = "Days old state versions are kept (the undo history of every apply)."
  type        = number
  default     = 90
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default = {
    Project   = "nyc-taxi-streaming"
    ManagedBy = "terraform"
  }
}
