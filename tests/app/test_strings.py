"""The page's words in English and Simplified Chinese (kling/strings.py): no key missing in either
language, every key the code names exists, the language follows the browser, the handlers speak it,
and what scripts read (the API, gradio_client, the command line) stays English."""

from __future__ import annotations

import asyncio
import re

import gradio as gr
import pytest
from starlette.requests import Request as StarletteRequest

from kling.api.params import PROMPT_MAX_CHARS, T2VRequest
from kling.app.views import refusal_text
from kling.errors import ValidationError
from kling.examples import I2V_PROMPTS, STARTERS, T2V_EXAMPLES
from kling.strings import (
    EXAMPLE_TITLES_ZH,
    PAGE_EN,
    PAGE_ZH,
    SAY_EN,
    SAY_ZH,
    SCRIPT_EN,
    SCRIPT_ZH,
    i18n,
    language,
    say,
    slots,
    spend_text,
    text,
)
from tests.helpers.page import page_handlers
from tests.helpers.paths import ROOT
from tests.helpers.runner import make_runner

TABLES = {"page": (PAGE_EN, PAGE_ZH), "say": (SAY_EN, SAY_ZH), "script": (SCRIPT_EN, SCRIPT_ZH)}
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("table", TABLES)
def test_no_key_is_missing_in_either_language(table):
    english, chinese = TABLES[table]
    assert set(english) - set(chinese) == set(), "missing in Chinese"
    assert set(chinese) - set(english) == set(), "missing in English"


@pytest.mark.parametrize("table", TABLES)
def test_each_translation_has_the_same_slots_and_is_written(table):
    english, chinese = TABLES[table]
    for key in english:
        assert slots(english[key]) == slots(chinese[key]), key
        assert english[key].strip() and chinese[key].strip(), key
        assert not CJK.search(english[key]), key


def test_every_key_the_code_names_is_in_the_tables():
    """A literal key in kling/ (text("..."), say(lang, "...")) that no table has fails here, not
    in front of a visitor."""
    source = "\n".join(path.read_text() for path in sorted((ROOT / "kling").rglob("*.py")))
    page_keys = set(re.findall(r'\btext\(\s*"([a-z_.]+)"', source))
    say_keys = set(re.findall(r'\bsay\(\s*\w+,\s*"([a-z_.]+)"', source))
    assert len(page_keys) > 50 and len(say_keys) > 50  # the scan finds the page's words
    assert page_keys - set(PAGE_EN) == set()
    assert say_keys - set(SAY_EN) == set()


def test_an_unknown_key_fails_loudly():
    with pytest.raises(KeyError):
        text("tab.nowhere")
    with pytest.raises(KeyError):
        say("zh", "nowhere")


def test_gradio_gets_both_languages_for_the_fixed_text():
    translations = i18n().translations_dict
    assert translations["en"] is PAGE_EN and translations["zh-CN"] is PAGE_ZH and translations["zh"] is PAGE_ZH


