"""The prompt optimizer on the page: "Improve prompt" beside each generate tab's prompt, "Write
variants" in the Prompt Lab, the hidden inputs of the `/improve_prompt` endpoint, and their wiring.
What each control does is in `kling.app.prompt_help`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import gradio as gr
from gradio.blocks import Block

from kling.api.optimizer import DEFAULT_STYLE, STYLES
from kling.app.image_input import ImageInput
from kling.app.tabs.common import private, progress_on
from kling.app.widgets import Parts
from kling.strings import text

if TYPE_CHECKING:
    from kling.app.handlers import Handlers
    from kling.app.prompt_help import PromptHelp


@dataclass
class HelpPanel:
    """ "Improve prompt" for one prompt box, and the suggestion it shows beside the visitor's words."""

    prompt: gr.Textbox
    style: gr.Dropdown
    improve: gr.Button
    price: gr.Markdown
    group: gr.Group
    note: gr.Markdown
    suggestion: gr.Textbox
    use: gr.Button
    back: gr.Button
    mine: gr.State  # the visitor's own words while a suggestion is in the prompt, else None


@dataclass
class VariantWriter:
    """The Lab's "Write variants": one idea in, a variant per style out."""

    idea: gr.Textbox
    write: gr.Button
    note: gr.Markdown
    session: gr.State


@dataclass
class ApiInputs:
    """The `/improve_prompt` endpoint's inputs and output: hidden, for gradio_client and MCP."""

    prompt: gr.Textbox
    style: gr.Dropdown
    image: ImageInput
    suggestion: gr.Textbox
    trigger: gr.Button


def style_dropdown(value: str = DEFAULT_STYLE, **kwargs: Any) -> gr.Dropdown:
    choices = [(text(f"prompt_help.style_{style}"), style) for style in STYLES]
    return gr.Dropdown(choices, value=value, label=text("prompt_help.style"), **kwargs)


def help_panel(prompt: gr.Textbox, *, preview: bool) -> HelpPanel:
    """Built right under the prompt box: the price is in sight before the click."""
    # One compact row (style, button, price) so Generate stays in sight on a laptop's first screen.
    with gr.Row(equal_height=True, elem_classes="kling-prompt-help"):
        style = style_dropdown(scale=1, min_width=120, show_label=False, container=False)
        improve = gr.Button(text("prompt_help.improve"), size="sm", scale=1, min_width=120)
        price = gr.Markdown(
            text("prompt_help.price_preview" if preview else "prompt_help.price_live"),
            elem_classes="kling-prompt-help-price",
        )
    with gr.Group(visible=False) as group:
        note = gr.Markdown()
        suggestion = gr.Textbox(label=text("prompt_help.suggestion"), lines=3, interactive=False, visible=False)
        with gr.Row():
            use = gr.Button(text("prompt_help.use"), size="sm", variant="primary", visible=False)
            back = gr.Button(text("prompt_help.back"), size="sm", visible=False)
    return HelpPanel(prompt, style, improve, price, group, note, suggestion, use, back, gr.State(None))


def variant_writer(session: gr.State) -> VariantWriter:
    with gr.Row(equal_height=True):
        idea = gr.Textbox(label=text("lab.idea"), placeholder=text("lab.idea_placeholder"), scale=3)
        write = gr.Button(text("lab.write"), scale=1)
    gr.Markdown(text("lab.write_help"))
    return VariantWriter(idea, write, gr.Markdown(), session)


def api_inputs() -> ApiInputs:
    with gr.Group(visible=False):
        prompt = gr.Textbox(label=text("form.prompt"))
        style = style_dropdown()
        image = ImageInput(label=text("form.start_image"))
        suggestion = gr.Textbox(label=text("prompt_help.suggestion"))
        trigger = gr.Button()
    return ApiInputs(prompt, style, image, suggestion, trigger)


def wire_prompt_help(
    parts: Parts, handlers: Handlers, panels: tuple[HelpPanel, HelpPanel], writer: VariantWriter, api: ApiInputs
) -> PromptHelp:
    from kling.app.prompt_help import PromptHelp  # it imports this module (its panels): here, not at the top

    helper = PromptHelp(handlers.generation, panels, parts.lab, writer)
    queued: dict[str, Any] = {"api_visibility": "private"}  # Improve and Write variants ask a model: queued
    i2v_panel, t2v_panel = panels
    asks = (
        (i2v_panel, helper.improve_i2v, [parts.i2v.image, parts.i2v.text.prompt, i2v_panel.style, parts.session]),
        (t2v_panel, helper.improve_t2v, [parts.t2v.text.prompt, t2v_panel.style, parts.session]),
    )
    for panel, improve, inputs in asks:
        shown = [panel.group, panel.note, panel.suggestion, panel.use]
        panel.improve.click(improve, inputs, shown, **progress_on(panel.note, panel.suggestion), **queued)
        mine_outputs = [panel.prompt, panel.mine, panel.back, panel.note]
        use_inputs = [panel.suggestion, panel.prompt, panel.mine, parts.session]
        panel.use.click(partial(PromptHelp.use, panel), use_inputs, mine_outputs, **private())
        panel.back.click(partial(PromptHelp.back, panel), [panel.mine, parts.session], mine_outputs, **private())
    lab = parts.lab
    lab_inputs: set[Block] = {writer.idea, writer.session, lab.count, lab.mode, lab.image}
    lab_outputs = [writer.note, *(slot.prompt for slot in lab.slots)]
    writer.write.click(helper.write_variants, lab_inputs, lab_outputs, **queued)
    api.trigger.click(
        helper.improve_prompt, [api.prompt, api.style, api.image], api.suggestion, api_name="improve_prompt"
    )
    return helper
