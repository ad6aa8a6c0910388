"""Every AWS call judged by the caller's role before it leaves, through botocore's own events: a call
its policy does not allow is answered as AWS answers it (AccessDenied, not retried), without reaching
the local endpoint; an S3 multi-object delete reports the keys it may not delete among its `Errors`,
as S3 does; a GetObject or HeadObject of a missing key by a role that may not list the bucket is
answered 403 AccessDenied, not 404, as S3 answers it. A presigned URL the role may not use fails when it
is signed (on AWS the URL would be refused when fetched); the local endpoint checks the URL itself as S3
does (its signature and expiry: local.serve.presigned_urls), not the signer's policy.

Who the caller is: a function worker's whole process acts as its function's role (`act_as_process`),
a client can be bound to a role (`guard_client`, the state machine's task clients), and in-process
tests act as a role for a block (`acting_as`). A call made as no role (the tests' and the operator's
own set-up) is not judged."""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from botocore import handlers
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import ClientError

from local.iam.appconfig_lookup import configuration_ids
from local.iam.parameter_keys import ParameterKeys
from local.iam.policy import Policy
from local.iam.requests import (
    Account,
    Authorization,
    ParameterKey,
    authorizations,
    decryptions,
    listing_of_missing_objects,
)

# A directory where a test takes statements away (`revoked`: one name per line, read again whenever it
# changes) and reads what was refused (`denied`: one line per refusal): how it proves, on a running
# stack and without restarting it, that each statement matters.
AUDIT_DIR_ENV = "VIDEOS_API_IAM_AUDIT_DIR"

_CURRENT: contextvars.ContextVar[Role | None] = contextvars.ContextVar("iam_role", default=None)
# Set while the enforcer asks the endpoint what AWS knows itself (a parameter's key): not the caller's call.
_AS_AWS: contextvars.ContextVar[bool] = contextvars.ContextVar("iam_as_aws", default=False)
_PROCESS_ROLE: list[Role] = []
_DENIED = "iam_denied"
_DENIED_PARTS = "iam_denied_parts"
_PARTS_LEFT = "iam_parts_left"
_JUDGED_WHEN_SENT = "iam_judged_when_sent"
_MISSING_IS_DENIED = "iam_missing_is_denied"
# AWS's error code and status for AccessDenied, by service (most answer AccessDeniedException with 400).
_ACCESS_DENIED = {
    "s3": ("AccessDenied", 403),
    "cloudwatch": ("AccessDenied", 403),
    "lambda": ("AccessDeniedException", 403),
    "appconfigdata": ("AccessDeniedException", 403),
    "bedrock-runtime": ("AccessDeniedException", 403),
}


