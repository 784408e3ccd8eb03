"""The pieces the page is built from, and the groups that name them.

Builders make components in place (inside the page's `with gr.Blocks()`); the dataclasses are how
the page and the handlers refer to them, so a handler can answer with `{form.prompt: "..."}`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr
from gradio.i18n import I18nData
from PIL import Image

from kling.api.params import DEFAULT_GUIDANCE, DURATIONS, GUIDANCE_MAX, GUIDANCE_MIN
from kling.app.image_input import ImageInput
from kling.app.views import example_caption
from kling.examples import ASSETS, Generable, Starter
from kling.media.posters import poster_path
from kling.media.thumbs import gallery_image
from kling.store.showcase import ShowcaseClip, clip_for
from kling.strings import Lang, example_title, text

CROSSFADE_MAX_S = 1.0  # a short dissolve between shots; longer would eat a 5 s clip

LAB_CLIP_HEIGHT = 260
# A button's name (kling/strings.py) -> the phrase it adds to the prompt. The phrases stay English
# whatever the page's language: they are prompt text, written as the model page writes its prompts.
CAMERA_MOVES = {
    "move.push_in": "Camera slowly pushes in.",
    "move.orbit": "Camera slow orbit.",
    "move.pan": "Gentle pan.",
    "move.handheld": "Gentle handheld micro-sway.",
}
# The director's brief: each field's label and hint (kling/strings.py).
BRIEF_FIELDS = {
    "brief.subject": "brief.subject_hint",
    "brief.environment": "brief.environment_hint",
    "brief.camera": "brief.camera_hint",
    "brief.continuity": "brief.continuity_hint",
}


@dataclass
class PromptInputs:
    prompt: gr.Textbox
    count: gr.Markdown
    moves: dict[gr.Button, str]  # button -> the phrase it adds
    negative: gr.Textbox
    brief: list[gr.Textbox]
    compose: gr.Button


def prompt_box(placeholder: I18nData) -> tuple[gr.Textbox, gr.Markdown, dict[gr.Button, str]]:
    """The prompt with its live count and camera-move buttons (the first half of `PromptInputs`)."""
    prompt = gr.Textbox(label=text("form.prompt"), lines=3, placeholder=placeholder)
    count = gr.Markdown(text("form.count"), elem_classes="kling-count")
    with gr.Row(elem_classes="kling-moves"):
        moves = {gr.Button(text(name), size="sm", min_width=0): phrase for name, phrase in CAMERA_MOVES.items()}
    return prompt, count, moves


def refinements() -> tuple[gr.Textbox, list[gr.Textbox], gr.Button]:
    """The negative prompt and the director's brief (the prompting guide as four fields that
    compose the prompt, which stays editable): the second half of `PromptInputs`, which the page
    puts below Generate so that Generate is in sight on first load."""
    negative = gr.Textbox(label=text("form.negative"), placeholder=text("form.negative_placeholder"))
    with gr.Accordion(text("form.brief"), open=False):
        brief = [gr.Textbox(label=text(name), placeholder=text(hint), lines=1) for name, hint in BRIEF_FIELDS.items()]
        compose = gr.Button(text("form.compose"), size="sm")
    return negative, brief, compose


def duration_radio() -> gr.Radio:
    """5 or 10 s. Gradio describes every Radio to API and MCP clients as a string, which made an
    agent that sent the integer 5 fail schema validation: this one says what the API field is."""
    radio = gr.Radio(list(DURATIONS), value=DURATIONS[0], label=text("form.duration"))
    radio.api_info = lambda: {"enum": list(DURATIONS), "title": "Duration", "type": "integer"}  # type: ignore[method-assign]
    return radio


def guidance_slider(info: I18nData | None = None) -> gr.Slider:
    return gr.Slider(
        GUIDANCE_MIN, GUIDANCE_MAX, value=DEFAULT_GUIDANCE, step=0.05, label=text("form.guidance"), info=info
    )


def start_image(label: I18nData, height: int = 220) -> ImageInput:
    """An image field that hands the handler the uploaded file undecoded, refusing a declared bomb."""
    return ImageInput(label=label, sources=["upload", "clipboard"], height=height)


@dataclass
class RunButtons:
    price: gr.Markdown
    go: gr.Button
    stop: gr.Button


def run_buttons() -> RunButtons:
    with gr.Row(elem_classes="kling-run"):  # style.css: on a phone Stop shares Generate's line
        return RunButtons(
            gr.Markdown(elem_classes="kling-price"),
            gr.Button(text("run.generate"), variant="primary"),
            gr.Button(text("run.stop"), variant="stop", visible=False),  # shown only while a run is under way
        )


@dataclass
class ResultPanel:
    status: gr.Markdown
    video: gr.Video
    details: gr.Markdown
    link_button: gr.Button
    link: gr.Textbox
    # Ticks only after "Stop waiting", until the task it left running has finished. (The task id is
    # read from the status line: a gr.State among a public endpoint's outputs breaks Gradio's MCP.)
    timer: gr.Timer
    continue_button: gr.Button  # shown once there is a clip
    # The task the timer follows live after a reload (its run's own status, streaming again), or "".
    # Set only by the reload handler (kling.app.tabs.comeback); "Stop waiting" clears it.
    following: gr.State


def result_panel() -> ResultPanel:
    """The run's status, its clip and details. Labels name the API's outputs (status, clip, details)."""
    status = gr.Markdown(text("result.ready"), label="status", elem_classes="kling-status")
    # No fixed height: the player takes the clip's aspect ratio instead of a 480 px empty box.
    video = gr.Video(
        label="clip",
        show_label=False,
        autoplay=True,
        loop=True,
        buttons=["download"],
        interactive=False,
        elem_classes="kling-player",
    )
    # The link right under the player: it stays put when the clip's buttons and details arrive.
    with gr.Row():
        link_button = gr.Button(text("result.copy_link"), size="sm", scale=1)
        link = gr.Textbox(show_label=False, placeholder=text("result.link_placeholder"), interactive=False, scale=2)
    continue_button = continue_from_last_frame()
    details = gr.Markdown(label="details", elem_classes="kling-details")
    timer = gr.Timer(2.0, active=False)
    return ResultPanel(status, video, details, link_button, link, timer, continue_button, gr.State(""))


def example_gallery(label: I18nData, items: list[tuple[str | Image.Image, str]], columns: int) -> gr.Gallery:
    """Clickable example thumbnails; each caption is also its image's alt text."""
    return gr.Gallery(
        items,
        label=label,
        columns=columns,
        height="auto",
        object_fit="cover",
        allow_preview=False,
        interactive=False,
        buttons=[],
        elem_classes="kling-examples",
    )


