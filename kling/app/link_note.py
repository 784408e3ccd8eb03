"""A shared Image to Video link carries the prompt and settings but never the start image (a
link holds no file): the opened page says so where the result will show, and where to add it,
rather than letting Generate discover it."""

from __future__ import annotations

from typing import Any

import gradio as gr

from kling.app.views import settings_from_query
from kling.strings import language, say


def link_tab(query: dict[str, str]) -> str | None:
    """The tab a link opens (as Visitor.prefill reads it), or None for a plain visit."""
    found = settings_from_query(query)
    return found["tab"] or ("t2v" if "aspect_ratio" in found else "i2v" if len(found) > 1 else None)


def image_note(request: gr.Request | None = None) -> Any:
    """Image to Video's status after a link opened it: the image is the visitor's to add."""
    query = dict(request.query_params) if request is not None else {}
    if link_tab(query) != "i2v":
        return gr.skip()
    return say(language(request.headers.get("accept-language") if request is not None else None), "link.no_image")
