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
  description = "Give the Glue tables the aws env's partition projection parameters. The twin's Athena ignores them; Trino (tests/fixtures/trino.py) reads the tables with them, as Athena does."
  type        = bool
  default     = true
}

variable "api_zip_path" {
  description = "The API's Lambda zip; null: <repo>/dist/lambda_api.zip. The api module is created only when the file exists."
  type        = string
  default     = null
}

variable "api_jwt_issuer" {
  description = "Issuer of a JWT authorizer on the API's /v1 routes (e.g. the local Cognito pool); null: none."
  type        = string
  default     = null
}

variable "api_jwt_audience" {
  description = "Audiences (app client ids) the API's JWT authorizer accepts."
  type        = list(string)
  default     = []
}
