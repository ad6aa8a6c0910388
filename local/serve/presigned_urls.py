"""S3's checks of a presigned URL (query-string authentication, Signature Version 4), in front of moto,
which makes none. A request is refused as S3 refuses it, in S3's XML:
- 400 AuthorizationQueryParametersError: one of the six X-Amz- parameters missing or malformed, or
  X-Amz-Expires past a week;
- 403 AccessDenied with HeadersNotSigned: an x-amz- header sent that the URL did not sign;
- 403 SignatureDoesNotMatch, with the canonical request and string to sign S3 computed: the method,
  path, query or a signed header is not what was signed (a signed PUT's Content-Length other than the
  bytes sent), or another secret signed it;
- 403 AccessDenied "Request has expired": X-Amz-Date plus X-Amz-Expires is past.

The signature is computed again as S3 does ("Authenticating Requests: Using Query Parameters (AWS
Signature Version 4)", Amazon S3 API Reference): the canonical request of the request as received, its
path URI-encoded once, its payload `UNSIGNED-PAYLOAD`, signed with the caller's secret as the local
account defines it (local.serve.credentials)."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

from local.serve.credentials import SECRET_KEY
from local.serve.s3_errors import s3_error

ALGORITHM = "AWS4-HMAC-SHA256"
PARAMETERS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
)
MAX_EXPIRES_SECONDS = 604_800
_UNRESERVED = "-_.~"
_SIGNED_AT = "%Y%m%dT%H%M%SZ"
_SHOWN_TIME = "%Y-%m-%dT%H:%M:%SZ"
# Sent by some clients with a presigned request, and not required to be signed (S3 ignores it there).
_NEVER_SIGNED = frozenset({"x-amz-content-sha256"})


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str
    fields: tuple[tuple[str, str], ...] = ()


def _malformed(message: str) -> Refusal:
    return Refusal(400, "AuthorizationQueryParametersError", message)


def _query(raw: str) -> list[tuple[str, str]]:
    pairs = []
    for part in raw.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((unquote(name), unquote(value)))
    return pairs


def _headers(environ: Mapping[str, Any]) -> dict[str, str]:
    found = {
        name[5:].replace("_", "-").lower(): str(value)
        for name, value in environ.items()
        if name.startswith("HTTP_")
    }
    for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(name):
            found[name.replace("_", "-").lower()] = str(environ[name])
    return found


def refusal(environ: Mapping[str, Any], now: float, secret_key: str = SECRET_KEY) -> Refusal | None:
    """Why S3 would refuse this request's presigned URL; None when it would not, or it is not one."""
    pairs = _query(str(environ.get("QUERY_STRING", "")))
    given: dict[str, str] = {}
    for name, value in pairs:
        given.setdefault(name, value)
    if not any(name in given for name in PARAMETERS):
        return None
    scope = given.get("X-Amz-Credential", "").split("/")
    if len(scope) == 5 and scope[3] != "s3":
        return None  # another service's URL: not S3's to judge
    headers = _headers(environ)
    return (
        _malformed_parameters(given, scope)
        or _unsigned_headers(given, headers)
        or _mismatched_signature(environ, pairs, given, headers, secret_key)
        or _expired(given, now)
    )


