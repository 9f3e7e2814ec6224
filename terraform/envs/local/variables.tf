variable "aws_endpoint_url" {
  description = "Endpoint of the AWS twin; the runner passes the running twin's URL."
  type        = string
  default     = "http://127.0.0.1:4566"
}

variable "region" {
  description = "Region the twin reports."
  type        = string
  default     = "us-east-1"
}

variable "aws_access_key_id" {
  description = "Access key for the twin (it accepts any)."
  type        = string
  default     = "test"
}

variable "aws_secret_access_key" {
  description = "Secret key for the twin (it accepts any)."
  type        = string
  default     = "test"
  sensitive   = true
}

variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
  default     = "nyc-taxi-local"
}

variable "enable_partition_projection" {
  description = "Give the Glue tables Athena partition projection parameters (the twin ignores them; tests check the rendered parameters)."
  type        = bool
  default     = false
}
