"""Veo on Vertex AI, as its API reference has it (and the google-genai SDK sends it with
`vertexai=True`), under `/vertex`, with the OAuth token endpoint a service account's key names.

Token: `POST /vertex/token` (form) `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` and
`assertion`, a JWT as google-auth signs one: RS256 with a `kid`, claiming `iss` (a service account,
`…@{project}.iam.gserviceaccount.com`), a `scope` with cloud-platform, Google's token endpoint as `aud`
and at most an hour between `iat` and `exp`. The answer is `{access_token, expires_in: 3599,
token_type: "Bearer"}`; a refusal is OAuth's `{"error": "invalid_grant", "error_description"}`. An
assertion is verified against the public key its `kid` names when the account's key was uploaded
(`POST /vertex/iam/v1/projects/{project}/serviceAccounts/{email}/keys:upload {publicKeyData}`, a
base64 PEM X.509 certificate, as IAM takes one; the key's id is its certificate's SHA-1); one by a key
the engine was not given is taken on its structure, claims and audience, as the other dialects take
any key, unless the engine was started with a key.

Vertex AI: `POST /vertex/{v1|v1beta1}/projects/{project}/locations/{location}/publishers/google/models/
{model}:predictLongRunning` with `Authorization: Bearer <a token of the project's service account>`
(none or an unknown one is a 401, another project's a 403) starts an operation from `instances[0]`
(`prompt`; `image {bytesBase64Encoded, mimeType}`, image/jpeg or image/png) and `parameters`
(`durationSeconds` 4, 6 or 8, default 8; `aspectRatio` 16:9 or 9:16; `resolution` 720p or 1080p;
`generateAudio`; `sampleCount`; `negativePrompt`; `personGeneration`) and answers `{name}`,
`projects/…/publishers/google/models/{model}/operations/{id}`. `…:fetchPredictOperation
{operationName}` reads it: `{name}` while it runs, then `done` with `response` (`@type`
GenerateVideoResponse, `raiMediaFilteredCount` 0, `videos: [{bytesBase64Encoded, mimeType}]`: the video
inline, as Vertex AI returns it without a `storageUri`), or `error {code, message}` (`[fail]`), or a
`[moderation]` prompt's `raiMediaFilteredCount` 1 with its reason and no video. The engine reads and
writes no Cloud Storage (a `gcsUri` or `storageUri` is refused) and makes one video an operation.
Errors are Google's `{"error": {"code", "message", "status"}}`. Vertex AI documents no cancel.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from PIL import Image, UnidentifiedImageError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local.engine.dialects import Dialect, google_error, size_of, speaking, start
from local.engine.errors import EngineError
from local.engine.jobs import Job
from local.engine.params import CreateParams
from local.engine.service import Engine

PREFIX = "/vertex"
TOKEN_PATH = PREFIX + "/token"
VERSIONS = ("v1", "v1beta1")
MODELS = (
    "veo-3.1-generate-001",
    "veo-3.1-fast-generate-001",
    "veo-3.0-generate-001",
    "veo-3.0-fast-generate-001",
)
DURATIONS = (4, 6, 8)
RATIOS = ("16:9", "9:16")
RESOLUTIONS = ("720p", "1080p")
IMAGE_TYPES = ("image/jpeg", "image/png")
PERSON_GENERATION = ("allow_adult", "dont_allow", "allow_all")
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
# The audiences Google's token endpoint takes: its own URL, and its earlier ones.
AUDIENCES = (
    "https://oauth2.googleapis.com/token",
    "https://www.googleapis.com/oauth2/v4/token",
    "https://accounts.google.com/o/oauth2/token",
)
TOKEN_SECONDS = 3599
ASSERTION_SECONDS = 3600
CLOCK_SKEW_SECONDS = 300
ACCOUNT_DOMAIN = ".iam.gserviceaccount.com"
# The project of the keys made for routes on the engine (`service_account_key`).
LOCAL_PROJECT = "videos-api-local"
RESPONSE_TYPE = "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse"
_RAI_REASON = (
    "Unable to show generated videos. All videos were filtered out because they violated Vertex AI's "
    "usage guidelines. You will not be charged for blocked videos. Try rephrasing the prompt. If you "
    "think this was an error, send feedback. Support codes: 64151117"
)
_HELP = "See https://developers.google.com/identity/sign-in/web/devconsole-project."
_NO_CREDENTIALS = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, login "
    f"cookie or other valid authentication credential. {_HELP}"
)
_BAD_CREDENTIALS = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
    f"other valid authentication credential. {_HELP}"
)


class _OAuthError(Exception):
    """A refusal of the token endpoint, in OAuth's shape."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error, self.description = error, description


