"""What a file's C2PA manifest says, and whether it validates against a trust anchor: read by
c2pa-python's Reader with that anchor as its only trusted CA (`videos-api verify`, and the tests)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import c2pa

from videos_core.content_credentials import JOB_PARAMETER

CONTENT_TYPES = {".mp4": "video/mp4", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


@dataclass(frozen=True)
class Credentials:
    # Trusted: valid and signed under the anchor; Valid: intact, but its signer is not trusted;
    # Invalid: the file or the manifest was changed, or the signature does not match.
    state: str
    # The manifest's own label (an ingredient's `manifest` names its manifest by it).
    label: str
    generator: str
    actions: list[str]
    source_type: str | None
    model: str | None
    provider: str | None
    job: str | None
    signer: str | None
    issuer: str | None
    time: str | None
    # Each ingredient's relationship and title (its own manifest's label when it carries one).
    ingredients: list[dict[str, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def content_type(path: Path) -> str:
    try:
        return CONTENT_TYPES[path.suffix.lower()]
    except KeyError:
        raise ValueError(f"{path.name}: not an MP4 or a JPEG (by its extension)") from None


def read_credentials(file: IO[bytes], file_type: str, trust_anchor: str) -> Credentials | None:
    """The file's active manifest, validated against `trust_anchor` (PEM); None when it has none."""
    settings = {"verify": {"verify_trust": True}, "trust": {"trust_anchors": trust_anchor}}
    with c2pa.Context.from_dict(settings) as context:
        reader = c2pa.Reader.try_create(file_type, file, None, context)
        if reader is None:
            return None
        with reader:
            manifest = reader.get_active_manifest() or {}
            state = str(reader.get_validation_state())
            results = reader.get_validation_results() or {}
    return _credentials(manifest, state, results)


def _credentials(manifest: dict[str, Any], state: str, results: dict[str, Any]) -> Credentials:
    actions = [
        action
        for assertion in manifest.get("assertions", [])
        if str(assertion.get("label", "")).startswith("c2pa.actions")
        for action in assertion["data"].get("actions", [])
    ]
    made: dict[str, Any] = next((a for a in actions if "digitalSourceType" in a), {})
    agent = made.get("softwareAgent") or {}
    signature = manifest.get("signature_info", {})
    generator = " ".join(
        f"{info.get('name', '')} {info.get('version', '')}".strip()
        for info in manifest.get("claim_generator_info", [])[:1]
    )
    failures = [
        f"{f['code']}: {f.get('explanation', '')}"
        for f in results.get("activeManifest", {}).get("failure", [])
    ]
    return Credentials(
        state=state,
        label=str(manifest.get("label", "")),
        generator=generator or str(manifest.get("claim_generator", "")),
        actions=[str(a.get("action")) for a in actions],
        source_type=made.get("digitalSourceType"),
        model=agent.get("name") if isinstance(agent, dict) else str(agent),
        provider=agent.get("provider") if isinstance(agent, dict) else None,
        job=(made.get("parameters") or {}).get(JOB_PARAMETER),
        signer=signature.get("common_name"),
        issuer=signature.get("issuer"),
        time=signature.get("time") or made.get("when"),
        ingredients=[
            {
                "relationship": str(i.get("relationship", "")),
                "title": str(i.get("title", "")),
                "manifest": str(i.get("active_manifest", "")),
            }
            for i in manifest.get("ingredients", [])
        ],
        failures=failures,
    )


def as_json(credentials: Credentials) -> str:
    return json.dumps(vars(credentials), indent=2)
