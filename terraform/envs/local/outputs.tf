output "lake" {
  description = "Everything the lake module exposes: buckets, URIs, Glue database and tables, Athena workgroup."
  value = {
    bucket_names      = module.lake.bucket_names
    bucket_arns       = module.lake.bucket_arns
    lake_uri          = module.lake.lake_uri
    checkpoints_uri   = module.lake.checkpoints_uri
    query_results_uri = module.lake.query_results_uri
    database_name     = module.lake.database_name
    table_names       = module.lake.table_names
    table_uris        = module.lake.table_uris
    athena_workgroup  = module.lake.athena_workgroup
  }
}

output "aws_endpoint_url" {
  description = "The endpoint this stack was applied to (clients use the same one)."
  value       = var.aws_endpoint_url
}

output "api_id" {
  description = "Id of the API's HTTP API; null when dist/lambda_api.zip was not built."
  value       = local.deploy_api ? module.api[0].api_id : null
}

output "api_url" {
  description = "Base URL of the API through the twin's API Gateway (append /health, /v1/...)."
  value       = local.deploy_api ? "${trimsuffix(var.aws_endpoint_url, "/")}/_aws/execute-api/${module.api[0].api_id}" : null
}
