"""What the adapters of providers with plain REST APIs share (Gemini, fal, OpenRouter): JSON calls
retried as `upstream_calls` says, errors in the contract's terms, and downloads that follow the
provider's redirects and carry the key only to the provider's own origin."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx2

from videos_core.adapters.upstream_calls import (
    MAX_REDIRECTS,
    Bounded,
    StreamedContent,
    download_hop,
    never_sent,
    same_origin,
    status_error,
)
from videos_core.catalog import Entry
from videos_core.errors import (
    UpstreamErrorInfo,
    UpstreamFileUnusable,
    UpstreamRetryableError,
    VideoModelNotAvailable,
)
from videos_core.ports import UpstreamNotFoundError


class RestUpstream(Bounded):
    """A provider's adapter. Subclasses say how the key is sent (`auth_headers`) and read the
    provider's error bodies (`error_info`); what a provider does not offer is a 400."""

    def auth_headers(self, entry: Entry) -> dict[str, str]:
        raise NotImplementedError

    def error_info(self, body: Any, status: int) -> tuple[UpstreamErrorInfo, str | None]:
        """The provider's error, and the parameter it names; by default `{"error": {"message", …}}`."""
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            code = error.get("code") or error.get("status")
            return UpstreamErrorInfo(
                type=str(error.get("status") or "upstream_error"),
                code=None if code is None else str(code),
                message=str(error.get("message") or f"HTTP {status}"),
            ), None
        message = error if isinstance(error, str) else f"HTTP {status}"
        return UpstreamErrorInfo(type="upstream_error", code=None, message=message), None

    def _http(self) -> httpx2.Client:
        if "http" not in self.clients:
            self.clients["http"] = httpx2.Client(follow_redirects=False)
        client: httpx2.Client = self.clients["http"]
        return client

    def request(
        self,
        entry: Entry,
        method: str,
        url: str,
        *,
        repeatable: bool,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """A JSON call to the provider, with `headers` besides the key's; its JSON answer (None when
        empty)."""
        sent = self.auth_headers(entry) | {"Accept": "application/json"} | dict(headers or {})
        for attempt in range(self._attempts):
            last = attempt == self._attempts - 1
            try:
                response = self._http().request(method, url, json=body, headers=sent, timeout=self._timeout())
            except httpx2.TimeoutException as e:
                if last or not (repeatable or never_sent(e)):
                    raise UpstreamRetryableError("The upstream did not answer in time.") from e
            except httpx2.TransportError as e:
                if last or not (repeatable or never_sent(e)):
                    raise UpstreamRetryableError("The upstream could not be reached.") from e
            else:
                if response.status_code < 400:
                    return self._json(response)
                if last or response.status_code < 500 or not repeatable:
                    raise self._error(response)
            self._pause_before_retry(attempt)
        raise AssertionError("unreachable")

    def read_state(
        self, entry: Entry, url: str, what: str, status_field: str | None = None
    ) -> dict[str, Any]:
        """A job's state as a GET reads it: a JSON object, with a string `status_field` where one is
        named; any other answer is a malformed `what`, retried."""
        state = self.request(entry, "GET", url, repeatable=True)
        if not isinstance(state, dict) or (status_field and not isinstance(state.get(status_field), str)):
            raise UpstreamRetryableError(f"The upstream answered with a malformed {what}.")
        return state

    def start(self, entry: Entry, url: str, body: Any, headers: Mapping[str, str] | None = None) -> Any:
        """A create's POST (not repeated once sent); a 404 to it is a model the provider does not offer."""
        try:
            return self.request(entry, "POST", url, repeatable=False, body=body, headers=headers)
        except UpstreamNotFoundError as e:
            raise VideoModelNotAvailable(f"The upstream does not offer this model: {e}") from e

    def _json(self, response: httpx2.Response) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise UpstreamRetryableError("The upstream answered with a malformed body.") from e

    def _error(self, response: httpx2.Response) -> Exception:
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        info, param = self.error_info(body, response.status_code)
        return status_error(response.status_code, info, param, response.headers)

    @contextmanager
    def stream_output(self, entry: Entry, url: str | None, missing: str) -> Iterator[StreamedContent]:
        """A finished job's video at `url`, fetched as `stream` fetches it; None (the job has no video
        yet, or is not finished) is `missing`, retried."""
        if url is None:
            raise UpstreamRetryableError(missing)
        with self.stream(entry, url) as content:
            yield content

    @contextmanager
    def stream(self, entry: Entry, url: str) -> Iterator[StreamedContent]:
        """A download from the provider's host (with the key) or from where it keeps its files (a CDN,
        without it), following redirects as `upstream_calls` allows."""
        try:
            with self._followed(entry, url) as response:
                yield StreamedContent(response, self._out_of_time)
        except httpx2.TransportError as e:
            raise UpstreamRetryableError("The upstream could not be reached for the download.") from e

    @contextmanager
    def _followed(self, entry: Entry, url: str) -> Iterator[httpx2.Response]:
        """The answer at the end of `url`'s redirects. They are followed here rather than by httpx,
        which drops only an Authorization header on leaving the origin: a provider's key may travel
        in another (Gemini's x-goog-api-key), and is sent to the route's own origin alone."""
        seen: set[str] = set()
        for _ in range(MAX_REDIRECTS + 1):
            seen.add(download_hop(url))
            headers = self.auth_headers(entry) if same_origin(url, entry.base_url) else {}
            with self._http().stream("GET", url, headers=headers, timeout=self._timeout()) as response:
                if response.status_code >= 400:
                    response.read()
                    raise self._error(response)
                if not response.has_redirect_location:
                    yield response
                    return
                url = str(response.url.join(response.headers["location"]))
            if url in seen:
                raise UpstreamFileUnusable("The provider's download redirects in a loop.")
        raise UpstreamFileUnusable(f"The provider's download redirects more than {MAX_REDIRECTS} times.")


def job_id(answer: Any, field: str) -> str:
    """The provider's id of the job its answer names (in `field`); an answer without one is the
    provider's fault, worth asking again."""
    found = answer.get(field) if isinstance(answer, dict) else None
    if not isinstance(found, str):
        raise UpstreamRetryableError(f"The upstream answered without the job's {field}.")
    return found
