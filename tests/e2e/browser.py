"""Debian's Chromium driven by Playwright: one browser per test module, a fresh context per test,
console errors collected, screenshots kept under artifacts/playground/."""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, ViewportSize, sync_playwright

from tests.support import ROOT

ARTIFACTS = ROOT / "artifacts" / "playground"
# As root in a container, without a GPU, and without the background traffic a closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("Chromium is not installed: `make browser` installs Debian's package")
    return path


@contextlib.contextmanager
def launched_chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Console:
    """The page's console errors and uncaught exceptions; `allow` names the ones a test expects."""

    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def on_message(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def on_page_error(self, error: Error) -> None:
        self.errors.append(f"uncaught: {error}")

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [error for error in self.errors if not any(p.search(error) for p in self.allowed)]


@dataclass
class Session:
    page: Page
    console: Console
    name: str

    def screenshot(self, state: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.name}-{state}.png"
        self.page.screenshot(path=path, full_page=True)
        return path


ANSWER_TIMEOUT_MS = 45_000


def open_session(
    browser: Browser, url: str, name: str, viewport: ViewportSize = DESKTOP
) -> Iterator[Session]:
    """A new browser context (empty local storage) on `url`; fails the test on unexpected console errors."""
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    page = context.new_page()
    # A wait may span an API answer: API Gateway's 30 s wait, and a new worker's start before it.
    page.set_default_timeout(ANSWER_TIMEOUT_MS)
    console = Console()
    page.on("console", console.on_message)
    page.on("pageerror", console.on_page_error)
    page.goto(url)
    session = Session(page, console, name)
    yield session
    context.close()
    assert console.unexpected() == []
