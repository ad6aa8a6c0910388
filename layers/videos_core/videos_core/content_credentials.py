"""C2PA Content Credentials: the signed manifest each stored file carries, saying that a generative
model made it, which one, through which provider, for which job.

The manifest's `c2pa.actions` assertion says what happened. A new video was created by the model
(`c2pa.created`, IPTC's `trainedAlgorithmicMedia`). A remix, edit or extension opens its source video
(`c2pa.opened`, the source's own manifest its `parentOf` ingredient) and the model edits it
(`c2pa.edited`): C2PA allows no parent ingredient beside `c2pa.created`. A manifest the provider's file
already carries is kept as an ingredient, never stripped: the parent where there is no source, else a
component of the edit.

The signer never sees the private key: `sign` is handed the bytes C2PA signs and answers ES256 (KMS
signs it, adapters.kms_signer). c2pa-python comes from the media layer, which only the finalising
functions carry; it reads and writes files as streams, so a video is signed in bounded memory."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from videos_core import VERSION
from videos_core.errors import ServiceUnavailable
from videos_core.observability import logger

GENERATOR = "videos-api"
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
# The action parameter naming the job (C2PA allows parameters of one's own, in reverse-domain form).
JOB_PARAMETER = "org.videos-api.job"
_SOURCE, _UPSTREAM = "source", "upstream"


@dataclass(frozen=True)
class Provenance:
    """What a file's manifest says of it."""

    job_id: str
    provider: str
    model: str
    # The file's name as it is downloaded (the manifest's title), and when the job made it.
    title: str
    made_at: int


@dataclass(frozen=True)
class ContentCredentials:
    """Signs files: `sign` makes ES256 signatures, `certificate_chain` is the PEM chain (the signing
    certificate first) the operator's CA issued for the signing key."""

    sign: Callable[[bytes], bytes]
    certificate_chain: Callable[[], str]

    def sign_into(
        self,
        source: IO[bytes],
        into: IO[bytes],
        content_type: str,
        provenance: Provenance,
        parent: IO[bytes] | None = None,
    ) -> None:
        """Writes `source` with its manifest into `into`; `parent`, the source video of a remix, edit or
        extension (as stored, with its own manifest)."""
        import c2pa

        upstream = _has_manifest(c2pa, source, content_type)
        builder = c2pa.Builder(manifest(provenance, parent is not None, upstream))
        if parent is not None:
            ingredient = {"title": "source video", "relationship": "parentOf", "label": _SOURCE}
            builder.add_ingredient(ingredient, "video/mp4", parent)
        if upstream:
            relationship = "componentOf" if parent is not None else "parentOf"
            ingredient = {"title": "the provider's file", "relationship": relationship, "label": _UPSTREAM}
            source.seek(0)
            builder.add_ingredient(ingredient, content_type, source)
        failures: list[Exception] = []

        def sign(data: bytes) -> bytes:
            try:
                return self.sign(data)
            except Exception as e:  # c2pa hands the library -1 and raises an error of its own
                failures.append(e)
                raise

        signer = c2pa.Signer.from_callback(sign, c2pa.C2paSigningAlg.ES256, self.certificate_chain())
        source.seek(0)
        try:
            builder.sign(signer, content_type, source, into)
        except c2pa.C2paError as e:
            # The key service's own error where it refused or failed (retried, or not, as it says).
            if failures:
                raise failures[0] from e
            raise ServiceUnavailable(f"The file could not be signed ({e}).", retry_after=1) from e
        finally:
            signer.close()
            builder.close()


def manifest(provenance: Provenance, derived: bool, upstream: bool) -> dict[str, Any]:
    """The manifest's definition: `derived` when there is a source video, `upstream` when the provider's
    file carries a manifest of its own."""
    job = {JOB_PARAMETER: provenance.job_id}
    made: dict[str, Any] = {
        "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
        "softwareAgent": {"name": provenance.model, "provider": provenance.provider},
        "when": datetime.datetime.fromtimestamp(provenance.made_at, datetime.UTC).isoformat(),
        "parameters": job,
    }
    parent = _SOURCE if derived else _UPSTREAM if upstream else None
    if parent is None:
        actions = [{"action": "c2pa.created", **made}]
    else:
        edited: dict[str, Any] = {"action": "c2pa.edited", **made}
        if derived and upstream:
            edited["parameters"] = job | {"ingredientIds": [_UPSTREAM]}
        actions = [{"action": "c2pa.opened", "parameters": {"ingredientIds": [parent]}}, edited]
    return {
        "claim_generator_info": [{"name": GENERATOR, "version": VERSION}],
        "title": provenance.title,
        "assertions": [{"label": "c2pa.actions.v2", "data": {"actions": actions}}],
    }


def _has_manifest(c2pa: Any, source: IO[bytes], content_type: str) -> bool:
    """Whether the provider's file carries a C2PA manifest (kept, then, as an ingredient)."""
    source.seek(0)
    try:
        reader = c2pa.Reader.try_create(content_type, source)
    except c2pa.C2paError as e:
        # A manifest that cannot be read is not kept: the file is signed as the provider's alone.
        logger.warning("the provider's file has a manifest that cannot be read: %s", e)
        return False
    if reader is None:
        return False
    reader.close()
    return True
