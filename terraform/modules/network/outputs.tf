output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "IPv4 range of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "azs" {
  description = "Availability zone names the subnets are in (same order as the subnet lists)."
  value       = local.azs
}

output "az_ids" {
  description = "Availability zone IDs the subnets are in (same order as the subnet lists; the same physical zones in every account)."
  value       = local.az_ids
}

output "public_subnet_ids" {
  description = "Public subnets (ALB, NAT gateways)."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Private subnets (MSK, EMR Serverless, ECS tasks)."
  value       = aws_subnet.private[*].id
}

output "private_route_table_ids" {
  description = "Route tables of the private subnets."
  value       = aws_route_table.private[*].id
}

output "has_internet_egress" {
  description = "Whether private subnets reach the internet (NAT). Without it, tasks that call public endpoints (e.g. the HTTP API) must run in public subnets with a public IP."
  value       = local.nat_count > 0
}

output "s3_endpoint_id" {
  description = "ID of the S3 gateway endpoint."
  value       = aws_vpc_endpoint.s3.id
}
