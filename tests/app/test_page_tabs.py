"""The page's pieces that need no page: its scripts read from page.js, the forms' `fill`, and a
tab's handler reached by constructing it over stand-in components (no gr.Blocks built)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import gradio as gr

from kling.api.params import PROMPT_MAX_CHARS
from kling.app import scripts
from kling.app.tabs.visitor_session import Visitor
from kling.app.widgets import I2VForm, Parts, T2VForm
from kling.config import Settings


def stand_ins(*names: str) -> SimpleNamespace:
    return SimpleNamespace(**{name: object() for name in names})


def forms() -> tuple[I2VForm, T2VForm, Parts]:
    """The groups over plain objects: a handler only uses components as dict keys."""
    text = stand_ins("prompt", "negative")
    i2v = I2VForm(object(), object(), text, object(), object(), None, None, object(), object())  # type: ignore[arg-type]
    t2v_text = stand_ins("prompt", "negative")
    t2v = T2VForm(t2v_text, object(), object(), None, None, object())  # type: ignore[arg-type]
    parts = Parts(object(), None, None, None, object(), None, i2v, t2v, None, None)  # type: ignore[arg-type]
    return i2v, t2v, parts


def test_every_script_the_page_uses_is_in_page_js_with_its_values_filled_in():
    made = scripts.scripts()
    assert {"page_url", "copy", "count", "title", "play_all", "live_region", "compose", "camera_move"} <= set(made)
    for name, body in made.items():
        if name not in ("camera_move", "reveal", "posters"):  # filled per use: see below
            assert "__" not in body.replace("__proto__", ""), name  # no placeholder left
    assert f"limit = {PROMPT_MAX_CHARS}" in made["count"]
    assert "const words = (" in made["count"] and '"copied"' in made["copy"]
    assert '"Kling Studio"' in made["title"]
    move = scripts.camera_move("Gentle pan.", ["Gentle pan.", "Camera slow orbit."])
    assert '["Gentle pan.", "Camera slow orbit."]' in move and move.endswith('+ "Gentle pan.";\n}')
    status = scripts.reveal(".block.kling-status")
    assert '(".block.kling-status" ? tab.querySelector(".block.kling-status") : tab)' in status
    assert "__" not in status and "(null ? " in scripts.reveal()  # the whole tab


def test_the_sections_reader_drops_only_the_comments_under_a_name():
    source = "// header\n// == a\n// about a\n() => 1\n// == b\nx\n// inside b\ny\n"
    assert scripts.sections(source) == {"a": "() => 1", "b": "x\n// inside b\ny"}


def test_the_page_style_is_read_from_the_file_beside_the_page():
    assert ".block.kling-status { min-height: 9.5rem; }" in scripts.style()


def test_fill_names_settings_as_the_api_does_and_leaves_the_rest_alone():
    i2v, t2v, parts = forms()
    filled = i2v.fill({"prompt": "a fox", "guidance_scale": 0.7, "aspect_ratio": "1:1", "tab": "i2v"})
    assert filled == {i2v.text.prompt: "a fox", i2v.guidance: 0.7}
    assert t2v.fill({"aspect_ratio": "9:16", "duration": 10}) == {t2v.aspect_ratio: "9:16", t2v.duration: 10}
    switched = parts.fill("t2v", {"prompt": "rain"})
    assert switched[parts.tabs].selected == "t2v" and switched[t2v.text.prompt] == "rain"
    assert parts.main_forms == [parts.tabs, *i2v.settings, *t2v.settings] and len(parts.main_forms) == 11


def test_a_shared_link_fills_its_tab_handler_reached_without_a_page():
    _, t2v, parts = forms()
    # prefill uses no service: the generation holds only the settings the key checks are made from
    visitor = Visitor(SimpleNamespace(settings=Settings()), parts)  # type: ignore[arg-type]
    request: Any = SimpleNamespace(query_params={"tab": "t2v", "prompt": "rain", "aspect_ratio": "9:16", "key": "x"})
    updates = visitor.prefill(request)
    assert updates[parts.tabs].selected == "t2v"
    assert {k: v for k, v in updates.items() if k is not parts.tabs} == {
        t2v.text.prompt: "rain",
        t2v.aspect_ratio: "9:16",
    }
    nothing = visitor.prefill(SimpleNamespace(query_params={}))  # type: ignore[arg-type]
    assert list(nothing) == [parts.tabs] and isinstance(nothing[parts.tabs], dict)
    assert gr.skip() == nothing[parts.tabs]
