"""Text to Video's examples on a Space with no showcase: each tile shows its example's poster (a
picture drawn from its prompt, in its aspect ratio), never a blank card, at 1280x900 and on a
390x844 phone. Same browser, app fixtures and rules as tests/browser/test_page.py."""

from __future__ import annotations

import pytest

from kling.examples import T2V_EXAMPLES
from tests.helpers.browser import SIZES, open_tab

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from playwright.sync_api import expect  # noqa: E402 (tests/helpers/browser.py skips the module first when there is no browser)

# What an <img> shows, read back through a canvas: its natural size and how much its pixels vary.
PIXELS = """img => {
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const pen = canvas.getContext('2d');
    pen.drawImage(img, 0, 0);
    const data = pen.getImageData(0, 0, canvas.width, canvas.height).data;
    let sum = 0, sq = 0, n = 0;
    for (let i = 0; i < data.length; i += 4) { const v = data[i + 1]; sum += v; sq += v * v; n++; }
    const mean = sum / n;
    return {src: img.currentSrc, w: img.naturalWidth, h: img.naturalHeight, spread: Math.sqrt(sq / n - mean * mean)};
}"""


@pytest.mark.parametrize("size", SIZES)
def test_text_to_video_examples_show_their_posters_not_blank_tiles(preview_app, open_page, size):
    page = open_page(preview_app, **SIZES[size]).page
    tab = open_tab(page, "Text to Video")
    gallery = tab.locator(".kling-examples")
    expect(gallery.locator("img")).to_have_count(len(T2V_EXAMPLES))
    for example in T2V_EXAMPLES:
        thumb = gallery.get_by_alt_text(f"{example.title} ({example.aspect_ratio})", exact=True)
        expect(thumb).to_be_visible()
        thumb.scroll_into_view_if_needed()  # a gallery image below the fold loads lazily, when seen
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
        shown = thumb.evaluate(PIXELS)
        assert f"{example.key}.jpg" in shown["src"], shown["src"]  # the committed poster, by name
        w, h = (int(side) for side in example.aspect_ratio.split(":"))
        assert abs(shown["w"] / shown["h"] - w / h) < 0.02, shown
        assert shown["spread"] > 20, f"{example.key}: a blank tile ({shown})"
        box = thumb.bounding_box()
        assert box is not None and box["height"] >= 60, box  # a tile a thumb can hit, not a strip
