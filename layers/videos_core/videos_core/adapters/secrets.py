"""Secrets read from SSM Parameter Store (SecureString), the way the functions get them on AWS."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from videos_core.errors import ServiceUnavailable

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient


def read_secret(client: SSMClient, name: str) -> str:
    """The parameter's decrypted value; ServiceUnavailable while it is missing (an operator stores
    the webhook secret after deploying, once the upstream issued it) or cannot be read."""
    try:
        return client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") == "ParameterNotFound":
            raise ServiceUnavailable(f"The secret {name} is not stored yet.", retry_after=60) from e
        raise ServiceUnavailable(f"The secret {name} could not be read.", retry_after=5) from e
    except BotoCoreError as e:
        raise ServiceUnavailable(f"The secret {name} could not be read.", retry_after=5) from e
