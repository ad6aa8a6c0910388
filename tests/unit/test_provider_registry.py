"""The registry of providers is the one list of them: the README's table, the engine's dialects and the
routes document's schema all follow it, and a provider registered inside a test is taken everywhere
the registry is read (its callbacks' challenge answered by the webhook's logic too)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from local.engine.dialects import dialects
from tests.support import ROOT
from videos_core import providers
from videos_core.callbacks import token_for
from videos_core.capabilities import profile
from videos_core.catalog import Defaults, build_catalog
from videos_core.errors import Unauthorized
from videos_core.ids import new_video_id
from videos_core.logic.webhook import receive_callback
from videos_core.providers.plugin import Callbacks, Provider
from videos_core.routes_schema import schema

DEFAULTS = Defaults(None, "/videos-api/upstream-api-key", "/videos-api/upstream-keys/")


def test_the_readme_has_one_row_per_provider() -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme.split("<!-- providers:start -->")[1].split("<!-- providers:end -->")[0]
    rows = re.findall(r"^\| `([a-z0-9-]+)` ", table, flags=re.MULTILINE)

    assert rows == sorted(providers.registry())


def test_every_provider_has_an_engine_dialect_serving_a_model_of_its_profiles() -> None:
    assert sorted(dialects()) == sorted(providers.registry())
    for name, dialect in dialects().items():
        assert providers.provider(name).family_of(dialect.example_model) is not None, name


def test_every_adapter_and_verifier_the_registry_names_exists() -> None:
    import importlib

    for plugin in providers.registry().values():
        named = [plugin.adapter] + (
            [plugin.callbacks.verifier] if plugin.callbacks and plugin.callbacks.verifier else []
        )
        for target in named:
            module, _, attribute = target.partition(":")
            assert callable(getattr(importlib.import_module(module), attribute)), target


@pytest.fixture
def registered() -> Iterator[Provider]:
    """A provider registered for one test, as a package of its own would be."""
    plugin = Provider(
        name="acme",
        title="Acme's videos",
        profiles={
            "acme-": profile(("3",), ("640x480",), prompt=100, reference=False, audio=False, price="0.01")
        },
        adapter="videos_core.providers.openrouter.adapter:OpenRouterUpstream",
        default_base_url="https://api.acme.example",
    )
    providers.registry()["acme"] = plugin
    yield plugin
    providers.registry.cache_clear()


def test_a_registered_provider_is_routed_and_in_the_schema(registered: Provider) -> None:
    catalog = build_catalog({"acme-1": {"provider": "acme", "upstream_model": "acme-1"}}, DEFAULTS)

    assert catalog.route("acme-1").base_url == "https://api.acme.example"
    assert catalog.route("acme-1").capabilities.seconds == ("3",)
    # The store's schema names no provider: a new one changes nothing in the template.
    assert "acme" not in json.dumps(schema())


class _Untouched:
    """A port a call must not reach."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the call reached {name}")


def test_a_registered_providers_challenge_is_echoed_once_the_token_holds(registered: Provider) -> None:
    providers.registry()["acme"] = replace(registered, callbacks=Callbacks("id", challenge_field="challenge"))
    video_id = new_video_id()
    untouched: Any = _Untouched()

    def unmade() -> Any:
        raise AssertionError("a challenge's answer made the ports of a callback")

    def call(secret: str) -> dict[str, str] | None:
        delivery: tuple[dict[str, str], bytes] = ({}, b'{"challenge": "c-42"}')
        token = token_for(secret, video_id)
        received = receive_callback(
            "acme",
            token,
            delivery,
            secret="whsec_one",
            signing_keys=untouched,
            deliveries=unmade,
            ports=unmade,
            now=0,
        )
        return received.answer

    assert call("whsec_one") == {"challenge": "c-42"}
    with pytest.raises(Unauthorized):
        call("whsec_two")
