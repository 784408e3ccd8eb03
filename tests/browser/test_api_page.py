"""The "Use via API" page in a real browser: reachable from a 390x844 phone's footer as from a
laptop's, and naming every input (never `"[object Object]"`). Same browser, app fixtures and rules
as tests/browser/test_page.py."""

from __future__ import annotations

import pytest

from tests.helpers.browser import SIZES

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from playwright.sync_api import expect  # noqa: E402 (tests/helpers/browser.py skips the module first when there is no browser)

INPUTS = ("Start image", "Prompt", "Negative prompt", "Guidance scale", "Duration (seconds)", "End image (optional)")


@pytest.mark.parametrize("size", SIZES)
def test_use_via_api_is_reachable_and_names_every_input(preview_app, open_page, size):
    page = open_page(preview_app, **SIZES[size]).page
    link = page.locator("footer .show-api")
    link.scroll_into_view_if_needed()
    expect(link).to_be_visible()  # Gradio hides it under 640 px
    link.click()
    first = page.get_by_text('provided in the "Start image" Image component')
    expect(first.first).to_be_visible()
    docs = page.locator("body").inner_text()
    assert "[object Object]" not in docs
    for name in INPUTS:
        assert f'provided in the "{name}"' in docs, name