@pytest.mark.parametrize(
    "header, lang",
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("zh", "zh"),
        ("zh-TW", "zh"),
        ("ZH-hans-CN", "zh"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),  # the first language decides, as in the browser
        ("fr-FR", "en"),
        ("zhx", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_the_language_is_the_browsers_first(header, lang):
    assert language(header) == lang


def test_a_chinese_prompt_counts_each_character_once():
    assert T2VRequest(prompt="猫" * PROMPT_MAX_CHARS).validate().prompt == "猫" * PROMPT_MAX_CHARS
    with pytest.raises(ValidationError) as refused:
        T2VRequest(prompt="猫" * (PROMPT_MAX_CHARS + 1)).validate()
    english, chinese = refusal_text(refused.value), refusal_text(refused.value, "zh")
    assert english == f"Not sent, nothing was charged. prompt: {PROMPT_MAX_CHARS + 1} characters; the limit is 2500"
    assert chinese == f"未发送，没有收费。提示词：{PROMPT_MAX_CHARS + 1} 个字符；上限为 2500"


def test_a_limit_reads_in_either_language_from_one_reason():
    values = {"limit": 5, "wait_s": 3900}
    assert spend_text("en", "hourly_browser", **values).startswith("This Space's key allows 5 clips per hour")
    assert "1 h 5 min" in spend_text("en", "hourly_browser", **values)
    assert "1 小时 5 分钟" in spend_text("zh", "hourly_browser", **values)


def test_every_example_shown_has_a_chinese_title():
    shown = [*STARTERS, *T2V_EXAMPLES]
    assert {example.key for example in shown} == set(EXAMPLE_TITLES_ZH)
    assert all(CJK.search(title) for title in EXAMPLE_TITLES_ZH.values())


def test_the_model_pages_prompts_are_not_translated():
    published = [e.prompt for e in T2V_EXAMPLES] + [e.negative_prompt for e in T2V_EXAMPLES]
    published += [i.prompt for i in I2V_PROMPTS] + [s.prompt for s in STARTERS]
    assert all(not CJK.search(prompt) for prompt in published)
    everything = "\n".join([*PAGE_ZH.values(), *SAY_ZH.values()])
    assert all(prompt not in everything for prompt in published if prompt)


# -- the handlers speak the visitor's language ----------------------------------------------------


def browser_request(accept_language: str | None) -> gr.Request:
    headers = [(b"accept-language", accept_language.encode())] if accept_language else []
    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers, "client": ("127.0.0.1", 5555)}
    return gr.Request(request=StarletteRequest(scope))


def arrive(handlers, accept_language: str | None) -> dict:
    return asyncio.run(handlers.visitor.restore(None, "", 5, 5, browser_request(accept_language)))


@pytest.fixture(scope="module")
def handlers(tmp_path_factory):
    """One preview page for the module (building one takes most of a second)."""
    tmp_path = tmp_path_factory.mktemp("page")
    runner, _ = make_runner(tmp_path, key=None)
    return page_handlers(runner, tmp_path)


def test_a_chinese_browser_gets_banner_price_refusal_and_history_in_chinese(handlers):
    parts = handlers.visitor.parts
    arrived = arrive(handlers, "zh-CN,zh;q=0.9")
    session = arrived[parts.session]
    assert session["lang"] == "zh"
    assert arrived[parts.banner].startswith("🟡 **预览模式")
    assert arrived[parts.t2v.buttons.price].startswith("此处为免费预览（模拟）")
    captions = [item["caption"] for item in arrived[parts.i2v.examples].value]
    assert captions[0] == "猫咪切尔西"  # the gallery's captions are its images' alt texts too

    overlong = "猫" * (PROMPT_MAX_CHARS + 1)
    status, clip, _ = asyncio.run(handlers.generation.refusal_t2v(overlong, "", "16:9", 5, session))
    assert status == f"### ⛔ 未发送，没有收费。提示词：{PROMPT_MAX_CHARS + 1} 个字符；上限为 2500" and clip is None
    beside_the_prompt = handlers.generation.check_t2v(overlong, "", "16:9", 5, session)[0]
    assert beside_the_prompt["is_valid"] is False and beside_the_prompt["message"] == "2501 个字符；上限为 2500"

    listing = asyncio.run(handlers.history.list(session, browser_request("zh-CN")))
    table = listing[parts.history.table]
    assert table.value["headers"] == ["视频", "时间", "状态", "提示词", "模式", "模型", "价格", "任务 ID"]
    assert listing[parts.history.info].startswith("本浏览器的任务")


def test_an_english_browser_and_an_api_caller_get_english(handlers):
    parts = handlers.visitor.parts
    for request in ("en-US,zh-CN;q=0.9", None):
        arrived = arrive(handlers, request)
        assert arrived[parts.session]["lang"] == "en" and not CJK.search(arrived[parts.banner])
        assert parts.i2v.examples not in arrived  # built in English: nothing to send again
    # An API or MCP caller's session never went through the page's load: no language, English.
    api_session = {"token": "", "key": ""}
    overlong = "猫" * (PROMPT_MAX_CHARS + 1)
    status, _, _ = asyncio.run(handlers.generation.refusal_t2v(overlong, "", "16:9", 5, api_session))
    assert (
        status == f"### ⛔ Not sent, nothing was charged. prompt: {PROMPT_MAX_CHARS + 1} characters; the limit is 2500"
    )
