terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Tested with 5.100.0 (the root pins it); lifecycle `filter` semantics changed in 5.x.
      version = ">= 5.100, < 6.0"
    }
  }
}
