"""The empty result column's final shape: before the first run each generate tab's player shows its
first example's still (the showcase clip's poster where the Space has one), captioned as an example
and not a result in the page's language, and the frame does not move when a run starts. At 1280x900
and 390x844, in English and Chinese. Same browser, app fixtures and rules as tests/browser/test_page.py."""

from __future__ import annotations

import pytest

from kling.strings import SCRIPT
from tests.helpers.browser import LOADED_JS, SIZES, open_tab, prompt_box

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from playwright.sync_api import expect  # noqa: E402 (tests/helpers/browser.py skips the module first when there is no browser)

LOCALES = {"en": "en-US", "zh": "zh-CN"}
# The empty player's poster as the page draws it: its background's address and its caption.
DRAWN = """el => {
    const style = getComputedStyle(el), after = getComputedStyle(el, '::after');
    const found = /url\\("?([^")]+)"?\\)/.exec(style.backgroundImage);
    return {url: found ? found[1] : null, caption: after.content};
}"""
# Where an element is on the page (not the viewport: a phone scrolls to the status on Generate).
ON_PAGE = """el => { const r = el.getBoundingClientRect();
    return [r.left + scrollX, r.top + scrollY, r.width, r.height].map(Math.round); }"""
# Once the status says the run has started (⏳): the poster as drawn, and where it and the link are.
WHILE_RUNNING = f"""([tab, link]) => {{
    const status = tab.querySelector('.prose.kling-status'), frame = tab.querySelector('.kling-player .empty');
    if (!status || !status.innerText.includes('⏳')) return null;
    if (!frame) return {{drawn: null, places: null}};
    return {{drawn: ({DRAWN})(frame), places: [({ON_PAGE})(frame), ({ON_PAGE})(link)]}};
}}"""
# Loads an address as an image: its natural size, or null when it does not load.
IMAGE_SIZE = """url => new Promise(done => {
    const img = new Image();
    img.onload = () => done([img.naturalWidth, img.naturalHeight]);
    img.onerror = () => done(null);
    img.src = url;
})"""


def drawn_poster(tab):
    frame = tab.locator(".kling-player .empty")
    expect(frame).to_be_visible()
    frame.page.wait_for_function(f"el => ({DRAWN})(el).url", arg=frame.element_handle())
    return frame.evaluate(DRAWN)


@pytest.mark.parametrize("lang", LOCALES)
@pytest.mark.parametrize("size", SIZES)
def test_before_the_first_run_each_player_shows_its_first_example_captioned_as_an_example(
    preview_app, open_page, size, lang
):
    page = open_page(preview_app, locale=LOCALES[lang], **SIZES[size]).page
    for name in ("Image to Video", "Text to Video") if lang == "en" else ("图生视频", "文生视频"):
        tab = open_tab(page, name)
        poster = drawn_poster(tab)
        # The same file as the tab's first example tile (the gallery's address for it).
        first = tab.locator(".kling-examples img").first
        first.scroll_into_view_if_needed()
        assert first.evaluate(LOADED_JS)
        assert poster["url"] == first.evaluate("img => img.currentSrc"), (name, poster)
        assert page.evaluate(IMAGE_SIZE, poster["url"]) is not None, poster
        assert poster["caption"] == '"' + SCRIPT[lang]["poster_caption"] + '"', (name, poster)


@pytest.mark.parametrize("size", SIZES)
def test_the_poster_does_not_move_anything_when_a_run_starts(preview_app, open_page, size):
    page = open_page(preview_app, **SIZES[size]).page
    tab = open_tab(page, "Text to Video")
    drawn = drawn_poster(tab)
    frame, link = tab.locator(".kling-player .empty"), tab.get_by_role("button", name="Copy link to these settings")
    before = [frame.evaluate(ON_PAGE), link.evaluate(ON_PAGE)]
    prompt_box(tab).fill("A paper lantern rising into the night sky")
    tab.get_by_role("button", name="Generate").click()
    # Measured in the same frame the run's first words are seen in: on a loaded machine a second
    # look could come after the clip, when the poster has rightly given way to it.
    running = page.wait_for_function(
        WHILE_RUNNING, arg=[tab.element_handle(), link.element_handle()], timeout=30_000, polling="raf"
    ).json_value()
    assert running["drawn"] == drawn, "the poster stays while the clip is being made"
    assert before == running["places"], (before, running)