def thumbnails(
    examples: Sequence[Generable], showcase: dict[str, ShowcaseClip], lang: Lang = "en"
) -> list[tuple[str | Image.Image, str]]:
    """The examples' thumbnails and captions: a showcase clip's poster frame where there is one,
    else a small copy of the photo (Image to Video; the full photo loads only when the example is
    used) or its committed poster, drawn from its prompt in its aspect ratio (Text to Video; a plain
    card in that ratio only if the poster is missing)."""
    items: list[tuple[str | Image.Image, str]] = []
    for example in examples:
        clip = clip_for(example, showcase)
        image: str | Image.Image
        if clip is not None and clip.poster_path is not None:
            image = str(clip.poster_path)
        elif isinstance(example, Starter):
            image = str(gallery_image(example.image_path))
        elif (poster := poster_path(ASSETS, example.key)).is_file():
            image = str(poster)
        else:
            image = ratio_card(example.aspect_ratio)
        title = example_title(example.key, example.title, lang)
        ratio = "" if isinstance(example, Starter) else example.aspect_ratio
        items.append((image, example_caption(title, clip is not None, lang, ratio)))
    return items


def ratio_card(aspect_ratio: str, width: int = 320) -> Image.Image:
    """A plain card in an aspect ratio: the thumbnail of a Text to Video example with no clip yet."""
    w, h = (int(side) for side in aspect_ratio.split(":"))
    return Image.new("RGB", (width, round(width * h / w)), (58, 64, 92))


