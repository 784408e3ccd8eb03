"""The Prompt Lab's layout in a real browser, at 1280x900 and 390x844: "Run all variants" and its
cost in sight on opening the tab (on a phone, right after the form), each variant's status, clip and
buttons together in one block, and the start image carried over from Image to Video. Same browser,
app fixtures and rules as tests/browser/test_page.py."""

from __future__ import annotations

import re

import pytest

from tests.helpers.browser import PHONE, SIZES, open_tab, run_two_lab_variants
from tests.helpers.media import image_bytes
from tests.helpers.paths import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from playwright.sync_api import expect  # noqa: E402 (tests/helpers/browser.py skips the module first when there is no browser)

WORDS = {
    "en": {"lab": "Prompt Lab", "i2v": "Image to Video", "t2v": "Text to Video", "clip": "Variant {}"},
    "zh": {"lab": "提示词实验室", "i2v": "图生视频", "t2v": "文生视频", "clip": "变体 {}"},
}
CARRIED = {"en": "brought over", "zh": "带过来"}


def box(locator) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None, locator
    return found


def bottom(b: dict[str, float]) -> float:
    return b["y"] + b["height"]


def clip(lab, letter: str, lang: str = "en"):
    """A variant's player, found by its label as the visitor reads it."""
    name = WORDS[lang]["clip"].format(letter)
    return lab.locator(f'.block:has(> label[data-testid="block-label"]:text-is("{name}"))')


def use_buttons(lab):
    return lab.get_by_role("button", name="Use this one")


def assert_together(lab, letters: str) -> None:
    """Each variant's "Use this one" (and "Continue" once shown) right under its own clip, in its
    clip's column, and above the block of the variant that comes next below it."""
    clips = [box(clip(lab, letter)) for letter in letters]
    continues = lab.get_by_role("button", name="Continue from the last frame")
    for i, (letter, player) in enumerate(zip(letters, clips)):
        buttons = [box(use_buttons(lab).nth(i))]
        if continues.count() == len(letters):  # after a run, every variant has its Continue
            buttons.append(box(continues.nth(i)))
        below = [other for other in clips[i + 1 :] if other["y"] > bottom(player) - 1]
        limit = min((other["y"] for other in below), default=float("inf"))
        for button in buttons:
            assert button["y"] >= bottom(player) - 1, (letter, button, player)  # under its clip
            assert button["y"] - bottom(player) <= 80, (letter, button, player)  # right under it
            assert player["x"] - 1 <= button["x"] and button["x"] + button["width"] <= player["x"] + player["width"] + 1
            assert bottom(button) <= limit, (letter, button, limit)  # before the next variant's block


@pytest.mark.parametrize("size", SIZES)
def test_run_and_its_cost_are_in_sight_on_opening_the_lab_and_right_after_the_form_on_a_phone(
    preview_app, open_page, size
):
    page = open_page(preview_app, **SIZES[size]).page
    lab = open_tab(page, "Prompt Lab")
    run = lab.get_by_role("button", name="Run all variants")
    price = lab.locator(".prose.kling-price")
    expect(price).to_contain_text("2 variants: free preview")
    if size == "laptop":  # no scrolling: the button and its cost line are inside the window
        for shown in (box(run), box(price)):
            assert shown["y"] >= 0 and bottom(shown) <= 900, shown
            assert shown["x"] >= 0 and shown["x"] + shown["width"] <= 1280, shown
        return
    # On a phone: the form (the last variant's duration), then Run, then the results.
    last_setting = box(lab.get_by_text("Duration (seconds)", exact=True).filter(visible=True).last)
    first_result = min(box(clip(lab, "A"))["y"], box(use_buttons(lab).first)["y"])
    assert bottom(last_setting) <= box(run)["y"] <= first_result, (last_setting, box(run), first_result)
    assert box(run)["x"] + box(run)["width"] <= PHONE["width"], box(run)


@pytest.mark.parametrize("size", SIZES)
def test_each_variants_buttons_sit_right_under_its_own_clip_before_a_run(preview_app, open_page, size):
    page = open_page(preview_app, **SIZES[size]).page
    lab = open_tab(page, "Prompt Lab")
    lab.get_by_label("4", exact=True).check()  # two rows of results on a laptop, four stacked on a phone
    expect(use_buttons(lab)).to_have_count(4)
    expect(clip(lab, "D")).to_be_visible()
    assert_together(lab, "ABCD")


@pytest.mark.parametrize("size", SIZES)
def test_after_a_preview_run_each_variants_status_clip_and_buttons_are_one_block(preview_app, open_page, size):
    page = open_page(preview_app, **SIZES[size]).page
    lab = run_two_lab_variants(page)
    continues = lab.get_by_role("button", name="Continue from the last frame")
    expect(continues).to_have_count(2)
    assert_together(lab, "AB")
    for letter in "AB":  # its label and status line right above its own clip, nothing between them
        status = box(lab.locator(".prose").filter(has_text=re.compile(rf"^{letter}: ")))
        player = box(clip(lab, letter))
        assert 0 <= player["y"] - bottom(status) <= 40, (letter, status, player)
        assert player["x"] - 1 <= status["x"] <= player["x"] + player["width"], (letter, status, player)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("size", SIZES)
def test_an_image_on_image_to_video_carries_over_to_an_empty_lab_and_never_replaces_the_labs_own(
    preview_app, open_page, size, lang, tmp_path
):
    words = WORDS[lang]
    page = open_page(preview_app, locale="zh-CN" if lang == "zh" else "en-US", **SIZES[size]).page
    i2v = open_tab(page, words["i2v"])
    i2v.locator('input[type="file"]').first.set_input_files(ROOT / "assets" / "rocket.jpg")
    # In the start image's box: the tab's examples may show the same photo.
    expect(i2v.locator("[data-testid='image'] img[src*='rocket.jpg']")).to_have_count(1)
    lab = open_tab(page, words["lab"])
    expect(lab.locator("img[src*='rocket.jpg']")).to_be_visible()  # the Lab's start image
    note = lab.locator(".prose.kling-lab-note")
    expect(note).to_contain_text(CARRIED[lang])
    # The visitor's own image in the Lab: kept when the Lab is opened again, whatever Image to Video holds.
    mine = tmp_path / "mine.png"
    mine.write_bytes(image_bytes(640, 480))
    lab.locator('input[type="file"]').first.set_input_files(mine)
    expect(lab.locator("img[src*='mine.png']")).to_be_visible()
    expect(note).to_be_hidden()  # it is no longer the image that came over
    open_tab(page, words["t2v"])
    lab = open_tab(page, words["lab"])
    expect(lab.locator("img[src*='mine.png']")).to_be_visible()
    expect(lab.locator("img[src*='rocket.jpg']")).to_have_count(0)
    expect(lab.locator(".prose.kling-lab-note")).to_be_hidden()
