variable "name" {
  description = "Name of the EMR Serverless application and prefix of its role, log group and job."
  type        = string
}

variable "release_label" {
  description = "EMR Serverless release; emr-spark-8.0.0 runs Spark 4.0.2 (the pyspark version the job is tested with) on Java 17 with Python 3.11."
  type        = string
  default     = "emr-spark-8.0.0"
}

variable "vpc_id" {
  description = "VPC the workers run in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the workers (they reach MSK there, S3 through the gateway endpoint)."
  type        = list(string)
}

variable "extra_security_group_ids" {
  description = "Security groups attached to the workers besides the module's own (e.g. the MSK client group)."
  type        = list(string)
  default     = []
}

variable "max_capacity" {
  description = "Upper bound of the application's workers, all jobs together (cost guard)."
  type = object({
    cpu    = string
    memory = string
  })
  default = {
    cpu    = "8 vCPU"
    memory = "32 GB"
  }
}

variable "auto_stop_idle_minutes" {
  description = "Minutes without a job run before the application stops (a running stream keeps it up)."
  type        = number
  default     = 15
}

variable "driver" {
  description = "Driver size (Spark conf spark.driver.cores / spark.driver.memory)."
  type = object({
    cores  = number
    memory = string
  })
  default = { cores = 1, memory = "4g" }
}

variable "executor" {
  description = "Executor size and count; dynamic allocation is off for the stream (a steady micro-batch load)."
  type = object({
    cores     = number
    memory    = string
    instances = number
  })
  default = { cores = 2, memory = "4g", instances = 1 }
}

variable "artifacts_bucket" {
  description = "Bucket the job's code, Python dependencies and jars are uploaded to."
  type        = string
}

variable "artifacts_prefix" {
  description = "Key prefix of the uploaded artifacts."
  type        = string
  default     = "stream/"
}

variable "code_zip" {
  description = "Local path of the zip of the contract/ and spark/ packages (terraform/scripts/build.sh writes it)."
  type        = string
}

variable "entrypoint" {
  description = "Local path of the job's entry script (spark/__main__.py: `python -m spark`)."
  type        = string
}

variable "extra_entrypoints" {
  description = "Other entry scripts uploaded beside the main one (e.g. the compaction job), by name."
  type        = map(string)
  default     = {}
}

variable "pydeps_archive" {
  description = "Local path of a tar.gz of the job's Python dependencies (pydantic, orjson, pyarrow, ... built for manylinux/Python 3.11), files at the archive root: Spark unpacks it into ./pydeps (spark.archives ...#pydeps), the PYTHONPATH."
  type        = string
}

variable "jar_paths" {
  description = "Local paths of the JVM jars the job needs beyond EMR's own (Kafka source, MSK IAM auth)."
  type        = list(string)
}

variable "pyspark_python" {
  description = "Python interpreter of the driver and executors (the job needs 3.11)."
  type        = string
  default     = "/usr/bin/python3.11"
}

variable "lake_bucket" {
  description = "Bucket the job writes the lake to (read-write)."
  type        = string
}

variable "lake_prefix" {
  description = "Key prefix of the lake inside lake_bucket (empty: the bucket root)."
  type        = string
  default     = ""
}

variable "checkpoints_bucket" {
  description = "Bucket of the streaming checkpoint (read-write)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key of the buckets, if any: the role may encrypt/decrypt with it."
  type        = string
  default     = null
}

variable "kafka_bootstrap" {
  description = "MSK bootstrap servers (SASL/IAM listener)."
  type        = string
}

variable "topic" {
  description = "Kafka topic the stream reads."
  type        = string
  default     = "trips"
}

variable "kafka_policy_json" {
  description = "IAM policy for reading the topic (the streaming module's consumer_policy_json)."
  type        = string
}

variable "stream_env" {
  description = "Extra STREAM_* settings for the job (see spark/config.py), e.g. { STREAM_TRIGGER_INTERVAL = \"30 seconds\" }."
  type        = map(string)
  default     = {}
}

variable "max_failed_attempts_per_hour" {
  description = "Streaming job retry policy: restarts per hour before EMR gives up (each restart resumes from the checkpoint)."
  type        = number
  default     = 5
}

variable "log_retention_days" {
  description = "Days the job's CloudWatch logs are kept."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags for every resource (on top of the provider's default_tags)."
  type        = map(string)
  default     = {}
}
