"""A shared Image to Video link opened in a real browser, at 1280x900 and on a 390x844 phone, in
English and Chinese: it carries the prompt but never the start image, and the opened page says so
plainly and where to add it; a Text to Video link, which needs no image, says nothing of one. Same
browser, app fixtures and rules as tests/browser/test_page.py."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.helpers.browser import SIZES, panel, status

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from playwright.sync_api import expect  # noqa: E402 (tests/helpers/browser.py skips the module first when there is no browser)

WORDS = {
    "en-US": ("Image to Video", "the start image is not part of a link", "Start image", "Text to Video"),
    "zh-CN": ("图生视频", "起始图片不包含在链接中", "起始图片", "文生视频"),
}


@pytest.mark.parametrize("lang", WORDS)
@pytest.mark.parametrize("size", SIZES)
def test_an_image_to_video_link_says_its_image_is_not_part_of_it(preview_app, open_page, size, lang):
    i2v, missing, field, t2v = WORDS[lang]
    page = open_page(preview_app, locale=lang, **SIZES[size]).page
    page.goto(f"{preview_app.url}/?{urlencode({'tab': 'i2v', 'prompt': 'The cat blinks.', 'duration': '5'})}")
    expect(page.get_by_role("tab", name=i2v, selected=True)).to_be_visible()
    note = status(panel(page))
    expect(note).to_contain_text(missing)
    expect(note).to_contain_text(field)  # where to add it, named as the field is labelled
    expect(panel(page).get_by_text(field, exact=True).first).to_be_visible()  # the field's own label

    page.goto(f"{preview_app.url}/?{urlencode({'tab': 't2v', 'prompt': 'A kite.', 'aspect_ratio': '1:1'})}")
    expect(page.get_by_role("tab", name=t2v, selected=True)).to_be_visible()
    expect(page.get_by_text(missing)).to_have_count(0)
