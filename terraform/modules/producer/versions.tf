terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Tested with 5.100.0 (the roots pin it exactly).
      version = ">= 5.100, < 6.0"
    }
  }
}
