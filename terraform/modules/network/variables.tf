variable "name" {
  description = "Name prefix of every resource (and the Name tag)."
  type        = string
}

variable "cidr_block" {
  description = "IPv4 range of the VPC; split into /20 subnets (public first, then private)."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.cidr_block, 0)) && tonumber(split("/", var.cidr_block)[1]) <= 18
    error_message = "cidr_block must be an IPv4 CIDR of /18 or larger (room for 2 x az_count /20 subnets)."
  }
}

variable "az_count" {
  description = "Availability zones to span; MSK and the ALB need at least 2."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 3
    error_message = "az_count must be 2 or 3."
  }
}

variable "excluded_zone_ids" {
  description = "Availability Zone IDs (e.g. use1-az3) no subnet may use. null: the zones EMR Serverless does not support in this region (the module's table, from the EMR Serverless endpoints page: us-east-1 use1-az3, us-west-1 usw1-az2, ca-central-1 cac1-az4). Add zones a CreateCluster/CreateApplication error names as unsupported (MSK publishes no list)."
  type        = list(string)
  default     = null
}

variable "egress" {
  description = "How private subnets reach AWS APIs and the internet: \"nat\" (NAT gateway(s): internet + every AWS API), \"endpoints\" (no internet: interface endpoints for the services in interface_endpoints only), or \"none\" (S3 gateway endpoint only)."
  type        = string
  default     = "nat"

  validation {
    condition     = contains(["nat", "endpoints", "none"], var.egress)
    error_message = "egress must be one of nat, endpoints, none."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all AZs (cheaper; an AZ outage cuts egress) instead of one per AZ. Only with egress = \"nat\"."
  type        = bool
  default     = true
}

variable "interface_endpoints" {
  description = "AWS services (short names, e.g. \"ecr.api\") given interface endpoints in the private subnets when egress = \"endpoints\". The defaults cover pulling images (ECR; layers come through the S3 gateway endpoint), logging, and STS."
  type        = list(string)
  default     = ["ecr.api", "ecr.dkr", "logs", "sts"]
}

variable "flow_log_retention_days" {
  description = "Days VPC flow logs (rejected traffic only) are kept in CloudWatch Logs."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags for every resource (on top of the provider's default_tags)."
  type        = map(string)
  default     = {}
}
