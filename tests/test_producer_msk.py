"""MSK IAM auth of the producer (token signing, librdkafka settings) and the topic tool."""

from __future__ import annotations

import base64
import json
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._config import ConfigResource

from localstack.kafka import KafkaBroker
from producer.config import ProducerSettings
from producer.topics import main as topics_main


def test_token_is_a_presigned_kafka_connect_request(monkeypatch: pytest.MonkeyPatch) -> None:
    from producer.msk_iam import oauth_cb

    # Signing is local (SigV4 over static keys): no AWS call is made.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEY123456")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example-secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    token, expiry = oauth_cb("eu-west-1")("")

    url = urlsplit(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
    query = parse_qs(url.query)
    assert url.hostname == "kafka.eu-west-1.amazonaws.com"
    assert query["Action"] == ["kafka-cluster:Connect"]
    assert query["X-Amz-Credential"][0].startswith("AKIAEXAMPLEKEY123456/")
    assert "/eu-west-1/kafka-cluster/" in query["X-Amz-Credential"][0]
    assert time.time() < expiry < time.time() + 3600


def test_iam_settings_only_when_a_region_is_set() -> None:
    plain = ProducerSettings(bootstrap_servers="b:9092").librdkafka()
    assert "security.protocol" not in plain and "oauth_cb" not in plain

    iam = ProducerSettings(bootstrap_servers="b:9098", msk_iam_region="us-east-1").librdkafka()
    assert iam["bootstrap.servers"] == "b:9098"
    assert iam["security.protocol"] == "SASL_SSL"
    assert iam["sasl.mechanism"] == "OAUTHBEARER"
    assert callable(iam["oauth_cb"])
    assert iam["enable.idempotence"] is True  # the producer's own settings are kept


@pytest.mark.kafka
def test_topic_tool_creates_once_with_partitions_and_retention(
    kafka_broker: KafkaBroker, capsys: pytest.CaptureFixture[str]
) -> None:
    name = f"test-topics-{uuid.uuid4().hex[:8]}"
    args = [name, "--bootstrap", kafka_broker.settings.bootstrap, "--partitions", "3"]
    args += ["--replication-factor", "1", "--retention-ms", "3600000"]

    assert topics_main(args) == 0
    assert json.loads(capsys.readouterr().out)["created"] == {name: True}
    assert topics_main(args) == 0
    assert json.loads(capsys.readouterr().out)["created"] == {name: False}

    admin = AdminClient({"bootstrap.servers": kafka_broker.settings.bootstrap})
    topic = admin.list_topics(name, timeout=10).topics[name]
    assert len(topic.partitions) == 3
    resource = ConfigResource(ConfigResource.Type.TOPIC, name)
    config = admin.describe_configs([resource])[resource].result(10)
    assert config["retention.ms"].value == "3600000"
