# Who may use the platform: one Cognito user pool. The HTTP API accepts its tokens (JWT
# authorizer); the dashboard's ALB logs users in through it when it has a domain and a
# certificate; the dashboard's server calls the API with a machine-to-machine client.

data "aws_caller_identity" "current" {}

locals {
  cognito_issuer  = "https://cognito-idp.${var.region}.amazonaws.com/${aws_cognito_user_pool.this.id}"
  dashboard_login = var.dashboard_certificate_arn != null && var.dashboard_domain_name != null
  # Access tokens carry client_id instead of aud; API Gateway checks either against this list.
  api_audience = concat(
    [aws_cognito_user_pool_client.api.id],
    var.api_jwt_auth ? [aws_cognito_user_pool_client.dashboard_api[0].id] : [],
  )
  dashboard_oauth_env = var.api_jwt_auth ? {
    DASH_OAUTH_TOKEN_URL = "https://${aws_cognito_user_pool_domain.this.domain}.auth.${var.region}.amazoncognito.com/oauth2/token"
    DASH_OAUTH_CLIENT_ID = aws_cognito_user_pool_client.dashboard_api[0].id
    DASH_OAUTH_SCOPE     = "${aws_cognito_resource_server.api.identifier}/read"
  } : {}
}

resource "aws_cognito_user_pool" "this" {
  name                     = local.name
  deletion_protection      = var.force_destroy ? "INACTIVE" : "ACTIVE"
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]
  mfa_configuration        = "OPTIONAL"

  software_token_mfa_configuration {
    enabled = true
  }

  # Users are invited by an admin (aws cognito-idp admin-create-user); nobody signs up alone.
  admin_create_user_config {
    allow_admin_create_user_only = true
  }

  password_policy {
    minimum_length                   = 14
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = true
    temporary_password_validity_days = 3
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }
}

resource "aws_cognito_user_pool_domain" "this" {
  # Hosted UI and token endpoint: <prefix>.auth.<region>.amazoncognito.com (globally unique).
  domain       = "${local.name}-${data.aws_caller_identity.current.account_id}"
  user_pool_id = aws_cognito_user_pool.this.id
}

resource "aws_cognito_resource_server" "api" {
  identifier   = "nyc-taxi-api"
  name         = "NYC taxi API"
  user_pool_id = aws_cognito_user_pool.this.id

  scope {
    scope_name        = "read"
    scope_description = "Read lake metrics through the HTTP API"
  }
}

# People and scripts calling the API (SRP sign-in; no secret: it would not stay secret).
resource "aws_cognito_user_pool_client" "api" {
  name                          = "${local.name}-api"
  user_pool_id                  = aws_cognito_user_pool.this.id
  generate_secret               = false
  explicit_auth_flows           = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  prevent_user_existence_errors = "ENABLED"
  access_token_validity         = 60
  id_token_validity             = 60
  refresh_token_validity        = 7
  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "days"
  }
}

# The dashboard's server: client credentials for the read scope.
resource "aws_cognito_user_pool_client" "dashboard_api" {
  count = var.api_jwt_auth ? 1 : 0

  name                                 = "${local.name}-dashboard-api"
  user_pool_id                         = aws_cognito_user_pool.this.id
  generate_secret                      = true
  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_flows                  = ["client_credentials"]
  allowed_oauth_scopes                 = ["${aws_cognito_resource_server.api.identifier}/read"]
  supported_identity_providers         = ["COGNITO"]
}

resource "aws_secretsmanager_secret" "dashboard_client" {
  #checkov:skip=CKV2_AWS_57:The value is a Cognito client secret that Terraform owns; rotate it by replacing the client (terraform apply -replace).
  #checkov:skip=CKV_AWS_149:The AWS-managed key suffices for one secret read only by the dashboard's execution role.
  count = var.api_jwt_auth ? 1 : 0

  name_prefix             = "${local.name}/dashboard-oauth-"
  description             = "Client secret of the dashboard's machine-to-machine Cognito client."
  recovery_window_in_days = var.force_destroy ? 0 : 7
}

resource "aws_secretsmanager_secret_version" "dashboard_client" {
  count = var.api_jwt_auth ? 1 : 0

  secret_id     = aws_secretsmanager_secret.dashboard_client[0].id
  secret_string = aws_cognito_user_pool_client.dashboard_api[0].client_secret
}

# The ALB's login (authorization code grant) - only with HTTPS and a domain.
resource "aws_cognito_user_pool_client" "dashboard_login" {
  count = local.dashboard_login ? 1 : 0

  name                                 = "${local.name}-dashboard-login"
  user_pool_id                         = aws_cognito_user_pool.this.id
  generate_secret                      = true
  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_flows                  = ["code"]
  allowed_oauth_scopes                 = ["openid", "email"]
  callback_urls                        = ["https://${var.dashboard_domain_name}/oauth2/idpresponse"]
  supported_identity_providers         = ["COGNITO"]
}
