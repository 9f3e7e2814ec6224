data "aws_availability_zones" "available" {
  #checkov:skip=CKV_AWS_394:Zones are chosen by zone ID from this list minus excluded_zone_ids (sorted by ID), so a zone AWS adds later changes nothing unless it sorts first.
  state = "available"

  # Availability Zones only (no Local or Wavelength Zones an account opted into).
  filter {
    name   = "zone-type"
    values = ["availability-zone"]
  }

  lifecycle {
    postcondition {
      condition     = length(setsubtract(self.zone_ids, local.excluded_zone_ids)) >= var.az_count
      error_message = "Only ${length(setsubtract(self.zone_ids, local.excluded_zone_ids))} zone(s) of ${data.aws_region.current.name} are left after excluding ${jsonencode(local.excluded_zone_ids)} (zones EMR Serverless or MSK do not support), and az_count is ${var.az_count}. Use a region with more supported zones, lower az_count, or change excluded_zone_ids."
    }
  }
}

data "aws_region" "current" {}

locals {
  # Zone IDs (use1-az1, ...) name the same physical zone in every account; zone names
  # (us-east-1a, ...) are shuffled per account in the older regions. Choose by ID, skip the zones
  # the services in these subnets do not support, and take the lowest IDs.
  excluded_zone_ids = var.excluded_zone_ids != null ? var.excluded_zone_ids : try(local.unsupported_zone_ids[data.aws_region.current.name], [])
  zone_names        = zipmap(data.aws_availability_zones.available.zone_ids, data.aws_availability_zones.available.names)
  usable_zone_ids   = sort(setsubtract(data.aws_availability_zones.available.zone_ids, local.excluded_zone_ids))
  # min(): the data source's postcondition reports too few zones before anything indexes them.
  az_ids = slice(local.usable_zone_ids, 0, min(var.az_count, length(local.usable_zone_ids)))
  azs    = [for id in local.az_ids : local.zone_names[id]]

  # Zones EMR Serverless does not run in, by region: the complement of the zones listed in
  # "Endpoints and quotas for EMR Serverless" (EMR Serverless User Guide, read 2026-12-03:
  # us-east-1 use1-az1/2/4/5/6, us-west-1 usw1-az1/3, ca-central-1 cac1-az1/2). The page limits
  # more regions (af-south-1, ...) whose lists were not read here. MSK publishes no such list
  # (CreateCluster names an unsupported zone in its error). Add such zones with excluded_zone_ids.
  unsupported_zone_ids = {
    us-east-1    = ["use1-az3"]
    us-west-1    = ["usw1-az2"]
    ca-central-1 = ["cac1-az4"]
  }

  # /20s: public subnets take the first az_count blocks, private the next az_count.
  public_cidrs  = [for i in range(var.az_count) : cidrsubnet(var.cidr_block, 20 - tonumber(split("/", var.cidr_block)[1]), i)]
  private_cidrs = [for i in range(var.az_count) : cidrsubnet(var.cidr_block, 20 - tonumber(split("/", var.cidr_block)[1]), var.az_count + i)]

  nat_count = var.egress == "nat" ? (var.single_nat_gateway ? 1 : var.az_count) : 0
  endpoints = var.egress == "endpoints" ? toset(var.interface_endpoints) : toset([])
}

resource "aws_vpc" "this" {
  cidr_block           = var.cidr_block
  enable_dns_support   = true
  enable_dns_hostnames = true # interface endpoints' private DNS and MSK broker names need it
  tags                 = merge(var.tags, { Name = var.name })
}

# No rules: nothing may use the default group by accident.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-default-deny" })
}

# ---- public subnets (the ALB and NAT gateways only) ------------------------------------------

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = var.name })
}

