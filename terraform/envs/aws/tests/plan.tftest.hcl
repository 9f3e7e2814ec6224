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
  mock_resource "aws_secretsmanager_secret_version" {
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

# Every role gets the mock's one ARN; the Lambda functions' roles get their own, so a test can
# tell which role a function runs with (tests/test_terraform_findings.py).
override_resource {
  target = module.api.aws_iam_role.this
  values = { arn = "arn:aws:iam::123456789012:role/nyc-taxi-prod-api" }
}
override_resource {
  target = module.observability.aws_iam_role.probe
  values = { arn = "arn:aws:iam::123456789012:role/nyc-taxi-prod-probe" }
}

variables {
  build_dir = "tests/fixtures/build"
}

run "defaults_plan_without_an_account" {
  command = apply # against the mocks: computed values get fake ones, nothing is called

  variables {
    # No certificate here: the first-look HTTP dashboard, asked for explicitly.
    dashboard_public_without_login = true
  }

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
    msk_mode                       = "provisioned"
    egress                         = "endpoints"
    api_jwt_auth                   = false
    dashboard_public_without_login = true
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
    egress                         = "wormhole"
    dashboard_public_without_login = true
  }
  expect_failures = [var.egress]
}

# ---- the dashboard is safe by default (issue 13, finding 6) ---------------------------------

run "refuses_a_dashboard_without_login_by_default" {
  command = plan

  expect_failures = [var.dashboard_public_without_login]
}

run "refuses_a_domain_without_certificate" {
  command = plan

  variables {
    dashboard_domain_name = "taxi.example.com"
  }
  expect_failures = [var.dashboard_public_without_login]
}

run "refuses_a_certificate_without_domain" {
  command = plan

  variables {
    dashboard_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/test"
  }
  expect_failures = [var.dashboard_certificate_arn]
}

run "refuses_https_without_login_even_when_asked" {
  command = plan

  variables {
    dashboard_certificate_arn      = "arn:aws:acm:us-east-1:123456789012:certificate/test"
    dashboard_public_without_login = true
  }
  expect_failures = [var.dashboard_certificate_arn]
}

run "refuses_the_opt_in_next_to_a_login" {
  command = plan

  variables {
    dashboard_certificate_arn      = "arn:aws:acm:us-east-1:123456789012:certificate/test"
    dashboard_domain_name          = "taxi.example.com"
    dashboard_public_without_login = true
  }
  expect_failures = [var.dashboard_public_without_login]
}

run "public_dashboard_on_its_own_domain_when_asked" {
  command = apply

  variables {
    dashboard_domain_name          = "taxi.example.com"
    route53_zone_id                = "Z0123456789ABCDEFGHIJ"
    dashboard_public_without_login = true
  }

  assert {
    condition     = output.dashboard_url == "http://taxi.example.com/"
    error_message = "Without a certificate the dashboard is plain HTTP, here on its own name."
  }
  assert {
    condition     = length(aws_cognito_user_pool_client.dashboard_login) == 0
    error_message = "No ALB login client without HTTPS."
  }
}

# ---- zones by ID, without the ones EMR Serverless does not support (finding 3) ---------------

run "zones_skip_those_emr_serverless_does_not_support" {
  command = apply

  variables {
    dashboard_public_without_login = true
    az_count                       = 3
  }
  # An account whose first zone names map to use1-az3 (us-east-1's zone without EMR Serverless).
  override_data {
    target = module.network.data.aws_availability_zones.available
    values = {
      names    = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"]
      zone_ids = ["use1-az3", "use1-az6", "use1-az1", "use1-az2", "use1-az4", "use1-az5"]
    }
  }

  assert {
    condition     = module.network.az_ids == tolist(["use1-az1", "use1-az2", "use1-az4"])
    error_message = "The lowest zone IDs except use1-az3."
  }
  assert {
    condition     = tolist(module.network.azs) == tolist(["us-east-1c", "us-east-1d", "us-east-1e"])
    error_message = "Zone names follow the chosen IDs."
  }
}

# More cases (other regions, too few zones) in modules/network/tests/zones.tftest.hcl.
run "excluded_zone_ids_replace_the_defaults" {
  command = apply

  variables {
    dashboard_public_without_login = true
    excluded_zone_ids              = ["use1-az1"]
  }

  assert {
    condition     = module.network.az_ids == tolist(["use1-az2", "use1-az4"])
    error_message = "excluded_zone_ids decides which zones are skipped."
  }
}

# ---- names that stay valid (finding 8) -------------------------------------------------------

run "long_names_give_valid_alb_names" {
  command = apply

  variables {
    dashboard_public_without_login = true
    # "<prefix>-<env>-dash" cut at 32 characters would end in "-" (31 + "-dash").
    name_prefix = "nyc-taxi-123456789012"
    environment = "preprod-1"
  }
}

run "rejects_a_too_long_name_prefix" {
  command = plan

  variables {
    dashboard_public_without_login = true
    name_prefix                    = "nyc-taxi-123456789012-my-team-data-platform"
  }
  expect_failures = [var.name_prefix]
}

run "rejects_an_invalid_name_prefix" {
  command = plan

  variables {
    dashboard_public_without_login = true
    name_prefix                    = "NYC_Taxi"
  }
  expect_failures = [var.name_prefix]
}

run "rejects_a_reserved_word_in_the_name_prefix" {
  command = plan

  variables {
    dashboard_public_without_login = true
    name_prefix                    = "aws-taxi-123456789012"
  }
  expect_failures = [var.name_prefix]
}