def _malformed_parameters(given: Mapping[str, str], scope: list[str]) -> Refusal | None:
    if not all(name in given for name in PARAMETERS):
        return _malformed(
            "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
            "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
        )
    if given["X-Amz-Algorithm"] != ALGORITHM:
        return _malformed(f'X-Amz-Algorithm only supports "{ALGORITHM}"')
    if len(scope) != 5 or scope[4] != "aws4_request":
        return _malformed(
            "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; "
            'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
        )
    try:
        datetime.strptime(given["X-Amz-Date"], _SIGNED_AT)
    except ValueError:
        return _malformed("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
    expires = given["X-Amz-Expires"]
    if not expires.isdecimal():
        negative = expires.startswith("-") and expires[1:].isdecimal()
        return _malformed(
            "X-Amz-Expires must be non-negative" if negative else "X-Amz-Expires should be a number"
        )
    if int(expires) > MAX_EXPIRES_SECONDS:
        return _malformed(
            "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires "
            f"must be less than {MAX_EXPIRES_SECONDS} seconds"
        )
    return None


def _signed(given: Mapping[str, str]) -> list[str]:
    return given["X-Amz-SignedHeaders"].lower().split(";")


def _unsigned_headers(given: Mapping[str, str], headers: Mapping[str, str]) -> Refusal | None:
    signed = _signed(given)
    unsigned = sorted(
        name
        for name in headers
        if name.startswith("x-amz-") and name not in signed and name not in _NEVER_SIGNED
    )
    if not unsigned:
        return None
    return Refusal(
        403,
        "AccessDenied",
        "There were headers present in the request which were not signed",
        (("HeadersNotSigned", ", ".join(unsigned)),),
    )


def _mismatched_signature(
    environ: Mapping[str, Any],
    pairs: list[tuple[str, str]],
    given: Mapping[str, str],
    headers: Mapping[str, str],
    secret_key: str,
) -> Refusal | None:
    scope = given["X-Amz-Credential"].split("/")
    canonical = canonical_request(environ, pairs, _signed(given), headers)
    string_to_sign = "\n".join(
        [ALGORITHM, given["X-Amz-Date"], "/".join(scope[1:]), hashlib.sha256(canonical.encode()).hexdigest()]
    )
    if hmac.compare_digest(signature(secret_key, scope[1:], string_to_sign), given["X-Amz-Signature"]):
        return None
    return Refusal(
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
        (
            ("AWSAccessKeyId", scope[0]),
            ("StringToSign", string_to_sign),
            ("SignatureProvided", given["X-Amz-Signature"]),
            ("StringToSignBytes", _bytes(string_to_sign)),
            ("CanonicalRequest", canonical),
            ("CanonicalRequestBytes", _bytes(canonical)),
        ),
    )


def _expired(given: Mapping[str, str], now: float) -> Refusal | None:
    signed_at = datetime.strptime(given["X-Amz-Date"], _SIGNED_AT).replace(tzinfo=UTC)
    expires_at = signed_at + timedelta(seconds=int(given["X-Amz-Expires"]))
    if now <= expires_at.timestamp():
        return None
    return Refusal(
        403,
        "AccessDenied",
        "Request has expired",
        (
            ("X-Amz-Expires", given["X-Amz-Expires"]),
            ("Expires", expires_at.strftime(_SHOWN_TIME)),
            ("ServerTime", datetime.fromtimestamp(now, UTC).strftime(_SHOWN_TIME)),
        ),
    )


def canonical_request(
    environ: Mapping[str, Any],
    query: Iterable[tuple[str, str]],
    signed: list[str],
    headers: Mapping[str, str],
) -> str:
    # WSGI hands the path decoded, its bytes as latin-1 characters: S3 encodes the decoded path once.
    path = (str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", "/"))).encode("latin-1")
    encoded = sorted(
        (quote(name, safe=_UNRESERVED), quote(value, safe=_UNRESERVED))
        for name, value in query
        if name != "X-Amz-Signature"
    )
    return "\n".join(
        [
            str(environ["REQUEST_METHOD"]),
            quote(path, safe="/" + _UNRESERVED),
            "&".join(f"{name}={value}" for name, value in encoded),
            "".join(f"{name}:{' '.join(headers.get(name, '').split())}\n" for name in signed),
            ";".join(signed),
            "UNSIGNED-PAYLOAD",
        ]
    )


def signature(secret_key: str, scope: list[str], string_to_sign: str) -> str:
    """SigV4's signature: the signing key derived from the secret through the scope's date, region,
    service and `aws4_request`, then the string to sign's HMAC under it."""
    key = f"AWS4{secret_key}".encode()
    for part in scope:
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def _bytes(text: str) -> str:
    return text.encode().hex(" ")


class PresignedUrlChecks:
    """The WSGI layer that refuses what S3 would refuse of a presigned request, before moto serves it."""

    def __init__(self, app: Callable[..., Iterable[bytes]], clock: Callable[[], float] = time.time) -> None:
        self.app = app
        self.clock = clock

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        refused = refusal(environ, self.clock())
        if refused is None:
            return self.app(environ, start_response)
        headers, body = s3_error(
            refused.code, refused.message, refused.fields, head=environ["REQUEST_METHOD"] == "HEAD"
        )
        start_response(f"{refused.status} Refused", [*headers, ("Content-Length", str(len(body)))])
        return [body]