@dataclass(frozen=True)
class _Grant:
    """What an access token stands for."""

    account: str
    project: str
    expires: float


def _bad(message: str) -> EngineError:
    return EngineError(400, message)


class VertexApi:
    def __init__(self, engine: Engine, api_key: str | None) -> None:
        self.engine = engine
        # Started with a key, the engine takes assertions by the keys uploaded to it only.
        self.strict = api_key is not None
        self.public_keys: dict[tuple[str, str], rsa.RSAPublicKey] = {}  # (account, key id) -> key
        self.grants: dict[str, _Grant] = {}  # access token -> what it stands for
        self.operations: dict[str, str] = {}  # operation id -> the engine's job id

    # The token endpoint and IAM

    async def token(self, request: Request) -> Response:
        form = await request.form()
        try:
            if form.get("grant_type") != GRANT_TYPE:
                raise _OAuthError("unsupported_grant_type", f"Invalid grant_type: {form.get('grant_type')}")
            account, project = self._verified(str(form.get("assertion") or ""))
        except _OAuthError as e:
            return JSONResponse({"error": e.error, "error_description": e.description}, 400)
        token = f"ya29.{secrets.token_urlsafe(48)}"
        self.grants[token] = _Grant(account, project, time.time() + TOKEN_SECONDS)
        return JSONResponse({"access_token": token, "expires_in": TOKEN_SECONDS, "token_type": "Bearer"})

    def _verified(self, assertion: str) -> tuple[str, str]:
        """The account and project an assertion is by, once it holds as Google's endpoint holds one."""
        header, claims, signing_input, signature = _jwt(assertion)
        if header.get("alg") != "RS256" or not isinstance(header.get("kid"), str):
            raise _OAuthError("invalid_grant", "Invalid JWT: the header must name alg RS256 and a kid.")
        account = claims.get("iss")
        if not isinstance(account, str) or not account.endswith(ACCOUNT_DOMAIN) or "@" not in account:
            raise _OAuthError("invalid_grant", "Invalid grant: account not found")
        if claims.get("aud") not in AUDIENCES:
            raise _OAuthError(
                "invalid_grant", f"Invalid JWT: Failed audience check. The right audience is {AUDIENCES[0]}"
            )
        if SCOPE not in str(claims.get("scope", "")).split():
            raise _OAuthError(
                "invalid_scope", f"Invalid OAuth scope or ID token audience provided: {SCOPE} is needed."
            )
        _check_lifetime(claims)
        self._check_signature(account, header["kid"], signing_input, signature)
        return account, account.partition("@")[2].removesuffix(ACCOUNT_DOMAIN)

    def _check_signature(self, account: str, key_id: str, signing_input: bytes, signature: bytes) -> None:
        key = self.public_keys.get((account, key_id))
        if key is None:
            if self.strict:
                raise _OAuthError("invalid_grant", "Invalid JWT Signature.")
            return
        try:
            key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature as e:
            raise _OAuthError("invalid_grant", "Invalid JWT Signature.") from e

    async def upload_key(self, request: Request) -> Response:
        """A service account's public key, as IAM's `keys.upload` takes one: its X.509 certificate."""
        account = request.path_params["account"]
        try:
            given = json.loads(await request.body() or b"null")
            pem = base64.b64decode(given["publicKeyData"], validate=True)
            certificate = x509.load_pem_x509_certificate(pem)
        except (ValueError, TypeError, KeyError, binascii.Error) as e:
            raise _bad("publicKeyData must be a base64-encoded PEM X.509 certificate.") from e
        key = certificate.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise _bad("The certificate's key must be an RSA key.")
        key_id = certificate.fingerprint(hashes.SHA1()).hex()  # noqa: S303 - the key's id, as IAM's
        self.public_keys[(account, key_id)] = key
        project = request.path_params["project"]
        return JSONResponse(
            {
                "name": f"projects/{project}/serviceAccounts/{account}/keys/{key_id}",
                "validAfterTime": certificate.not_valid_before_utc.isoformat().replace("+00:00", "Z"),
                "validBeforeTime": certificate.not_valid_after_utc.isoformat().replace("+00:00", "Z"),
                "keyAlgorithm": f"KEY_ALG_RSA_{key.key_size}",
                "keyOrigin": "USER_PROVIDED",
                "keyType": "USER_MANAGED",
            }
        )

    # Vertex AI

    def _authorized(self, request: Request) -> str:
        """The model's resource the call is for, once its token is one of the project's; its API
        version checked."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise EngineError(401, _NO_CREDENTIALS)
        grant = self.grants.get(token.strip())
        if grant is None or grant.expires <= time.time():
            raise EngineError(401, _BAD_CREDENTIALS)
        params = request.path_params
        resource = (
            f"projects/{params['project']}/locations/{params['location']}/publishers/google/models/"
            f"{params['model']}"
        )
        if params["project"] != grant.project:
            raise EngineError(
                403,
                f"Permission 'aiplatform.endpoints.predict' denied on resource "
                f"'//aiplatform.googleapis.com/{resource}' (or it may not exist).",
            )
        if params["version"] not in VERSIONS or params["model"] not in MODELS:
            raise EngineError(
                404, f"Publisher Model `{resource}` was not found or your project does not have access to it."
            )
        return resource

    async def predict(self, request: Request) -> Response:
        resource = self._authorized(request)
        body = await _json_body(request)
        instances = body.get("instances")
        if not isinstance(instances, list) or len(instances) != 1 or not isinstance(instances[0], dict):
            raise _bad("instances must hold one instance.")
        reference = _image(instances[0].get("image"))
        prompt = instances[0].get("prompt", "")
        if not isinstance(prompt, str) or not (prompt.strip() or reference):
            raise _bad("instances[0].prompt is required for text-to-video.")
        seconds, size = _parameters(body.get("parameters"))
        job = start(
            self.engine,
            CreateParams(prompt, request.path_params["model"], seconds, size, reference=reference),
        )
        operation_id = str(uuid.UUID(job.id.removeprefix("video_")[:32]))
        self.operations[operation_id] = job.id
        return JSONResponse({"name": f"{resource}/operations/{operation_id}"})

    async def fetch(self, request: Request) -> Response:
        resource = self._authorized(request)
        name = (await _json_body(request)).get("operationName")
        if not isinstance(name, str) or not name.startswith(f"{resource}/operations/"):
            raise _bad(f"operationName must name an operation of {resource}.")
        job_id = self.operations.get(name.removeprefix(f"{resource}/operations/"))
        if job_id is None or job_id not in self.engine.jobs:
            raise EngineError(404, f"Operation {name} not found.")
        return JSONResponse(self._view(self.engine.read_status(job_id), name))

    def _view(self, job: Job, name: str) -> dict[str, Any]:
        status, _ = job.live_status()
        if status not in ("completed", "failed"):
            return {"name": name}
        if status == "completed":
            path, media_type = self.engine.asset(job.id, "video")
            video = {
                "bytesBase64Encoded": base64.b64encode(path.read_bytes()).decode(),
                "mimeType": media_type,
            }
            response = {"@type": RESPONSE_TYPE, "raiMediaFilteredCount": 0, "videos": [video]}
            return {"name": name, "done": True, "response": response}
        error = job.error or {}
        if error.get("code") == "moderation_blocked":
            filtered = {
                "@type": RESPONSE_TYPE,
                "raiMediaFilteredCount": 1,
                "raiMediaFilteredReasons": [_RAI_REASON],
            }
            return {"name": name, "done": True, "response": filtered}
        failure = {"code": 13, "message": error.get("message") or "Video generation failed."}
        return {"name": name, "done": True, "error": failure}

    def routes(self) -> list[Route]:
        model = PREFIX + "/{version}/projects/{project}/locations/{location}/publishers/google/models/{model}"
        keys = PREFIX + "/iam/v1/projects/{project}/serviceAccounts/{account}/keys:upload"
        return [
            Route(TOKEN_PATH, self.token, methods=["POST"]),
            Route(keys, speaking(google_error, self.upload_key), methods=["POST"]),
            Route(model + ":predictLongRunning", speaking(google_error, self.predict), methods=["POST"]),
            Route(model + ":fetchPredictOperation", speaking(google_error, self.fetch), methods=["POST"]),
        ]


def _jwt(assertion: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """A JWT's header, claims, signed part and signature."""
    try:
        header, claims, signature = assertion.split(".")
        parts = [
            base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)) for part in (header, claims, signature)
        ]
        decoded = json.loads(parts[0]), json.loads(parts[1])
    except (ValueError, binascii.Error) as e:
        raise _OAuthError("invalid_grant", "Invalid JWT: the assertion is not a signed JWT.") from e
    if not all(isinstance(part, dict) for part in decoded) or not parts[2]:
        raise _OAuthError("invalid_grant", "Invalid JWT: the assertion is not a signed JWT.")
    return decoded[0], decoded[1], f"{header}.{claims}".encode(), parts[2]


