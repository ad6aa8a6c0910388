"""The adapters the functions use, built from settings on first use and cached per container."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from videos_core.adapters import aws
from videos_core.adapters.dynamodb import DynamoKeyStore, DynamoVideoRepository
from videos_core.adapters.s3 import S3AssetStore
from videos_core.adapters.stepfunctions import StepFunctionsWorkflow
from videos_core.auth import OwnerResolver
from videos_core.settings import Settings, get_settings

if TYPE_CHECKING:
    from videos_core.ports import Upstream


@cache
def videos() -> DynamoVideoRepository:
    return DynamoVideoRepository(aws.dynamodb(), get_settings().videos_table)


@cache
def owners() -> OwnerResolver:
    settings = get_settings()
    return OwnerResolver(DynamoKeyStore(aws.dynamodb(), settings.keys_table), settings.key_cache_ttl_seconds)


@cache
def assets() -> S3AssetStore:
    return S3AssetStore(aws.s3(), get_settings().assets_bucket)


@cache
def workflow() -> StepFunctionsWorkflow:
    return StepFunctionsWorkflow(aws.stepfunctions(), get_settings().state_machine_arn)


def upstream_api_key(settings: Settings) -> str:
    if settings.upstream_api_key is not None:
        return settings.upstream_api_key.get_secret_value()
    assert settings.upstream_api_key_parameter is not None
    parameter = aws.ssm().get_parameter(Name=settings.upstream_api_key_parameter, WithDecryption=True)
    return parameter["Parameter"]["Value"]


@cache
def upstream() -> Upstream:
    # Imported here: only functions that call the upstream pay for the openai SDK.
    from videos_core.adapters.upstream_openai import OpenAIUpstream

    settings = get_settings()
    return OpenAIUpstream(settings, upstream_api_key(settings))


def reset() -> None:
    """Forget every cached adapter, client and the settings (tests change the environment)."""
    for factory in (videos, owners, assets, workflow, upstream):
        factory.cache_clear()
    get_settings.cache_clear()
    aws.reset_clients()
