locals {
  buckets = {
    lake          = "${var.name_prefix}-lake"
    checkpoints   = "${var.name_prefix}-checkpoints"
    query_results = "${var.name_prefix}-query-results"
    artifacts     = "${var.name_prefix}-artifacts"
  }
  versioned = { for k, name in local.buckets : k => name if var.versioning[k] }

  database_name = coalesce(var.database_name, replace("${var.name_prefix}_lake", "-", "_"))
  lake_bucket   = aws_s3_bucket.this["lake"].id
  results_uri   = "s3://${aws_s3_bucket.this["query_results"].id}/athena/"

  # Lifecycle rules only where a bucket needs one: on the twin each configuration costs the
  # provider ~55 s of polling (they run in parallel, but fewer is still faster to apply).
  # A null prefix is the whole bucket; null days leave that action out.
  hygiene = {
    prefix          = null
    expiration_days = null
    abort_days      = var.abort_incomplete_multipart_upload_days
  }
  lifecycle_rules = {
    lake = concat(
      [merge(local.hygiene, {
        id              = "bucket-hygiene"
        noncurrent_days = var.versioning.lake ? var.noncurrent_version_expiration_days : null
      })],
      var.dead_letter_retention_days == null ? [] : [{
        id              = "expire-dead-letters"
        prefix          = "dead_letters/"
        expiration_days = var.dead_letter_retention_days
        noncurrent_days = null
        abort_days      = null
      }],
    )
    query_results = [merge(local.hygiene, {
      id              = "expire-query-results"
      expiration_days = var.query_results_expiration_days
      noncurrent_days = null
    })]
    checkpoints = var.checkpoint_retention_days == null ? [] : [merge(local.hygiene, {
      id              = "expire-checkpoints"
      expiration_days = var.checkpoint_retention_days
      noncurrent_days = null
    })]
    # Artifacts are a few small, deliberately versioned files: no rule, no extra apply time.
    artifacts = []
  }

  projection_on = var.enable_partition_projection
  table_parameters = {
    for name, t in var.tables : name => merge(
      {
        classification = "parquet"
        EXTERNAL       = "TRUE"
      },
      local.projection_on && length(t.partition_keys) > 0 ? merge(
        {
          "projection.enabled" = "true"
          # $${key} is a literal ${key} for Athena, not a Terraform interpolation.
          "storage.location.template" = "s3://${local.lake_bucket}/${name}/${join("/", [for k in t.partition_keys : "${k.name}=$${${k.name}}"])}/"
        },
        merge([
          for k in t.partition_keys : {
            for setting, value in lookup(var.partition_projection, k.name, {}) :
            "projection.${k.name}.${setting}" => value
          }
        ]...),
      ) : {},
    )
  }
}

# ---- S3 buckets ------------------------------------------------------------------------------

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:No log bucket in this module; access audit (CloudTrail data events) belongs to the AWS env.
  #checkov:skip=CKV_AWS_144:Cross-region replication is not needed: the lake is rebuildable from Kafka and the TLC files.
  #checkov:skip=CKV2_AWS_62:No consumer of S3 event notifications; readers find data through Glue.
  #checkov:skip=CKV_AWS_21:Versioning is per bucket (var.versioning): on for lake and artifacts, off by design for checkpoints (rewritten constantly) and query results (disposable).
  #checkov:skip=CKV2_AWS_61:Lifecycle rules exist per bucket where needed (local.lifecycle_rules); checkov cannot match the for_each keys.
  for_each = local.buckets

  bucket        = each.value
  force_destroy = var.force_destroy
  tags          = merge(var.tags, { Name = each.value, Role = each.key })
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id
  rule {
    # ACLs off: access is decided by policies only.
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = local.buckets

  bucket                  = aws_s3_bucket.this[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    # Fewer KMS requests (and cost) for the lake's many small Parquet files.
    bucket_key_enabled = var.kms_key_arn != null
  }
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = local.versioned

  bucket = aws_s3_bucket.this[each.key].id
  versioning_configuration {
    status = "Enabled"
  }
}

data "aws_iam_policy_document" "tls_only" {
  for_each = local.buckets

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.this[each.key].arn,
      "${aws_s3_bucket.this[each.key].arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id
  policy = data.aws_iam_policy_document.tls_only[each.key].json

  # S3 rejects a policy write racing the public access block write on the same bucket.
  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  #checkov:skip=CKV_AWS_300:Each configuration's first rule aborts incomplete uploads bucket-wide; checkov cannot read the dynamic block.
  for_each = { for k, rules in local.lifecycle_rules : k => rules if length(rules) > 0 }

  bucket = aws_s3_bucket.this[each.key].id

  dynamic "rule" {
    for_each = each.value
    content {
      id     = rule.value.id
      status = "Enabled"

      filter {
        prefix = rule.value.prefix
      }

      dynamic "expiration" {
        for_each = rule.value.expiration_days == null ? [] : [rule.value.expiration_days]
        content {
          days = expiration.value
        }
      }

      dynamic "noncurrent_version_expiration" {
        for_each = rule.value.noncurrent_days == null ? [] : [rule.value.noncurrent_days]
        content {
          noncurrent_days = noncurrent_version_expiration.value
        }
      }

      dynamic "abort_incomplete_multipart_upload" {
        for_each = rule.value.abort_days == null ? [] : [rule.value.abort_days]
        content {
          days_after_initiation = abort_incomplete_multipart_upload.value
        }
      }
    }
  }

  # Rules on a versioned bucket must follow its versioning status.
  depends_on = [aws_s3_bucket_versioning.this]
}

# ---- Glue catalog ----------------------------------------------------------------------------

resource "aws_glue_catalog_database" "this" {
  name         = local.database_name
  description  = "NYC taxi lake: tables defined by contract/tables.json."
  location_uri = "s3://${local.lake_bucket}/"
  tags         = var.tags
}

resource "aws_glue_catalog_table" "this" {
  for_each = var.tables

  database_name = aws_glue_catalog_database.this.name
  name          = each.key
  description   = each.value.description
  table_type    = "EXTERNAL_TABLE"
  parameters    = local.table_parameters[each.key]

  storage_descriptor {
    location      = "s3://${local.lake_bucket}/${each.key}/"
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

    ser_de_info {
      serialization_library = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
      parameters = {
        "serialization.format" = "1"
      }
    }

    dynamic "columns" {
      for_each = each.value.columns
      content {
        name    = columns.value.name
        type    = columns.value.type
        comment = columns.value.comment
      }
    }
  }

  dynamic "partition_keys" {
    for_each = each.value.partition_keys
    content {
      name    = partition_keys.value.name
      type    = partition_keys.value.type
      comment = partition_keys.value.comment
    }
  }

  lifecycle {
    precondition {
      condition = !local.projection_on || alltrue([
        for k in each.value.partition_keys : contains(keys(var.partition_projection), k.name)
      ])
      error_message = "Partition projection is on but a partition key of table ${each.key} has no entry in var.partition_projection."
    }
  }
}

# ---- Athena ----------------------------------------------------------------------------------

resource "aws_athena_workgroup" "this" {
  name          = var.name_prefix
  description   = "Queries over the ${local.database_name} Glue database."
  force_destroy = var.force_destroy
  tags          = var.tags

  configuration {
    # Clients cannot point results elsewhere or turn encryption off.
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.athena_bytes_scanned_cutoff_per_query

    result_configuration {
      output_location = local.results_uri

      encryption_configuration {
        encryption_option = var.kms_key_arn == null ? "SSE_S3" : "SSE_KMS"
        kms_key_arn       = var.kms_key_arn
      }
    }
  }
}
