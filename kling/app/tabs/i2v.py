"""The Image to Video tab: its builder and wiring. Its run is the public `image_to_video` endpoint
(`Generation.image_to_video`); what it shares with Text to Video is in `forms`."""

from __future__ import annotations

import gradio as gr

from kling.app.prompt_help_page import HelpPanel, help_panel
from kling.app.share_tab import SharePlaces
from kling.app.tabs.forms import RunWiring, wire_form
from kling.app.tabs.generate import Generation
from kling.app.upload_check import wire_upload_checks
from kling.app.widgets import (
    I2VForm,
    Parts,
    PromptInputs,
    duration_radio,
    example_gallery,
    guidance_slider,
    prompt_box,
    refinements,
    result_panel,
    run_buttons,
    start_image,
    thumbnails,
)
from kling.config import Settings
from kling.examples import I2V_PROMPTS, STARTERS
from kling.store.share_links import CLIP
from kling.store.showcase import ShowcaseClip
from kling.strings import text


def build_i2v_tab(
    settings: Settings, showcase: dict[str, ShowcaseClip], note: str, shares: SharePlaces
) -> tuple[I2VForm, HelpPanel]:
    """Inside the page's gr.Tabs: the form beside its result, then the examples."""
    with gr.Tab(text("tab.i2v"), id="i2v"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=320):
                # Low drop zones, so Generate stays above the fold of a 900 px laptop screen
                # whichever fonts the device has (some add a few pixels to every line).
                with gr.Row():
                    image = start_image(text("form.start_image"), height=128)
                    end = start_image(text("form.end_image"), height=128)
                prompt = prompt_box(text("form.i2v_placeholder"))
                helper = help_panel(prompt[0], preview=settings.preview)
                duration = duration_radio()  # it sets the price: never under "Advanced"
                buttons = run_buttons()
                inputs = PromptInputs(*prompt, *refinements())
                with gr.Accordion(text("form.advanced"), open=False):
                    guidance = guidance_slider(info=text("form.guidance_help"))
            with gr.Column(scale=1, min_width=320, elem_classes="kling-i2v-result"):
                out = result_panel()
                shares.under(CLIP, out.status, out.video, "i2v")
                continues = gr.State(None)  # a State directly in gr.Tabs would count as a tab
        showcase_note(note)
        examples = example_gallery(text("examples.starters"), thumbnails(STARTERS, showcase), columns=4)
        prompt_ideas(inputs)
    return I2VForm(image, end, inputs, guidance, duration, buttons, out, continues, examples), helper


def showcase_note(note: str) -> gr.Markdown:
    """Above a tab's examples: whether their clips are real Kling output (empty when there is none)."""
    return gr.Markdown(text(note) if note else "", visible=bool(note), elem_classes="kling-showcase-note")


def prompt_ideas(inputs: PromptInputs) -> None:
    """Prompts to try on one's own image: a click puts one in the form."""
    ideas = gr.Examples(
        [[idea.prompt, idea.negative_prompt] for idea in I2V_PROMPTS],
        inputs=[inputs.prompt, inputs.negative],
        cache_examples=False,
        label=text("examples.page_prompts"),
    )
    # No column names: Gradio names them after the inputs' labels and would show those as
    # translation keys (a Dataset's headers are not translated). The table reads without.
    ideas.dataset.headers = []
    # A click sends only the values: Gradio would send each input's props again too, and their
    # gr.I18n labels are not JSON, so /gradio_api/call/load_example failed even for a good index.
    ideas.input_component_props = [{} for _ in ideas.input_component_props]


def wire_i2v(p: Parts, gen: Generation, *, concurrency: int) -> None:
    wiring = RunWiring("image_to_video", gen.image_to_video, gen.refusal_i2v, gen.check_i2v, (p.i2v.continues,))
    wire_form(p, gen, p.i2v, wiring, concurrency=concurrency)
    wire_upload_checks(p, gen, concurrency=concurrency)
