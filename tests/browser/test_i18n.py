"""The page's language in a real browser: Simplified Chinese for a browser set to zh-CN, and not a
Chinese character for one set to en-US. Same browser, app fixtures and rules as tests/browser/test_page.py
(Debian's Chromium, never `playwright install`; wait for elements, never for network idle)."""

from __future__ import annotations

import re

import pytest

from kling.api.params import PROMPT_MAX_CHARS
from tests.helpers.browser import count, open_tab, panel, status

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from playwright.sync_api import expect  # noqa: E402 (tests/helpers/browser.py skips the module first when there is no browser)

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")  # Chinese characters and punctuation
OVERLONG = "猫" * (PROMPT_MAX_CHARS + 1)  # one Chinese character counts as one, as any other does


def test_a_browser_in_chinese_gets_the_page_in_chinese(preview_app, open_page):
    page = open_page(preview_app, locale="zh-CN").page
    for name in ("图生视频", "文生视频", "提示词实验室", "历史记录"):
        expect(page.get_by_role("tab", name=name)).to_be_visible()
    expect(page.locator("#mode-banner")).to_contain_text("预览模式")
    examples = panel(page).locator(".kling-examples")
    expect(examples.get_by_alt_text("猫咪切尔西", exact=True)).to_be_visible()  # the examples' titles too
    tab = open_tab(page, "文生视频")
    expect(tab.locator(".prose.kling-price")).to_contain_text("此处为免费预览（模拟）。正式生成：5 秒 $1.30")
    expect(tab.get_by_text("画面比例", exact=True)).to_be_visible()
    expect(tab.get_by_role("button", name="生成")).to_be_visible()

    prompt = tab.get_by_label("提示词", exact=True)
    prompt.fill(OVERLONG)
    expect(count(tab)).to_have_text(f"⚠️ {PROMPT_MAX_CHARS + 1} / {PROMPT_MAX_CHARS} 个字符：超出上限 1 个")
    tab.get_by_role("button", name="生成").click()
    refusal = status(tab)
    expect(refusal).to_contain_text("未发送，没有收费。")
    expect(refusal).to_contain_text(f"提示词：{PROMPT_MAX_CHARS + 1} 个字符；上限为 {PROMPT_MAX_CHARS}")

    lab = open_tab(page, "提示词实验室")
    expect(lab.get_by_label("文生视频")).to_be_visible()  # the model choice, by its Chinese name
    expect(lab.get_by_role("button", name="运行全部变体")).to_be_visible()
    history = open_tab(page, "历史记录")
    expect(history.locator("table").first).to_contain_text("任务 ID")
    expect(history.get_by_role("button", name="拼接")).to_be_visible()


def test_a_browser_in_english_sees_no_chinese(preview_app, open_page):
    page = open_page(preview_app, locale="en-US").page
    tab = open_tab(page, "Text to Video")
    tab.get_by_label("Prompt", exact=True).fill("x" * (PROMPT_MAX_CHARS + 1))
    tab.get_by_role("button", name="Generate").click()
    expect(status(tab)).to_contain_text("Not sent, nothing was charged.")
    for name in ("Prompt Lab", "History", "Image to Video"):
        open_tab(page, name)
        shown = page.locator("body").inner_text()
        assert not CJK.search(shown), CJK.findall(shown)[:20]


def test_a_notice_in_chinese_has_a_chinese_title(preview_app, open_page):
    """Gradio titles its toasts "Warning" or "Error" unless told otherwise: ours say 提示 in Chinese."""
    page = open_page(preview_app, locale="zh-CN").page
    page.get_by_text("你的 API 密钥", exact=True).click()
    page.get_by_role("button", name="保存在本浏览器").click()  # nothing typed yet
    toast = page.get_by_test_id("toast-body")
    expect(toast).to_contain_text("请先粘贴 WaveSpeed API 密钥。", timeout=15_000)
    expect(toast.locator(".toast-title")).to_have_text("提示", timeout=15_000)
    assert not re.search(r"Warning|Error|Note", toast.inner_text())
