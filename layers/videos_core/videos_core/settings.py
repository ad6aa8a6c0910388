"""The functions' configuration: one typed object read from the environment on first use.

Importing this module reads nothing; `get_settings()` validates everything once per container
and raises `SettingsError` naming each bad or missing variable.
"""

from __future__ import annotations

import os
from decimal import Decimal
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from videos_core.catalog import BaseUrl, Defaults

# Environment variable -> field. Every variable is listed here, so the template and `serve` can
# be checked against one list.
ENVIRONMENT = {
    "VIDEOS_TABLE": "videos_table",
    "KEYS_TABLE": "keys_table",
    "ASSETS_BUCKET": "assets_bucket",
    "STATE_MACHINE_ARN": "state_machine_arn",
    "EVENT_BUS_NAME": "event_bus_name",
    "UPSTREAM_BASE_URL": "upstream_base_url",
    "ROUTES_APPLICATION": "routes_application",
    "ROUTES_ENVIRONMENT": "routes_environment",
    "ROUTES_PROFILE": "routes_profile",
    "ROUTES_MAX_AGE_SECONDS": "routes_max_age_seconds",
    "UPSTREAM_API_KEY_PARAMETER": "upstream_api_key_parameter",
    "UPSTREAM_KEYS_PATH": "upstream_keys_path",
    "UPSTREAM_TIMEOUT_SECONDS": "upstream_timeout_seconds",
    "RETENTION_DAYS": "retention_days",
    "DOWNLOAD_URL_TTL_SECONDS": "download_url_ttl_seconds",
    "POLL_HOLD_SECONDS": "poll_hold_seconds",
    "POLL_INTERVAL_SECONDS": "poll_interval_seconds",
    "BACKOFF_SCALE": "backoff_scale",
    "KEY_CACHE_TTL_SECONDS": "key_cache_ttl_seconds",
    "UPSTREAM_KEY_MAX_AGE_SECONDS": "upstream_key_max_age_seconds",
    "MAX_GENERATION_SECONDS": "max_generation_seconds",
    "MAX_ATTEMPTS_PER_JOB": "max_attempts_per_job",
    "BILL_FAILED_JOBS": "bill_failed_jobs",
    "WEBHOOK_SECRET_PARAMETER": "webhook_secret_parameter",
    "WEBHOOK_DELIVERIES_TABLE": "webhook_deliveries_table",
    "IDEMPOTENCY_TABLE": "idempotency_table",
    "QUOTAS_TABLE": "quotas_table",
    "OUTBOX_TABLE": "outbox_table",
    "RECONCILE_AFTER_SECONDS": "reconcile_after_seconds",
    "MAX_RUNNING_JOBS": "max_running_jobs",
    "DAILY_BUDGET_USD": "daily_budget_usd",
    "WEBHOOK_ENDPOINTS_TABLE": "webhook_endpoints_table",
    "WEBHOOK_SECRETS_KEY": "webhook_secrets_key",
    "MAX_WEBHOOK_ENDPOINTS": "max_webhook_endpoints",
    "ENDPOINT_DELIVERIES_TABLE": "endpoint_deliveries_table",
    "WEBHOOK_DELIVERY_QUEUE_URL": "webhook_delivery_queue_url",
    "WEBHOOK_DEAD_LETTER_QUEUE_URL": "webhook_dead_letter_queue_url",
    "WEBHOOK_RETRY_SCALE": "webhook_retry_scale",
    "ALLOW_LOOPBACK_WEBHOOKS": "allow_loopback_webhooks",
    "ROUTE_HEALTH_TABLE": "route_health_table",
    "ROUTE_BREAKER_FAILURES": "route_breaker_failures",
    "ROUTE_BREAKER_FAILURE_PERCENT": "route_breaker_failure_percent",
    "ROUTE_BREAKER_MINIMUM_ATTEMPTS": "route_breaker_minimum_attempts",
    "ROUTE_BREAKER_WINDOW_SECONDS": "route_breaker_window_seconds",
    "ROUTE_BREAKER_COOLDOWN_SECONDS": "route_breaker_cooldown_seconds",
    "CONTENT_CREDENTIALS": "content_credentials",
    "CONTENT_CREDENTIALS_KEY": "content_credentials_key",
    "CONTENT_CREDENTIALS_CERTIFICATE_PARAMETER": "content_credentials_certificate_parameter",
}
# Secrets are read from SSM, never taken from the environment, where every log of it would show them.
SECRETS_NOT_IN_THE_ENVIRONMENT = {
    "UPSTREAM_API_KEY": "UPSTREAM_API_KEY_PARAMETER",
    "WEBHOOK_SECRET": "WEBHOOK_SECRET_PARAMETER",
}

