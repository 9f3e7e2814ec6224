terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "= 5.100.0"
    }
  }

  # State lives outside the repo: `python -m localstack.terraform` passes
  # -backend-config=path=<repo>/.local/terraform/terraform.tfstate (tests use their own path).
  backend "local" {}
}