def _check_lifetime(claims: dict[str, Any]) -> None:
    """A short-lived assertion, issued now: at most an hour between `iat` and `exp`, not yet expired."""
    issued, expires, now = claims.get("iat"), claims.get("exp"), time.time()
    if (
        not isinstance(issued, int)
        or not isinstance(expires, int)
        or not 0 < expires - issued <= ASSERTION_SECONDS
        or issued > now + CLOCK_SKEW_SECONDS
        or expires < now - CLOCK_SKEW_SECONDS
    ):
        raise _OAuthError(
            "invalid_grant",
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
            "Check your iat and exp values in the JWT claim.",
        )


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise _bad("Invalid JSON payload received.") from e
    if not isinstance(body, dict):
        raise _bad("Invalid JSON payload received: the body must be an object.")
    return body


def _parameters(parameters: Any) -> tuple[str, str]:
    """The length and picture size `parameters` ask for, each checked as Veo checks it."""
    parameters = {} if parameters is None else parameters
    if not isinstance(parameters, dict):
        raise _bad("parameters must be an object.")
    if "storageUri" in parameters:
        raise _bad("storageUri: the engine writes no Cloud Storage; leave it out to have the video inline.")
    duration = parameters.get("durationSeconds", DURATIONS[-1])
    if isinstance(duration, bool) or not isinstance(duration, int) or duration not in DURATIONS:
        raise _bad(f"Unsupported durationSeconds: {duration}. Supported: {', '.join(map(str, DURATIONS))}.")
    aspect_ratio = _choice(parameters, "aspectRatio", RATIOS)
    resolution = _choice(parameters, "resolution", RESOLUTIONS)
    _choice(parameters, "personGeneration", PERSON_GENERATION)
    if not isinstance(parameters.get("generateAudio", True), bool):
        raise _bad("generateAudio must be a boolean.")
    if not isinstance(parameters.get("negativePrompt", ""), str):
        raise _bad("negativePrompt must be a string.")
    if parameters.get("sampleCount", 1) != 1:
        raise _bad("sampleCount: the engine makes one video an operation; ask for 1.")
    return str(duration), size_of(aspect_ratio, resolution)