# Presigned URLs must expire before the credentials that sign them (a Lambda role's last ~1 h+).
MAX_DOWNLOAD_URL_TTL_SECONDS = 3600


class SettingsError(RuntimeError):
    pass


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    videos_table: str = Field(min_length=3)
    keys_table: str = Field(min_length=3)
    assets_bucket: str = Field(min_length=3)
    state_machine_arn: str = Field(pattern=r"^arn:aws[a-z-]*:states:")
    event_bus_name: str = Field(min_length=1)

    # The OpenAI-compatible server of the routes that name none (and of OpenAI's models without routes).
    upstream_base_url: BaseUrl | None = None
    # Where the routes document is deployed (AWS AppConfig: application, environment, configuration
    # profile), and how long a function keeps the copy it read. Without them, the catalog has only
    # OpenAI's models on upstream_base_url.
    routes_application: str | None = None
    routes_environment: str | None = None
    routes_profile: str | None = None
    # AppConfig serves a session no more often than every 15 s.
    routes_max_age_seconds: int = Field(default=60, ge=15, le=3600)
    # The SSM SecureString parameter holding the upstream's key (read there offline too, never
    # handed in through the environment).
    upstream_api_key_parameter: str = Field(pattern=r"^/[A-Za-z0-9_./-]+$")
    # Where the routes' own keys live: the only parameters the functions may read besides the one above.
    upstream_keys_path: str = Field(
        default="/videos-api/upstream-keys/", pattern=r"^/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*/$"
    )
    upstream_timeout_seconds: float = Field(default=20.0, ge=1, le=120)

    retention_days: int = Field(default=7, ge=1, le=3650)
    download_url_ttl_seconds: int = Field(default=900, ge=60, le=MAX_DOWNLOAD_URL_TTL_SECONDS)
    poll_hold_seconds: float = Field(default=25.0, ge=0.5, le=28)
    poll_interval_seconds: float = Field(default=1.0, gt=0, le=10)
    backoff_scale: float = Field(default=1.0, ge=0.01, le=10)
    key_cache_ttl_seconds: float = Field(default=60.0, ge=0, le=3600)
    # How long a secret read from SSM is kept before it is read again: a rotated upstream key (or
    # webhook secret) is in use within this time. At least 1 s: SSM's GetParameter has a throughput quota.
    upstream_key_max_age_seconds: int = Field(default=300, ge=1, le=3600)
    # A job still running this long after creation ends as video_generation_timeout.
    max_generation_seconds: int = Field(default=1800, ge=60, le=86_400)
    # How many of its model's routes a job may try, at create and after (catalog.MAX_ROUTES_PER_MODEL).
    max_attempts_per_job: int = Field(default=3, ge=1, le=5)
    # Whether a failed job adds its estimated cost too (for upstreams that charge failures).
    bill_failed_jobs: bool = False
    # The SSM SecureString parameter holding the webhook receiver's Standard Webhooks secret.
    webhook_secret_parameter: str | None = Field(default=None, pattern=r"^/[A-Za-z0-9_./-]+$")
    webhook_deliveries_table: str | None = None
    idempotency_table: str | None = None
    quotas_table: str | None = None
    outbox_table: str | None = None
    # How old a job must be before the reconciler may end it (longer than a create takes).
    reconcile_after_seconds: int = Field(default=120, ge=1, le=3600)
    # Per owner: jobs running at once, and estimated spend per UTC day.
    max_running_jobs: int = Field(default=50, ge=1, le=100_000)
    daily_budget_usd: Decimal = Field(default=Decimal(1000), ge=Decimal("0.01"))
    # Tenants' webhook endpoints: their table, the KMS key (an alias) their secrets are sealed with,
    # and how many one owner may have.
    webhook_endpoints_table: str | None = None
    webhook_secrets_key: str | None = Field(default=None, pattern=r"^alias/[A-Za-z0-9/_-]+$")
    max_webhook_endpoints: int = Field(default=10, ge=1, le=100)
    endpoint_deliveries_table: str | None = None
    webhook_delivery_queue_url: str | None = None
    webhook_dead_letter_queue_url: str | None = None
    # Scales the deliveries' waits: each retry's, the 72 h they are tried, the 3 days an endpoint may fail
    # before it is disabled (tests shorten them).
    webhook_retry_scale: float = Field(default=1.0, ge=0.00001, le=1)
    # Offline only (`serve --allow-loopback-webhooks`): http to this machine may receive webhooks.
    allow_loopback_webhooks: bool = False
    # The routes' breakers (logic.breaker): a route opens for the cool-down after this many failures
    # in a row, or when this share of at least the minimum attempts in its window failed.
    route_health_table: str | None = None
    route_breaker_failures: int = Field(default=5, ge=1, le=1000)
    route_breaker_failure_percent: int = Field(default=50, ge=1, le=100)
    route_breaker_minimum_attempts: int = Field(default=10, ge=1, le=100_000)
    route_breaker_window_seconds: int = Field(default=300, ge=10, le=86_400)
    route_breaker_cooldown_seconds: int = Field(default=60, ge=1, le=3600)
    # The finalisers sign each stored file's C2PA manifest (sign) with the KMS key named here (its ARN),
    # under the certificate chain held in the SSM parameter named here; off stores the files unsigned.
    content_credentials: Literal["sign", "off"] = "sign"
    content_credentials_key: str | None = Field(
        default=None, pattern=r"^(arn:[a-z-]+:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+)?$"
    )
    content_credentials_certificate_parameter: str = Field(
        default="/videos-api/content-credentials/certificate-chain", pattern=r"^/[A-Za-z0-9_./-]+$"
    )

    @model_validator(mode="after")
    def _routes_located(self) -> Settings:
        located = (self.routes_application, self.routes_environment, self.routes_profile)
        if any(located) and not all(located):
            raise ValueError("ROUTES_APPLICATION, ROUTES_ENVIRONMENT and ROUTES_PROFILE go together")
        return self

    @property
    def catalog_defaults(self) -> Defaults:
        """What the routes leave out."""
        return Defaults(self.upstream_base_url, self.upstream_api_key_parameter, self.upstream_keys_path)

    @property
    def retention_seconds(self) -> int:
        return self.retention_days * 86_400


def load_settings(environ: dict[str, str] | os._Environ[str]) -> Settings:
    for secret, parameter in SECRETS_NOT_IN_THE_ENVIRONMENT.items():
        if environ.get(secret):
            raise SettingsError(
                f"{secret} is set: secrets are read from SSM; name the parameter in {parameter}"
            )
    raw: dict[str, Any] = {}
    for variable, name in ENVIRONMENT.items():
        value = environ.get(variable)
        if value is None or value == "":
            continue
        raw[name] = value
    try:
        return Settings.model_validate(raw)
    except ValidationError as e:
        fields = {name: variable for variable, name in ENVIRONMENT.items()}
        problems = "; ".join(
            f"{fields.get(str(err['loc'][0]), err['loc'][0]) if err['loc'] else 'settings'}: {err['msg']}"
            for err in e.errors()
        )
        raise SettingsError(f"invalid configuration: {problems}") from e


@cache
def get_settings() -> Settings:
    return load_settings(os.environ)
