"""What a click changed comes into view: the form an example filled at 1280x900, the status after
Generate on a 390x844 phone, the tab the Prompt Lab's "Use this one" filled. Same browser, app
fixtures and rules as tests/browser/test_page.py."""

from __future__ import annotations

import pytest

from kling.examples import STARTERS
from tests.helpers.browser import PHONE, open_tab, panel, prompt_box, status

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from playwright.sync_api import expect  # noqa: E402 (tests/helpers/browser.py skips the module first when there is no browser)

PHONE_SIZE = {"viewport": PHONE, "is_mobile": True, "has_touch": True}
# True once the element's top part (its first 60 px, or all of it if shorter) is on screen.
ON_SCREEN_JS = """el => {
    const r = el.getBoundingClientRect();
    return r.top >= 0 && r.top + Math.min(r.height, 60) <= window.innerHeight;
}"""
WAIT_MS = 5_000


def wait_on_screen(page, locator) -> None:
    page.wait_for_function(ON_SCREEN_JS, arg=locator.element_handle(), timeout=WAIT_MS)


def test_an_example_click_brings_the_form_it_filled_into_view(preview_app, open_page):
    page = open_page(preview_app).page  # 1280x900
    tab = open_tab(page, "Image to Video")
    thumb = tab.locator(".kling-examples img").nth(1)
    thumb.scroll_into_view_if_needed()
    assert not prompt_box(tab).evaluate(ON_SCREEN_JS)  # the examples are under the form
    thumb.click()
    expect(prompt_box(tab)).to_have_value(STARTERS[1].prompt)
    wait_on_screen(page, prompt_box(tab))  # the form it filled, not the examples under it
    wait_on_screen(page, tab.get_by_role("button", name="Generate"))


def test_on_a_phone_generate_brings_the_status_into_view(preview_app, open_page):
    page = open_page(preview_app, **PHONE_SIZE).page
    tab = open_tab(page, "Text to Video")
    prompt_box(tab).fill("A paper lantern rising over a night harbour.")
    tab.get_by_role("button", name="Generate").click()
    expect(status(tab)).to_contain_text("Task", timeout=30_000)
    wait_on_screen(page, status(tab))  # the run's progress, not the form's last fields
    box = status(tab).bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"], box  # the whole status


@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_the_labs_use_this_one_shows_the_filled_tab_from_its_top(preview_app, open_page, size):
    page = open_page(preview_app, **(PHONE_SIZE if size == "phone" else {})).page
    lab = open_tab(page, "Prompt Lab")
    lab.get_by_label("Text to Video").check()
    lab.get_by_label("Variant B: prompt").fill("A kite over a beach.")
    # Twice: back in the Lab for another look, the visitor uses the same variant again (its prompt
    # is already in the form, so nothing there changes that would scroll the page by itself).
    for _ in range(2):
        lab = open_tab(page, "Prompt Lab")
        use = lab.get_by_role("button", name="Use this one").nth(1)
        use.scroll_into_view_if_needed()
        use.click()
        expect(page.get_by_role("tab", name="Text to Video", selected=True)).to_be_visible()
        tab = panel(page)
        expect(prompt_box(tab)).to_have_value("A kite over a beach.")
        wait_on_screen(page, prompt_box(tab))  # the filled form, not the middle of another tab
