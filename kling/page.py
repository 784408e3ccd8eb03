"""The page: Image to Video, Text to Video, Prompt Lab and History.

Copy first, then the page in one `gr.Blocks` as it reads top to bottom, then the wiring. What each
control does is in `kling.handlers`; the pieces it is built from are in `kling.widgets`.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.blocks import Block

from . import lab
from .config import Settings
from .handlers import Generation, Handlers
from .journal import Journal
from .params import ASPECT_RATIOS, PROMPT_MAX_CHARS
from .views import HISTORY_COLUMNS, HISTORY_HELP, LAB_I2V, LAB_T2V, compose_brief, key_status, mode_banner
from .widgets import (
    GUIDANCE_HELP,
    HistoryView,
    I2VForm,
    KeyPanel,
    LabForm,
    Parts,
    T2VForm,
    continue_from_last_frame,
    duration_radio,
    guidance_slider,
    lab_slot,
    prompt_inputs,
    result_panel,
    run_buttons,
    start_image,
    stitch_panel,
)

# -- copy ----------------------------------------------------------------------------------------

TITLE = "Kling Studio"
TAGLINE = "Kling v2.0 master image-to-video and text-to-video through the WaveSpeed API."
KEY_HELP = "Kept in this browser only (local storage); sent to this server only while a generation runs."
LAB_HELP = (
    "Run 2 to 4 variants of one idea at once and compare them side by side. Each variant is a "
    "normal task (it is in History, and it is billed like any other)."
)
HOW_TO_PROMPT = """
Write the prompt like a director's brief:
- **Subject action**: what the main subject does over time (smile, turn, wave, stand up, walk)
- **Environment motion**: wind in trees, dust, rain, fog, drifting particles
- **Camera motion**: slow push-in, orbit, gentle pan, steady handheld feel
- **Continuity rules**: keep identity, outfit, and scene layout consistent; if using end_image, ensure the motion "lands" on that end frame naturally
"""  # noqa: E501 (the prompting guide's own words)

# The seed pages' example prompts and negative prompts, word for word.
EXAMPLE_PROMPTS = [
    "A warm, serene park scene. An elderly couple sits on a bench; the wife gently pats her husband’s back, "
    "both smiling. Sunlight filters through leaves with soft dappled shadows. Camera slowly pushes in, subtle "
    "breeze moves their hair and clothing, natural motion, 5 seconds.",
    "Portrait outdoors at golden hour. The subject smiles and looks toward the camera, hair sways slightly in "
    "the wind. Gentle handheld micro-sway, shallow depth of field, 5 seconds.",
    "Cozy indoor scene. The subject turns a page in a book, warm lamp lighting, floating dust motes, camera "
    "slow orbit, 5 seconds.",
]
EXAMPLE_NEGATIVES = [
    "blur, distort, low quality",
    "jitter, warping, flicker, melted details",
    "watermark, logo, subtitles, text artifacts",
]
ASSETS = Path(__file__).resolve().parent.parent / "assets"
I2V_EXAMPLES = [
    [str(ASSETS / "chelsea.png"), EXAMPLE_PROMPTS[0], EXAMPLE_NEGATIVES[0]],
    [str(ASSETS / "astronaut.png"), EXAMPLE_PROMPTS[1], EXAMPLE_NEGATIVES[1]],
    [str(ASSETS / "coffee.png"), EXAMPLE_PROMPTS[2], EXAMPLE_NEGATIVES[2]],
]
T2V_EXAMPLES = [[p, n] for p, n in zip(EXAMPLE_PROMPTS, EXAMPLE_NEGATIVES)]
EXAMPLES_LABEL = "Examples from the model page (click to fill the form)"

LINK_JS = """(tab, prompt, negative, third, duration) => {
  const url = new URL(window.location.href);
  url.search = "";
  const params = new URLSearchParams({tab, prompt: prompt || "", duration: String(duration)});
  if (negative) params.set("negative_prompt", negative);
  params.set(tab === "i2v" ? "guidance_scale" : "aspect_ratio", String(third));
  url.search = params.toString();
  try { navigator.clipboard.writeText(url.toString()); } catch (e) {}
  return url.toString();
}"""
COUNT_JS = (
    f"(text) => {{ const n = (text || '').length; return n > {PROMPT_MAX_CHARS} "
    f"? `⚠️ ${{n}} / {PROMPT_MAX_CHARS} characters: ${{n - {PROMPT_MAX_CHARS}}} over the limit` "
    f": `${{n}} / {PROMPT_MAX_CHARS} characters`; }}"
)
CSS = """
.kling-count { opacity: .7; font-size: .85em; margin-top: -.5em; }
.kling-price { text-align: right; align-self: center; }
.kling-status { min-height: 4.5em; }
"""
LAB_STOPPED = "Stopped waiting. The variants keep running (and are billed); their clips land in History."


# -- the page ------------------------------------------------------------------------------------


def build_page(settings: Settings, generation: Generation, journal: Journal) -> tuple[gr.Blocks, Handlers]:
    """The page, and its handlers bound to its components."""
    secret = settings.state_secret

    with gr.Blocks(title=TITLE) as demo:
        owner_store = gr.BrowserState(None, storage_key="kling-studio-owner", secret=secret)
        key_store = gr.BrowserState("", storage_key="kling-studio-key", secret=secret)
        session = gr.State({"owner": "", "key": ""})

        gr.Markdown(f"# 🎬 {TITLE}\n{TAGLINE}")
        banner = gr.Markdown(mode_banner(settings, ""), elem_id="mode-banner")

        with gr.Accordion("Your API key", open=False):
            key_box = gr.Textbox(label="WaveSpeed API key", type="password", info=KEY_HELP, placeholder="wsk_...")
            with gr.Row():
                save_key = gr.Button("Save in this browser", size="sm")
                clear_key = gr.Button("Clear", size="sm")
            key_info = gr.Markdown(key_status(settings, ""))
        key = KeyPanel(key_box, save_key, clear_key, key_info)

        with gr.Tabs() as tabs:
            with gr.Tab("Image to Video", id="i2v"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=1, min_width=320):
                        with gr.Row():
                            i2v_image = start_image("Start image")
                            i2v_end = start_image("End image (optional)")
                        i2v_text = prompt_inputs("What happens, and how the camera moves")
                        with gr.Accordion("Advanced", open=False):
                            i2v_guidance = guidance_slider(info=GUIDANCE_HELP)
                            i2v_duration = duration_radio()
                        i2v_buttons = run_buttons()
                    with gr.Column(scale=1, min_width=320):
                        i2v_out = result_panel()
                        i2v_continues = gr.State(None)  # a State directly in gr.Tabs would count as a tab
                gr.Examples(
                    I2V_EXAMPLES,
                    inputs=[i2v_image, i2v_text.prompt, i2v_text.negative],
                    cache_examples=False,
                    label=EXAMPLES_LABEL,
                )
            i2v = I2VForm(i2v_image, i2v_end, i2v_text, i2v_guidance, i2v_duration, i2v_buttons, i2v_out, i2v_continues)

            with gr.Tab("Text to Video", id="t2v"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=1, min_width=320):
                        t2v_text = prompt_inputs("The scene, the action and the camera")
                        t2v_aspect = gr.Radio(list(ASPECT_RATIOS), value=ASPECT_RATIOS[0], label="Aspect ratio")
                        t2v_duration = duration_radio()
                        t2v_buttons = run_buttons()
                    with gr.Column(scale=1, min_width=320):
                        t2v_out = result_panel()
                gr.Examples(
                    T2V_EXAMPLES,
                    inputs=[t2v_text.prompt, t2v_text.negative],
                    cache_examples=False,
                    label=EXAMPLES_LABEL,
                )
            t2v = T2VForm(t2v_text, t2v_aspect, t2v_duration, t2v_buttons, t2v_out)

            with gr.Tab("Prompt Lab", id="lab"):
                gr.Markdown(LAB_HELP)
                with gr.Row():
                    lab_mode = gr.Radio([LAB_I2V, LAB_T2V], value=LAB_I2V, label="Model")
                    lab_count = gr.Radio([2, 3, 4], value=2, label="Variants")
                with gr.Row():
                    lab_image = start_image("Start image (shared by every variant)")
                    lab_aspect = gr.Radio(
                        list(ASPECT_RATIOS), value=ASPECT_RATIOS[0], label="Aspect ratio", visible=False
                    )
                slots = []
                for row in range(2):
                    with gr.Row(equal_height=False):
                        slots += [lab_slot(letter, visible=row == 0) for letter in lab.LETTERS[2 * row : 2 * row + 2]]
                with gr.Row():
                    lab_price = gr.Markdown(elem_classes="kling-price")
                    lab_run = gr.Button("Run all variants", variant="primary")
                    lab_stop = gr.Button("Stop waiting", variant="stop")
                lab_summary = gr.Markdown()
            prompt_lab = LabForm(
                lab_mode, lab_count, lab_image, lab_aspect, slots, lab_price, lab_run, lab_stop, lab_summary
            )

            with gr.Tab("History", id="history") as history_tab:
                history_info = gr.Markdown(HISTORY_HELP)
                history_table = gr.Dataframe(headers=HISTORY_COLUMNS, interactive=False, wrap=True, max_height=420)
                with gr.Row(equal_height=False):
                    with gr.Column(scale=1, min_width=320):
                        history_video = gr.Video(label="Clip", loop=True, buttons=["download"], interactive=False)
                    with gr.Column(scale=1, min_width=320):
                        history_job = gr.Markdown("Select a row to see its clip and settings.")
                        with gr.Row():
                            use_settings = gr.Button("Use these settings", size="sm")
                            resume_selected = gr.Button("Resume", size="sm")
                            refresh = gr.Button("Refresh", size="sm")
                        continue_selected = continue_from_last_frame(visible=True)
                        resume_id = gr.Textbox(
                            label="Resume any task id", placeholder="an id from the CLI or WaveSpeed's dashboard"
                        )
                        resume_typed = gr.Button("Resume this id", size="sm")
                selected_id = gr.State("")
                stitch = stitch_panel()
            history = HistoryView(
                history_info,
                history_table,
                history_video,
                history_job,
                use_settings,
                resume_selected,
                refresh,
                resume_id,
                resume_typed,
                selected_id,
                continue_selected,
                stitch,
            )

        with gr.Accordion("How to prompt", open=False):
            gr.Markdown(HOW_TO_PROMPT)

        parts = Parts(tabs, banner, owner_store, key_store, session, key, i2v, t2v, prompt_lab, history)
        handlers = Handlers(generation, journal, parts)
        wire(demo, parts, handlers, history_tab, concurrency=settings.concurrency)

    demo.queue(default_concurrency_limit=settings.concurrency)
    return demo, handlers


# -- wiring --------------------------------------------------------------------------------------


def wire(demo: gr.Blocks, p: Parts, h: Handlers, history_tab: gr.Tab, *, concurrency: int) -> None:
    private: dict[str, Any] = {"api_visibility": "private", "queue": False}
    generation: dict[str, Any] = {"concurrency_limit": concurrency, "concurrency_id": "generation"}
    gen, i2v, t2v, lab_form, history = h.generation, p.i2v, p.t2v, p.lab, p.history

    # Who is visiting: their browser id and key come back; the page shows live or preview.
    durations = [i2v.duration, t2v.duration]
    mode_view = [p.session, p.banner, p.key.info, i2v.buttons.price, t2v.buttons.price, i2v.out.video, t2v.out.video]
    demo.load(h.visitor.restore, [p.owner_store, p.key_store, *durations], [p.owner_store, *mode_view], **private)
    key_outputs = [p.key_store, p.key.box, *mode_view]
    p.key.save.click(h.visitor.save_key, [p.key.box, p.session, *durations], key_outputs, **private)
    p.key.clear.click(h.visitor.clear_key, [p.session, *durations], key_outputs, **private)
    main_forms = [
        p.tabs,
        i2v.image,
        i2v.text.prompt,
        i2v.text.negative,
        i2v.guidance,
        i2v.duration,
        i2v.end_image,
        t2v.text.prompt,
        t2v.text.negative,
        t2v.aspect_ratio,
        t2v.duration,
    ]
    demo.load(h.visitor.prefill, None, main_forms, **private)

    # The two generate tabs; their runs are the public API.
    for text in (i2v.text, t2v.text):
        text.prompt.change(None, text.prompt, text.count, js=COUNT_JS)
        for button, phrase in text.moves.items():
            button.click(
                None, text.prompt, text.prompt, js=f"(p) => (p && p.trim() ? p.trim() + ' ' : '') + {phrase!r}"
            )
        text.compose.click(compose_brief, text.brief, text.prompt, **private)
    for form in (i2v, t2v):
        form.duration.change(gen.price, [form.duration, p.session], form.buttons.price, **private)

    i2v_run = i2v.buttons.go.click(
        gen.image_to_video,
        [i2v.image, i2v.text.prompt, i2v.text.negative, i2v.guidance, i2v.duration, i2v.end_image, p.session]
        + [i2v.continues],
        [i2v.out.status, i2v.out.video, i2v.out.details, i2v.out.task],
        validator=gen.check_i2v,
        api_name="image_to_video",
        show_progress_on=i2v.out.video,
        **generation,
    )
    t2v_run = t2v.buttons.go.click(
        gen.text_to_video,
        [t2v.text.prompt, t2v.text.negative, t2v.aspect_ratio, t2v.duration, p.session],
        [t2v.out.status, t2v.out.video, t2v.out.details, t2v.out.task],
        validator=gen.check_t2v,
        api_name="text_to_video",
        show_progress_on=t2v.out.video,
        **generation,
    )
    for form, run in ((i2v, i2v_run), (t2v, t2v_run)):
        form.buttons.stop.click(gen.stop_waiting, [form.out.task, p.session], form.out.status, cancels=[run], **private)
    i2v.out.link_button.click(
        None,
        [gr.State("i2v"), i2v.text.prompt, i2v.text.negative, i2v.guidance, i2v.duration],
        i2v.out.link,
        js=LINK_JS,
    )
    t2v.out.link_button.click(
        None,
        [gr.State("t2v"), t2v.text.prompt, t2v.text.negative, t2v.aspect_ratio, t2v.duration],
        t2v.out.link,
        js=LINK_JS,
    )

    # Prompt Lab: its handlers read every variant from one dict keyed by component.
    slots = lab_form.slots
    lab_inputs: set[Block] = {lab_form.mode, lab_form.image, lab_form.aspect_ratio, lab_form.count, p.session}
    lab_inputs |= {field for slot in slots for field in slot.settings}
    lab_layout = [lab_form.image, lab_form.aspect_ratio, *(slot.column for slot in slots)]
    lab_layout += [slot.guidance for slot in slots]
    for trigger in (lab_form.mode, lab_form.count):
        trigger.change(h.lab.layout, [lab_form.mode, lab_form.count], lab_layout, **private)
    price_inputs: set[Block] = {lab_form.count, p.session, *(slot.duration for slot in slots)}
    for trigger in (lab_form.count, *(slot.duration for slot in slots)):
        trigger.change(h.lab.price, price_inputs, lab_form.price, **private)
    demo.load(h.lab.price, price_inputs, lab_form.price, **private)
    lab_results = [*(slot.status for slot in slots), *(slot.video for slot in slots), lab_form.summary]
    lab_results += [slot.task for slot in slots]
    lab_event = lab_form.run.click(h.lab.run, lab_inputs, lab_results, api_visibility="private", **generation)
    lab_form.stop.click(lambda: LAB_STOPPED, None, lab_form.summary, cancels=[lab_event], **private)
    use_inputs: set[Block] = {lab_form.mode, lab_form.image, lab_form.aspect_ratio}
    for slot in slots:
        slot.use.click(partial(h.lab.use, slot), use_inputs | set(slot.settings), main_forms, **private)

    # History.
    listing = [history.info, history.table, history.stitch.clips, history.stitch.films]
    history_tab.select(h.history.list, p.session, listing, **private)
    history.refresh.click(h.history.list, p.session, listing, **private)
    history.table.select(h.history.select, p.session, [history.selected_id, history.video, history.job], **private)
    history.use_settings.click(h.history.use_settings, [history.selected_id, p.session], main_forms, **private)
    for button, source in ((history.resume_selected, history.selected_id), (history.resume_typed, history.resume_id)):
        button.click(
            h.history.resume, [source, p.session], [history.job, history.video], api_visibility="private", **generation
        ).then(h.history.list, p.session, listing, **private)

    # Continue from the last frame (under every clip) and Stitch (in History): no API call, no cost.
    continued = [p.tabs, i2v.image, i2v.end_image, i2v.text.prompt, i2v.text.negative, i2v.continues, i2v.out.status]
    sources = [(form.out.video, form.out.continue_button, form.out.task) for form in (i2v, t2v)]
    sources += [(slot.video, slot.continue_button, slot.task) for slot in slots]
    for video, button, task in sources:
        video.change(lambda clip: gr.Button(visible=bool(clip)), video, button, **private)
        button.click(h.films.continue_from, [task, p.session], continued, **private)
    history.continue_selected.click(h.films.continue_from, [history.selected_id, p.session], continued, **private)
    stitch = history.stitch
    stitch.go.click(
        h.films.stitch,
        [stitch.clips, stitch.crossfade, p.session],
        [stitch.film, stitch.about, stitch.films],
        api_visibility="private",
        concurrency_limit=1,
        concurrency_id="stitch",
    )
    stitch.films.input(h.films.show, [stitch.films, p.session], [stitch.film, stitch.about], **private)
