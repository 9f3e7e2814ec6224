provider "aws" {
  region = var.region

  default_tags {
    tags = merge(var.tags, {
      Project     = "nyc-taxi-streaming"
      Environment = var.environment
      ManagedBy   = "terraform"
    })
  }
}
