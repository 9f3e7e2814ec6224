data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  serverless = var.mode == "serverless"

  cluster_arn  = local.serverless ? aws_msk_serverless_cluster.this[0].arn : aws_msk_cluster.this[0].arn
  cluster_uuid = local.serverless ? aws_msk_serverless_cluster.this[0].cluster_uuid : aws_msk_cluster.this[0].cluster_uuid
  bootstrap    = local.serverless ? aws_msk_serverless_cluster.this[0].bootstrap_brokers_sasl_iam : aws_msk_cluster.this[0].bootstrap_brokers_sasl_iam

  # IAM resource ARNs of topics and groups: arn:...:topic/<cluster name>/<cluster uuid>/<topic>.
  arn_base   = "arn:${data.aws_partition.current.partition}:kafka:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
  topic_arns = [for t in var.topics : "${local.arn_base}:topic/${var.name}/${local.cluster_uuid}/${t}"]
  group_arns = [for g in var.consumer_group_prefixes : "${local.arn_base}:group/${var.name}/${local.cluster_uuid}/${g}*"]

  iam_port = 9098 # SASL/IAM over TLS, the only listener clients may use
}

# ---- security groups -------------------------------------------------------------------------

resource "aws_security_group" "cluster" {
  name        = "${var.name}-msk"
  description = "MSK brokers: SASL/IAM over TLS from the client group only."
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-msk" })
}

# Clients (stream job, producer, topic task) attach this group; the brokers admit only it.
resource "aws_security_group" "client" {
  #checkov:skip=CKV2_AWS_5:Attached by the caller: the module outputs this group's id and the stream/producer modules attach it (checkov cannot follow it across modules).
  name        = "${var.name}-msk-client"
  description = "Attach to reach the MSK cluster's IAM listener."
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-msk-client" })
}

resource "aws_vpc_security_group_ingress_rule" "cluster_from_clients" {
  security_group_id            = aws_security_group.cluster.id
  description                  = "Kafka SASL/IAM from MSK clients"
  referenced_security_group_id = aws_security_group.client.id
  ip_protocol                  = "tcp"
  from_port                    = local.iam_port
  to_port                      = local.iam_port
}

resource "aws_vpc_security_group_egress_rule" "client_to_cluster" {
  security_group_id            = aws_security_group.client.id
  description                  = "Kafka SASL/IAM to the MSK brokers"
  referenced_security_group_id = aws_security_group.cluster.id
  ip_protocol                  = "tcp"
  from_port                    = local.iam_port
  to_port                      = local.iam_port
}

# ---- MSK Serverless --------------------------------------------------------------------------

resource "aws_msk_serverless_cluster" "this" {
  count = local.serverless ? 1 : 0

  cluster_name = var.name

  vpc_config {
    subnet_ids         = var.subnet_ids
    security_group_ids = [aws_security_group.cluster.id]
  }

  client_authentication {
    sasl {
      iam {
        enabled = true
      }
    }
  }

  tags = var.tags
}

# ---- provisioned MSK -------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "broker" {
  #checkov:skip=CKV_AWS_158:Broker logs carry no record data; CloudWatch's default encryption is enough.
  #checkov:skip=CKV_AWS_338:Broker logs are for operations; two weeks is the useful horizon.
  count = local.serverless ? 0 : 1

  name              = "/msk/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_msk_configuration" "this" {
  count = local.serverless ? 0 : 1

  name           = var.name
  kafka_versions = [var.kafka_version]
  # Topics come from the topic-creation task, never from a typo in a client.
  server_properties = <<-PROPERTIES
    auto.create.topics.enable=false
    default.replication.factor=${min(3, var.broker_count)}
    min.insync.replicas=${min(2, var.broker_count)}
  PROPERTIES
}

resource "aws_msk_cluster" "this" {
  count = local.serverless ? 0 : 1

  cluster_name           = var.name
  kafka_version          = var.kafka_version
  number_of_broker_nodes = var.broker_count

  broker_node_group_info {
    instance_type   = var.broker_instance_type
    client_subnets  = var.subnet_ids
    security_groups = [aws_security_group.cluster.id]
    storage_info {
      ebs_storage_info {
        volume_size = var.broker_volume_gb
      }
    }
    connectivity_info {
      public_access {
        type = "DISABLED"
      }
    }
  }

  configuration_info {
    arn      = aws_msk_configuration.this[0].arn
    revision = aws_msk_configuration.this[0].latest_revision
  }

  client_authentication {
    unauthenticated = false
    sasl {
      iam = true
    }
  }

  encryption_info {
    encryption_at_rest_kms_key_arn = var.kms_key_arn
    encryption_in_transit {
      client_broker = "TLS"
      in_cluster    = true
    }
  }

  enhanced_monitoring = "PER_TOPIC_PER_BROKER"

  logging_info {
    broker_logs {
      cloudwatch_logs {
        enabled   = true
        log_group = aws_cloudwatch_log_group.broker[0].name
      }
    }
  }

  tags = var.tags
}

# ---- least-privilege policies for the clients (attached by the modules that run them) -------

data "aws_iam_policy_document" "producer" {
  statement {
    sid       = "Cluster"
    actions   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster", "kafka-cluster:WriteDataIdempotently"]
    resources = [local.cluster_arn]
  }
  statement {
    sid       = "Topics"
    actions   = ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"]
    resources = local.topic_arns
  }
}

data "aws_iam_policy_document" "consumer" {
  statement {
    sid       = "Cluster"
    actions   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"]
    resources = [local.cluster_arn]
  }
  statement {
    sid       = "Topics"
    actions   = ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"]
    resources = local.topic_arns
  }
  statement {
    sid       = "Groups"
    actions   = ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"]
    resources = local.group_arns
  }
}

data "aws_iam_policy_document" "admin" {
  statement {
    sid       = "Cluster"
    actions   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"]
    resources = [local.cluster_arn]
  }
  statement {
    sid = "Topics"
    actions = [
      "kafka-cluster:CreateTopic",
      "kafka-cluster:DescribeTopic",
      "kafka-cluster:DescribeTopicDynamicConfiguration",
      "kafka-cluster:AlterTopicDynamicConfiguration",
    ]
    resources = local.topic_arns
  }
}
