variable "name" {
  description = "Name prefix of the topic, alarms, dashboard and probe."
  type        = string
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the alarm topic (each must confirm once)."
  type        = list(string)
  default     = []
}

variable "stream_application_id" {
  description = "EMR Serverless application of the stream (a failed run or no running job alarms)."
  type        = string
}

variable "batch_application_ids" {
  description = "Other EMR Serverless applications whose failed job runs alarm (e.g. compaction)."
  type        = list(string)
  default     = []
}

variable "lake_bucket" {
  description = "Lake bucket holding the stream's status file."
  type        = string
}

variable "progress_key" {
  description = "Key of the stream's latest progress record in the lake bucket."
  type        = string
  default     = "_pipeline/progress/latest.json"
}

variable "probe_zip" {
  description = "Local path of the probe Lambda's zip (terraform/scripts/build.sh zips probe/index.py)."
  type        = string
}

variable "freshness_slo_seconds" {
  description = "Freshness SLO: the last micro-batch may be at most this old."
  type        = number
  default     = 300
}

variable "dead_letter_ratio_threshold" {
  description = "Alarm when more than this share of the records read in a batch are rejected (15-minute average)."
  type        = number
  default     = 0.05
}

variable "api_id" {
  description = "HTTP API id (5xx alarm)."
  type        = string
}

variable "api_stage" {
  description = "HTTP API stage name (5xx alarm dimension)."
  type        = string
  default     = "$default"
}

variable "api_5xx_threshold" {
  description = "Alarm when the API answers more 5xx than this in 5 minutes."
  type        = number
  default     = 5
}

variable "lambda_function_name" {
  description = "The API's Lambda function (errors alarm)."
  type        = string
}

variable "lambda_errors_threshold" {
  description = "Alarm when the API Lambda has more errors than this in 5 minutes."
  type        = number
  default     = 3
}

variable "alb_arn_suffix" {
  description = "Dashboard ALB (dashboard widgets)."
  type        = string
}

variable "log_retention_days" {
  description = "Days the probe's logs are kept."
  type        = number
  default     = 14
}

variable "tags" {
  description = "Tags for every resource (on top of the provider's default_tags)."
  type        = map(string)
  default     = {}
}
