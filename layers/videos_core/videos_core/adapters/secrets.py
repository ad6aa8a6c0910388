"""Secrets read from SSM Parameter Store (SecureString), the way the functions get them on AWS.

Powertools' SSMProvider keeps each value `max_age` seconds and then reads it again, so a rotated key
is in use within that time without new containers. It calls SSM through the client it is given (the
layer's own: its timeouts, its deadline, the local endpoint offline and the caller's role judged there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError

from videos_core.errors import ServiceUnavailable
from videos_core.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient


class Secrets:
    def __init__(self, client: SSMClient, max_age_seconds: int) -> None:
        self._provider = SSMProvider(boto3_client=client)
        self._max_age = max_age_seconds

    def read(self, name: str) -> str:
        """The parameter's decrypted value; ServiceUnavailable while it is missing (an operator stores
        the webhook secret after deploying, once the upstream issued it) or cannot be read. The log
        names the parameter for the operator; the client's message names neither it nor its value."""
        try:
            value = self._provider.get(name, max_age=self._max_age, decrypt=True)
        except GetParameterError as e:
            raise _unavailable(name, e.__context__) from e
        return str(value)


def _unavailable(name: str, cause: BaseException | None) -> ServiceUnavailable:
    # Powertools raises GetParameterError inside its handler of the SDK's error, which stays its context.
    if isinstance(cause, ServiceUnavailable):
        return cause  # the invocation's deadline, as every AWS call of the layer answers it
    if isinstance(cause, ClientError) and cause.response.get("Error", {}).get("Code") == "ParameterNotFound":
        logger.error("a secret is not stored", extra={"parameter": name})
        return ServiceUnavailable(
            "A key this service needs for the request is not stored yet; retry later.", retry_after=60
        )
    logger.error("a secret could not be read", extra={"parameter": name, "error": repr(cause)})
    return ServiceUnavailable("A key this service needs for the request could not be read.", retry_after=5)
