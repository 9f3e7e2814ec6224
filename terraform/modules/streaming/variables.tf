variable "name" {
  description = "Cluster name (and prefix of its security groups)."
  type        = string
}

variable "mode" {
  description = "\"serverless\" (MSK Serverless: pay per partition-hour and GB, no brokers to size) or \"provisioned\" (an MSK cluster of broker_count brokers)."
  type        = string
  default     = "serverless"

  validation {
    condition     = contains(["serverless", "provisioned"], var.mode)
    error_message = "mode must be serverless or provisioned."
  }
}

variable "vpc_id" {
  description = "VPC of the cluster."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the brokers, at least two AZs (provisioned: one broker per subnet per broker_count / len)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "MSK needs subnets in at least two availability zones."
  }
}

variable "topics" {
  description = "Topics clients get IAM rights on (the topic-creation task creates them; MSK IAM policies name them)."
  type        = list(string)
  default     = ["trips"]
}

variable "consumer_group_prefixes" {
  description = "Consumer group name prefixes readers get IAM rights on. Spark's Kafka source names its groups spark-kafka-source-<uuid>."
  type        = list(string)
  default     = ["spark-kafka-source-"]
}

variable "kafka_version" {
  description = "Apache Kafka version of a provisioned cluster (MSK Serverless picks its own)."
  type        = string
  default     = "3.9.x"
}

variable "broker_instance_type" {
  description = "Broker instance type of a provisioned cluster."
  type        = string
  default     = "kafka.t3.small"
}

variable "broker_count" {
  description = "Number of brokers of a provisioned cluster (a multiple of the number of subnets)."
  type        = number
  default     = 2
}

variable "broker_volume_gb" {
  description = "EBS storage per broker of a provisioned cluster, in GiB."
  type        = number
  default     = 50
}

variable "kms_key_arn" {
  description = "KMS key for data at rest of a provisioned cluster; null uses the AWS-managed key. (MSK Serverless always encrypts with an AWS-managed key.)"
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Days broker logs of a provisioned cluster are kept."
  type        = number
  default     = 14
}

variable "tags" {
  description = "Tags for every resource (on top of the provider's default_tags)."
  type        = map(string)
  default     = {}
}
