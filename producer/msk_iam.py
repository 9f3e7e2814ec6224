"""Amazon MSK IAM authentication for librdkafka clients (producer and topic tool).

MSK's IAM listener takes SASL/OAUTHBEARER tokens that are SigV4-presigned requests, signed with
the caller's AWS credentials (the ECS task role on AWS). aws-msk-iam-sasl-signer-python signs
them locally; librdkafka calls ``oauth_cb`` again before each token expires.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_msk_iam_sasl_signer import (  # type: ignore[import-untyped,import-not-found,unused-ignore]
    MSKAuthTokenProvider,
)


def oauth_cb(region: str) -> Callable[[str], tuple[str, float]]:
    """librdkafka's token callback: (token, expiry as epoch seconds)."""

    def token(_oauthbearer_config: str) -> tuple[str, float]:
        value, expiry_ms = MSKAuthTokenProvider.generate_auth_token(region)
        return str(value), int(expiry_ms) / 1000

    return token


def iam_config(region: str) -> dict[str, Any]:
    """librdkafka properties for MSK's IAM listener (port 9098, TLS)."""
    return {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "OAUTHBEARER",
        "oauth_cb": oauth_cb(region),
    }
