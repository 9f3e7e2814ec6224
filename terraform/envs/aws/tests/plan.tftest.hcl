# `terraform test` for the cloud root without an AWS account: every AWS call is mocked.
# Build artifacts are stand-ins (tests/fixtures/build); the plan only hashes them.
# Run: terraform init -backend=false && terraform test   (tests/test_terraform_aws.py does both)

mock_provider "aws" {
  mock_data "aws_availability_zones" {
    defaults = {
      names    = ["us-east-1a", "us-east-1b", "us-east-1c"]
      zone_ids = ["use1-az1", "use1-az2", "use1-az4"]
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }
  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
  mock_resource "aws_cognito_user_pool" {
    defaults = {
      id  = "us-east-1_TestPool"
      arn = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_TestPool"
    }
  }
  mock_resource "aws_emrserverless_application" {
    defaults = {
      id  = "00testapp"
      arn = "arn:aws:emr-serverless:us-east-1:123456789012:/applications/00testapp"
    }
  }
  mock_resource "aws_msk_serverless_cluster" {
    defaults = {
      arn                        = "arn:aws:kafka:us-east-1:123456789012:cluster/nyc-taxi-prod/0000-uuid"
      cluster_uuid               = "0000-uuid"
      bootstrap_brokers_sasl_iam = "boot-1.kafka-serverless.us-east-1.amazonaws.com:9098"
    }
  }
  mock_resource "aws_msk_cluster" {
    defaults = {
      arn                        = "arn:aws:kafka:us-east-1:123456789012:cluster/nyc-taxi-prod/1111-uuid"
      cluster_uuid               = "1111-uuid"
      bootstrap_brokers_sasl_iam = "b-1.nyc.kafka.us-east-1.amazonaws.com:9098,b-2.nyc.kafka.us-east-1.amazonaws.com:9098"
    }
  }
  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      execution_arn = "arn:aws:execute-api:us-east-1:123456789012:abc123"
    }
  }
  mock_resource "aws_apigatewayv2_stage" {
    defaults = {
      invoke_url = "https://abc123.execute-api.us-east-1.amazonaws.com/"
    }
  }
  mock_resource "aws_lb" {
    defaults = {
      arn        = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/test/abc"
      dns_name   = "nyc-taxi-prod-dash-1.us-east-1.elb.amazonaws.com"
      arn_suffix = "app/nyc-taxi-prod-dash/abc"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/test"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-east-1:123456789012:log-group:/test"
    }
  }
  mock_resource "aws_lb_target_group" {
    defaults = {
      arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/test/abc"
    }
  }
  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:us-east-1:123456789012:test"
    }
  }
  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:us-east-1:123456789012:key/test"
    }
  }
  mock_resource "aws_lambda_function" {
    defaults = {
      arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    }
  }
  mock_resource "aws_ecs_cluster" {
    defaults = {
      arn = "arn:aws:ecs:us-east-1:123456789012:cluster/test"
    }
  }
  mock_resource "aws_ecs_task_definition" {
    defaults = {
      arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/test:1"
    }
  }
  mock_resource "aws_secretsmanager_secret" {
    defaults = {
      arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:test"
    }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = {
      arn = "arn:aws:events:us-east-1:123456789012:rule/test"
    }
  }
  mock_resource "aws_msk_configuration" {
    defaults = {
      arn = "arn:aws:kafka:us-east-1:123456789012:configuration/test/abc"
    }
  }
  mock_resource "aws_s3_bucket" {
    defaults = {
      arn = "arn:aws:s3:::test"
    }
  }
  mock_resource "aws_ecr_repository" {
    defaults = {
      repository_url = "123456789012.dkr.ecr.us-east-1.amazonaws.com/nyc-taxi-prod/app"
    }
  }
}

variables {
  build_dir = "tests/fixtures/build"
}

