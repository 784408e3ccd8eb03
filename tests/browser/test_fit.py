"""What a visitor sees fits the screen: example thumbnails a thumb can hit on a 390x844 phone, with
their captions whole and no blank band under them; a portrait clip and its controls inside a
1280x900 laptop window. Same browser, app fixtures and rules as
tests/browser/test_page.py."""

from __future__ import annotations

import pytest

from kling.examples import STARTERS
from tests.helpers.browser import CLIP_TIMEOUT, LOADED_JS, PHONE, open_tab, prompt_box, status

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from playwright.sync_api import expect  # noqa: E402 (tests/helpers/browser.py skips the module first when there is no browser)

PHONE_SIZE = {"viewport": PHONE, "is_mobile": True, "has_touch": True}
# A gallery's parts, measured where they are drawn: its box, its label's box, each thumbnail's box
# and whether each caption shows its whole text (no ellipsis, no clipped line).
GALLERY_JS = """g => {
    const box = el => {
        const r = el.getBoundingClientRect();
        return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height, width: r.width};
    };
    return {
        gallery: box(g),
        label: box(g.querySelector('label[data-testid="block-label"]')),
        thumbs: [...g.querySelectorAll('button.thumbnail-item')].map(box),
        captions: [...g.querySelectorAll('.caption-label')].map(c =>
            c.scrollWidth <= c.clientWidth && c.scrollHeight <= c.clientHeight),
    };
}"""

# True once the clip's size is known (the player takes its shape from it).
METADATA_JS = """v => v.readyState >= 1
    || new Promise(done => v.addEventListener('loadedmetadata', () => done(true), {once: true}))"""


def test_phone_example_thumbnails_are_tall_whole_and_without_blank_space_below(preview_app, open_page):
    page = open_page(preview_app, **PHONE_SIZE).page
    tab = open_tab(page, "Image to Video")
    gallery = tab.locator(".kling-examples")
    gallery.scroll_into_view_if_needed()
    images = gallery.locator("img")
    expect(images).to_have_count(len(STARTERS))
    for index in range(len(STARTERS)):
        images.nth(index).scroll_into_view_if_needed()
        assert page.wait_for_function(LOADED_JS, arg=images.nth(index).element_handle()).json_value()
    shown = gallery.evaluate(GALLERY_JS)
    width = page.evaluate("window.innerWidth")
    for thumb in shown["thumbs"]:
        assert thumb["height"] >= 100, shown  # a thumb can hit it: not a squashed strip
        assert thumb["left"] >= 0 and thumb["right"] <= width, shown  # none cut off at the right
        assert thumb["top"] >= shown["label"]["bottom"] - 1, shown  # the label does not cover them
    assert all(shown["captions"]), shown  # every caption whole ("Chelsea the cat", not "Chelse…")
    below = shown["gallery"]["bottom"] - max(thumb["bottom"] for thumb in shown["thumbs"])
    assert below < 40, shown  # no blank band under the examples


def test_a_portrait_clip_and_its_controls_fit_a_laptop_window(preview_app, open_page):
    page = open_page(preview_app).page  # 1280x900
    tab = open_tab(page, "Text to Video")
    prompt_box(tab).fill("A paper lantern rising over a night harbour.")
    tab.get_by_label("9:16").check()
    tab.get_by_role("button", name="Generate").click()
    expect(status(tab)).to_contain_text("Done", timeout=CLIP_TIMEOUT)
    video = tab.locator(".kling-player video[src]")
    expect(video).to_be_visible()
    assert video.evaluate(METADATA_JS)
    player = tab.locator(".kling-player")
    player.scroll_into_view_if_needed()
    player.hover()  # Gradio shows the player's controls on hover
    controls = player.locator(".controls")
    expect(controls).to_be_visible()
    height = page.evaluate("window.innerHeight")
    box, bar = player.bounding_box(), controls.bounding_box()
    assert box is not None and bar is not None
    assert box["height"] <= height, (box, height)  # 1067 px in a 900 px window before
    assert box["y"] >= 0 and box["y"] + box["height"] <= height + 1, box  # the whole player on screen
    assert bar["y"] >= 0 and bar["y"] + bar["height"] <= height + 1, bar  # its controls too
    assert box["height"] >= 0.6 * height, box  # capped, not shrunk to a stamp


# Where the result panel's parts are, in page coordinates (scrolling does not change them).
PANEL_JS = """tab => {
    const box = el => {
        if (!el) return null;
        const r = el.getBoundingClientRect();
        return {top: Math.round(r.top + scrollY), height: Math.round(r.height), width: Math.round(r.width)};
    };
    const player = tab.querySelector('.kling-player');
    return {
        player: box(player),
        frame: box(player.querySelector('.empty, video')),
        link: box([...tab.querySelectorAll('button')].find(b => b.innerText.startsWith('Copy link'))),
    };
}"""


def test_the_result_panel_has_its_final_shape_before_a_run_and_nothing_moves_when_it_starts(preview_app, open_page):
    page = open_page(preview_app).page  # 1280x900
    i2v = open_tab(page, "Image to Video")
    shown = i2v.evaluate(PANEL_JS)
    assert abs(shown["frame"]["width"] * 9 / 16 - shown["frame"]["height"]) <= 2, shown  # 16:9 until a clip

    tab = open_tab(page, "Text to Video")
    prompt_box(tab).fill("A paper lantern rising over a night harbour.")
    tab.get_by_label("1:1").check()
    frame = tab.locator(".kling-player .empty")
    expect(frame).to_be_visible()
    page.wait_for_function("el => Math.abs(el.offsetWidth - el.offsetHeight) <= 2", arg=frame.element_handle())
    before = tab.evaluate(PANEL_JS)
    player_bottom = before["player"]["top"] + before["player"]["height"]
    assert 0 <= before["link"]["top"] - player_bottom < 40, before  # "Copy link" right under the player

    tab.get_by_role("button", name="Generate").click()
    expect(status(tab)).to_contain_text("Task", timeout=CLIP_TIMEOUT)
    running = tab.evaluate(PANEL_JS)
    expect(status(tab)).to_contain_text("Done", timeout=CLIP_TIMEOUT)
    video = tab.locator(".kling-player video[src]")
    expect(video).to_be_visible()
    assert video.evaluate(METADATA_JS)
    done = tab.evaluate(PANEL_JS)
    for moment in (running, done):  # the player and the link stay where they were: nothing jumps
        assert moment["player"] == before["player"], (before, moment)
        assert moment["link"] == before["link"], (before, moment)
    assert done["frame"] == before["frame"], (before, done)  # the clip fills the frame it was given


def test_on_a_phone_the_clips_frame_follows_the_chosen_aspect_ratio(preview_app, open_page):
    page = open_page(preview_app, **PHONE_SIZE).page
    tab = open_tab(page, "Text to Video")
    frame = tab.locator(".kling-player .empty")
    for ratio, (w, h) in (("9:16", (9, 16)), ("1:1", (1, 1)), ("16:9", (16, 9))):
        tab.get_by_label(ratio).check()
        page.wait_for_function(
            "([el, w, h]) => Math.abs(el.offsetWidth * h / w - el.offsetHeight) <= 2",
            arg=[frame.element_handle(), w, h],
        )
        box = frame.bounding_box()
        assert box is not None and box["width"] >= 300, (ratio, box)  # the column's width, not a stamp
