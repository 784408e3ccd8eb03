"""The Text to Video tab: its builder and wiring. Its run is the public `text_to_video` endpoint
(`Generation.text_to_video`); what it shares with Image to Video is in `forms`."""

from __future__ import annotations

import gradio as gr

from kling.api.params import ASPECT_RATIOS
from kling.app.prompt_help_page import HelpPanel, help_panel
from kling.app.scripts import script
from kling.app.share_tab import SharePlaces
from kling.app.tabs.common import private
from kling.app.tabs.forms import RunWiring, wire_form
from kling.app.tabs.generate import Generation
from kling.app.tabs.i2v import showcase_note
from kling.app.widgets import (
    Parts,
    PromptInputs,
    T2VForm,
    duration_radio,
    example_gallery,
    prompt_box,
    refinements,
    result_panel,
    run_buttons,
    thumbnails,
)
from kling.config import Settings
from kling.examples import T2V_EXAMPLES
from kling.store.share_links import CLIP
from kling.store.showcase import ShowcaseClip
from kling.strings import text


def build_t2v_tab(
    settings: Settings, showcase: dict[str, ShowcaseClip], note: str, shares: SharePlaces
) -> tuple[T2VForm, HelpPanel]:
    """Inside the page's gr.Tabs: the form beside its result, then the examples."""
    with gr.Tab(text("tab.t2v"), id="t2v"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=320):
                prompt = prompt_box(text("form.t2v_placeholder"))
                helper = help_panel(prompt[0], preview=settings.preview)
                with gr.Row():
                    aspect = gr.Radio(list(ASPECT_RATIOS), value=ASPECT_RATIOS[0], label=text("form.aspect_ratio"))
                    duration = duration_radio()
                buttons = run_buttons()
                inputs = PromptInputs(*prompt, *refinements())
            with gr.Column(scale=1, min_width=320, elem_classes="kling-t2v-result"):
                out = result_panel()
                shares.under(CLIP, out.status, out.video, "t2v")
        showcase_note(note)
        examples = example_gallery(text("examples.t2v"), thumbnails(T2V_EXAMPLES, showcase), columns=3)
    return T2VForm(inputs, aspect, duration, buttons, out, examples), helper


def wire_t2v(p: Parts, gen: Generation, *, concurrency: int) -> None:
    wiring = RunWiring("text_to_video", gen.text_to_video, gen.refusal_t2v, gen.check_t2v)
    wire_form(p, gen, p.t2v, wiring, concurrency=concurrency)
    # The empty player takes the chosen shape (a link or an example sets the radio too).
    p.t2v.aspect_ratio.change(None, p.t2v.aspect_ratio, None, js=script("player_shape"), **private())
