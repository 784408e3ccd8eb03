"""A key WaveSpeed could not check is kept but never shown as live; a refused key leaves the
typed text in the box (through Visitor.save_key, over a transport that cannot reach WaveSpeed or
the simulator that refuses the key)."""

from __future__ import annotations

import asyncio

import gradio as gr
import httpx

from tests.helpers.page import page_handlers
from tests.helpers.runner import make_runner

MADE_UP = "wsk_madeup_abcdef"


def unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("offline", request=request)


def test_a_key_that_could_not_be_checked_is_saved_but_not_shown_as_live(tmp_path):
    runner, _ = make_runner(tmp_path, transport=httpx.MockTransport(unreachable))
    visitor = page_handlers(runner, tmp_path).visitor
    p = visitor.parts
    for lang, unchecked in (("en", "not checked"), ("zh", "尚未验证")):
        out = asyncio.run(visitor.save_key(MADE_UP, {"token": "", "key": "", "lang": lang}, 5, 5))
        assert out[p.key_store] == MADE_UP and out[p.session]["key"] == MADE_UP  # kept: it may be fine
        assert unchecked in out[p.banner] and unchecked in out[p.key.info]
        assert "🟢" not in out[p.banner] and "cdef" in out[p.key.info]


def test_a_refused_key_keeps_the_typed_text_and_is_not_saved(tmp_path):
    runner, _ = make_runner(tmp_path)  # the simulator knows only its own key
    visitor = page_handlers(runner, tmp_path).visitor
    p = visitor.parts
    out = asyncio.run(visitor.save_key(MADE_UP, {"token": "", "key": "", "lang": "en"}, 5, 5))
    assert out[p.key.box] == gr.skip()  # the box keeps what was typed
    assert p.key_store not in out and out[p.session]["key"] == ""
    assert "refused that key" in out[p.key.info]


def test_saving_an_empty_box_keeps_the_key_already_saved(tmp_path):
    transport = httpx.MockTransport(lambda request: httpx.Response(500))  # any request would be a bug
    runner, _ = make_runner(tmp_path, transport=transport)
    visitor = page_handlers(runner, tmp_path).visitor
    p = visitor.parts
    saved = {"token": "", "key": MADE_UP, "lang": "en"}
    for typed in ("", "   ", None):
        out = asyncio.run(visitor.save_key(typed, dict(saved), 5, 5))
        # Nothing but the box is touched: the stored key, the session and the banner stay as they were.
        assert out == {p.key.box: gr.skip()}
