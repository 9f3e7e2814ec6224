output "state_bucket" {
  description = "Bucket to name in envs/aws's backend config (backend.hcl: bucket = ...)."
  value       = aws_s3_bucket.state.id
}

output "backend_config" {
  description = "Contents of terraform/envs/aws/backend.hcl for this bucket."
  value       = <<-HCL
    bucket       = "${aws_s3_bucket.state.id}"
    key          = "envs/aws/terraform.tfstate"
    region       = "${var.region}"
    encrypt      = true
    use_lockfile = true
  HCL
}
