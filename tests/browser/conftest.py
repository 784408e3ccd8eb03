"""The browser tests' fixtures: one Chromium per test module, a page opened in a fresh context, and a
bare Gradio page to compare with."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest

from tests.helpers.bare_page import bare_page
from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS, UI_TIMEOUT, Console, Opened, panel
from tests.helpers.launch import LaunchedApp
from tests.helpers.sim import free_port

# isort: off
# After the helpers: without a browser, importing them skips this folder (fails it in CI).
from playwright.sync_api import Browser, expect, sync_playwright
# isort: on


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser) -> Iterator[Callable[..., Opened]]:
    """Opens the app in a fresh browser context (no shared local storage) and waits until the
    page has loaded and its load event (which paints the price) has run."""
    contexts = []

    def _open(app: LaunchedApp, **context_options) -> Opened:
        context = browser.new_context(**({"viewport": {"width": 1280, "height": 900}} | context_options))
        context.set_default_timeout(UI_TIMEOUT)
        contexts.append(context)
        page = context.new_page()
        console = Console(app.url)
        page.on("console", console.on_console)
        page.on("pageerror", console.on_pageerror)
        page.goto(app.url, wait_until="load")
        page.wait_for_selector(".gradio-container")
        # `demo.load` fills the price beside Generate: once it shows, the page is fully wired.
        expect(panel(page).locator(".prose.kling-price")).to_contain_text(re.compile(r"preview|\$"), timeout=UI_TIMEOUT)
        return Opened(page, console)

    yield _open
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def bare_url() -> Iterator[str]:
    demo = bare_page()
    demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", server_port=free_port())
    yield demo.local_url
    demo.close()
