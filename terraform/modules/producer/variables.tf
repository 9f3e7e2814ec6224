variable "name" {
  description = "Name prefix of the ECR repository, task definitions, roles and schedule."
  type        = string
}

variable "cluster_arn" {
  description = "ECS cluster the tasks run in."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the tasks."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets of the tasks (private, with NAT or ECR/logs/STS endpoints)."
  type        = list(string)
}

variable "extra_security_group_ids" {
  description = "Security groups attached besides the module's own (the MSK client group)."
  type        = list(string)
  default     = []
}

variable "assign_public_ip" {
  description = "Give tasks a public IP (only for public subnets)."
  type        = bool
  default     = false
}

variable "image_tag" {
  description = "Tag of the app image (producer + topic tool) in the module's ECR repository."
  type        = string
  default     = "latest"
}

variable "kafka_bootstrap" {
  description = "MSK bootstrap servers (SASL/IAM listener)."
  type        = string
}

variable "topic" {
  description = "Topic the producer writes."
  type        = string
  default     = "trips"
}

variable "topic_partitions" {
  description = "Partitions of the topic the topics task creates."
  type        = number
  default     = 4
}

variable "topic_retention_hours" {
  description = "Retention of the topic (hours); the stream's checkpoint must never fall further behind than this."
  type        = number
  default     = 72
}

variable "producer_policy_json" {
  description = "IAM policy for writing the topic (the streaming module's producer_policy_json)."
  type        = string
}

variable "admin_policy_json" {
  description = "IAM policy for creating the topic (the streaming module's admin_policy_json)."
  type        = string
}

variable "command" {
  description = "Arguments of `python -m producer` for the task, e.g. [\"synthetic\", \"--duration\", \"3300\", \"--rate\", \"50\"]."
  type        = list(string)
  default     = ["synthetic", "--duration", "3300", "--rate", "20", "--bad-fraction", "0.01"]
}

variable "schedule_expression" {
  description = "EventBridge Scheduler expression that starts the producer task (e.g. \"rate(1 hour)\"); null: run on demand only (terraform output producer_run_command)."
  type        = string
  default     = null
}

variable "cpu" {
  description = "Task CPU units."
  type        = number
  default     = 512
}

variable "memory" {
  description = "Task memory in MiB."
  type        = number
  default     = 1024
}

variable "log_retention_days" {
  description = "Days the task logs are kept."
  type        = number
  default     = 14
}

variable "tags" {
  description = "Tags for every resource (on top of the provider's default_tags)."
  type        = map(string)
  default     = {}
}
