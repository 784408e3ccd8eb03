"""The page in a real browser: Debian's Chromium driven by Playwright (sync API). Never `playwright install`:
it downloads a browser build, which cannot work here. Without /usr/bin/chromium, importing this
module skips the test module that imports it outside CI (`apt-get install -y chromium`) and fails it in CI."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
IN_CI = os.environ.get("CI") == "true"


# An image's load, waited for (a busy machine may show the element before its bytes arrive): true
# once it has pixels, false when it fails.
LOADED_JS = """img => img.complete ? img.naturalWidth > 0 : new Promise(done => {
    img.addEventListener("load", () => done(img.naturalWidth > 0), {once: true});
    img.addEventListener("error", () => done(false), {once: true});
})"""


def _unavailable(reason: str) -> None:
    if IN_CI:  # CI must run them: a missing browser is a failure there, not a skip
        pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}", allow_module_level=True)


if not CHROMIUM.exists():
    _unavailable(f"{CHROMIUM} is missing; install it with `apt-get install -y chromium` (never `playwright install`)")
try:
    from playwright.sync_api import Locator, Page, expect
except ImportError:  # pragma: no cover - requirements-dev.txt installs it
    _unavailable("playwright is not installed; `pip install -r requirements-dev.txt`")

CLIP_TIMEOUT = 60_000  # ms: a preview clip takes ~7 s, leave room for a slow machine
UI_TIMEOUT = 15_000
# Playwright's `expect` waits 5 s unless told otherwise, and a page opening on a loaded 2-core
# machine can take longer than that to answer: every browser test's `expect` waits UI_TIMEOUT.
expect.set_options(timeout=UI_TIMEOUT)
TASK_ID = re.compile(r"Task\s+([0-9a-f]{16,})")
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 900}
# The two screens every page test runs at: a laptop, and a touch phone.
SIZES = {"laptop": {"viewport": LAPTOP}, "phone": {"viewport": PHONE, "is_mobile": True, "has_touch": True}}


@dataclass
class Console:
    """What the page said on its console: errors that count, and the external noise set aside."""

    app_url: str
    errors: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def on_console(self, message) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "") or ""
        text = f"{message.text} (at {url or 'unknown'})"
        # Ignored, and only this: a resource that failed to load from a host other than the app's
        # own loopback address (a web font, an analytics beacon, a CDN script). These machines
        # and CI have no internet, so such loads fail there while they work for visitors; they
        # say nothing about the app. Every other error, including a failed load from the app
        # itself, counts.
        host = urlparse(url).hostname or ""
        if (
            message.text.startswith("Failed to load resource")
            and url.startswith("http")
            and host not in ("127.0.0.1", "localhost", "::1")
        ):
            self.ignored.append(text)
            return
        self.errors.append(text)

    def on_pageerror(self, error) -> None:
        self.errors.append(f"uncaught: {error}")


@dataclass
class Opened:
    page: Page
    console: Console


def panel(page: Page) -> Locator:
    """The selected tab's panel (only one is displayed at a time)."""
    return page.locator('[role="tabpanel"]:visible')


def open_tab(page: Page, name: str) -> Locator:
    """Selects a tab as a visitor would: from the tab bar, or on a narrow screen, where Gradio keeps
    the tabs that do not fit behind a "More tabs" (⋯) button, from that menu."""
    expect(page.get_by_role("tablist")).to_be_visible()
    tab = page.get_by_role("tab", name=name)
    if tab.count():
        tab.click()
    else:
        page.get_by_role("button", name="More tabs").click()
        page.locator(".overflow-dropdown").get_by_role("button", name=name).click()
    expect(page.get_by_role("tab", name=name, selected=True)).to_be_visible()
    return panel(page)


def status(tab: Locator) -> Locator:
    return tab.locator(".prose.kling-status")


def run_two_lab_variants(page: Page) -> Locator:
    """Prompt Lab with two Text to Video variants run; the Lab's panel, once both clips are there."""
    lab = open_tab(page, "Prompt Lab")
    lab.get_by_label("Text to Video").check()
    lab.get_by_label("Variant A: prompt").fill("A kite over a beach.")
    lab.get_by_label("Variant B: prompt").fill("A kite over a beach at dusk.")
    lab.get_by_role("button", name="Run all variants").click()
    expect(lab.locator(".kling-lab-grid video[src]")).to_have_count(2, timeout=CLIP_TIMEOUT)
    return lab


def count(tab: Locator) -> Locator:
    return tab.locator(".prose.kling-count")


def prompt_box(tab: Locator) -> Locator:
    return tab.get_by_label("Prompt", exact=True)


def in_view(locator, viewport: dict) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]
