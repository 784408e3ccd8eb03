"""An image checked as soon as it is uploaded, in a real browser at 1280x900 and on a 390x844
phone, in English and Chinese: a 200x150 start (or end) image is refused beside its field before
Generate, and the refusal after Generate names the field as the page labels it ("Start image"),
not as the API does ("image"). Same browser, app fixtures and rules as tests/browser/test_page.py."""

from __future__ import annotations

import pytest

from tests.helpers.browser import LOADED_JS, SIZES, open_tab, status
from tests.helpers.media import image_bytes

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from playwright.sync_api import expect  # noqa: E402 (tests/helpers/browser.py skips the module first when there is no browser)

WORDS = {
    "en-US": {
        "tab": "Image to Video",
        "prompt": "Prompt",
        "generate": "Generate",
        "small": "200x150 px is too small",
        "start": "Start image: 200x150 px is too small",
        "end": "End image: 200x150 px is too small",
    },
    "zh-CN": {
        "tab": "图生视频",
        "prompt": "提示词",
        "generate": "生成",
        "small": "200x150 像素太小",
        "start": "起始图片：200x150 像素太小",
        "end": "结束图片：200x150 像素太小",
    },
}


@pytest.mark.parametrize("lang", WORDS)
@pytest.mark.parametrize("size", SIZES)
def test_a_small_image_is_refused_beside_its_field_when_uploaded(preview_app, open_page, tmp_path, size, lang):
    words = WORDS[lang]
    page = open_page(preview_app, locale=lang, **SIZES[size]).page
    tab = open_tab(page, words["tab"])
    small = tmp_path / "small.png"
    small.write_bytes(image_bytes(200, 150))
    tab.locator('input[type="file"]').first.set_input_files(small)
    preview = tab.get_by_test_id("image").first.locator("img")
    expect(preview).to_be_visible()
    assert preview.evaluate(LOADED_JS)
    refusal = page.get_by_text(words["small"]).filter(visible=True)
    expect(refusal).to_have_count(1)  # at once, nothing clicked: beside the field
    expect(status(tab)).not_to_contain_text(words["small"])

    tab.get_by_label(words["prompt"], exact=True).fill("Camera slowly pushes in.")
    tab.locator('input[type="file"]').nth(1).set_input_files(small)  # the end image, as small
    expect(page.get_by_text(words["small"]).filter(visible=True)).to_have_count(2)
    tab.get_by_role("button", name=words["generate"], exact=True).click()
    expect(status(tab)).to_contain_text(words["start"])
    expect(status(tab)).to_contain_text(words["end"])