def continue_from_last_frame(visible: bool = False, interactive: bool = True) -> gr.Button:
    """Under a result, hidden until its clip is there (the page shows it when the clip changes)."""
    return gr.Button(text("result.continue"), size="sm", visible=visible, interactive=interactive)


# -- the groups the handlers answer to ---------------------------------------------------------


@dataclass
class I2VForm:
    image: gr.Image
    end_image: gr.Image
    text: PromptInputs
    guidance: gr.Slider
    duration: gr.Radio
    buttons: RunButtons
    out: ResultPanel
    continues: gr.State  # {"task": id, "pixels": digest of its last frame} while the start image is that frame
    examples: gr.Gallery

    @property
    def settings(self) -> list[Any]:
        """The run's inputs, in the order of the API's `image_to_video`."""
        return [self.image, self.text.prompt, self.text.negative, self.guidance, self.duration, self.end_image]

    def fill(self, settings: Mapping[str, Any]) -> dict[Any, Any]:
        """The form's updates for `settings` (named as the API names them): a setting left out keeps its value."""
        return _fill(zip(I2V_SETTINGS, self.settings), settings)


@dataclass
class T2VForm:
    text: PromptInputs
    aspect_ratio: gr.Radio
    duration: gr.Radio
    buttons: RunButtons
    out: ResultPanel
    examples: gr.Gallery

    @property
    def settings(self) -> list[Any]:
        """The run's inputs, in the order of the API's `text_to_video`."""
        return [self.text.prompt, self.text.negative, self.aspect_ratio, self.duration]

    def fill(self, settings: Mapping[str, Any]) -> dict[Any, Any]:
        """As `I2VForm.fill`."""
        return _fill(zip(T2V_SETTINGS, self.settings), settings)


I2V_SETTINGS = ("image", "prompt", "negative_prompt", "guidance_scale", "duration", "end_image")
T2V_SETTINGS = ("prompt", "negative_prompt", "aspect_ratio", "duration")


def _fill(fields: Any, settings: Mapping[str, Any]) -> dict[Any, Any]:
    return {component: settings[name] for name, component in fields if name in settings}


@dataclass
class LabSlot:
    """One variant: its settings (in the form), then its result (one block: status, clip, buttons)."""

    column: gr.Column
    prompt: gr.Textbox
    negative: gr.Textbox
    guidance: gr.Slider
    duration: gr.Radio
    status: gr.Markdown
    video: gr.Video
    use: gr.Button
    task: gr.State  # the variant's task id, for "Continue from the last frame"
    continue_button: gr.Button
    result: gr.Column  # the variant's block among the results: status, clip, its buttons under it

    @property
    def settings(self) -> list[gr.components.Component]:
        return [self.prompt, self.negative, self.guidance, self.duration]


@dataclass
class LabSettings:
    column: gr.Column
    prompt: gr.Textbox
    negative: gr.Textbox
    guidance: gr.Slider
    duration: gr.Radio


@dataclass
class LabResult:
    column: gr.Column
    status: gr.Markdown
    video: gr.Video
    use: gr.Button
    task: gr.State
    continue_button: gr.Button


def lab_settings(letter: str, visible: bool) -> LabSettings:
    """A variant's settings, in the Lab's form."""
    with gr.Column(visible=visible, min_width=260) as column:
        prompt = gr.Textbox(label=text(f"lab.prompt_{letter}"), lines=3)
        negative = gr.Textbox(label=text("form.negative"))
        guidance = guidance_slider()
        duration = gr.Radio(list(DURATIONS), value=DURATIONS[0], label=text("form.duration"))
    return LabSettings(column, prompt, negative, guidance, duration)