run "defaults_plan_without_an_account" {
  command = apply # against the mocks: computed values get fake ones, nothing is called

  assert {
    condition     = output.stream_job.request.mode == "STREAMING"
    error_message = "The stream must start as a STREAMING job run."
  }
  assert {
    condition     = output.stream_job.request.retryPolicy.maxFailedAttemptsPerHour == 5
    error_message = "The streaming job needs a retry policy."
  }
  assert {
    condition     = output.stream_job.request.jobDriver.sparkSubmit.entryPoint == "s3://${output.bucket_names.artifacts}/stream/code/stream.py"
    error_message = "The entry point is spark/__main__.py uploaded as stream.py to the artifacts bucket."
  }
  assert {
    condition = alltrue([
      for k, v in {
        STREAM_LAKE_URI       = "s3://${output.bucket_names.lake}"
        STREAM_CHECKPOINT_URI = "s3://${output.bucket_names.checkpoints}/stream/trips"
        STREAM_MASTER         = "none"
        STREAM_JARS_DIR       = "none"
        STREAM_TOPIC          = "trips"
      } : output.stream_job.request.configurationOverrides.applicationConfiguration[0].properties["spark.emr-serverless.driverEnv.${k}"] == v
    ])
    error_message = "STREAM_* env of the job: s3:// lake and checkpoint, no master, no local jars."
  }
  assert {
    condition     = jsondecode(output.stream_job.request.configurationOverrides.applicationConfiguration[0].properties["spark.emr-serverless.driverEnv.STREAM_KAFKA_OPTIONS"])["kafka.sasl.mechanism"] == "AWS_MSK_IAM"
    error_message = "The job must authenticate to MSK with IAM."
  }
  assert {
    condition = output.stream_job.request.configurationOverrides.applicationConfiguration[0].properties["spark.jars"] == join(",", [
      "s3://${output.bucket_names.artifacts}/stream/jars/aws-msk-iam-auth-2.3.2.jar",
      "s3://${output.bucket_names.artifacts}/stream/jars/spark-sql-kafka-0-10_2.13-4.0.2.jar",
    ])
    error_message = "spark.jars must list every jar of the build folder, from S3."
  }
  assert {
    condition     = output.bootstrap_brokers == "boot-1.kafka-serverless.us-east-1.amazonaws.com:9098"
    error_message = "Bootstrap brokers come from the serverless cluster by default."
  }
  assert {
    condition     = output.athena.partition_projection == true
    error_message = "Partition projection must be on in AWS."
  }
  assert {
    condition     = output.dashboard_url == "http://nyc-taxi-prod-dash-1.us-east-1.elb.amazonaws.com/"
    error_message = "Without a certificate the dashboard is plain HTTP on the ALB's name."
  }
  assert {
    condition     = output.api_url == "https://abc123.execute-api.us-east-1.amazonaws.com/"
    error_message = "api_url is the stage's invoke URL."
  }
  assert {
    condition     = length(aws_cognito_user_pool_client.dashboard_login) == 0
    error_message = "No ALB login client without HTTPS."
  }
  assert {
    condition     = output.cognito.issuer == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool"
    error_message = "The API's JWT issuer is the user pool's."
  }
}

run "https_with_cognito_login" {
  command = apply

  variables {
    dashboard_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/test"
    dashboard_domain_name     = "taxi.example.com"
  }

  assert {
    condition     = output.dashboard_url == "https://taxi.example.com/"
    error_message = "With a certificate and domain the dashboard is served over HTTPS."
  }
  assert {
    condition     = aws_cognito_user_pool_client.dashboard_login[0].callback_urls == toset(["https://taxi.example.com/oauth2/idpresponse"])
    error_message = "The ALB login client must call back to the dashboard's domain."
  }
}

run "provisioned_msk_without_nat" {
  command = apply

  variables {
    msk_mode     = "provisioned"
    egress       = "endpoints"
    api_jwt_auth = false
  }

  assert {
    condition     = output.bootstrap_brokers == "b-1.nyc.kafka.us-east-1.amazonaws.com:9098,b-2.nyc.kafka.us-east-1.amazonaws.com:9098"
    error_message = "Bootstrap brokers come from the provisioned cluster."
  }
  assert {
    condition     = length(aws_secretsmanager_secret.dashboard_client) == 0
    error_message = "No dashboard OAuth secret without JWT auth on the API."
  }
}

run "rejects_an_unknown_egress_mode" {
  command = plan

  variables {
    egress = "wormhole"
  }
  expect_failures = [var.egress]
}
