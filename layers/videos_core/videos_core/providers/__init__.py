"""The providers a route may name, each with its capability profiles per model family.

A profile is found for a route by its `profile`, else by the longest family name that starts the
provider's model id (`upstream_model`, else the model's own name). Adding a provider is a module
here, its adapter (`videos_core.adapters.upstream_<provider>`) and their tests.
"""

from __future__ import annotations

from types import ModuleType
from typing import Literal

from videos_core.capabilities import Capabilities
from videos_core.providers import fal, gemini, openai, openrouter

Provider = Literal["openai", "gemini", "fal", "openrouter"]
MODULES: dict[str, ModuleType] = {"openai": openai, "gemini": gemini, "fal": fal, "openrouter": openrouter}


def profiles(provider: str) -> dict[str, Capabilities]:
    found: dict[str, Capabilities] = MODULES[provider].PROFILES
    return found


def family_of(provider: str, model_id: str) -> str | None:
    """The provider's family for a model id: the longest family name the id starts with."""
    matches = [family for family in profiles(provider) if model_id.startswith(family)]
    return max(matches, key=len) if matches else None
