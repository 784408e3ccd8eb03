"""The page: Image to Video, Text to Video, Prompt Lab and History.

The page in one `gr.Blocks` as it reads top to bottom, each tab built by its own module under
`kling.app.tabs` (which also holds that tab's handlers and wiring), then the wiring, tab by tab. The
pieces the tabs are built from are in `kling.app.widgets`; the page's scripts and style are in
page.js and style.css beside this module (`kling.app.scripts`).
"""

from __future__ import annotations

import hashlib

import gradio as gr

from kling.app.api_labels import name_api_inputs_in_english
from kling.app.edge import check_inputs_at_the_edge
from kling.app.handlers import Handlers
from kling.app.prompt_help_page import api_inputs, wire_prompt_help
from kling.app.result_poster import posters_script
from kling.app.scripts import TITLE, script, together
from kling.app.share_tab import SharePlaces, gallery_tab, wire_sharing
from kling.app.tabs.comeback import comeback_outputs
from kling.app.tabs.examples import wire_examples
from kling.app.tabs.films import wire_films
from kling.app.tabs.generate import Generation
from kling.app.tabs.history import build_history_tab, wire_history
from kling.app.tabs.i2v import build_i2v_tab, wire_i2v
from kling.app.tabs.lab import build_lab_tab, wire_lab
from kling.app.tabs.t2v import build_t2v_tab, wire_t2v
from kling.app.tabs.visitor_session import build_header, wire_links, wire_visitor
from kling.app.usage_tab import build_usage_tab, wire_usage
from kling.app.views import showcase_note
from kling.app.widgets import Parts
from kling.config import Settings
from kling.store.journal import Journal
from kling.store.showcase import ShowcaseClip
from kling.strings import text

# The page's words, in English and Chinese, are in kling/strings.py: `text(key)` here.
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
        header = build_header(settings, storage_secret)
        with gr.Tabs(overflow_behavior="wrap") as tabs:  # on a phone all four tabs stay in sight
            shares = SharePlaces()  # "Share" under each clip of the visitor's own (kling.app.share_tab)
            i2v, i2v_help = build_i2v_tab(settings, showcase, note, shares)
            t2v, t2v_help = build_t2v_tab(settings, showcase, note, shares)
            prompt_lab, lab_writer = build_lab_tab(header.session, shares)
            history, history_tab = build_history_tab(shares)
            gallery = gallery_tab(settings.gallery)
            # Hidden, shown to the Space's administrators only; not built where nobody can be one.
            usage_panel = build_usage_tab() if settings.admins else None

        with gr.Accordion(text("guide.title"), open=False):
            gr.Markdown(text("guide.text"))

        prompt_api = api_inputs()
        h = header
        parts = Parts(tabs, h.banner, h.owner_store, h.key_store, h.session, h.key, i2v, t2v, prompt_lab, history)
        handlers = Handlers(generation, journal, parts, showcase)
        wire(demo, parts, handlers, history_tab, concurrency=settings.concurrency)
        handlers.prompt_help = wire_prompt_help(parts, handlers, (i2v_help, t2v_help), lab_writer, prompt_api)
        wire_examples(parts, handlers.examples)
        # The page's own scripts as it opens: the status panels as live regions, the toasts' titles
        # in the page's language, the empty players' posters.
        posters = posters_script(showcase, i2v.examples, t2v.examples)
        demo.load(None, js=together(script("live_region"), script("toast_titles"), posters))
        opening = handlers.visitor.opening  # the parts the page's one opening answer carries
        if usage_panel is not None:
            wire_usage(usage_panel, generation.runner, journal, header.session, opening)
        wire_sharing(demo, generation, journal, shares, header.session, gallery, i2v.image, opening)
        wire_visitor(demo, parts, handlers.visitor)  # last: its opening answer writes what the others added

    demo.queue(default_concurrency_limit=settings.concurrency)
    name_api_inputs_in_english(demo)  # "Use via API" names each input, not "[object Object]"
    check_inputs_at_the_edge(demo)  # a hand-made request's wrong value is refused, not an unhandled error
    return demo, handlers


def wire(demo: gr.Blocks, p: Parts, h: Handlers, history_tab: gr.Tab, *, concurrency: int) -> None:
    """Each tab's wiring, in the page's order (a refused run's validator ends only the events after it)."""
    h.visitor.opening.add(comeback_outputs(p), h.comeback.at_opening)  # a reload: the visitor's task back in its tab
    wire_i2v(p, h.generation, concurrency=concurrency)  # the two generate tabs: their runs are the public API
    wire_t2v(p, h.generation, concurrency=concurrency)
    wire_links(p, h.visitor)
    wire_lab(demo, p, h.lab, h.visitor.opening, concurrency=concurrency)
    wire_history(p, h.history, history_tab, concurrency=concurrency)
    wire_films(p, h.films)
