output "api_id" {
  description = "Id of the HTTP API (on the twin the URL is <endpoint>/_aws/execute-api/<api_id>)."
  value       = aws_apigatewayv2_api.this.id
}

output "api_endpoint" {
  description = "The API's own endpoint (on AWS: https://<api_id>.execute-api.<region>.amazonaws.com)."
  value       = aws_apigatewayv2_api.this.api_endpoint
}

output "invoke_url" {
  description = "Invoke URL of the $default stage (on the twin it names the AWS host; use api_id)."
  value       = aws_apigatewayv2_stage.default.invoke_url
}

output "execution_arn" {
  description = "Execution ARN of the API (for further invoke permissions)."
  value       = aws_apigatewayv2_api.this.execution_arn
}

output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = aws_lambda_function.this.arn
}

output "role_arn" {
  description = "ARN of the function's IAM role."
  value       = aws_iam_role.this.arn
}

output "access_log_group" {
  description = "Log group of the stage's access logs."
  value       = aws_cloudwatch_log_group.access.name
}

output "authorizer_id" {
  description = "Id of the JWT authorizer, or null when none is configured."
  value       = local.jwt ? aws_apigatewayv2_authorizer.jwt[0].id : null
}
