"""What a provider plug-in declares: the one description of a provider the rest of the service reads.

Each package under `videos_core.providers` holds one provider: its `PROVIDER` (this), its adapter
module (imported only by the functions that call the provider) and, where the provider signs its
callbacks, their verification. Nothing outside a provider's package names a provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from videos_core.capabilities import Capabilities


@dataclass(frozen=True)
class Callbacks:
    """How a provider calls back when a job ends (a POST to the URL the create gave it)."""

    # The field of the call's JSON body that names the provider's job.
    job_id_field: str
    # Where the provider publishes the keys it signs its calls with (a JWKS, or what `keys_reader`
    # reads); None when it signs nothing, so the URL's per-job token alone authenticates a call.
    keys_url: str | None = None
    # "module:function" checking a call's signature: (headers, body, keys, now) -> None, raising
    # Unauthorized or InvalidRequest.
    verifier: str | None = None
    # "module:function" reading the document at the keys URL (its JSON) into the keys the verifier
    # takes; None: a JWKS, its Ed25519 keys.
    keys_reader: str | None = None
    # Whether the keys URL answers only the route's own credentials (sent as its adapter sends them):
    # an account's signing secret rather than a published key.
    keys_need_route_key: bool = False
    # The field of a call's JSON body carrying a challenge the provider requires echoed back
    # (`{field: value}`) before it sends any update; None when it sends none.
    challenge_field: str | None = None


@dataclass(frozen=True)
class Provider:
    name: str
    # What the provider is, for people (the catalog's docs, `routes schema`).
    title: str
    # Capabilities per model family; a model id takes the longest family name it starts with.
    profiles: Mapping[str, Capabilities]
    # "module:class" of its adapter, a `videos_core.adapters.upstream_calls.Bounded`.
    adapter: str
    # Where a route without `base_url` goes; None: a route must name one (or the deployment's
    # UpstreamBaseUrl, for the providers that take it). A regional API's names its host's region as
    # `{region}`.
    default_base_url: str | None
    # Whether deleting a running job cancels it at the provider.
    cancels: bool = False
    callbacks: Callbacks | None = None
    # Whether a route without `base_url` may fall back to the deployment's UpstreamBaseUrl.
    takes_upstream_base_url: bool = False
    # USD per second by family and size, where a size costs other than its family's price (a route
    # that sets its own price_per_second sets it for every size).
    prices_by_size: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # The region of a route that names none, for a provider whose API is regional; None: its routes
    # take no region.
    default_region: str | None = None

    def family_of(self, model_id: str) -> str | None:
        """The family for a model id: the longest family name the id starts with."""
        matches = [family for family in self.profiles if model_id.startswith(family)]
        return max(matches, key=len) if matches else None
