output "cluster_arn" {
  description = "ARN of the MSK cluster (serverless or provisioned)."
  value       = local.cluster_arn
}

output "cluster_name" {
  description = "Name of the MSK cluster."
  value       = var.name
}

output "bootstrap_brokers" {
  description = "Bootstrap servers of the SASL/IAM listener (port 9098), comma-separated."
  value       = local.bootstrap
}

output "client_security_group_id" {
  description = "Security group a client attaches to reach the brokers."
  value       = aws_security_group.client.id
}

output "cluster_security_group_id" {
  description = "Security group of the brokers."
  value       = aws_security_group.cluster.id
}

output "topics" {
  description = "Topics the client policies cover."
  value       = var.topics
}

output "producer_policy_json" {
  description = "IAM policy: connect and write (idempotently) to the topics."
  value       = data.aws_iam_policy_document.producer.json
}

output "consumer_policy_json" {
  description = "IAM policy: connect, read the topics, use the consumer groups."
  value       = data.aws_iam_policy_document.consumer.json
}

output "admin_policy_json" {
  description = "IAM policy: create and configure the topics (the topic-creation task)."
  value       = data.aws_iam_policy_document.admin.json
}