resource "aws_subnet" "public" {
  count = var.az_count

  vpc_id               = aws_vpc.this.id
  cidr_block           = local.public_cidrs[count.index]
  availability_zone_id = local.az_ids[count.index]
  # Nothing gets a public address unless it asks for one (the ALB does).
  map_public_ip_on_launch = false
  tags                    = merge(var.tags, { Name = "${var.name}-public-${local.azs[count.index]}", Tier = "public" })
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-public" })
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  count = var.az_count

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

# ---- private subnets (MSK, EMR Serverless, ECS tasks) ----------------------------------------

resource "aws_subnet" "private" {
  count = var.az_count

  vpc_id               = aws_vpc.this.id
  cidr_block           = local.private_cidrs[count.index]
  availability_zone_id = local.az_ids[count.index]
  tags                 = merge(var.tags, { Name = "${var.name}-private-${local.azs[count.index]}", Tier = "private" })
}

resource "aws_route_table" "private" {
  count = var.az_count

  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-private-${local.azs[count.index]}" })
}

resource "aws_route_table_association" "private" {
  count = var.az_count

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[count.index].id
}

resource "aws_eip" "nat" {
  count = local.nat_count

  domain = "vpc"
  tags   = merge(var.tags, { Name = "${var.name}-nat-${count.index}" })
}

resource "aws_nat_gateway" "this" {
  count = local.nat_count

  allocation_id = aws_eip.nat[count.index].id
  subnet_id     = aws_subnet.public[count.index].id
  tags          = merge(var.tags, { Name = "${var.name}-nat-${count.index}" })

  depends_on = [aws_internet_gateway.this]
}

resource "aws_route" "private_nat" {
  count = local.nat_count > 0 ? var.az_count : 0

  route_table_id         = aws_route_table.private[count.index].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[var.single_nat_gateway ? 0 : count.index].id
}

# ---- VPC endpoints ---------------------------------------------------------------------------

# Free, and keeps lake/checkpoint/artifact traffic off the NAT gateway (no per-GB charge).
resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = aws_route_table.private[*].id
  tags              = merge(var.tags, { Name = "${var.name}-s3" })
}

resource "aws_security_group" "endpoints" {
  count = length(local.endpoints) > 0 ? 1 : 0

  name        = "${var.name}-endpoints"
  description = "HTTPS from inside the VPC to the interface endpoints."
  vpc_id      = aws_vpc.this.id
  tags        = merge(var.tags, { Name = "${var.name}-endpoints" })
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_https" {
  count = length(local.endpoints) > 0 ? 1 : 0

  security_group_id = aws_security_group.endpoints[0].id
  description       = "HTTPS from the VPC"
  cidr_ipv4         = var.cidr_block
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_endpoint" "interface" {
  for_each = local.endpoints

  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${data.aws_region.current.name}.${each.key}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.endpoints[0].id]
  private_dns_enabled = true
  tags                = merge(var.tags, { Name = "${var.name}-${each.key}" })
}

# ---- flow logs (rejected traffic: what a too-tight security group drops) ---------------------

resource "aws_cloudwatch_log_group" "flow" {
  #checkov:skip=CKV_AWS_158:Flow logs hold addresses and ports only; CloudWatch's default encryption is enough and a CMK costs 1 USD/month per key.
  #checkov:skip=CKV_AWS_338:Rejected-traffic logs are for debugging security groups; a year of retention is not needed.
  name              = "/vpc/${var.name}/flow-logs"
  retention_in_days = var.flow_log_retention_days
  tags              = var.tags
}

data "aws_iam_policy_document" "flow_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "flow_write" {
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.flow.arn}:*"]
  }
}

resource "aws_iam_role" "flow" {
  name_prefix        = "${substr(var.name, 0, 26)}-flow-"
  assume_role_policy = data.aws_iam_policy_document.flow_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "flow" {
  name   = "write-flow-logs"
  role   = aws_iam_role.flow.id
  policy = data.aws_iam_policy_document.flow_write.json
}

resource "aws_flow_log" "this" {
  vpc_id          = aws_vpc.this.id
  traffic_type    = "REJECT"
  iam_role_arn    = aws_iam_role.flow.arn
  log_destination = aws_cloudwatch_log_group.flow.arn
  tags            = var.tags
}
