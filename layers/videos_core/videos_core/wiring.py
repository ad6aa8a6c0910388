"""The adapters the functions use, built from settings on first use and cached per container.

Each factory imports its adapter itself, so a function loads only the adapters it uses: a cold
start pays for what the function does, not for what the layer holds.
"""

from __future__ import annotations

import time
from functools import cache
from typing import TYPE_CHECKING

from videos_core import deadline
from videos_core.adapters import aws
from videos_core.settings import SettingsError, get_settings

if TYPE_CHECKING:
    from videos_core.adapters.attempts import DynamoAttempts
    from videos_core.adapters.characters import S3CharacterStore
    from videos_core.adapters.dynamodb import DynamoDeliveryLog, DynamoVideoRepository
    from videos_core.adapters.events import EventBridgePublisher
    from videos_core.adapters.job_ends import DynamoJobEnds
    from videos_core.adapters.jwks import KeySets
    from videos_core.adapters.outbox import DynamoOutbox
    from videos_core.adapters.quotas import DynamoQuotas, Limits
    from videos_core.adapters.routes import DeployedRoutes
    from videos_core.adapters.s3 import S3AssetStore
    from videos_core.adapters.secrets import Secrets
    from videos_core.adapters.stepfunctions import StepFunctionsWorkflow
    from videos_core.adapters.uploads import S3UploadStore
    from videos_core.adapters.upstream_router import RoutedUpstream
    from videos_core.auth import OwnerResolver
    from videos_core.catalog import Catalog, Entry
    from videos_core.content_credentials import ContentCredentials
    from videos_core.logic.breaker import Breakers
    from videos_core.logic.create import Launcher
    from videos_core.logic.deliveries import Deliverer
    from videos_core.logic.ending import Ender
    from videos_core.logic.webhook_endpoints import Endpoints
    from videos_core.logic.workflow import Finisher


@cache
def videos() -> DynamoVideoRepository:
    from videos_core.adapters.dynamodb import DynamoVideoRepository

    return DynamoVideoRepository(aws.dynamodb(), get_settings().videos_table)


@cache
def owners() -> OwnerResolver:
    from videos_core.adapters.dynamodb import DynamoKeyStore
    from videos_core.auth import OwnerResolver

    settings = get_settings()
    return OwnerResolver(DynamoKeyStore(aws.dynamodb(), settings.keys_table), settings.key_cache_ttl_seconds)


@cache
def assets() -> S3AssetStore:
    from videos_core.adapters.s3 import S3AssetStore

    return S3AssetStore(aws.s3(), get_settings().assets_bucket)


@cache
def characters() -> S3CharacterStore:
    from videos_core.adapters.characters import S3CharacterStore

    return S3CharacterStore(aws.s3(), get_settings().assets_bucket)


@cache
def uploads() -> S3UploadStore:
    from videos_core.adapters.uploads import S3UploadStore

    return S3UploadStore(aws.s3(), get_settings().assets_bucket)


@cache
def workflow() -> StepFunctionsWorkflow:
    from videos_core.adapters.stepfunctions import StepFunctionsWorkflow

    settings = get_settings()
    return StepFunctionsWorkflow(
        aws.stepfunctions(), settings.state_machine_arn, settings.bill_failed_jobs, settings.retention_seconds
    )


@cache
def routes() -> DeployedRoutes:
    """The routes document as deployed (AppConfig), or none where the settings locate none."""
    from videos_core.adapters.routes import DeployedRoutes, appconfig

    settings = get_settings()
    defaults = settings.catalog_defaults
    application, environment, profile = (
        settings.routes_application,
        settings.routes_environment,
        settings.routes_profile,
    )
    if application is None or environment is None or profile is None:
        return DeployedRoutes(lambda: b"{}", defaults)
    read = appconfig(aws.appconfigdata(), application, environment, profile, settings.routes_max_age_seconds)
    return DeployedRoutes(read, defaults)


def catalog() -> Catalog:
    """The catalog as deployed now (read again once its copy is older than the routes' max age)."""
    return routes().catalog()


@cache
def secrets() -> Secrets:
    """The SSM SecureString parameters this container reads, each kept for UPSTREAM_KEY_MAX_AGE_SECONDS."""
    from videos_core.adapters.secrets import Secrets

    return Secrets(aws.ssm(), get_settings().upstream_key_max_age_seconds)


def upstream_api_key(parameter: str) -> str:
    """A route's upstream key, by its SSM parameter: read again once it is older than its max age, so
    a rotated key reaches warm containers too."""
    return secrets().read(parameter)


