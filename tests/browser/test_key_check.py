"""Saving a key in a real browser, at 1280x900 and on a 390x844 phone: when WaveSpeed cannot be
reached the key is kept but the page says, lastingly, that it is unchecked (never "Live"); a key
WaveSpeed refuses leaves the typed text in the box to fix. Same browser and rules as
tests/browser/test_page.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.browser import SIZES
from tests.helpers.launch import LaunchedApp, launch_app, stop
from tests.helpers.sim import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from playwright.sync_api import expect  # noqa: E402 (tests/helpers/browser.py skips the module first when there is no browser)


@pytest.fixture(scope="module")
def offline_app(tmp_path_factory) -> Iterator[LaunchedApp]:
    """No key of its own, and WaveSpeed at a port nothing listens on: as offline."""
    app = launch_app(tmp_path_factory.mktemp("offline"), {"WAVESPEED_BASE_URL": f"http://127.0.0.1:{free_port()}"})
    yield app
    stop(app)


@pytest.mark.parametrize("size", SIZES)
def test_a_key_that_could_not_be_checked_is_not_shown_as_live(offline_app, open_page, size):
    page = open_page(offline_app, **SIZES[size]).page
    banner = page.locator("#mode-banner")
    page.get_by_text("Your API key").click()
    page.get_by_label("WaveSpeed API key").fill("wsk_madeup_abcdef")
    page.get_by_role("button", name="Save in this browser").click()
    expect(banner).to_contain_text("Your key is saved but not checked")
    expect(page.get_by_text("ending in cdef").filter(visible=True).first).to_contain_text("not checked")
    page.wait_for_timeout(6000)  # a notice would have faded by now: this stays
    expect(banner).to_contain_text("not checked")
    expect(banner).not_to_contain_text("Live")


@pytest.mark.parametrize("size", SIZES)
def test_a_refused_key_keeps_the_typed_text_to_fix(live_app, open_page, size):
    page = open_page(live_app, **SIZES[size]).page
    page.get_by_text("Your API key").click()
    box = page.get_by_label("WaveSpeed API key")
    box.fill("wsk_typo_in_the_key")
    page.get_by_role("button", name="Save in this browser").click()
    expect(page.get_by_text("WaveSpeed refused that key (401)")).to_be_visible()
    expect(box).to_have_value("wsk_typo_in_the_key")
