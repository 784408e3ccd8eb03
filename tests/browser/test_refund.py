"""A task WaveSpeed fails, seen in a real browser at 1280x900 and on a 390x844 phone: the status
says WaveSpeed refunds it, and History shows it refunded and leaves it out of the spend. Same
browser, app fixtures and rules as tests/browser/test_page.py."""

from __future__ import annotations

import pytest

from tests.helpers.browser import CLIP_TIMEOUT, SIZES, open_tab, prompt_box, status

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from playwright.sync_api import expect  # noqa: E402 (tests/helpers/browser.py skips the module first when there is no browser)


@pytest.mark.parametrize("size", SIZES)
def test_a_failed_task_says_it_is_refunded_and_history_does_not_count_it(live_app, open_page, size):
    live_app.simulator.faults.fail_code = 1200
    try:
        page = open_page(live_app, **SIZES[size]).page
        tab = open_tab(page, "Text to Video")
        prompt_box(tab).fill("A lighthouse in a storm, waves crashing.")
        tab.get_by_role("button", name="Generate").click()
        expect(status(tab)).to_contain_text("Failed after", timeout=CLIP_TIMEOUT)
        expect(status(tab)).to_contain_text("WaveSpeed refunds a failed task: the $1.30 comes back")
    finally:
        live_app.simulator.faults.fail_code = None
    history = open_tab(page, "History")
    # In the table's text: whether the Price column fits the width is the table's layout, not this.
    expect(history).to_contain_text("$1.30 refunded")
    expect(history).to_contain_text("spent on live clips: $0.00")
    expect(history).to_contain_text("failed, refunded by WaveSpeed and not counted")
