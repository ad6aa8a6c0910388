"""OpenAI's Videos API, and the servers that speak it (vLLM-Omni, SGLang, LiteLLM's proxy).

Sources: OpenAI's published OpenAPI document (openai/openai-openapi) and its video guide. The
prices are the seed's defaults.
"""

from __future__ import annotations

from decimal import Decimal

from videos_core.capabilities import Capabilities
from videos_core.providers.plugin import Provider

_SIZES = ("720x1280", "1280x720", "1024x1792", "1792x1024")
_SORA = {
    "seconds": ("4", "8", "12"),
    "sizes": _SIZES,
    "max_prompt_chars": 32_000,
    "image_reference": True,
    "audio": True,
    "remix": True,
    "edits": True,
    "characters": True,
}

PROFILES = {
    "sora-2": Capabilities.model_validate(_SORA | {"price_per_second": Decimal("0.125")}),
    "sora-2-pro": Capabilities.model_validate(_SORA | {"price_per_second": Decimal("0.40")}),
}
# Self-hosted servers' own models: what OpenAI's create takes, without the operations past it (a
# route says what its model really does). vLLM-Omni takes a create only as a form; SGLang diffusion
# takes JSON without a reference image; LiteLLM's proxy reports `processing` while a job runs.
_SELF_HOSTED = _SORA | {"price_per_second": Decimal("0.01")}
_SELF_HOSTED |= {"remix": False, "edits": False, "characters": False}
PROFILES |= {
    "self-hosted": Capabilities.model_validate(_SELF_HOSTED),
    "vllm-omni": Capabilities.model_validate(_SELF_HOSTED),
    "sglang": Capabilities.model_validate(_SELF_HOSTED | {"image_reference": False}),
    "litellm": Capabilities.model_validate(_SELF_HOSTED),
}

PROVIDER = Provider(
    name="openai",
    title="OpenAI's Videos API, and the servers that speak it (vLLM-Omni, SGLang, LiteLLM's proxy)",
    profiles=PROFILES,
    adapter="videos_core.providers.openai.adapter:OpenAIUpstream",
    # OpenAI's hosted API shut down: a route names its server, or takes the deployment's UpstreamBaseUrl.
    default_base_url=None,
    takes_upstream_base_url=True,
    cancels=True,
)
