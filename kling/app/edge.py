"""Every event's inputs checked before Gradio reads them: a value of the wrong type, out of range,
missing or megabytes long is refused with one sentence naming the field, never an unhandled error.

The page's own browser only ever sends what its components hold, so these refusals meet scripts
that post to /gradio_api/call/<name> or /gradio_api/queue/join by hand (an event's `fn_index`
reaches it whatever its api_visibility). Without them, Gradio's own reading answered such values
with an exception (an example's index 999, a dict for an image: "Error" and nothing else), echoed a
megabyte back in its message, or stored the junk in the visitor's session. The checks read the
session's copy of each component, so choices the server changed for this visitor (their films)
count. The messages are English only: no page of ours ever meets them.
"""

from __future__ import annotations

import functools
import json
import logging
import math
from collections.abc import Callable
from typing import Any

import gradio as gr

from kling.app.api_labels import plain_label

log = logging.getLogger(__name__)
MAX_VALUE_CHARS = 100_000  # one input's JSON; prompts stop at 2500, a status panel at a few thousand
_CHOICES_SHOWN = 8


class Refused(Exception):
    """One input's reason, without the field's name."""


def check_inputs_at_the_edge(demo: gr.Blocks) -> None:
    """Makes every event of `demo` check its raw inputs (check_inputs) before Gradio preprocesses
    them, and a selection's event data (check_selection) before Gradio builds its gr.SelectData."""
    original = demo.preprocess_data
    original_process = demo.process_api

    @functools.wraps(original)
    async def preprocess_data(block_fn: Any, inputs: list[Any], state: Any, explicit_call: bool = False) -> Any:
        check_inputs(block_fn.inputs, inputs, state)
        try:
            return await original(block_fn, inputs, state, explicit_call)
        except gr.Error:
            raise
        except Exception as exc:  # reading the input failed in a way no check above foresaw: still a refusal
            log.warning("input of %s refused: %s", block_fn.name, str(exc)[:300])
            raise gr.Error("One of this action's values could not be read.") from None

    @functools.wraps(original_process)
    async def process_api(*args: Any, **kwargs: Any) -> Any:
        block_fn = kwargs.get("block_fn", args[0] if args else None)
        if getattr(block_fn, "collects_event_data", False):
            check_selection(getattr(kwargs.get("event_data"), "_data", None))
        return await original_process(*args, **kwargs)

    demo.preprocess_data = preprocess_data  # type: ignore[method-assign]
    demo.process_api = process_api  # type: ignore[method-assign]


def check_inputs(blocks: list[Any], values: list[Any], state: Any = None) -> None:
    """Raises gr.Error naming the first input whose value its component cannot take."""
    if not isinstance(values, list) or len(values) < len(blocks):
        got = len(values) if isinstance(values, list) else 0
        raise gr.Error(f"This action takes {len(blocks)} values and got {got}.")
    for block, value in zip(blocks, values, strict=False):
        if getattr(block, "stateful", False):
            continue  # a gr.State: Gradio uses the server's copy and ignores what was sent
        session_block = state[block._id] if state is not None and block._id in state else block
        try:
            _check(session_block, value)
        except Refused as reason:
            raise gr.Error(f"{_name(block)}: {reason}") from None


def check_selection(data: Any) -> None:
    """The page's selections (History's table, the example galleries) send {"index", "value", ...}:
    gr.SelectData reads both keys, and History's handler reads `row_value` as a list."""
    if not isinstance(data, dict) or not {"index", "value"} <= data.keys():
        raise gr.Error('A selection must send its event data as {"index": ..., "value": ...}.')
    if not isinstance(data.get("row_value"), list | None):
        raise gr.Error("A selection's row_value must be a list or null.")
    if len(json.dumps(data, default=str)) > MAX_VALUE_CHARS:
        raise gr.Error(f"A selection's event data is too long; the limit is {MAX_VALUE_CHARS:,} characters.")


def _check(block: Any, value: Any) -> None:
    size = len(json.dumps(value, default=str))
    if size > MAX_VALUE_CHARS:
        raise Refused(f"{size:,} characters is too long; the limit is {MAX_VALUE_CHARS:,}.")
    for kind, check in _CHECKS:
        if isinstance(block, kind):
            check(block, value)
            return


def _text(block: Any, value: Any) -> None:
    if value is not None and not isinstance(value, str):
        raise Refused(f"must be text, not {_kind(value)}.")


def _choice(block: Any, value: Any) -> None:
    if getattr(block, "allow_custom_value", False):
        return _text(block, value) if not isinstance(value, int | float) else None
    chosen = value if getattr(block, "multiselect", False) and isinstance(value, list) else [value]
    allowed = [choice for _, choice in block.choices]
    for each in chosen:
        if each is None and isinstance(block, gr.Dropdown):
            continue  # an empty dropdown (no film yet); every radio of the page always holds a choice
        if isinstance(each, bool) or each not in allowed:
            if not allowed:
                raise Refused(f"{_show(each)} is not one of the choices; there are none yet.")
            listed = ", ".join(str(choice) for choice in allowed[:_CHOICES_SHOWN])
            more = ", ..." if len(allowed) > _CHOICES_SHOWN else ""
            raise Refused(f"{_show(each)} is not one of the choices ({listed}{more}).")
    return None


def _number(block: Any, value: Any) -> None:
    low, high = getattr(block, "minimum", None), getattr(block, "maximum", None)
    span = f" from {low:g} to {high:g}" if low is not None and high is not None else ""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Refused(f"{_show(value)} is not a number{span}.")
    if (low is not None and value < low) or (high is not None and value > high):
        raise Refused(f"{_show(value)} is out of range; use a number{span}.")


def _example(block: Any, value: Any) -> None:
    count = len(block.samples or [])
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < count:
        raise Refused(f"{_show(value)} is not an example's number; choose 0 to {count - 1}.")


def _file(block: Any, value: Any) -> None:
    if value is None:
        return
    try:
        block.data_model.model_validate(value, context={"validate_meta": True})
    except Exception:  # pydantic's own wording is a report for programmers, not a sentence
        raise Refused(
            'must be a file uploaded to /gradio_api/upload, sent as {"path": ..., "meta": {"_type": '
            '"gradio.FileData"}}, or null.'
        ) from None


_CHECKS: list[tuple[type, Callable[[Any, Any], None]]] = [
    (gr.Textbox, _text),
    (gr.Markdown, _text),
    (gr.Radio, _choice),
    (gr.Dropdown, _choice),
    (gr.Slider, _number),
    (gr.Number, _number),
    (gr.Dataset, _example),
    (gr.Image, _file),
    (gr.Video, _file),
    (gr.File, _file),
]


def _name(block: Any) -> str:
    if isinstance(block, gr.Dataset):
        return "Example"  # its label is a whole sentence about the examples
    label = plain_label(getattr(block, "label", None))
    return label if isinstance(label, str) and label else getattr(block, "elem_id", None) or type(block).__name__


def _kind(value: Any) -> str:
    kinds = {bool: "true or false", int: "a number", float: "a number", list: "a list", dict: "an object"}
    return "null" if value is None else kinds.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    shown = json.dumps(value, default=str, ensure_ascii=False)
    return shown if len(shown) <= 40 else shown[:37] + "..."
