provider "aws" {
  region     = var.region
  access_key = var.aws_access_key_id
  secret_key = var.aws_secret_access_key

  # Every service the stack uses goes to the twin. A service missing here would go to real
  # AWS with fake keys and fail loudly; add it with its module.
  endpoints {
    apigatewayv2 = var.aws_endpoint_url
    athena       = var.aws_endpoint_url
    glue         = var.aws_endpoint_url
    iam          = var.aws_endpoint_url
    kms          = var.aws_endpoint_url
    lambda       = var.aws_endpoint_url
    logs         = var.aws_endpoint_url
    s3           = var.aws_endpoint_url
    sts          = var.aws_endpoint_url
  }

  s3_use_path_style           = true # the twin serves buckets on paths, not bucket.host names
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  # Not skip_requesting_account_id: with an empty account id the twin rejects Glue/Athena ARNs.

  default_tags {
    tags = {
      Project     = "nyc-taxi-streaming"
      Environment = "local"
      ManagedBy   = "terraform"
    }
  }
}
