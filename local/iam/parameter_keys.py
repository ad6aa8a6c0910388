"""The KMS key a SecureString parameter is encrypted with, as SSM knows it when it decrypts the value
for a caller. A GetParameter names only the parameter: the key is asked of the endpoint the caller
reaches (DescribeParameters, and KMS's DescribeKey for an alias), and only for calls that ask for a
decrypted value. The enforcer makes these calls as the service, outside every role."""

from __future__ import annotations

from typing import Any

import boto3

from local.iam.requests import AWS_MANAGED_PARAMETER_KEY, Account


class ParameterKeys:
    def __init__(self, account: Account) -> None:
        self._account = account
        self._clients: dict[str, Any] = {}

    def __call__(self, name: str) -> str | None:
        """The ARN of the key a caller must be granted to decrypt `name` (see requests.ParameterKey)."""
        found = self._client("ssm").describe_parameters(
            ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}]
        )["Parameters"]
        if not found or found[0].get("Type") != "SecureString":
            return None
        return self._key_arn(str(found[0].get("KeyId") or AWS_MANAGED_PARAMETER_KEY))

    def alias_target(self, alias_arn: str) -> str:
        """The ARN of the key an alias points to (what KMS authorizes a call naming the alias on)."""
        return str(self._client("kms").describe_key(KeyId=alias_arn)["KeyMetadata"]["Arn"])

    def _key_arn(self, key_id: str) -> str | None:
        if key_id in (AWS_MANAGED_PARAMETER_KEY, self._account.arn("kms", AWS_MANAGED_PARAMETER_KEY)):
            return None
        if key_id.startswith("arn:") and ":key/" in key_id:
            return key_id
        if not key_id.startswith("alias/") and ":alias/" not in key_id:
            return self._account.arn("kms", f"key/{key_id}")
        # An alias: IAM judges Decrypt on the key it points to.
        return str(self._client("kms").describe_key(KeyId=key_id)["KeyMetadata"]["Arn"])

    def _client(self, service: str) -> Any:
        # Made on first use, in the caller's environment: its endpoint (AWS_ENDPOINT_URL) and credentials.
        if service not in self._clients:
            session = boto3.session.Session()
            self._clients[service] = session.client(service, region_name=self._account.region)  # type: ignore[call-overload]
        return self._clients[service]
