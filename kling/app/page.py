"""The page: Image to Video, Text to Video, Prompt Lab and History.

Copy first, then the page in one `gr.Blocks` as it reads top to bottom, then the wiring. What each
control does is in `kling.app.handlers`; the pieces it is built from are in `kling.app.widgets`.
"""

from __future__ import annotations

import hashlib
import json
from functools import partial
from typing import Any

import gradio as gr
from gradio.blocks import Block
from gradio.utils import get_space

from kling.api.params import ASPECT_RATIOS, PROMPT_MAX_CHARS
from kling.app.handlers import Generation, Handlers, compose_into
from kling.app.prompt_help_page import api_inputs, help_panel, variant_writer, wire_prompt_help
from kling.app.share_tab import SharePlaces, gallery_tab, wire_sharing
from kling.app.usage_tab import build_usage_tab, wire_usage
from kling.app.views import (
    LAB_I2V,
    LAB_T2V,
    history_headers,
    key_status,
    mode_banner,
    showcase_note,
)
from kling.app.widgets import (
    CAMERA_MOVES,
    HistoryView,
    I2VForm,
    KeyPanel,
    LabForm,
    Parts,
    PromptInputs,
    T2VForm,
    continue_from_last_frame,
    duration_radio,
    example_gallery,
    guidance_slider,
    lab_slot,
    prompt_box,
    refinements,
    result_panel,
    run_buttons,
    start_image,
    stitch_panel,
    thumbnails,
)
from kling.config import Settings
from kling.examples import I2V_PROMPTS, STARTERS, T2V_EXAMPLES
from kling.jobs import lab
from kling.store.journal import Journal
from kling.store.shares import CLIP, FILM
from kling.store.showcase import ShowcaseClip
from kling.strings import SCRIPT, text

# -- copy ----------------------------------------------------------------------------------------

TITLE = "Kling Studio"
# The page's words, in English and Chinese, are in kling/strings.py: `text(key)` here.

# A link is built by `Visitor.link` from the page's address, which only the browser knows.
PAGE_URL_JS = "(url, ...settings) => [window.location.href, ...settings]"
# The page's scripts say things too: in the browser's language, from kling/strings.py.
WORDS_JS = f"""const words = ({json.dumps(SCRIPT)})[
  (navigator.language || "").toLowerCase().startsWith("zh") ? "zh" : "en"];
const say = (key, values = {{}}) => words[key].replace(/{{(\\w+)}}/g, (_, name) => String(values[name]));"""
COPY_JS = f"""async (url) => {{
  {WORDS_JS}
  try {{ await navigator.clipboard.writeText(url); return say("copied"); }}
  catch (e) {{ return say("copy_failed"); }}
}}"""
# Counted as Python counts (code points), so the counter and the refusal agree on an emoji or a
# Chinese character: each is one.
COUNT_JS = f"""(text) => {{
  {WORDS_JS}
  const count = [...(text || "")].length, limit = {PROMPT_MAX_CHARS};
  return count > limit ? say("count_over", {{count, limit, over: count - limit}}) : say("count", {{count, limit}});
}}"""
# A finished clip renames the browser tab, so a visitor who went to another tab notices.
TITLE_JS = f"""(status) => {{
  {WORDS_JS}
  const s = status || "";
  document.title = s.startsWith("### ⏳") ? say("title_running")
    : s.startsWith("### ✅") ? say("title_done")
    : s.startsWith("### ❌") ? say("title_failed") : "{TITLE}";
  return status;
}}"""
PLAY_ALL_JS = """() => {
  document.querySelectorAll(".kling-lab-grid video").forEach((v) => { v.currentTime = 0; v.play(); });
}"""
# Screen readers announce the run's progress and its refusals (Markdown takes no ARIA attributes).
# Gradio draws some of them after the load event (a tab opened later): an observer marks those too.
LIVE_REGION_JS = """() => {
  const mark = () => document.querySelectorAll(".block.kling-status:not([aria-live])")
    .forEach((el) => el.setAttribute("aria-live", "polite"));
  mark();
  new MutationObserver(mark).observe(document.body, {childList: true, subtree: true});
}"""
COMPOSE_JS = f"""(...values) => {{
  {WORDS_JS}
  const prompt = values[values.length - 1];
  if (prompt && prompt.trim() && confirm(say("replace_prompt"))) {{
    values[values.length - 1] = "";
  }}
  return values;
}}"""
CSS = """
.kling-count { font-size: .85em; margin-top: -.5em; }
.kling-player:not(:has(video)) { display: none; }  /* no empty player box before the first clip */
/* The status panel tells the progress: Gradio's "0 steps | 0.4s" tracker on the result (which
   show_progress="hidden" leaves on a Markdown output while gr.Progress reports) says nothing. */
.kling-details [data-testid="status-tracker"], .kling-status [data-testid="status-tracker"] { display: none; }
.kling-price { text-align: right; align-self: center; }
.kling-status { min-height: 4.5em; }
"""
SYSTEM_FONTS = ("ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif")
SYSTEM_MONO_FONTS = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace")


