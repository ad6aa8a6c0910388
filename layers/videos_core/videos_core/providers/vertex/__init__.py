"""Google's Veo models on Vertex AI (`predictLongRunning`, then `fetchPredictOperation`), called with an
OAuth access token of a service account.

Sources: Vertex AI's Veo API reference ("Veo on Vertex AI API", model-reference/veo-video-generation:
`POST https://{LOCATION}-aiplatform.googleapis.com/v1/projects/{PROJECT}/locations/{LOCATION}/
publishers/google/models/{MODEL}:predictLongRunning` with `instances[0]` `prompt` and `image`
`{bytesBase64Encoded, mimeType}` (image/jpeg or image/png), `parameters` `aspectRatio` (16:9, 9:16),
`durationSeconds`, `resolution` (720p, 1080p), `generateAudio`, `sampleCount` (1 to 4),
`negativePrompt`, `personGeneration`, `storageUri` (without it, the videos come back inline as
base64); the answer an operation `{name}`, polled with `:fetchPredictOperation {operationName}` until
`done`, its `response` a `GenerateVideoResponse` with `videos` and `raiMediaFilteredCount` and
`raiMediaFilteredReasons`); the Veo 3.1 model page (veo-3.1-generate-001 and veo-3.1-fast-generate-001,
4, 6 or 8 seconds, 16:9 and 9:16, 720p and 1080p); Google's OAuth 2.0 for service accounts (a JWT
signed RS256 with the key's private key, exchanged at the key's `token_uri` for an access token of an
hour) as google-auth 2.63 makes it (`service_account.Credentials`); and the google-genai SDK 2.34's
Vertex mapping (`_GenerateVideosParameters_to_vertex`, `Operations.get` through
`fetchPredictOperation`). Veo is the same model family as on the Gemini API: its lengths, sizes,
prompt limit, first-frame image and audio are the Gemini provider's profiles; the prices are Vertex
AI's list prices per second with audio (Veo 3 and 3.1 $0.40, $0.20 without audio; their Fast models
$0.15, $0.10 without), audio being asked for where a family makes it. Vertex AI documents no cancel of
these operations, and calls nothing back (its `pubsubTopic` publishes to Pub/Sub): they are polled.

The route's key is the service account's JSON key: its `project_id` names the project, its
`token_uri` is where the token is asked for. The route's `region` is the location (us-central1 by
default), in the calls' path and the default host.
"""

from __future__ import annotations

from decimal import Decimal

from videos_core.capabilities import Capabilities
from videos_core.providers.gemini import PROFILES as VEO_ON_GEMINI
from videos_core.providers.plugin import Provider


def _on_vertex(family: str, price: str) -> Capabilities:
    """A Veo family as the Gemini API makes it (the same model), at Vertex AI's price a second."""
    return VEO_ON_GEMINI[family].model_copy(update={"price_per_second": Decimal(price)})


PROFILES = {
    "veo-3.1-generate": _on_vertex("veo-3.1-generate", "0.40"),
    "veo-3.1-fast-generate": _on_vertex("veo-3.1-fast-generate", "0.15"),
    "veo-3.0-generate": _on_vertex("veo-3.0-generate", "0.40"),
    "veo-3.0-fast-generate": _on_vertex("veo-3.0-fast-generate", "0.15"),
}
# Veo's aspect ratios.
RATIOS = ("16:9", "9:16")

PROVIDER = Provider(
    name="vertex",
    title="Google's Veo on Vertex AI (predictLongRunning, a service account's OAuth token)",
    profiles=PROFILES,
    adapter="videos_core.providers.vertex.adapter:VertexUpstream",
    default_base_url="https://{region}-aiplatform.googleapis.com",
    default_region="us-central1",
)