def webhook_secret() -> str:
    """The webhook signing secret, kept as the upstream keys are: a rotated secret is in use within the
    same max age instead of failing every delivery's signature until the containers are replaced."""
    return secrets().read(_needs(get_settings().webhook_secret_parameter, "WEBHOOK_SECRET_PARAMETER"))


def _needs(value: str | None, variable: str) -> str:
    if value is None:
        raise SettingsError(f"this function needs {variable}")
    return value


@cache
def quotas() -> DynamoQuotas:
    from videos_core.adapters.quotas import DynamoQuotas

    settings = get_settings()
    return DynamoQuotas(aws.dynamodb(), _needs(settings.quotas_table, "QUOTAS_TABLE"), limits())


def limits() -> Limits:
    from videos_core.adapters.quotas import Limits

    settings = get_settings()
    return Limits(settings.max_running_jobs, settings.daily_budget_usd)


@cache
def outbox() -> DynamoOutbox:
    from videos_core.adapters.outbox import DynamoOutbox

    return DynamoOutbox(aws.dynamodb(), _needs(get_settings().outbox_table, "OUTBOX_TABLE"))


@cache
def job_ends() -> DynamoJobEnds:
    from videos_core.adapters.job_ends import DynamoJobEnds
    from videos_core.adapters.quotas import QuotaItems

    settings = get_settings()
    quota_items = QuotaItems(_needs(settings.quotas_table, "QUOTAS_TABLE"))
    return DynamoJobEnds(aws.dynamodb(), settings.videos_table, quota_items, outbox())


def ender(holder: str) -> Ender:
    """What ending a job needs, for the invocation named `holder`."""
    from videos_core.logic.ending import Ender

    settings = get_settings()
    return Ender(job_ends(), outbox(), events(), settings.assets_bucket, holder, settings.bill_failed_jobs)


def bounded_upstream() -> RoutedUpstream:
    """The upstream for one attempt per call, over in time for what this invocation does after it
    (store and start a job, or give back what it took)."""
    return upstream(1).until(time.monotonic() + deadline.upstream_seconds())


def callback_url(domain: str | None, entry: Entry, video_id: str) -> str | None:
    """A job's callback URL on the API's `domain`, for a route whose provider calls back."""
    from videos_core.callbacks import callback_url as url
    from videos_core.providers import provider

    if domain is None or provider(entry.provider).callbacks is None:
        return None
    return url(domain, entry.provider, webhook_secret(), video_id)


def launcher(holder: str, domain: str | None = None) -> Launcher:
    """Starting a job in the invocation named `holder`, answering a request to `domain`."""
    from videos_core.logic.create import Launcher

    return Launcher(
        get_settings(),
        catalog(),
        bounded_upstream(),
        videos(),
        workflow(),
        quotas(),
        uploads(),
        characters(),
        ender(holder),
        domain,
        callback_url,
        breakers(),
    )


def finisher(
    holder: str, time_left: float, upstream_attempts: int = 1, upstream_time_left: float | None = None
) -> Finisher:
    """The workflow's steps make one upstream attempt each and leave retries to the state machine.
    Every lease of the invocation named `holder` ends within `time_left`, and its upstream calls
    within `upstream_time_left` (a webhook answers its sender sooner than it may run)."""
    from videos_core.logic.workflow import Finisher

    now = time.monotonic()
    upstream_limit = now + (time_left if upstream_time_left is None else upstream_time_left)
    client = upstream(upstream_attempts).until(upstream_limit)
    return Finisher(
        get_settings(),
        catalog,
        videos(),
        client,
        assets(),
        ender(holder),
        attempts(),
        callback_url,
        now + time_left,
        breakers(),
        content_credentials,
    )


@cache
def content_credentials() -> ContentCredentials | None:
    """What signs the stored files' C2PA manifests: the KMS key, and the certificate chain read from SSM
    as the secrets are (a renewed certificate is in use within their max age). None when signing is off."""
    from videos_core.adapters.kms_signer import KmsSigner
    from videos_core.content_credentials import ContentCredentials

    settings = get_settings()
    if settings.content_credentials == "off":
        return None
    signer = KmsSigner(aws.kms(), _needs(settings.content_credentials_key, "CONTENT_CREDENTIALS_KEY"))
    parameter = settings.content_credentials_certificate_parameter
    return ContentCredentials(signer.sign, lambda: secrets().read(parameter))


@cache
def breakers() -> Breakers | None:
    """The routes' breakers (None where the stack has no table for them)."""
    from videos_core.adapters.route_health import DynamoRouteHealth
    from videos_core.logic.breaker import BreakerRules, Breakers

    settings = get_settings()
    if settings.route_health_table is None:
        return None
    return Breakers(DynamoRouteHealth(aws.dynamodb(), settings.route_health_table), BreakerRules.of(settings))