def theme() -> gr.themes.Base:
    """Gradio's Soft theme with text that meets WCAG AA: its primary button (white on indigo 500),
    labels (indigo on pale indigo), subdued text and accents fall just short. The device's own fonts,
    not Soft's web fonts: those would be a fifth of the first load, and a first visit should weigh
    little more than a bare Gradio page."""
    return gr.themes.Soft(font=SYSTEM_FONTS, font_mono=SYSTEM_MONO_FONTS).set(
        button_primary_background_fill="*primary_600",
        button_primary_background_fill_hover="*primary_700",
        block_label_text_color="*primary_700",
        block_title_text_color="*primary_700",
        body_text_color_subdued="*neutral_600",  # the footer links, "or" in an upload box
        color_accent="*primary_600",  # "Click to Upload"
        link_text_color="*primary_700",
    )


# -- the page ------------------------------------------------------------------------------------


def build_page(
    settings: Settings, generation: Generation, journal: Journal, showcase: dict[str, ShowcaseClip] | None = None
) -> tuple[gr.Blocks, Handlers]:
    """The page, and its handlers bound to its components. `showcase`: the clips loaded at start-up."""
    # Gradio sends a BrowserState's secret to the browser (it encrypts there): never the signing key,
    # only a one-way derivative that stays the same across restarts.
    storage_secret = hashlib.sha256(b"kling-studio browser storage:" + generation.secret).hexdigest()
    showcase = showcase or {}
    note = showcase_note(len(showcase), settings.preview)

    # Gradio removes its uploads and cached outputs once they are this old, checking a few times
    # per period: an upload no run used would otherwise stay until the server restarts.
    age = settings.upload_max_age_s
    with gr.Blocks(title=TITLE, delete_cache=(max(1, min(600, age // 4)), age)) as demo:
        # The browser keeps the id this server signed (kling.app.identity); the page never trusts it unchecked.
        owner_store = gr.BrowserState(None, storage_key="kling-studio-owner", secret=storage_secret)
        key_store = gr.BrowserState("", storage_key="kling-studio-key", secret=storage_secret)
        session = gr.State({"token": "", "key": ""})
        shares = SharePlaces()  # "Share" under each clip of the visitor's own (kling.app.share_tab)

        gr.Markdown(text("heading"))
        if settings.sign_in and get_space() is not None:
            # Only on a Space with hf_oauth (and Gradio agreeing it is one): elsewhere Gradio's local
            # stand-in asks huggingface.co who you are as soon as the page is built.
            gr.LoginButton(str(text("sign_in")))  # a str: the marked key, which the page translates
        banner = gr.Markdown(mode_banner(settings, ""), elem_id="mode-banner")

        with gr.Accordion(text("key.title"), open=False):
            key_box = gr.Textbox(label=text("key.label"), type="password", info=text("key.help"), placeholder="wsk_...")
            with gr.Row():
                save_key = gr.Button(text("key.save"), size="sm")
                clear_key = gr.Button(text("key.clear"), size="sm")
            key_info = gr.Markdown(key_status(settings, ""))
        key = KeyPanel(key_box, save_key, clear_key, key_info)

        with gr.Tabs(overflow_behavior="wrap") as tabs:  # on a phone all four tabs stay in sight
            with gr.Tab(text("tab.i2v"), id="i2v"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=1, min_width=320):
                        with gr.Row():
                            i2v_image = start_image(text("form.start_image"), height=160)
                            i2v_end = start_image(text("form.end_image"), height=160)
                        i2v_prompt = prompt_box(text("form.i2v_placeholder"))
                        i2v_help = help_panel(i2v_prompt[0], preview=settings.preview)
                        i2v_duration = duration_radio()  # it sets the price: never under "Advanced"
                        i2v_buttons = run_buttons()
                        i2v_text = PromptInputs(*i2v_prompt, *refinements())
                        with gr.Accordion(text("form.advanced"), open=False):
                            i2v_guidance = guidance_slider(info=text("form.guidance_help"))
                    with gr.Column(scale=1, min_width=320):
                        i2v_out = result_panel()
                        shares.under(CLIP, i2v_out.status, i2v_out.video, "i2v")
                        i2v_continues = gr.State(None)  # a State directly in gr.Tabs would count as a tab
                gr.Markdown(text(note) if note else "", visible=bool(note), elem_classes="kling-showcase-note")
                i2v_examples = example_gallery(text("examples.starters"), thumbnails(STARTERS, showcase), columns=4)
                page_prompts = gr.Examples(
                    [[idea.prompt, idea.negative_prompt] for idea in I2V_PROMPTS],
                    inputs=[i2v_text.prompt, i2v_text.negative],
                    cache_examples=False,
                    label=text("examples.page_prompts"),
                )
                # No column names: Gradio names them after the inputs' labels and would show those as
                # translation keys (a Dataset's headers are not translated). The table reads without.
                page_prompts.dataset.headers = []
            i2v = I2VForm(
                i2v_image,
                i2v_end,
                i2v_text,
                i2v_guidance,
                i2v_duration,
                i2v_buttons,
                i2v_out,
                i2v_continues,
                i2v_examples,
            )

            with gr.Tab(text("tab.t2v"), id="t2v"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=1, min_width=320):
                        t2v_prompt = prompt_box(text("form.t2v_placeholder"))
                        t2v_help = help_panel(t2v_prompt[0], preview=settings.preview)
                        with gr.Row():
                            t2v_aspect = gr.Radio(
                                list(ASPECT_RATIOS), value=ASPECT_RATIOS[0], label=text("form.aspect_ratio")
                            )
                            t2v_duration = duration_radio()
                        t2v_buttons = run_buttons()
                        t2v_text = PromptInputs(*t2v_prompt, *refinements())
                    with gr.Column(scale=1, min_width=320):
                        t2v_out = result_panel()
                        shares.under(CLIP, t2v_out.status, t2v_out.video, "t2v")
                gr.Markdown(text(note) if note else "", visible=bool(note), elem_classes="kling-showcase-note")
                t2v_examples = example_gallery(text("examples.t2v"), thumbnails(T2V_EXAMPLES, showcase), columns=3)
            t2v = T2VForm(t2v_text, t2v_aspect, t2v_duration, t2v_buttons, t2v_out, t2v_examples)

            with gr.Tab(text("tab.lab"), id="lab"):
                gr.Markdown(text("lab.help"))
                with gr.Row():
                    lab_mode = gr.Radio(
                        [(text("lab.i2v"), LAB_I2V), (text("lab.t2v"), LAB_T2V)], value=LAB_I2V, label=text("lab.model")
                    )
                    lab_count = gr.Radio([2, 3, 4], value=2, label=text("lab.variants"))
                lab_writer = variant_writer(session)
                with gr.Row():
                    lab_image = start_image(text("lab.shared_image"))
                    lab_aspect = gr.Radio(
                        list(ASPECT_RATIOS), value=ASPECT_RATIOS[0], label=text("form.aspect_ratio"), visible=False
                    )
                slots = []
                for row in range(2):
                    with gr.Row(equal_height=False):
                        slots += [lab_slot(letter, visible=row == 0) for letter in lab.LETTERS[2 * row : 2 * row + 2]]
                with gr.Row():
                    lab_price = gr.Markdown(elem_classes="kling-price")
                    lab_run = gr.Button(text("lab.run"), variant="primary")
                    lab_stop = gr.Button(text("run.stop"), variant="stop")
                lab_summary = gr.Markdown()
                with gr.Row(elem_classes="kling-lab-grid"):  # the results side by side, one size
                    for slot in slots:
                        slot.video.render()
                shares.under_each(slots)
                gr.Button(text("lab.play_all"), size="sm").click(None, js=PLAY_ALL_JS)
            prompt_lab = LabForm(
                lab_mode, lab_count, lab_image, lab_aspect, slots, lab_price, lab_run, lab_stop, lab_summary
            )

            with gr.Tab(text("tab.history"), id="history") as history_tab:
                history_info = gr.Markdown(text("history.help"))
                history_table = gr.Dataframe(headers=history_headers(), interactive=False, wrap=True, max_height=420)
                with gr.Row(equal_height=False):
                    with gr.Column(scale=1, min_width=320):
                        history_video = gr.Video(
                            label=text("history.clip"), loop=True, buttons=["download"], interactive=False
                        )
                    with gr.Column(scale=1, min_width=320):
                        history_job = gr.Markdown(text("history.select"))
                        with gr.Row():
                            use_settings = gr.Button(text("history.use_settings"), size="sm")
                            resume_selected = gr.Button(text("history.resume"), size="sm")
                            refresh = gr.Button(text("history.refresh"), size="sm")
                        continue_selected = continue_from_last_frame(visible=True)
                        history_share = shares.under(CLIP, None, history_video, "history")
                        resume_id = gr.Textbox(
                            label=text("history.resume_id"), placeholder=text("history.resume_id_placeholder")
                        )
                        resume_typed = gr.Button(text("history.resume_typed"), size="sm")
                selected_id = history_share.source = gr.State("")
                history_timer = gr.Timer(3.0, active=False)
                stitch = stitch_panel()
                shares.under(FILM, stitch.films, stitch.film, "film")
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
                history_timer,
                continue_selected,
                stitch,
            )

            gallery = gallery_tab(settings.gallery)
            usage_panel = build_usage_tab()  # hidden; shown to the Space's administrators only

        with gr.Accordion(text("guide.title"), open=False):
            gr.Markdown(text("guide.text"))

        prompt_api = api_inputs()
        parts = Parts(tabs, banner, owner_store, key_store, session, key, i2v, t2v, prompt_lab, history)
        handlers = Handlers(generation, journal, parts, showcase)
        wire(demo, parts, handlers, history_tab, concurrency=settings.concurrency)
        handlers.prompt_help = wire_prompt_help(parts, handlers, (i2v_help, t2v_help), lab_writer, prompt_api)
        wire_examples(parts, handlers)
        wire_usage(demo, usage_panel, generation.runner, journal, session)
        wire_sharing(demo, generation, journal, shares, session, gallery, i2v.image)

    demo.queue(default_concurrency_limit=settings.concurrency)
    return demo, handlers


# -- wiring --------------------------------------------------------------------------------------


def camera_move_js(phrase: str) -> str:
    """One camera move at a time: the chosen phrase replaces any move added before."""
    moves = list(CAMERA_MOVES.values())
    return f"""(p) => {{
  let text = p || "";
  for (const move of {moves!r}) text = text.split(move).join("");
  text = text.replace(/ {{2,}}/g, " ").trim();
  return (text ? text + " " : "") + {phrase!r};
}}"""


def wire(demo: gr.Blocks, p: Parts, h: Handlers, history_tab: gr.Tab, *, concurrency: int) -> None:
    private: dict[str, Any] = {"api_visibility": "private", "queue": False}
    generation: dict[str, Any] = {"concurrency_limit": concurrency, "concurrency_id": "generation"}
    gen, i2v, t2v, lab_form, history = h.generation, p.i2v, p.t2v, p.lab, p.history

    # Who is visiting: their browser id and key come back; the page shows live or preview.
    durations = [i2v.duration, t2v.duration]
    mode_view = [p.session, p.banner, p.key.info, i2v.buttons.price, t2v.buttons.price, i2v.out.video, t2v.out.video]
    galleries = [i2v.examples, t2v.examples]  # their captions, in the browser's language
    demo.load(
        h.visitor.restore, [p.owner_store, p.key_store, *durations], [p.owner_store, *mode_view, *galleries], **private
    )
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
    demo.load(None, js=LIVE_REGION_JS)

    # The two generate tabs; their runs are the public API.
    for inputs in (i2v.text, t2v.text):
        inputs.prompt.change(None, inputs.prompt, inputs.count, js=COUNT_JS)
        for button, phrase in inputs.moves.items():
            button.click(None, inputs.prompt, inputs.prompt, js=camera_move_js(phrase))
        inputs.compose.click(compose_into, [*inputs.brief, inputs.prompt], inputs.prompt, js=COMPOSE_JS, **private)
    for form in (i2v, t2v):
        form.duration.change(gen.price, [form.duration, p.session], form.buttons.price, **private)

    # The status panel carries the progress: no Gradio overlay ("1 steps | 0.7s") on the outputs.
    i2v_settings = [i2v.image, i2v.text.prompt, i2v.text.negative, i2v.guidance, i2v.duration, i2v.end_image]
    t2v_settings = [t2v.text.prompt, t2v.text.negative, t2v.aspect_ratio, t2v.duration]
    # Before the runs: a refused run's validator ends the click's events that come after it.
    refusals = ((i2v, gen.refusal_i2v, i2v_settings), (t2v, gen.refusal_t2v, t2v_settings))
    for form, refusal, settings in refusals:  # a refused run says so in the result panel too
        result = [form.out.status, form.out.video, form.out.details]
        form.buttons.go.click(refusal, [*settings, p.session], result, show_progress="hidden", **private)
    i2v_run = i2v.buttons.go.click(
        gen.image_to_video,
        [*i2v_settings, p.session, i2v.continues],
        [i2v.out.status, i2v.out.video, i2v.out.details],
        validator=gen.check_i2v,
        api_name="image_to_video",
        show_progress="hidden",
        **generation,
    )
    t2v_run = t2v.buttons.go.click(
        gen.text_to_video,
        [*t2v_settings, p.session],
        [t2v.out.status, t2v.out.video, t2v.out.details],
        validator=gen.check_t2v,
        api_name="text_to_video",
        show_progress="hidden",
        **generation,
    )
    for form, run in ((i2v, i2v_run), (t2v, t2v_run)):
        form.buttons.stop.click(
            gen.stop_waiting, [form.out.status, p.session], form.out.status, cancels=[run], **private
        ).then(gen.follow_after_stop, form.out.status, form.out.timer, **private)
        background = [form.out.status, form.out.video, form.out.timer]
        form.out.timer.tick(
            gen.background_for(form.out), [form.out.status, p.session], background, show_progress="hidden", **private
        )
        form.out.status.change(None, form.out.status, None, js=TITLE_JS, **private)
        form.out.status.change(
            partial(gen.busy, form.buttons),
            [form.out.status, p.session],
            [form.buttons.go, form.buttons.stop],
            show_progress="hidden",
            **private,
        )
    for tab, form, third in (("i2v", i2v, i2v.guidance), ("t2v", t2v, t2v.aspect_ratio)):
        form.out.link_button.click(
            partial(h.visitor.link, tab),
            [form.out.link, form.text.prompt, form.text.negative, third, form.duration],
            form.out.link,
            js=PAGE_URL_JS,
            **private,
        ).then(None, form.out.link, form.out.link_button, js=COPY_JS, **private)

    # Prompt Lab: its handlers read every variant from one dict keyed by component.
    slots = lab_form.slots
    lab_inputs: set[Block] = {lab_form.mode, lab_form.image, lab_form.aspect_ratio, lab_form.count, p.session}
    lab_inputs |= {field for slot in slots for field in slot.settings}
    lab_layout = [lab_form.image, lab_form.aspect_ratio, *(slot.column for slot in slots)]
    lab_layout += [slot.guidance for slot in slots] + [slot.video for slot in slots]
    for trigger in (lab_form.mode, lab_form.count):
        trigger.change(h.lab.layout, [lab_form.mode, lab_form.count], lab_layout, **private)
    price_inputs: set[Block] = {lab_form.count, p.session, *(slot.duration for slot in slots)}
    for trigger in (lab_form.count, *(slot.duration for slot in slots)):
        trigger.change(h.lab.price, price_inputs, lab_form.price, **private)
    demo.load(h.lab.price, price_inputs, lab_form.price, **private)
    lab_results = [*(slot.status for slot in slots), *(slot.video for slot in slots), lab_form.summary]
    lab_results += [slot.task for slot in slots]
    lab_event = lab_form.run.click(h.lab.run, lab_inputs, lab_results, api_visibility="private", **generation)
    lab_form.stop.click(h.lab.stopped, p.session, lab_form.summary, cancels=[lab_event], **private)
    use_inputs: set[Block] = {lab_form.mode, lab_form.image, lab_form.aspect_ratio}
    for slot in slots:
        slot.use.click(partial(h.lab.use, slot), use_inputs | set(slot.settings), main_forms, **private)

    # History.
    listing = [history.info, history.table, history.timer, history.stitch.clips, history.stitch.films]
    history.timer.tick(h.history.list, p.session, listing, show_progress="hidden", **private)
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
    # A result panel's status line names its task; a Lab variant keeps its task id.
    sources: list[tuple[gr.Video, gr.Button, Block]] = [
        (form.out.video, form.out.continue_button, form.out.status) for form in (i2v, t2v)
    ]
    sources += [(slot.video, slot.continue_button, slot.task) for slot in slots]
    for video, button, clip_source in sources:
        video.change(lambda clip: gr.Button(visible=bool(clip)), video, button, **private)
        button.click(h.films.continue_from, [clip_source, p.session], continued, **private)
    history.continue_selected.click(h.films.continue_from, [history.selected_id, p.session], continued, **private)
    stitch = history.stitch
    stitch.go.click(
        h.films.stitch,
        [stitch.clips, stitch.crossfade, p.session],
        [stitch.film, stitch.about, stitch.films],
        api_visibility="private",
        # A few films at once, at most one per visitor (Films.stitch): one long film holds one slot.
        concurrency_limit=h.films.g.settings.stitch_workers,
        concurrency_id="stitch",
    )
    stitch.films.input(h.films.show, [stitch.films, p.session], [stitch.film, stitch.about], **private)


def wire_examples(p: Parts, h: Handlers) -> None:
    """A click on an example fills its form and, where the showcase has its clip, shows it: no run,
    no API call, and no API endpoint (gradio_client and MCP see only the two generate endpoints)."""
    private: dict[str, Any] = {"api_visibility": "private", "queue": False}
    i2v, t2v = p.i2v, p.t2v
    results = [i2v.out.status, i2v.out.video, i2v.out.details]
    i2v_form = [i2v.image, i2v.end_image, i2v.text.prompt, i2v.text.negative, i2v.guidance, i2v.duration]
    p.i2v.examples.select(h.examples.pick_starter, p.session, [p.tabs, *i2v_form, *results], **private)
    results = [t2v.out.status, t2v.out.video, t2v.out.details]
    t2v_form = [t2v.text.prompt, t2v.text.negative, t2v.aspect_ratio, t2v.duration]
    p.t2v.examples.select(h.examples.pick_t2v, p.session, [p.tabs, *t2v_form, *results], **private)
