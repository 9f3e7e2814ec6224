output "ecr_repository_url" {
  description = "ECR repository of the app image (producer + topic tool)."
  value       = aws_ecr_repository.this.repository_url
}

output "producer_task_definition_arn" {
  description = "Task definition of the producer."
  value       = aws_ecs_task_definition.producer.arn
}

output "topics_task_definition_arn" {
  description = "Task definition of the one-off topic creation."
  value       = aws_ecs_task_definition.topics.arn
}

output "network_configuration" {
  description = "awsvpcConfiguration for `aws ecs run-task --network-configuration` (JSON)."
  value       = jsonencode(local.network)
}

output "run_producer_command" {
  description = "Starts one producer task on demand."
  value       = "aws ecs run-task --cluster ${var.cluster_arn} --launch-type FARGATE --task-definition ${aws_ecs_task_definition.producer.arn} --network-configuration '${jsonencode(local.network)}'"
}

output "run_topics_command" {
  description = "Creates the topic (idempotent); the deploy script runs it and waits for it."
  value       = "aws ecs run-task --cluster ${var.cluster_arn} --launch-type FARGATE --task-definition ${aws_ecs_task_definition.topics.arn} --network-configuration '${jsonencode(local.network)}'"
}

output "log_group_name" {
  description = "CloudWatch log group of the producer and topic tasks."
  value       = aws_cloudwatch_log_group.this.name
}