@cache
def attempts() -> DynamoAttempts:
    from videos_core.adapters.attempts import DynamoAttempts
    from videos_core.adapters.quotas import QuotaItems

    settings = get_settings()
    quota_items = QuotaItems(_needs(settings.quotas_table, "QUOTAS_TABLE"))
    return DynamoAttempts(aws.dynamodb(), settings.videos_table, quota_items, limits())


@cache
def signing_keys() -> KeySets:
    """The providers' webhook signing keys, kept per container (read as the route where a provider
    gives its signing secret to its account's key alone)."""
    from videos_core.adapters.jwks import KeySets

    return KeySets(lambda entry: upstream().via(entry.route).auth_headers(entry.model))


@cache
def deliveries() -> DynamoDeliveryLog:
    from videos_core.adapters.dynamodb import DynamoDeliveryLog

    table = _needs(get_settings().webhook_deliveries_table, "WEBHOOK_DELIVERIES_TABLE")
    return DynamoDeliveryLog(aws.dynamodb(), table)


_UPSTREAMS: dict[int, RoutedUpstream] = {}


def upstream(attempts: int = 3) -> RoutedUpstream:
    """The upstreams of every route; the workflow's tasks make one attempt and leave retries to the
    state machine. Only functions that call an upstream pay for its adapter (the openai SDK above all)."""
    from videos_core.adapters.upstream_router import RoutedUpstream

    made = _UPSTREAMS.get(attempts)
    if made is None:
        made = RoutedUpstream(get_settings(), catalog, upstream_api_key, attempts=attempts)
        _UPSTREAMS[attempts] = made
    return made


@cache
def events() -> EventBridgePublisher:
    from videos_core.adapters.events import EventBridgePublisher

    return EventBridgePublisher(aws.events(), get_settings().event_bus_name)


@cache
def endpoints() -> Endpoints:
    """Tenants' webhook endpoints: their store, the key their secrets are sealed with, the stack's rules."""
    from videos_core.adapters.kms import KmsSecretBox
    from videos_core.adapters.webhook_endpoints import DynamoEndpointStore
    from videos_core.logic.webhook_endpoints import Endpoints

    settings = get_settings()
    return Endpoints(
        store=DynamoEndpointStore(
            aws.dynamodb(), _needs(settings.webhook_endpoints_table, "WEBHOOK_ENDPOINTS_TABLE")
        ),
        box=KmsSecretBox(aws.kms(), _needs(settings.webhook_secrets_key, "WEBHOOK_SECRETS_KEY")),
        limit=settings.max_webhook_endpoints,
        allow_loopback=settings.allow_loopback_webhooks,
    )


@cache
def deliverer() -> Deliverer:
    """Deliveries to the endpoints: the endpoints' store and key, the deliveries' log, the endpoints'
    health, the safe POST, and the scale of the retries' waits."""
    from functools import partial

    from videos_core.adapters import webhook_http
    from videos_core.adapters.endpoint_deliveries import DynamoEndpointDeliveryLog, DynamoEndpointHealth
    from videos_core.logic.deliveries import Deliverer

    settings = get_settings()
    managed = endpoints()
    return Deliverer(
        store=managed.store,
        box=managed.box,
        log=DynamoEndpointDeliveryLog(
            aws.dynamodb(), _needs(settings.endpoint_deliveries_table, "ENDPOINT_DELIVERIES_TABLE")
        ),
        health=DynamoEndpointHealth(
            aws.dynamodb(), _needs(settings.webhook_endpoints_table, "WEBHOOK_ENDPOINTS_TABLE")
        ),
        post=partial(webhook_http.post, allow_loopback=managed.allow_loopback),
        scale=settings.webhook_retry_scale,
    )


def reset(*, aws_clients: bool = True) -> None:
    """Forget every cached adapter, client and the settings (tests change the environment). Tests whose
    every case sets the same AWS environment keep its clients (`aws_clients=False`): one costs ~20 ms."""
    for factory in (
        videos,
        owners,
        assets,
        uploads,
        workflow,
        routes,
        events,
        secrets,
        signing_keys,
        deliveries,
        quotas,
        outbox,
        job_ends,
        endpoints,
        deliverer,
        content_credentials,
    ):
        factory.cache_clear()
    for made in _UPSTREAMS.values():
        made.close()
    _UPSTREAMS.clear()
    get_settings.cache_clear()
    if aws_clients:
        aws.reset_clients()
