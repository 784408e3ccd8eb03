"""A reload mid-run, in a real browser at 1280x900 and on a 390x844 phone: the task comes back in
its tab (its id, its settings, its status streaming again), then its clip; a reload after it ended
shows the clip; another visitor gets none of it; nothing is submitted again. One check in zh-CN.
Same browser, app fixtures and rules as tests/browser/test_page.py."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.helpers.browser import CLIP_TIMEOUT, SIZES, open_tab, panel, status

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from playwright.sync_api import Page, expect  # noqa: E402 (tests/helpers/browser.py skips the module first when there is no browser)

PROMPT = "A paper lantern rising over a night harbour."
TASK_ID = re.compile(r"(Task|任务)\s+([0-9a-f]{16,})")  # as the status line names it, in English or Chinese


@pytest.fixture
def slow_tasks(live_app) -> Iterator[None]:
    """Tasks that run long enough (about 12 s) for a reload to land in the middle of them."""
    simulator = live_app.simulator
    saved = simulator.config.process_s
    simulator.config.process_s = 10.0
    yield
    simulator.config.process_s = saved


def reload(page: Page) -> None:
    page.reload(wait_until="load")
    page.wait_for_selector(".gradio-container")
    expect(panel(page).locator(".prose.kling-price")).to_contain_text(re.compile(r"preview|\$|预览"))


def start_t2v(page: Page, tab_name: str, prompt: str, generate: str) -> str:
    """Generate on Text to Video (9:16) until the task has its id; the id. (5 s: the simulator
    renders the clip in this process, and a 10 s one would slow every other page on a busy machine.)"""
    tab = open_tab(page, tab_name)
    tab.get_by_label(prompt, exact=True).fill(PROMPT)
    tab.get_by_label("9:16").check()
    tab.get_by_role("button", name=generate).click()
    expect(status(tab)).to_contain_text(TASK_ID, timeout=30_000)
    return TASK_ID.search(status(tab).inner_text()).group(2)


@pytest.mark.parametrize("size", SIZES)
def test_a_reload_mid_run_brings_the_task_back_streaming_then_its_clip(live_app, open_page, slow_tasks, size):
    simulator = live_app.simulator
    page = open_page(live_app, **SIZES[size]).page
    task_id = start_t2v(page, "Text to Video", "Prompt", "Generate")
    submits = len(simulator.submits())

    reload(page)
    expect(page.get_by_role("tab", name="Text to Video", selected=True)).to_be_visible()
    tab = panel(page)
    expect(status(tab)).to_contain_text(task_id)
    expect(status(tab)).to_contain_text("Back after a reload")
    expect(status(tab)).to_contain_text(re.compile(r"⏳ (Task created|Queued|Generating)"))
    expect(tab.get_by_label("Prompt", exact=True)).to_have_value(PROMPT)
    expect(tab.get_by_label("9:16")).to_be_checked()
    # Streaming, not a snapshot: the status's clock moves on; Generate stays busy, Stop is offered.
    first = status(tab).inner_text()
    expect(status(tab)).not_to_have_text(first, timeout=10_000)
    expect(tab.get_by_role("button", name=re.compile("Generating"))).to_be_disabled()
    expect(tab.get_by_role("button", name="Stop waiting")).to_be_visible()

    expect(tab.locator("video[src]")).to_be_visible(timeout=CLIP_TIMEOUT)
    expect(status(tab)).to_contain_text("Done in")
    expect(status(tab)).to_contain_text(task_id)
    expect(tab.get_by_role("button", name="Generate")).to_be_enabled()

    reload(page)  # after it ended: the clip again, in its tab
    expect(page.get_by_role("tab", name="Text to Video", selected=True)).to_be_visible()
    tab = panel(page)
    expect(status(tab)).to_contain_text("Done in")
    expect(status(tab)).to_contain_text(task_id)
    expect(tab.locator("video[src]")).to_be_visible()
    assert len(simulator.submits()) == submits  # the reloads sent nothing


def test_another_visitor_gets_none_of_it_and_a_chinese_page_says_it_came_back(live_app, open_page, slow_tasks):
    simulator = live_app.simulator
    page = open_page(live_app, locale="zh-CN").page
    task_id = start_t2v(page, "文生视频", "提示词", "生成")
    submits = len(simulator.submits())

    reload(page)
    expect(page.get_by_role("tab", name="文生视频", selected=True)).to_be_visible()
    tab = panel(page)
    expect(status(tab)).to_contain_text(task_id)
    expect(status(tab)).to_contain_text("页面重新加载后恢复")
    expect(status(tab)).to_contain_text(re.compile(r"⏳ (任务已创建|在 WaveSpeed 排队|生成中)"))

    # Another browser (no stored id, so a fresh one): the page as a first visit shows it.
    stranger = open_page(live_app).page
    expect(stranger.get_by_role("tab", name="Image to Video", selected=True)).to_be_visible()
    expect(status(panel(stranger))).to_have_text("Ready.")
    open_tab(stranger, "Text to Video")
    expect(status(panel(stranger))).to_have_text("Ready.")
    expect(stranger.locator("body")).not_to_contain_text(task_id)

    expect(tab.locator("video[src]")).to_be_visible(timeout=CLIP_TIMEOUT)
    expect(status(tab)).to_contain_text("完成，用时")
    assert len(simulator.submits()) == submits
