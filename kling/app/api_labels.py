"""The API page's names for a run's inputs and outputs: their English labels, never translation keys.

The page's labels are gr.I18n texts, translated in the browser. Gradio's API info copies each
component's label as it is, so the "Use via API" page printed the object in its sentences
("provided in the "[object Object]" Image component") and gradio_client showed a dict. Gradio reads
the API info from `Blocks.get_api_info` (routes.py allows a Blocks to provide its own): the page's
one wraps it and names each input and output by its English label, as a caller reads it.
"""

from __future__ import annotations

import functools
from typing import Any

import gradio as gr

from kling.strings import PAGE_EN, english


def plain_label(label: Any) -> Any:
    """A label as text: a gr.I18n text (or its serialised dict) becomes its English; others stay."""
    key = label.get("key") if isinstance(label, dict) else getattr(label, "key", None)
    if isinstance(key, str):
        return PAGE_EN.get(key, key)
    return english(label) if label is not None and not isinstance(label, str) else label


def name_api_inputs_in_english(demo: gr.Blocks) -> None:
    """Makes `demo`'s API info (the "Use via API" page, gradio_client, /gradio_api/info) carry plain labels."""
    original = demo.get_api_info

    @functools.wraps(original)
    def get_api_info(all_endpoints: bool = False, page: str | None = None) -> Any:
        info = original(all_endpoints=all_endpoints, page=page)
        endpoints: dict[str, Any] = {**info.get("named_endpoints", {}), **info.get("unnamed_endpoints", {})}
        for endpoint in endpoints.values():
            for part in (*endpoint.get("parameters", []), *endpoint.get("returns", [])):
                part["label"] = plain_label(part.get("label"))
        return info

    demo.get_api_info = get_api_info  # type: ignore[method-assign]
