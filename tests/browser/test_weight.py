"""A first visit's weight and order in a real browser: the first load weighs little more than a bare Gradio
page of the same components, and on a phone the examples come right after the form. Same browser,
app fixtures and rules as tests/browser/test_page.py (wait for elements, never for network idle)."""

from __future__ import annotations

import re

import pytest

from tests.helpers.browser import PHONE, SIZES, in_view, open_tab, panel
from tests.helpers.launch import LaunchedApp

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from playwright.sync_api import Page, expect  # noqa: E402 (tests/helpers/browser.py skips the module first when there is no browser)

MAX_RATIO = 1.5  # ours at most 1.5x the bare page: a first visit on a slow phone link must stay quick


def first_load_bytes(browser, url: str, ready, size: dict) -> tuple[int, dict[str, int]]:
    """Bytes transferred (bodies and headers, as compressed on the wire) by every request that
    finished between opening `url` at `size` and `ready(page)` returning, and the largest of them by URL."""
    context = browser.new_context(**size)
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        urls: dict[str, str] = {}
        sizes: dict[str, int] = {}
        cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
        cdp.on(
            "Network.loadingFinished",
            lambda e: sizes.__setitem__(urls.get(e["requestId"], e["requestId"]), int(e["encodedDataLength"])),
        )
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        page.goto(url, wait_until="load")
        ready(page)
        page.wait_for_timeout(500)  # the last loadingFinished events of what `ready` saw
        return sum(sizes.values()), dict(sorted(sizes.items(), key=lambda kv: -kv[1])[:8])
    finally:
        context.close()


def images_loaded(page: Page, selector: str) -> None:
    images = page.locator(selector)
    expect(images.first).to_be_visible()
    # Lazy thumbnails below the fold load once scrolled to: count them in, as a visitor gets them.
    images.last.scroll_into_view_if_needed()
    page.wait_for_function(
        "(sel) => [...document.querySelectorAll(sel)].every((img) => img.complete && img.naturalWidth > 0)",
        arg=selector,
    )


def ours_ready(page: Page) -> None:
    page.wait_for_selector(".gradio-container")
    expect(panel(page).locator(".prose.kling-price")).to_contain_text(re.compile(r"preview|\$"))
    expect(panel(page).get_by_role("button", name="Generate")).to_be_visible()
    images_loaded(page, '[role="tabpanel"]:not([hidden]) .kling-examples img')
    page.evaluate("document.fonts.ready")


def bare_ready(page: Page) -> None:
    page.wait_for_selector(".gradio-container")
    expect(page.get_by_role("button", name="Go", exact=True)).to_be_visible()
    expect(page.get_by_role("tab", name="Four")).to_be_visible()
    # Its (empty) player's module and the hls.js it imports load after the button shows: count them.
    expect(page.get_by_test_id("block-label").filter(has_text="clip")).to_be_visible()
    page.evaluate("document.fonts.ready")


@pytest.mark.parametrize("size", SIZES)
def test_the_first_load_weighs_at_most_one_and_a_half_bare_gradio_pages(
    preview_app: LaunchedApp,
    bare_url: str,
    browser,
    size: str,
):
    # Each page against the bare one at the same size: a phone may be served other images.
    ours, ours_top = first_load_bytes(browser, preview_app.url, ours_ready, SIZES[size])
    bare, bare_top = first_load_bytes(browser, bare_url, bare_ready, SIZES[size])
    print(f"\n{size} first load: ours {ours:,} B, bare Gradio page {bare:,} B, ratio {ours / bare:.2f}")
    print("ours, largest:", ours_top, "\nbare, largest:", bare_top)
    # No full-size sample photo on the first load: the gallery shows the 320 px thumbnails.
    assert not any(re.search(r"assets/[^/]+\.(png|jpg)$", url) for url in ours_top), ours_top
    assert ours <= MAX_RATIO * bare, (ours, bare, ours_top)


def test_on_a_phone_the_examples_follow_the_form_and_the_clips_frame_within_a_screen(preview_app, open_page):
    page = open_page(preview_app, **SIZES["phone"]).page
    for name in ("Image to Video", "Text to Video", "Prompt Lab", "History"):
        assert in_view(page.get_by_role("tab", name=name), PHONE), name
    for name in ("Image to Video", "Text to Video"):
        tab = open_tab(page, name)
        # The player is the clip's 16:9 frame from the start (so nothing moves when a clip comes),
        # never Gradio's 236-480 px empty box.
        frame = tab.locator(".kling-player .empty").bounding_box()
        assert frame is not None and abs(frame["width"] * 9 / 16 - frame["height"]) <= 2, (name, frame)
        first = tab.locator(".kling-examples img").first
        expect(first).to_be_visible()
        thumb = first.bounding_box()
        assert thumb is not None
        # The form ends with its accordions (Director's brief, Advanced); after them come the status,
        # the clip's frame, the link row and the gallery's label: within one screen.
        form_end = max(
            box["y"] + box["height"]
            for box in (a.bounding_box() for a in tab.locator(".gr-accordion").all())
            if box is not None and box["y"] < thumb["y"]
        )
        assert 0 < thumb["y"] - form_end < PHONE["height"], (name, form_end, thumb)
        # A thumbnail fits the phone's width (it scrolls into view; nothing sideways).
        assert thumb["x"] >= 0 and thumb["x"] + thumb["width"] <= PHONE["width"], (name, thumb)
