"""Refusals on the Prompt Lab and History tabs, in a real browser at 1280x900 and on a 390x844
phone, in English and in Chinese: worded as the generate tabs word theirs ("Not sent, nothing was
charged"), where the visitor is looking, with no red "Error" toast or badges; and History's buttons
that act on a selection disabled until there is one. Same browser, app fixtures and rules as
tests/browser/test_page.py."""

from __future__ import annotations

import pytest

from tests.helpers.browser import CLIP_TIMEOUT, SIZES, open_tab, prompt_box, status

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from playwright.sync_api import expect  # noqa: E402 (tests/helpers/browser.py skips the module first when there is no browser)

WORDS = {
    "en-US": {
        "lab": "Prompt Lab",
        "run": "Run all variants",
        "not_sent": "Not sent, nothing was charged.",
        "needs_image": "needs a start image",
        "history": "History",
        "use": "Use these settings",
        "resume": "Resume",
        "typed": "Resume this id",
        "id_box": "Resume any task id",
        "not_an_id": "is not a task id",
        "stitch": "Stitch",
        "continue": "Continue from the last frame",
    },
    "zh-CN": {
        "lab": "提示词实验室",
        "run": "运行全部变体",
        "not_sent": "未发送，没有收费。",
        "needs_image": "需要起始图片",
        "history": "历史记录",
        "use": "使用这些设置",
        "resume": "恢复",
        "typed": "恢复此 ID",
        "id_box": "恢复任意任务 ID",
        "not_an_id": "不是任务 ID",
        "stitch": "拼接",
        "continue": "从最后一帧继续",
    },
}


def no_red_error(page) -> None:
    """Neither Gradio's toast nor its "Error" badge on an output."""
    expect(page.get_by_test_id("toast-body")).to_have_count(0)
    expect(page.locator(".error")).to_have_count(0)
    expect(page.get_by_text("Error", exact=True)).to_have_count(0)


@pytest.mark.parametrize("lang", WORDS)
@pytest.mark.parametrize("size", SIZES)
def test_lab_and_history_refusals_read_like_the_generate_tabs_and_need_a_selection(preview_app, open_page, size, lang):
    words = WORDS[lang]
    page = open_page(preview_app, locale=lang, **SIZES[size]).page

    lab = open_tab(page, words["lab"])  # Image to Video is the Lab's first model; no image added
    lab.get_by_role("button", name=words["run"]).click()
    summary = lab.get_by_test_id("markdown").filter(has_text=words["not_sent"])
    expect(summary).to_contain_text(words["needs_image"])
    expect(summary).to_be_in_viewport()  # beside the Run button, where the eye is
    no_red_error(page)

    history = open_tab(page, words["history"])
    for name in ("use", "resume", "continue", "stitch", "typed"):  # nothing selected, typed or picked yet
        expect(history.get_by_role("button", name=words[name], exact=True)).to_be_disabled()
    history.get_by_label(words["id_box"]).fill("not an id!")
    typed = history.get_by_role("button", name=words["typed"], exact=True)
    expect(typed).to_be_enabled()
    typed.click()
    refusal = history.get_by_test_id("markdown").filter(has_text=words["not_sent"])
    expect(refusal).to_contain_text(words["not_an_id"])
    no_red_error(page)


def test_a_selected_row_enables_use_resume_and_continue(preview_app, open_page):
    page = open_page(preview_app).page
    tab = open_tab(page, "Text to Video")
    prompt_box(tab).fill("A paper boat drifting down a rain gutter.")
    tab.get_by_role("button", name="Generate").click()
    expect(status(tab)).to_contain_text("Done", timeout=CLIP_TIMEOUT)
    history = open_tab(page, "History")
    buttons = [
        history.get_by_role("button", name=name, exact=True)
        for name in WORDS["en-US"].values()
        if name in ("Use these settings", "Resume", "Continue from the last frame")
    ]
    for button in buttons:
        expect(button).to_be_disabled()
    history.get_by_role("grid").get_by_test_id("cell-0-2").click()
    for button in buttons:
        expect(button).to_be_enabled()


@pytest.mark.parametrize("size", SIZES)
def test_in_chinese_the_lab_price_and_the_task_status_are_chinese(preview_app, open_page, size):
    page = open_page(preview_app, locale="zh-CN", **SIZES[size]).page
    lab = open_tab(page, "提示词实验室")
    price = lab.locator(".prose.kling-price")
    expect(price).to_have_text("2 个变体：免费预览（模拟视频）")  # from the start, the count untouched

    tab = open_tab(page, "文生视频")
    tab.get_by_label("提示词", exact=True).fill("雨中的纸船顺着水沟漂流。")
    tab.get_by_role("button", name="生成", exact=True).click()
    expect(status(tab)).to_contain_text("状态 已完成", timeout=CLIP_TIMEOUT)
    expect(status(tab)).not_to_contain_text("completed")
