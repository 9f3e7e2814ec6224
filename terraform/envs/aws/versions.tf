terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "= 5.100.0"
    }
  }

  # Partial config: `terraform init -backend-config=backend.hcl` (bucket, key, region), written
  # by terraform/bootstrap. use_lockfile: S3's native lock file (Terraform >= 1.10), no DynamoDB.
  backend "s3" {
    encrypt      = true
    use_lockfile = true
  }
}
