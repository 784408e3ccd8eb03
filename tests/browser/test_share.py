"""Sharing in Chromium: Share under a finished clip shows an absolute link with a copy button; a
fresh browser context (nobody's session) opens it and sees the clip play and the prompt; the
Shared tab shows it when opened; Stop sharing turns the link into a 404. Its picture of the shared
page is the docs' docs/screenshots/shared.png."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.helpers.browser import CLIP_TIMEOUT, open_tab, prompt_box, status

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from playwright.sync_api import expect  # noqa: E402 (tests/helpers/browser.py skips the module first when there is no browser)

PROMPT = "A red kite dances over a windy beach at golden hour, slow tracking shot"


def test_share_then_a_fresh_browser_plays_the_link_then_stop_sharing(preview_app, open_page, browser, tmp_path):
    opened = open_page(preview_app)
    page = opened.page
    tab = open_tab(page, "Text to Video")
    prompt_box(tab).fill(PROMPT)
    tab.get_by_role("button", name="Generate").click()
    expect(status(tab)).to_contain_text("Done", timeout=CLIP_TIMEOUT)
    tab.get_by_role("button", name="Share", exact=True).click()
    link_box = tab.locator(".kling-share-link textarea, .kling-share-link input").first
    expect(link_box).to_have_value(re.compile(rf"^{re.escape(preview_app.url)}/clip/[A-Za-z0-9_-]{{22}}$"))
    link = link_box.input_value()
    expect(tab.locator(".kling-share-link button").first).to_be_visible()  # the copy button

    visitor = browser.new_context(viewport={"width": 1000, "height": 900})
    try:
        shared = visitor.new_page()
        shared.goto(link, wait_until="load")
        expect(shared.locator("#prompt")).to_have_text(PROMPT)
        expect(shared.get_by_text("PREVIEW")).to_be_visible()
        shared.wait_for_function("document.querySelector('#clip').readyState >= 2", timeout=30_000)
        width = shared.evaluate("document.querySelector('#clip').videoWidth")
        assert width == 1280
        shared.evaluate("document.querySelector('#clip').play()")
        shared.wait_for_function("document.querySelector('#clip').currentTime > 0.2", timeout=30_000)
        shared.evaluate("v => { const c = document.querySelector('#clip'); c.pause(); c.currentTime = 2.0; }")
        shared.wait_for_timeout(500)
        # The docs' docs/screenshots/shared.png is this picture (copied from a run of this test).
        shared.screenshot(path=str(tmp_path / "shared.png"), full_page=True)
    finally:
        visitor.close()

    gallery = open_tab(page, "Shared")
    expect(gallery.locator(".kling-shared-card")).to_have_count(1, timeout=30_000)
    expect(gallery.locator("figcaption")).to_have_text(PROMPT)

    tab = open_tab(page, "Text to Video")
    tab.get_by_role("button", name="Stop sharing").click()
    expect(tab.get_by_role("button", name="Share", exact=True)).to_be_visible()
    assert httpx.get(link, timeout=30).status_code == 404
    assert opened.console.errors == []
