# `terraform test` of the module alone (mocked provider): which zones the subnets get.
# Run: terraform init -backend=false && terraform test (tests/test_terraform_findings.py runs it
# on a copy of the module, so no lock file lands in the repository).

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
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
  # An account whose first zone names are use1-az3 (the us-east-1 zone EMR Serverless does not
  # run in) and use1-az6.
  mock_data "aws_availability_zones" {
    defaults = {
      names    = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"]
      zone_ids = ["use1-az3", "use1-az6", "use1-az1", "use1-az2", "use1-az4", "use1-az5"]
    }
  }
}

variables {
  name = "zones-test"
}

run "subnets_avoid_use1_az3" {
  command = apply

  variables {
    az_count = 3
  }

  assert {
    condition     = tolist(aws_subnet.private[*].availability_zone_id) == tolist(["use1-az1", "use1-az2", "use1-az4"])
    error_message = "Private subnets take the lowest supported zone IDs, never use1-az3."
  }
  assert {
    condition     = aws_subnet.public[*].availability_zone_id == aws_subnet.private[*].availability_zone_id
    error_message = "Public and private subnets share the zones."
  }
  assert {
    condition     = tolist(output.azs) == tolist(["us-east-1c", "us-east-1d", "us-east-1e"])
    error_message = "The names are this account's names of the chosen zone IDs."
  }
}

run "excluded_zone_ids_replace_the_region_table" {
  command = apply

  variables {
    excluded_zone_ids = ["use1-az1", "use1-az2"]
  }

  assert {
    condition     = output.az_ids == tolist(["use1-az3", "use1-az4"])
    error_message = "An explicit exclusion list replaces the built-in one."
  }
}

run "us_west_1_skips_usw1_az2" {
  command = apply

  override_data {
    target = data.aws_region.current
    values = { name = "us-west-1" }
  }
  override_data {
    target = data.aws_availability_zones.available
    values = {
      names    = ["us-west-1a", "us-west-1b", "us-west-1c"]
      zone_ids = ["usw1-az2", "usw1-az3", "usw1-az1"]
    }
  }

  assert {
    condition     = output.az_ids == tolist(["usw1-az1", "usw1-az3"])
    error_message = "EMR Serverless runs in usw1-az1 and usw1-az3 only."
  }
}

run "too_few_supported_zones_fail_with_a_clear_message" {
  command = plan

  override_data {
    target = data.aws_availability_zones.available
    values = {
      names    = ["us-east-1a", "us-east-1b"]
      zone_ids = ["use1-az3", "use1-az1"]
    }
  }
  expect_failures = [data.aws_availability_zones.available]
}
