"""The provider adapters against the engine's dialects (and an OpenAI-shaped server of the
self-hosted kinds): requests as each provider takes them, and its errors in the contract's terms."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from tests.stub_server import StubHandler, stub_server
from tests.support import SETTINGS_ENV
from videos_core.adapters.upstream_router import RoutedUpstream
from videos_core.catalog import build_catalog
from videos_core.errors import InvalidRequest, InvalidVideoDuration
from videos_core.ports import UpstreamCreate, UpstreamJob, VariantNotOfferedError
from videos_core.settings import Settings, load_settings

ENV = SETTINGS_ENV


@contextlib.contextmanager
def routed(base_url: str, routes: dict[str, Any], key: str = "sk-test") -> Iterator[RoutedUpstream]:
    settings: Settings = load_settings(ENV | {"UPSTREAM_BASE_URL": f"{base_url}/v1"})
    catalog = build_catalog(routes, settings.catalog_defaults)
    with contextlib.closing(RoutedUpstream(settings, lambda: catalog, lambda _: key, attempts=1)) as upstream:
        yield upstream


def ended(upstream: Any, model: str, job: UpstreamJob) -> UpstreamJob:
    """The job as the upstream reports it once ended (or after 30 s)."""
    deadline = time.monotonic() + 30
    while job.status in ("queued", "in_progress") and time.monotonic() < deadline:
        time.sleep(0.05)
        job = upstream.retrieve(model, job.id)
    return job


def test_a_providers_refusal_of_a_parameter_is_the_contracts_error(engine_url: str) -> None:
    # Routes that claim more than the providers take, so the providers' own refusals show.
    with routed(
        engine_url,
        {
            "fal-veo": {
                "provider": "fal",
                "upstream_model": "fal-ai/veo3",
                "base_url": f"{engine_url}/fal",
                "seconds": ["7"],
            },
            "veo": {
                "provider": "gemini",
                "upstream_model": "veo-3.1-generate-preview",
                "base_url": engine_url,
                "seconds": ["5"],
            },
        },
    ) as upstream:
        with pytest.raises(InvalidVideoDuration) as fal:
            upstream.create(UpstreamCreate("a heron", "fal-veo", "7", "1280x720"))
        assert fal.value.param == "seconds"
        with pytest.raises(InvalidRequest) as gemini:
            upstream.create(UpstreamCreate("a heron", "veo", "5", "1280x720"))
        assert gemini.value.upstream is not None
        assert gemini.value.upstream.code == "INVALID_ARGUMENT"
        with (
            pytest.raises(VariantNotOfferedError),
            upstream.open_content("veo", "models/x/operations/y", "thumbnail"),
        ):
            pass


class _SelfHosted(StubHandler):
    """An OpenAI-shaped server as LiteLLM's proxy answers: `processing` while a job runs."""

    seen: ClassVar[list[tuple[str, str]]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.seen.append((self.path, self.headers.get("content-type", "")))
        self._video()

    def do_GET(self) -> None:
        self._video()

    def _video(self) -> None:
        body = {
            "id": "video_litellm_openai_abc",
            "object": "video",
            "status": "processing",
            "progress": 30,
            "model": "house",
            "seconds": "4",
            "size": "832x480",
            "created_at": 1,
        }
        self.answer(200, body)


@pytest.fixture
def self_hosted() -> Iterator[str]:
    with stub_server(_SelfHosted) as url:
        yield url


def test_sglang_gets_json_vllm_omni_a_form_and_litellms_processing_is_in_progress(self_hosted: str) -> None:
    route = {"base_url": f"{self_hosted}/v1", "seconds": ["4"], "sizes": ["832x480"]}
    profiles = {"sglang": "sglang", "vllm": "vllm-omni", "proxy": "litellm"}
    routes = {model: route | {"profile": profile} for model, profile in profiles.items()}
    _SelfHosted.seen.clear()

    with routed(self_hosted, routes) as upstream:
        started = [upstream.create(UpstreamCreate("a heron", model, "4", "832x480")) for model in profiles]
        running = upstream.retrieve("proxy", started[2].id)
        # A self-hosted server makes the video alone: the other variants are made from it.
        with pytest.raises(VariantNotOfferedError), upstream.open_content("vllm", started[1].id, "thumbnail"):
            pass

    (sglang, vllm, proxy) = _SelfHosted.seen
    assert sglang == ("/v1/videos", "application/json")
    assert vllm[1].startswith("multipart/form-data")
    assert proxy[1].startswith("multipart/form-data")
    assert [job.status for job in started] == ["in_progress"] * 3
    assert (running.status, running.progress) == ("in_progress", 30)