class Revocations:
    """The statements a test has taken away, from an audit directory (see AUDIT_DIR_ENV), and the
    record of what was refused."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._seen: tuple[tuple[int, int], frozenset[str]] = ((-1, -1), frozenset())

    def current(self) -> frozenset[str]:
        if self.directory is None:
            return frozenset()
        path = self.directory / "revoked"
        try:
            stat = path.stat()
        except FileNotFoundError:
            return frozenset()
        version = (stat.st_mtime_ns, stat.st_ino)
        if version != self._seen[0]:
            names = frozenset(line.strip() for line in path.read_text().splitlines() if line.strip())
            self._seen = (version, names)
        return self._seen[1]

    def record(self, message: str) -> None:
        if self.directory is not None:
            with (self.directory / "denied").open("a") as denied:
                denied.write(message + "\n")


@dataclass
class Role:
    """A role as its sessions use it: its policy, the account it lives in, and what tests took away."""

    name: str
    policy: Policy
    account: Account
    revocations: Revocations
    # The KMS key of a SecureString this role reads decrypted (SSM decrypts it with the role's own grant).
    parameter_key: ParameterKey | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.parameter_key is None:
            self.parameter_key = ParameterKeys(self.account)

    @property
    def session_arn(self) -> str:
        role = self.policy.principal.rsplit("/", 1)[-1]
        return f"arn:{self.account.partition}:sts::{self.account.account_id}:assumed-role/{role}/{self.name}"

    def denied(self, service: str, operation: str, params: dict[str, Any]) -> list[Authorization]:
        policy = self.policy.without(self.revocations.current())
        needs = authorizations(service, operation, params, self.account)
        if self.parameter_key is not None:
            token = _AS_AWS.set(True)
            try:
                needs += decryptions(service, operation, params, self.account, self.parameter_key)
                needs = [self._through_alias(need) for need in needs]
            finally:
                _AS_AWS.reset(token)
        return [need for need in needs if not policy.decide(need.action, need.resource, need.context).allowed]

    def _through_alias(self, need: Authorization) -> Authorization:
        """A KMS call naming an alias, as KMS authorizes it: on the key the alias points to."""
        if not (need.action.startswith("kms:") and ":alias/" in need.resource):
            return need
        keys = self.parameter_key
        if not isinstance(keys, ParameterKeys):
            keys = ParameterKeys(self.account)
        return dataclasses.replace(need, resource=keys.alias_target(need.resource))

    def may_list(self, service: str, operation: str, params: dict[str, Any]) -> bool:
        """Whether S3 would tell this role that the object a read names is missing (see
        requests.listing_of_missing_objects); True for a call that is not such a read."""
        need = listing_of_missing_objects(service, operation, params, self.account)
        if need is None:
            return True
        policy = self.policy.without(self.revocations.current())
        return policy.decide(need.action, need.resource, need.context).allowed

    def message(self, denied: Authorization) -> str:
        return (
            f"User: {self.session_arn} is not authorized to perform: {denied.action} on resource: "
            f"{denied.resource} because no identity-based policy allows the {denied.action} action"
        )


def revocations_from_environment() -> Revocations:
    directory = os.environ.get(AUDIT_DIR_ENV)
    return Revocations(Path(directory) if directory else None)


def _service(model: Any) -> str:
    return str(model.service_model.service_name)


def _error(service: str, message: str) -> tuple[AWSResponse, dict[str, Any]]:
    code, status = _ACCESS_DENIED.get(service, ("AccessDeniedException", 400))
    request_id = str(uuid.uuid4())
    parsed = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {
            "RequestId": request_id,
            "HTTPStatusCode": status,
            "HTTPHeaders": {"x-amzn-requestid": request_id},
            "RetryAttempts": 0,
        },
    }
    return AWSResponse("https://iam.local/", status, HTTPHeaders(), None), parsed


class _Guard:
    """botocore handlers judging each call as `role` (or, when None, as the block's or process's role)."""

    def __init__(self, role: Role | None = None) -> None:
        self.role = role

    def _acting(self) -> Role | None:
        if _AS_AWS.get():
            return None
        if self.role is not None:
            return self.role
        return _CURRENT.get() or (_PROCESS_ROLE[0] if _PROCESS_ROLE else None)

    def before_parameter_build(
        self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        role = self._acting()
        if role is None:
            return
        service = _service(model)
        if service == "appconfigdata":
            # Judged on the configuration the call reads, which takes the endpoint it goes to.
            context[_JUDGED_WHEN_SENT] = (role, dict(params))
            return
        denied = role.denied(service, model.name, params)
        if not denied:
            if not role.may_list(service, model.name, params):
                context[_MISSING_IS_DENIED] = True
            return
        message = role.message(denied[0])
        print(f"AccessDenied: {message}", file=sys.stderr, flush=True)
        role.revocations.record(message)
        if all(item.part is not None for item in denied):
            # Per-key authorization: the keys it may delete go ahead, the others come back as Errors.
            refused = {item.part for item in denied}
            params["Delete"]["Objects"] = [o for o in params["Delete"]["Objects"] if o["Key"] not in refused]
            context[_DENIED_PARTS] = sorted(str(part) for part in refused)
            context[_PARTS_LEFT] = bool(params["Delete"]["Objects"])
            return
        if context.get("is_presign_request"):
            raise ClientError(cast(Any, _error(service, message)[1]), model.name)
        context[_DENIED] = (service, message)

    def before_call(
        self, context: dict[str, Any], model: Any, params: dict[str, Any], **_: Any
    ) -> tuple[AWSResponse, dict[str, Any]] | None:
        if _JUDGED_WHEN_SENT in context:
            self._judge_appconfigdata(context, model.name, str(params["url"]))
        if _DENIED in context:
            return _error(*context[_DENIED])
        if _DENIED_PARTS in context and not context[_PARTS_LEFT]:
            return AWSResponse("https://iam.local/", 200, HTTPHeaders(), None), {"Deleted": [], "Errors": []}
        return None

    def _judge_appconfigdata(self, context: dict[str, Any], operation: str, url: str) -> None:
        role, params = context.pop(_JUDGED_WHEN_SENT)
        ids = configuration_ids(url, operation, params)
        if ids is None and operation == "GetLatestConfiguration":
            # A token the endpoint never issued, or used already: it refuses it (BadRequestException)
            # and reads nothing, as AWS answers a token it cannot use.
            return
        if ids is not None:
            params |= {
                "ApplicationId": ids["application_id"],
                "EnvironmentId": ids["environment_id"],
                "ConfigurationProfileId": ids["profile_id"],
            }
        denied = role.denied("appconfigdata", operation, params)
        if denied:
            message = role.message(denied[0])
            print(f"AccessDenied: {message}", file=sys.stderr, flush=True)
            role.revocations.record(message)
            context[_DENIED] = ("appconfigdata", message)

    def after_object_read(
        self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        """A missing key answered as S3 answers a caller that may not list the bucket: 403 AccessDenied
        (a HEAD's answer has no body, so botocore names its error by the status alone)."""
        if not context.get(_MISSING_IS_DENIED) or http_response.status_code != 404:
            return
        http_response.status_code = 403
        head = model.name == "HeadObject"
        parsed["Error"] = (
            {"Code": "403", "Message": "Forbidden"}
            if head
            else {"Code": "AccessDenied", "Message": "Access Denied"}
        )
        parsed.setdefault("ResponseMetadata", {})["HTTPStatusCode"] = 403

    def after_call(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        for key in context.get(_DENIED_PARTS, []):
            parsed.setdefault("Errors", []).append(
                {"Key": key, "Code": "AccessDenied", "Message": "Access Denied"}
            )

    def handlers(self) -> list[tuple[str, Any]]:
        return [
            ("before-parameter-build", self.before_parameter_build),
            ("before-call", self.before_call),
            ("after-call.s3.DeleteObjects", self.after_call),
            ("after-call.s3.GetObject", self.after_object_read),
            ("after-call.s3.HeadObject", self.after_object_read),
        ]


_PROCESS_GUARD = _Guard()


def install() -> None:
    """botocore registers its built-in handlers on every session it creates; ours join them once, and
    then judge the calls of every client made after (as no role, until one is taken)."""
    if not any(handler == _PROCESS_GUARD.before_call for _, handler, *_ in handlers.BUILTIN_HANDLERS):
        handlers.BUILTIN_HANDLERS.extend(_PROCESS_GUARD.handlers())


def act_as_process(role: Role) -> None:
    """Every client this process creates from now on calls AWS as `role` (a function's container)."""
    _PROCESS_ROLE[:] = [role]
    install()


@contextlib.contextmanager
def acting_as(role: Role) -> Iterator[None]:
    """Calls made inside the block (by clients of any session) are judged as `role`."""
    install()
    token = _CURRENT.set(role)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def guard_client(client: Any, role: Role) -> Any:
    """`client`'s calls are judged as `role`, whoever makes them."""
    guard = _Guard(role)
    for event, handler in guard.handlers():
        client.meta.events.register(event, handler)
    return client
