output "url" {
  description = "Where users open the dashboard (https:// with a certificate, else http://)."
  value       = "${local.https ? "https" : "http"}://${coalesce(var.domain_name, aws_lb.this.dns_name)}/"
}

output "ecr_repository_url" {
  description = "ECR repository the deploy script pushes the dashboard image to."
  value       = aws_ecr_repository.this.repository_url
}

output "cluster_arn" {
  description = "ECS cluster (other tasks, e.g. the producer, run in it too)."
  value       = aws_ecs_cluster.this.arn
}

output "cluster_name" {
  description = "ECS cluster name."
  value       = aws_ecs_cluster.this.name
}

output "service_name" {
  description = "ECS service name."
  value       = aws_ecs_service.this.name
}

output "alb_arn_suffix" {
  description = "ALB ARN suffix (CloudWatch dimension LoadBalancer)."
  value       = aws_lb.this.arn_suffix
}

output "target_group_arn_suffix" {
  description = "Target group ARN suffix (CloudWatch dimension TargetGroup)."
  value       = aws_lb_target_group.this.arn_suffix
}

output "alb_dns_name" {
  description = "DNS name of the ALB."
  value       = aws_lb.this.dns_name
}

output "log_group_name" {
  description = "CloudWatch log group of the dashboard containers."
  value       = aws_cloudwatch_log_group.this.name
}
