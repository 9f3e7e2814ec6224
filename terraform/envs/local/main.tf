# The local stack on the AWS twin. Each part of the platform is one module call; later parts
# (api, stream, dashboard, ...) are added here the same way, wired through module outputs.

locals {
  # Columns and partition keys come from the contract (`python -m contract export`), never HCL.
  contract = jsondecode(file("${path.root}/../../../contract/tables.json"))
}

module "lake" {
  source = "../../modules/lake"

  name_prefix = var.name_prefix
  tables      = local.contract.tables

  # The whole stack is disposable here: destroy empties the buckets.
  force_destroy = true
  # The twin ignores Glue partitions and scans every folder; projection is for Athena on AWS.
  enable_partition_projection = var.enable_partition_projection
}
