"""Hostile visitors in a real browser: what a visitor typed is shown back as the text it is (History,
the Prompt Lab's labels, the error toast), never fetched as an image; History's "Use these settings"
fills the Image to Video form, image included. Same browser, app fixtures and rules as
tests/browser/test_page.py (Debian's Chromium, never `playwright install`; wait for elements, never for
network idle). Requests to the attacker's host are answered by the test, and counted."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlparse

import pytest

from tests.helpers.browser import CLIP_TIMEOUT, TASK_ID, open_tab, panel, prompt_box, status
from tests.helpers.paths import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from playwright.sync_api import Page, expect  # noqa: E402 (tests/helpers/browser.py skips the module first when there is no browser)

ATTACKER = "attacker.test"
MARKDOWN_IMAGE = f"![t](http://{ATTACKER}/history.png)"
HTML_IMAGE = f"<img src=//{ATTACKER}/status.png>"
LAB_IMAGE = f"![lab](http://{ATTACKER}/lab.png)"
TOAST_IMAGE = f"<img src=//{ATTACKER}/toast.png>"
PIXEL = bytes.fromhex(  # a 1x1 PNG, so a fetched image would load rather than fail quietly
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def watch_attacker(page: Page, hits: list[str]) -> None:
    """Record in `hits` every URL on the attacker's host the page's browser asks for (each
    answered with a pixel, as a real host would)."""

    def answer(route) -> None:
        hits.append(route.request.url)
        route.fulfill(status=200, content_type="image/png", body=PIXEL)

    page.context.route(re.compile(rf"^https?://{re.escape(ATTACKER)}/"), answer)
    page.context.on("request", lambda request: urlparse(request.url).hostname == ATTACKER and hits.append(request.url))


def test_a_visitors_markup_is_shown_as_text_in_history_the_lab_and_the_toast_and_never_fetched(preview_app, open_page):
    page = open_page(preview_app).page
    attacker_hits: list[str] = []
    watch_attacker(page, attacker_hits)
    typed = f"A kite {MARKDOWN_IMAGE} {HTML_IMAGE} **loud**"
    tab = open_tab(page, "Text to Video")
    prompt_box(tab).fill(typed)
    tab.get_by_role("button", name="Generate").click()
    expect(status(tab)).to_contain_text("Done", timeout=CLIP_TIMEOUT)
    task_id = TASK_ID.search(status(tab).inner_text()).group(1)

    history = open_tab(page, "History")
    table = history.get_by_role("grid")
    cell = table.get_by_test_id("cell-0-3")  # the prompt, after the thumbnail, the time and the status
    expect(cell).to_contain_text(MARKDOWN_IMAGE)  # the table's prompt cell, as typed
    cell.click()
    about = history.locator(".prose").filter(has_text=task_id).first
    expect(about).to_contain_text(typed)  # the selected row's settings: the prompt as text
    expect(about.locator("img")).to_have_count(0)
    expect(about.locator("strong", has_text="loud")).to_have_count(0)

    history.get_by_label("Resume any task id").fill(TOAST_IMAGE)
    history.get_by_role("button", name="Resume this id").click()
    refusal = history.get_by_test_id("markdown").filter(has_text="Not sent, nothing was charged")
    expect(refusal).to_contain_text(TOAST_IMAGE)  # the refusal quotes it as text
    expect(refusal.locator("img")).to_have_count(0)

    lab = open_tab(page, "Prompt Lab")
    lab.get_by_label("Text to Video").check()
    lab.get_by_label("Variant A: prompt").fill(f"A kite {LAB_IMAGE}")
    lab.get_by_label("Variant B: prompt").fill("A kite over a beach.")
    lab.get_by_role("button", name="Run all variants").click()
    expect(lab.locator(".kling-lab-grid video[src]")).to_have_count(2, timeout=CLIP_TIMEOUT)
    expect(lab.get_by_text(LAB_IMAGE).first).to_be_visible()  # variant A's label, as typed

    page.wait_for_timeout(1000)  # a late image load would be counted by now
    assert attacker_hits == [], attacker_hits


def test_use_these_settings_fills_the_image_to_video_form_with_its_image(preview_app, open_page):
    page = open_page(preview_app).page
    tab = open_tab(page, "Image to Video")
    tab.locator('input[type="file"]').first.set_input_files(ROOT / "assets" / "rocket.jpg")
    expect(tab.locator('[data-testid="image"]').first.locator("img")).to_be_visible()
    prompt = "The rocket lifts off into a clear sky. Camera slowly tilts up."
    prompt_box(tab).fill(prompt)
    tab.get_by_label("Negative prompt").fill("blur, flicker")
    tab.get_by_label("10").check()
    tab.get_by_role("button", name="Generate").click()
    expect(status(tab)).to_contain_text("Done", timeout=CLIP_TIMEOUT)

    page.reload(wait_until="load")  # an empty form; the browser keeps its id, so its History
    expect(panel(page).locator(".prose.kling-price")).to_contain_text(re.compile(r"preview|\$"))
    history = open_tab(page, "History")
    history.get_by_role("grid").get_by_test_id("cell-0-3").click()
    expect(history.locator(".prose").filter(has_text="rocket lifts off").first).to_be_visible()
    history.get_by_role("button", name="Use these settings").click()

    expect(page.get_by_role("tab", name="Image to Video", selected=True)).to_be_visible()
    tab = panel(page)
    expect(prompt_box(tab)).to_have_value(prompt)
    expect(tab.get_by_label("Negative prompt")).to_have_value("blur, flicker")
    expect(tab.get_by_label("10")).to_be_checked()
    image = tab.locator('[data-testid="image"]').first.locator("img")
    expect(image).to_be_visible()
    # The start image is the copy the task was made from, served from Gradio's cache.
    shown = page.evaluate(
        """async (src) => {
            const bytes = await (await fetch(src)).arrayBuffer();
            const digest = await crypto.subtle.digest('SHA-256', bytes);
            return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
        }""",
        image.get_attribute("src"),
    )
    copies = {hashlib.sha256(path.read_bytes()).hexdigest() for path in (preview_app.data_dir / "inputs").iterdir()}
    assert shown in copies, (shown, copies)
