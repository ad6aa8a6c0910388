"""The playground in headless Chromium against `serve --fast`: create, watch, play, download, remix,
delete, the gallery, errors beside their field, phone width and the keyboard."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from openai import OpenAI
from playwright.sync_api import Browser, FilePayload, Page

from tests.conftest import DEV_KEY, new_owner_key
from tests.e2e.browser import PHONE, Session, open_session
from tests.media import jpeg_size, png_bytes, probe_mp4
from tests.support import HTTP, Served
from videos_core.models.api import MAX_OPENAI_PROMPT_CHARS

JOB_TIMEOUT_S = 60


@pytest.fixture
def session(browser: Browser, served: Served, request: pytest.FixtureRequest) -> Iterator[Session]:
    yield from open_session(browser, f"{served.api}/", request.node.name)


def wait_until_ready(page: Page) -> None:
    page.wait_for_selector("body[data-ready]")


def watch_job(page: Page) -> tuple[str, list[int]]:
    """Reads the job panel until the job ends: its last status and every progress value shown."""
    values: list[int] = []
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        status = page.get_attribute("#job-status", "data-status") or ""
        values.append(int(page.get_attribute("#job-progress", "aria-valuenow") or -1))
        if status in ("completed", "failed"):
            return status, values
        page.wait_for_timeout(100)
    raise AssertionError(f"the job did not end within {JOB_TIMEOUT_S}s; progress seen: {values}")


def create_in_page(page: Page, prompt: str, *, seconds: str = "4", size: str = "720x1280") -> str:
    page.fill("#prompt", prompt)
    page.select_option("#seconds", seconds)
    page.select_option("#size", size)
    page.click("#create-submit")
    page.wait_for_selector("#job-body:not([hidden])")
    return page.text_content("#job-id") or ""


def derived_from(page: Page, source: str) -> str:
    """The new video a remix, edit or extension shows in place of `source` (or the error it met)."""
    page.wait_for_function(
        "id => document.getElementById('job-id').textContent !== id"
        " || document.getElementById('remix-error').textContent !== ''",
        arg=source,
    )
    assert page.text_content("#remix-error") == ""
    return page.text_content("#job-id") or ""


def video_state(page: Page, video_id: str) -> tuple[int, float]:
    """The player's readyState and duration once it has loaded this video's data."""
    page.wait_for_function(
        "id => { const v = document.getElementById('job-video');"
        " return v.currentSrc.includes(id) && v.readyState >= 2; }",
        arg=video_id,
        timeout=20_000,
    )
    state = page.locator("#job-video").evaluate("v => [v.readyState, v.duration]")
    return int(state[0]), float(state[1])


def download(page: Page, selector: str) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.click(selector)
    return info.value.suggested_filename, Path(info.value.path()).read_bytes()


def test_the_page_and_its_configuration_are_served(served: Served) -> None:
    page = HTTP.get(f"{served.api}/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert served.aws in page.headers["content-security-policy"]  # the bucket's presigned media
    assert '<script type="module" src="/playground/app.js">' in page.text

    config = HTTP.get(f"{served.api}/playground/config.json").json()
    assert config == {"apiKey": DEV_KEY}  # the rest the page reads from GET /v1/videos/models
    assert HTTP.get(f"{served.api}/playground/app.js").headers["content-type"].startswith("text/javascript")

    # What is not the playground's is the API's, with the contract's errors.
    missing = HTTP.get(f"{served.api}/playground/../openapi.json")
    assert missing.status_code == 200
    unknown = HTTP.get(f"{served.api}/playground/secrets.py")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    assert HTTP.post(f"{served.api}/").status_code in (404, 405)


def test_create_watch_play_and_download(session: Session, sdk: OpenAI) -> None:
    page = session.page
    wait_until_ready(page)
    assert page.input_value("#api-key") == DEV_KEY  # pre-filled by serve

    page.fill("#prompt", "A paper boat drifting down a rainy street")
    assert page.text_content("#prompt-count") == f"41 / {MAX_OPENAI_PROMPT_CHARS}"
    page.select_option("#size", "1280x720")
    assert page.text_content("#estimate") == "≈ $0.50"
    page.click("#create-submit")
    page.wait_for_selector("#job-body:not([hidden])")
    video_id = page.text_content("#job-id") or ""
    session.screenshot("running")
    status, progress = watch_job(page)

    assert status == "completed"
    assert progress[0] < 100
    assert progress[-1] == 100
    assert progress == sorted(progress)  # the bar only moves forward
    page.wait_for_function(  # the bar is full once its transition ends
        "() => document.querySelector('#job-progress .bar').getBoundingClientRect().width"
        " >= document.getElementById('job-progress').clientWidth - 1"
    )
    ready_state, duration = video_state(page, video_id)
    assert ready_state >= 2
    assert duration == pytest.approx(4.0, abs=0.1)
    assert page.text_content("#job-meta") == "sora-2 · 4 s · 1280\N{MULTIPLICATION SIGN}720 · ≈ $0.50"
    session.screenshot("completed")

    name, data = download(page, "#download-video")
    facts = probe_mp4(data)
    assert (name, facts.width, facts.height) == (f"{video_id}.mp4", 1280, 720)
    name, data = download(page, "#download-thumbnail")
    assert (name, jpeg_size(data)) == (f"{video_id}.jpg", (1280, 720))
    _, data = download(page, "#download-spritesheet")
    assert jpeg_size(data) == (1280, 720)

    # The gallery's newest card is this video, with its thumbnail, facts and spritesheet scrubbing.
    card = page.locator(f'#cards li[data-id="{video_id}"]')
    assert page.locator("#cards li").first.get_attribute("data-id") == video_id
    card.locator("img").wait_for()
    page.wait_for_function(
        "id => document.querySelector(`#cards li[data-id='${id}'] img`).naturalWidth === 1280", arg=video_id
    )
    assert "sora-2 · 4 s · 1280\N{MULTIPLICATION SIGN}720" in (card.text_content() or "")
    assert "≈ $0.50 · just now" in (card.text_content() or "")
    thumb = card.locator(".thumb")
    thumb.scroll_into_view_if_needed()
    box = thumb.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 2, box["y"] + box["height"] / 2)
    page.wait_for_selector(f'#cards li[data-id="{video_id}"] .thumb.has-sprites')
    page.mouse.move(box["x"] + 4, box["y"] + box["height"] / 2)
    first = thumb.get_attribute("data-frame")
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
    last = thumb.get_attribute("data-frame")
    assert (first, last) == ("0", "15")
    assert "100% 100%" in thumb.evaluate("t => t.style.backgroundPosition")
    session.screenshot("gallery-scrub")
    assert sdk.videos.retrieve(video_id).status == "completed"


def test_remix_then_delete_with_confirmation(session: Session, sdk: OpenAI) -> None:
    page = session.page
    wait_until_ready(page)
    source = create_in_page(page, "A lighthouse in a storm")
    assert watch_job(page)[0] == "completed"

    page.fill("#remix-prompt", "The same lighthouse at dawn, calm sea")
    page.click("#remix-submit")
    remix = derived_from(page, source)
    assert f"remix of {source}" in (page.text_content("#job-meta") or "")
    assert watch_job(page)[0] == "completed"
    assert video_state(page, remix)[0] >= 2
    assert sdk.videos.retrieve(remix).remixed_from_video_id == source
    cards = page.locator("#cards li")
    assert [cards.nth(0).get_attribute("data-id"), cards.nth(1).get_attribute("data-id")] == [remix, source]

    # Cancel keeps the video; confirming deletes it everywhere.
    page.click("#delete-button")
    page.wait_for_selector("#confirm-delete[open]")
    assert page.text_content("#confirm-id") == remix
    session.screenshot("confirm-delete")
    page.keyboard.press("Escape")
    page.wait_for_selector("#confirm-delete", state="hidden")
    assert sdk.videos.retrieve(remix).status == "completed"
    page.click("#delete-button")
    page.click("#confirm-delete-button")
    page.wait_for_selector(f'#cards li[data-id="{remix}"]', state="detached")
    assert page.is_visible("#job-empty")
    with pytest.raises(openai.NotFoundError):
        sdk.videos.retrieve(remix)
    assert page.locator(f'#cards li[data-id="{source}"]').count() == 1


def test_extend_then_edit_a_completed_video(session: Session, sdk: OpenAI) -> None:
    page = session.page
    wait_until_ready(page)
    source = create_in_page(page, "A kite over the dunes")
    assert watch_job(page)[0] == "completed"

    page.fill("#remix-prompt", "The kite climbs higher")
    page.select_option("#extend-seconds", "8")
    page.click("#extend-submit")
    extension = derived_from(page, source)
    assert watch_job(page)[0] == "completed"
    assert video_state(page, extension)[1] == pytest.approx(12, abs=0.2)
    # Priced as the service bills it: the 8 new seconds of sora-2, not the stitched 12.
    assert "≈ $1.00" in (page.text_content("#job-meta") or "")

    page.fill("#remix-prompt", "At dusk")
    page.click("#edit-submit")
    edit = derived_from(page, extension)
    assert watch_job(page)[0] == "completed"
    assert [sdk.videos.retrieve(v).seconds for v in (source, extension, edit)] == ["4", "12", "12"]
    assert sdk.videos.retrieve(edit).prompt == "At dusk"


def test_a_prompt_over_the_limit_shows_the_apis_error_beside_it(session: Session, sdk: OpenAI) -> None:
    session.console.allow(r"status of 400")  # the browser logs the rejected request itself
    page = session.page
    wait_until_ready(page)
    before = [video.id for video in sdk.videos.list(limit=100)]
    page.fill("#prompt", "x" * (MAX_OPENAI_PROMPT_CHARS + 1))
    assert page.text_content("#prompt-count") == f"{MAX_OPENAI_PROMPT_CHARS + 1} / {MAX_OPENAI_PROMPT_CHARS}"
    assert "over" in (page.get_attribute("#prompt-count", "class") or "")
    page.click("#create-submit")

    page.wait_for_selector("#prompt-error:not(:empty)")
    assert page.text_content("#prompt-error") == (
        f"Invalid body parameter 'prompt': String should have at most {MAX_OPENAI_PROMPT_CHARS} characters."
    )
    assert page.get_attribute("#prompt", "aria-invalid") == "true"
    assert page.evaluate("() => document.activeElement.id") == "prompt"
    assert page.text_content("#create-error") == ""
    assert page.is_hidden("#job-body")
    session.screenshot("prompt-too-long")
    assert [video.id for video in sdk.videos.list(limit=100)] == before

    # Fixing the prompt clears the error on the next submit.
    page.fill("#prompt", "x" * MAX_OPENAI_PROMPT_CHARS)
    page.click("#create-submit")
    page.wait_for_selector("#job-body:not([hidden])")
    assert page.text_content("#prompt-error") == ""


def test_a_failed_job_shows_its_error_code_and_message(session: Session) -> None:
    page = session.page
    wait_until_ready(page)
    video_id = create_in_page(page, "A volcano erupting [fail]")
    assert watch_job(page)[0] == "failed"
    error = page.text_content("#job-error")
    assert error == "video_generation_failed: Video generation failed."
    assert page.is_hidden("#job-video")
    card = page.locator(f'#cards li[data-id="{video_id}"]')
    card.locator(".card-error").wait_for()
    assert card.locator(".card-error").text_content() == error
    assert card.locator(".status").text_content() == "Failed"


def test_a_reference_image_is_sent_with_the_prompt(session: Session, sdk: OpenAI) -> None:
    page = session.page
    wait_until_ready(page)
    page.set_input_files(
        "#input_reference", files=FilePayload(name="red.png", mimeType="image/png", buffer=png_bytes())
    )
    assert page.is_visible("#clear-reference")
    video_id = create_in_page(page, "A red square, animated", size="1280x720")
    assert watch_job(page)[0] == "completed"
    assert sdk.videos.retrieve(video_id).status == "completed"


def test_a_refused_key_says_so_and_a_good_one_is_remembered(session: Session, served: Served) -> None:
    session.console.allow(r"status of 401")
    page = session.page
    wait_until_ready(page)
    page.fill("#api-key", "sk-not-a-key-of-anyone-here")
    page.press("#api-key", "Enter")
    page.wait_for_selector("#banner:not([hidden])")
    assert "refused this key" in (page.text_content("#banner") or "")

    page.fill("#api-key", DEV_KEY)
    page.press("#api-key", "Enter")
    page.wait_for_selector("#banner", state="hidden")
    page.reload()
    wait_until_ready(page)
    assert page.input_value("#api-key") == DEV_KEY
    assert page.evaluate("() => localStorage.getItem('videos-api.key')") == DEV_KEY


@pytest.fixture
def phone(browser: Browser, served: Served, request: pytest.FixtureRequest) -> Iterator[Session]:
    yield from open_session(browser, f"{served.api}/", request.node.name, PHONE)


def test_phone_width_and_keyboard_only(phone: Session) -> None:
    page = phone.page
    wait_until_ready(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]

    def tab_to(element_id: str) -> None:
        for _ in range(30):
            page.keyboard.press("Tab")
            if page.evaluate("() => document.activeElement.id") == element_id:
                return
        raise AssertionError(f"Tab never reached #{element_id}")

    tab_to("prompt")
    page.keyboard.type("A kite over a green hill")
    tab_to("create-submit")
    page.keyboard.press("Enter")
    page.wait_for_selector("#job-body:not([hidden])")
    video_id = page.text_content("#job-id") or ""
    assert page.evaluate("() => document.activeElement.id") == "job"  # focus follows the new job
    assert watch_job(page)[0] == "completed"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    phone.screenshot("completed")

    # A card opens with the keyboard too.
    page.locator(f'#cards li[data-id="{video_id}"] button').focus()
    page.keyboard.press("Enter")
    page.wait_for_function("id => document.getElementById('job-id').textContent === id", arg=video_id)


def test_the_gallery_pages_newest_first_and_follows_running_jobs(session: Session, served: Served) -> None:
    key = new_owner_key(served, "owner")
    page = session.page
    wait_until_ready(page)
    page.fill("#api-key", key)
    page.press("#api-key", "Enter")
    page.wait_for_selector("#gallery-empty", state="visible")

    with OpenAI(base_url=f"{served.api}/v1", api_key=key, max_retries=0) as client:
        created = [client.videos.create(prompt="A gallery card").id for _ in range(14)]
    page.click("#refresh")
    cards = page.locator("#cards li")
    cards.nth(11).wait_for()
    newest_first = created[::-1]
    assert [cards.nth(n).get_attribute("data-id") for n in range(cards.count())] == newest_first[:12]
    page.click("#more")
    cards.nth(13).wait_for()
    assert [cards.nth(n).get_attribute("data-id") for n in range(cards.count())] == newest_first
    page.wait_for_selector("#more", state="hidden")

    # The cards of running jobs are refreshed until every one shows its thumbnail.
    page.wait_for_function(
        "() => [...document.querySelectorAll('#cards li')].every(c => c.dataset.status === 'completed')",
        timeout=JOB_TIMEOUT_S * 1000,
    )
    page.wait_for_function("() => document.querySelectorAll('#cards li img').length === 14")
    session.screenshot("gallery")