def lab_result(letter: str, visible: bool) -> LabResult:
    """A variant's result as one block: its label and status, its clip (all the same size, to
    compare), then "Use this one" and "Continue" right under that clip, not far from it."""
    with gr.Column(visible=visible, min_width=260, elem_classes="kling-lab-result") as column:
        status = gr.Markdown(elem_classes="kling-lab-status")
        video = gr.Video(
            label=text(f"lab.clip_{letter}"),
            loop=True,
            buttons=["download"],
            interactive=False,
            height=LAB_CLIP_HEIGHT,
        )
        use = gr.Button(text("lab.use"), size="sm")
        continue_button = continue_from_last_frame()
    return LabResult(column, status, video, use, gr.State(""), continue_button)


def lab_slot(settings: LabSettings, result: LabResult) -> LabSlot:
    return LabSlot(
        settings.column,
        settings.prompt,
        settings.negative,
        settings.guidance,
        settings.duration,
        result.status,
        result.video,
        result.use,
        result.task,
        result.continue_button,
        result.column,
    )


@dataclass
class LabForm:
    mode: gr.Radio
    count: gr.Radio
    image: gr.Image
    aspect_ratio: gr.Radio
    slots: list[LabSlot]
    price: gr.Markdown
    run: gr.Button
    stop: gr.Button
    summary: gr.Markdown
    tab: gr.Tab
    image_box: gr.Column  # the start image and its note, shown for Image to Video only
    image_note: gr.Markdown  # says when the image came over from Image to Video


@dataclass
class StitchPanel:
    """History's film maker: clips in order, a cross-fade, the film, and this browser's films."""

    clips: gr.Dropdown  # task ids, in the order picked
    crossfade: gr.Slider
    go: gr.Button
    film: gr.Video
    about: gr.Markdown
    films: gr.Dropdown  # film file names (never paths)


def stitch_panel() -> StitchPanel:
    gr.Markdown(text("stitch.help"))
    clips = gr.Dropdown(
        choices=[],
        value=[],
        multiselect=True,
        label=text("stitch.clips"),
        info=text("stitch.clips_help"),
    )
    with gr.Row():
        crossfade = gr.Slider(0.0, CROSSFADE_MAX_S, value=0.0, step=0.1, label=text("stitch.crossfade"), scale=2)
        go = gr.Button(text("stitch.go"), variant="primary", scale=1, interactive=False)  # until two are picked
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=320):
            film = gr.Video(
                label=text("stitch.film"), loop=True, buttons=["download"], interactive=False, elem_id="kling-film"
            )
        with gr.Column(scale=1, min_width=320):
            films = gr.Dropdown(choices=[], value=None, label=text("stitch.films"), info=text("stitch.films_help"))
            about = gr.Markdown(text("stitch.none"))
    return StitchPanel(clips, crossfade, go, film, about, films)


@dataclass
class HistoryView:
    info: gr.Markdown
    table: gr.Dataframe
    video: gr.Video
    job: gr.Markdown
    use_settings: gr.Button
    resume_selected: gr.Button
    refresh: gr.Button
    resume_id: gr.Textbox
    resume_typed: gr.Button
    selected_id: gr.State
    timer: gr.Timer  # active only while one of the listed tasks is running
    continue_selected: gr.Button
    stitch: StitchPanel


@dataclass
class KeyPanel:
    box: gr.Textbox
    save: gr.Button
    clear: gr.Button
    info: gr.Markdown


@dataclass
class Parts:
    """Everything on the page a handler reads or writes."""

    tabs: gr.Tabs
    banner: gr.Markdown
    owner_store: gr.BrowserState
    key_store: gr.BrowserState
    session: gr.State
    key: KeyPanel
    i2v: I2VForm
    t2v: T2VForm
    lab: LabForm
    history: HistoryView

    @property
    def main_forms(self) -> list[Any]:
        """The tabs and both generate forms: what filling a form from elsewhere (a link, History,
        the Lab, an example) may write."""
        return [self.tabs, *self.i2v.settings, *self.t2v.settings]

    def fill(self, tab: str, settings: Mapping[str, Any]) -> dict[Any, Any]:
        """Switch to a generate tab ("i2v" or "t2v") with its form filled from `settings`."""
        form = self.i2v if tab == "i2v" else self.t2v
        return {self.tabs: gr.Tabs(selected=tab), **form.fill(settings)}
