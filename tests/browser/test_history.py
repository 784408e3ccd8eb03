"""History in a real browser at 1280x900 (English) and on a 390x844 phone (Chinese): each row's
thumbnail loads, no cell's text overflows its cell (at 1280 Price and Task id are whole; on a
phone the prompt shows a readable line), and a cross-faded stitch says which clip it is cutting
before the film arrives. Same browser, app fixtures and rules as tests/browser/test_page.py."""

from __future__ import annotations

import re

import pytest

from tests.helpers.browser import CLIP_TIMEOUT, LOADED_JS, PHONE, UI_TIMEOUT, open_tab, status

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from playwright.sync_api import Locator, Page, expect  # noqa: E402 (tests/helpers/browser.py skips the module first)

# The second has a word wider than the prompt's column at either size: it wraps inside its cell too.
PROMPTS = (
    "A paper kite climbs over the golden dunes at sunset while the camera slowly pushes in.",
    "A lighthouse in a storm, waves crashing: " + "W" * 40,
)
SIZES = {
    "laptop": ({"viewport": {"width": 1280, "height": 900}, "locale": "en-US"}, "en"),
    "phone": ({"viewport": PHONE, "is_mobile": True, "has_touch": True, "locale": "zh-CN"}, "zh"),
}
WORDS = {
    "en": {
        "t2v": "Text to Video",
        "history": "History",
        "prompt": "Prompt",
        "generate": "Generate",
        "clips": "Clips, in the order they play",
        "fade": "number input for Cross-fade (seconds)",
        "stitch": "Stitch",
        "cutting": r"Cutting clip \d of 2",
    },
    "zh": {
        "t2v": "文生视频",
        "history": "历史记录",
        "prompt": "提示词",
        "generate": "生成",
        "clips": "视频（按播放顺序）",
        "fade": "number input for 交叉淡化（秒）",
        "stitch": "拼接",
        "cutting": r"正在剪辑第 \d 个视频，共 2 个",
    },
}

# Every cell on screen, header and body: where it is, and whether its text fits inside it.
CELLS_JS = """grid => [...grid.querySelectorAll('th[data-heading], [role=gridcell]')]
  .filter(cell => cell.getBoundingClientRect().width > 0)
  .map(cell => {
    const box = cell.getBoundingClientRect(), text = cell.querySelector('span') || cell;
    return {col: Number(cell.dataset.col ?? cell.dataset.heading), left: box.left, right: box.right,
            text: cell.innerText.trim(), scroll: text.scrollWidth, client: text.clientWidth,
            textRight: text.getBoundingClientRect().right};
  })"""

# The characters of a cell's text on its first line (the line a glance reads).
FIRST_LINE_JS = """span => {
  const node = [...span.childNodes].find(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
  const range = document.createRange(); let top = null, count = 0;
  for (let i = 0; i < node.textContent.length; i++) {
    range.setStart(node, i); range.setEnd(node, i + 1);
    const rect = range.getBoundingClientRect();
    if (top === null) top = rect.top;
    if (Math.abs(rect.top - top) > 2) break;
    count++;
  }
  return count;
}"""

# Progress lines seen on the panel while no film was there yet.
WATCH_PROGRESS_JS = """(panel, pattern) => {
  window.__progress = [];
  const re = new RegExp(pattern);
  new MutationObserver(() => {
    const seen = panel.innerText.match(re);
    if (seen && !document.querySelector('#kling-film video[src]')) window.__progress.push(seen[0]);
  }).observe(panel, {subtree: true, childList: true, characterData: true});
}"""


def generate(page: Page, words: dict[str, str], prompt: str) -> None:
    tab = open_tab(page, words["t2v"])
    tab.get_by_label(words["prompt"], exact=True).fill(prompt)
    tab.get_by_role("button", name=words["generate"]).click()
    # The tab still says the last run's ✅ until this run's first words arrive.
    expect(status(tab)).to_contain_text("⏳", timeout=CLIP_TIMEOUT)
    expect(status(tab)).to_contain_text("✅", timeout=CLIP_TIMEOUT)


def thumbnails_load(history: Locator, rows: int) -> None:
    images = history.locator("[role=gridcell] img.kling-thumb")
    # A row listed while its clip was still being saved shows the box until History's timer lists
    # it again (every 3 s while a task runs).
    expect(images).to_have_count(rows, timeout=UI_TIMEOUT)
    for n in range(rows):
        image = images.nth(n)
        image.scroll_into_view_if_needed()  # lazy: loaded once in view
        assert image.evaluate(LOADED_JS), image.get_attribute("src")
    assert history.locator("[role=gridcell] .kling-thumb-none").count() == 0


def stitch_shows_progress(page: Page, history: Locator, words: dict[str, str]) -> None:
    picker = history.get_by_label(words["clips"])
    for n in range(2):
        picker.click()
        page.get_by_role("option").nth(0 if n == 0 else 1).click()
    page.keyboard.press("Escape")
    fade = history.get_by_label(words["fade"])
    fade.fill("0.5")
    fade.press("Tab")
    history.evaluate(WATCH_PROGRESS_JS, words["cutting"])
    history.get_by_role("button", name=words["stitch"], exact=True).click()
    expect(page.locator("#kling-film video[src]")).to_be_attached(timeout=CLIP_TIMEOUT)
    seen = page.evaluate("window.__progress")
    assert seen and all(re.fullmatch(words["cutting"], line) for line in seen), seen


@pytest.mark.parametrize("size", SIZES)
def test_history_shows_thumbnails_fits_its_columns_and_a_stitch_shows_progress(preview_app, open_page, size):
    options, lang = SIZES[size]
    words = WORDS[lang]
    opened = open_page(preview_app, **options)
    page = opened.page
    for prompt in PROMPTS:
        generate(page, words, prompt)
    history = open_tab(page, words["history"])
    grid = history.get_by_role("grid")
    expect(grid.locator("[role=gridcell] span", has_text=PROMPTS[0])).to_be_visible()
    thumbnails_load(history, len(PROMPTS))

    grid.scroll_into_view_if_needed()
    cells = grid.evaluate(CELLS_JS)
    wrap = grid.bounding_box()
    assert wrap is not None
    for cell in cells:  # no cell's text is wider than its cell, and no cell leaves the table
        assert cell["scroll"] <= cell["client"] + 1 and cell["textRight"] <= cell["right"] + 1, cell
        assert cell["right"] <= wrap["x"] + wrap["width"] + 1, (cell, wrap)
    if size == "laptop":
        ids = [cell["text"] for cell in cells if cell["col"] == 7][1:]  # below the header
        assert len(ids) == 2 and all(re.fullmatch(r"[0-9a-f]{32}", text) for text in ids), ids
        assert [cell["text"] for cell in cells if cell["col"] == 6][1:] == ["free", "free"]
        assert grid.evaluate("g => g.scrollWidth <= g.clientWidth")  # nothing hidden to the right
    else:
        prompt = grid.locator("[role=gridcell] span", has_text=PROMPTS[0])
        box = prompt.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        assert prompt.evaluate(FIRST_LINE_JS) >= 20

    # Selection still works through the thumbnail's cell: the newest row's task opens beside its clip.
    grid.get_by_test_id("cell-0-0").click()
    expect(history.locator(".prose").filter(has_text="A lighthouse in a storm, waves crashing").first).to_be_visible()
    expect(history.locator("video[src]").first).to_be_attached(timeout=CLIP_TIMEOUT)

    stitch_shows_progress(page, history, words)
    assert opened.console.errors == [], opened.console.errors
