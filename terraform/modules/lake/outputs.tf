output "bucket_names" {
  description = "Bucket names by role: lake, checkpoints, query_results, artifacts."
  value       = { for k, b in aws_s3_bucket.this : k => b.id }
}

output "bucket_arns" {
  description = "Bucket ARNs by role."
  value       = { for k, b in aws_s3_bucket.this : k => b.arn }
}

output "lake_bucket" {
  description = "Name of the lake bucket."
  value       = aws_s3_bucket.this["lake"].id
}

output "checkpoints_bucket" {
  description = "Name of the bucket for streaming checkpoints."
  value       = aws_s3_bucket.this["checkpoints"].id
}

output "query_results_bucket" {
  description = "Name of the bucket for Athena query results."
  value       = aws_s3_bucket.this["query_results"].id
}

output "artifacts_bucket" {
  description = "Name of the bucket for deployable artifacts (jars, Lambda zips)."
  value       = aws_s3_bucket.this["artifacts"].id
}

output "database_name" {
  description = "Glue catalog database holding the lake's tables."
  value       = aws_glue_catalog_database.this.name
}

output "table_names" {
  description = "Glue table names by contract table name."
  value       = { for k, t in aws_glue_catalog_table.this : k => t.name }
}

output "table_uris" {
  description = "s3:// base URI of each table (its storage location), by table name."
  value       = { for k, t in aws_glue_catalog_table.this : k => t.storage_descriptor[0].location }
}

output "lake_uri" {
  description = "s3:// base URI of the lake bucket."
  value       = "s3://${aws_s3_bucket.this["lake"].id}/"
}

output "checkpoints_uri" {
  description = "s3:// base URI for streaming checkpoints."
  value       = "s3://${aws_s3_bucket.this["checkpoints"].id}/"
}

output "query_results_uri" {
  description = "Where the Athena workgroup writes query results."
  value       = local.results_uri
}

output "athena_workgroup" {
  description = "Athena workgroup name (results location and encryption are enforced)."
  value       = aws_athena_workgroup.this.name
}

output "partition_projection_enabled" {
  description = "Whether the Glue tables carry Athena partition projection parameters."
  value       = var.enable_partition_projection
}