def _choice(parameters: dict[str, Any], name: str, allowed: tuple[str, ...]) -> str:
    value = parameters.get(name, allowed[0])
    if value not in allowed:
        raise _bad(f"Unsupported {name}: {value}. Supported: {', '.join(allowed)}.")
    return str(value)


def _image(image: Any) -> bytes | None:
    """`image {bytesBase64Encoded, mimeType}`: a JPEG or PNG picture."""
    if image is None:
        return None
    if not isinstance(image, dict):
        raise _bad("instances[0].image must be an object.")
    if "gcsUri" in image:
        raise _bad("instances[0].image.gcsUri: the engine reads no Cloud Storage; give bytesBase64Encoded.")
    if image.get("mimeType") not in IMAGE_TYPES:
        raise _bad(f"instances[0].image.mimeType must be one of {', '.join(IMAGE_TYPES)}.")
    try:
        content = base64.b64decode(image.get("bytesBase64Encoded") or "", validate=True)
        with Image.open(io.BytesIO(content)) as picture:
            picture.verify()
    except (binascii.Error, ValueError, TypeError, UnidentifiedImageError) as e:
        raise _bad("instances[0].image.bytesBase64Encoded is not a base64-encoded image.") from e
    return content


def service_account_key(given: str, engine_url: str) -> str:
    """The key a route to the engine keeps: a service account's JSON key given as such, or a new one
    whose token endpoint is the engine's."""
    try:
        parsed = json.loads(given)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("type") == "service_account":
        return given
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    account = f"videos-api@{LOCAL_PROJECT}{ACCOUNT_DOMAIN}"
    return json.dumps(
        {
            "type": "service_account",
            "project_id": LOCAL_PROJECT,
            "private_key_id": secrets.token_hex(20),
            "private_key": pem.decode(),
            "client_email": account,
            "client_id": str(secrets.randbelow(10**21)),
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": engine_url + TOKEN_PATH,
            "universe_domain": "googleapis.com",
        }
    )


DIALECT = Dialect(
    "vertex",
    PREFIX,
    lambda engine, api_key: VertexApi(engine, api_key).routes(),
    example_model="veo-3.1-generate-001",
    errors=google_error,
    route_secret=service_account_key,
)
