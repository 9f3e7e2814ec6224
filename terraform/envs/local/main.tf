# The local stack on the AWS twin. Each part of the platform is one module call; later parts
# (api, stream, dashboard, ...) are added here the same way, wired through module outputs.

locals {
  # Columns and partition keys come from the contract (`python -m contract export`), never HCL.
  contract = jsondecode(file("${path.root}/../../../contract/tables.json"))

  # The API exists once its zip does (`python -m lambda_api.build` writes it): a stack applied
  # without a build (e.g. by tests of other parts) still plans cleanly.
  api_zip    = coalesce(var.api_zip_path, "${path.root}/../../../dist/lambda_api.zip")
  deploy_api = fileexists(local.api_zip)
}

module "lake" {
  source = "../../modules/lake"

  name_prefix = var.name_prefix
  tables      = local.contract.tables

  # The whole stack is disposable here: destroy empties the buckets.
  force_destroy = true
  # The same projection as envs/aws (the module's default settings): the twin's Athena scans
  # every folder regardless, Trino in the tests finds partitions only through it, like Athena.
  enable_partition_projection = var.enable_partition_projection
}

module "api" {
  source = "../../modules/api"
  count  = local.deploy_api ? 1 : 0

  name                 = "${var.name_prefix}-api"
  zip_path             = local.api_zip
  athena_database      = module.lake.database_name
  athena_workgroup     = module.lake.athena_workgroup
  lake_bucket          = module.lake.lake_bucket
  query_results_bucket = module.lake.query_results_bucket

  jwt_issuer   = var.api_jwt_issuer
  jwt_audience = var.api_jwt_audience
}
