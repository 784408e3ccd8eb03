"""The Prompt Lab tab: two to four variants of one idea, validated together, started together,
watched together (the batch itself is `kling.jobs.lab`). Its handlers, builder and wiring.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import gradio as gr
from gradio.blocks import Block

from kling.api.params import ASPECT_RATIOS, I2VRequest, T2VRequest
from kling.app.identity import Identity
from kling.app.opening import Opening
from kling.app.prompt_help_page import VariantWriter, variant_writer
from kling.app.refusals import refusal_markdown
from kling.app.scripts import before, reveal, script
from kling.app.share_tab import SharePlaces
from kling.app.tabs.common import (
    Session,
    Updates,
    filling,
    generation_queue,
    header_of,
    lang_of,
    private,
    progress_on,
    spend_refusal,
)
from kling.app.tabs.generate import Generation
from kling.app.views import LAB_I2V, LAB_T2V, refusal_text, status_markdown
from kling.app.widgets import (
    LabForm,
    LabResult,
    LabSettings,
    LabSlot,
    Parts,
    lab_result,
    lab_settings,
    lab_slot,
    start_image,
)
from kling.errors import BusyRefused, SpendRefused, ValidationError
from kling.jobs import lab
from kling.jobs.run import Run, RunState
from kling.store.share_links import CLIP
from kling.strings import Lang, language, say, text


class Lab:
    """The Prompt Lab: variants validated together, started together, watched together. Its
    handlers receive their inputs as one dict keyed by component (Gradio does that when the
    inputs are given as a set), and read each variant from its slot."""

    def __init__(self, generation: Generation, parts: Parts) -> None:
        self.g = generation
        self.parts = parts

    def _slots(self, values: dict[Any, Any]) -> list[LabSlot]:
        return self.parts.lab.slots[: int(values[self.parts.lab.count])]

    def _variants(self, values: dict[Any, Any]) -> list[lab.Variant]:
        return [
            lab.Variant(
                prompt=values[slot.prompt] or "",
                negative_prompt=values[slot.negative] or "",
                guidance_scale=values[slot.guidance],
                duration=values[slot.duration],
            )
            for slot in self._slots(values)
        ]

    async def run(
        self, values: dict[Any, Any], request: gr.Request | None = None, profile: gr.OAuthProfile | None = None
    ) -> AsyncIterator[Updates]:
        form, session = self.parts.lab, values[self.parts.session]
        who, user_key, lang = (
            await self.g.who(request, profile, session),
            self.g.key(session, request),
            lang_of(session),
        )
        # Refused before anything is sent: said in the summary, as the generate tabs say theirs.
        variants, image = self._variants(values), values[form.image]
        i2v = values[form.mode] == LAB_I2V
        if not self.g.may_spend(who, user_key):
            yield {form.summary: refusal_markdown(say(lang, "sign_in.refusal"), lang)}
            return
        if i2v and not image:
            yield {form.summary: refusal_markdown(say(lang, "lab.needs_image"), lang)}
            return
        try:  # a batch is one of the visitor's runs under way, its image read within their decodes
            share = self.g.fairness.take(who, counted=not user_key, preview=self.g.runner.backend.is_preview(user_key))
        except BusyRefused as exc:
            yield {form.summary: refusal_markdown(spend_refusal(exc, lang), lang)}
            return
        try:
            requests = await asyncio.to_thread(
                lab.validated,
                variants,
                image=image if i2v else None,
                aspect_ratio=values[form.aspect_ratio],
                prepare=self.g.fairness.images.preparer(who),
            )
        except (ValidationError, BusyRefused) as exc:
            share.give_back()
            reason = refusal_text(exc, lang) if isinstance(exc, ValidationError) else spend_refusal(exc, lang)
            yield {form.summary: refusal_markdown(reason, lang)}
            return
        labels = lab.differences(variants, i2v=i2v, lang=lang)
        runs, refused = self._start_all(requests, who, user_key, lang)
        if runs:
            share.keep_until(asyncio.gather(*(run.job for run in runs), return_exceptions=True))
        else:
            share.give_back()
        while True:
            states = [run.state for run in runs]
            yield self._progress(labels, states, refused, lang)
            if all(state.finished for state in states):
                return
            await asyncio.sleep(0.5)

    def _start_all(
        self, requests: list[I2VRequest | T2VRequest], who: Identity, user_key: str | None, lang: Lang
    ) -> tuple[list[Run], str]:
        """The variants' runs, in order, until a spend limit refuses one (said, with its letter)."""
        runs: list[Run] = []
        for checked in requests:
            try:
                runs.append(self.g.start(checked, who, user_key))
            except SpendRefused as exc:
                letter = lab.LETTERS[len(runs)]
                return runs, say(lang, "lab.not_started", letter=letter, reason=spend_refusal(exc, lang))
        return runs, ""

    def _progress(self, labels: list[str], states: list[RunState], refused: str, lang: Lang = "en") -> Updates:
        updates: Updates = {}
        for slot, label, state in zip(self.parts.lab.slots, labels, states):
            updates[slot.status] = f"**{label}**\n\n{status_markdown(state, lang=lang)}"
            updates[slot.video] = self.g.servable(state)
            updates[slot.task] = state.task_id or ""
        summary = say(lang, "lab.summary", done=sum(state.stage == "done" for state in states), total=len(states))
        updates[self.parts.lab.summary] = f"{summary}\n\n{refused}" if refused else summary
        return updates

    def stopped(self, session: Session | None) -> str:
        """What the Lab's "Stop waiting" says."""
        return say(lang_of(session), "lab.stopped")

    def layout(self, mode: str, count: int | str) -> Updates:
        """Show the slots in use, the image or the aspect ratio, and guidance only for I2V."""
        form, i2v = self.parts.lab, mode == LAB_I2V
        updates: Updates = {form.image_box: gr.Column(visible=i2v), form.aspect_ratio: gr.Radio(visible=not i2v)}
        for i, slot in enumerate(form.slots):
            updates[slot.column] = gr.Column(visible=i < int(count))
            updates[slot.guidance] = gr.Slider(visible=i2v)
            updates[slot.result] = gr.Column(visible=i < int(count))
        return updates

    def price(self, values: dict[Any, Any], request: gr.Request | None = None) -> str:
        durations, session = [values[slot.duration] for slot in self._slots(values)], values[self.parts.session]
        # A change made before the page's opening answer restored the session finds no language
        # in it yet: the browser's own Accept-Language then, as the restore itself reads it.
        lang = lang_of(session) if (session or {}).get("lang") else language(header_of(request, "accept-language"))
        return lab.total_price_text(durations, preview=self.g.preview(session), lang=lang)

    async def opening_price(
        self, session: Session, request: gr.Request | None, profile: gr.OAuthProfile | None
    ) -> Updates:
        """The price of the form as the page opens (its defaults), in the visitor's language."""
        form = self.parts.lab
        values = {form.count: form.count.value, self.parts.session: session}
        values |= {slot.duration: slot.duration.value for slot in form.slots}
        return {form.price: self.price(values, request)}

    def carry_over(self, values: dict[Any, Any]) -> Updates:
        """On opening the Lab: the image on Image to Video, when the Lab has none of its own (one
        the visitor put in the Lab is never replaced), and a note that says where it came from."""
        form, start = self.parts.lab, values[self.parts.i2v.image]
        if values[form.image] or not start:
            return {form.image: gr.skip(), form.image_note: gr.skip()}
        note = say(lang_of(values[self.parts.session]), "lab.carried")
        return {form.image: start, form.image_note: gr.Markdown(note, visible=True)}

    def use(self, slot: LabSlot, values: dict[Any, Any]) -> Updates:
        """Copy one variant's settings to the main tab of its model."""
        form = self.parts.lab
        variant = {
            "prompt": values[slot.prompt],
            "negative_prompt": values[slot.negative],
            "duration": values[slot.duration],
        }
        if values[form.mode] == LAB_I2V:
            return self.parts.fill(
                "i2v", {"image": values[form.image], "guidance_scale": values[slot.guidance], **variant}
            )
        return self.parts.fill("t2v", {"aspect_ratio": values[form.aspect_ratio], **variant})


def build_lab_tab(session: gr.State, shares: SharePlaces) -> tuple[LabForm, VariantWriter]:
    """Inside the page's gr.Tabs: the form on the left (the model and the number of variants,
    "Write variants", the shared image or aspect ratio, the variants' settings); on the right, Run
    with its cost (in sight on opening the tab at 1280x900) and one block per variant (status, clip,
    its buttons under it). On a phone the two stack: the form, then Run, then the results."""
    with gr.Tab(text("tab.lab"), id="lab") as tab:
        gr.Markdown(text("lab.help"))
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=320):
                mode, count, writer, image_box, image, note, aspect, settings = _lab_form(session)
            with gr.Column(scale=1, min_width=320):
                with gr.Row():
                    price = gr.Markdown(elem_classes="kling-price")
                    run = gr.Button(text("lab.run"), variant="primary")
                    stop = gr.Button(text("run.stop"), variant="stop")
                summary = gr.Markdown()
                slots = [lab_slot(one, result) for one, result in zip(settings, _lab_results(shares))]
                gr.Button(text("lab.play_all"), size="sm").click(None, js=script("play_all"))
    form = LabForm(mode, count, image, aspect, slots, price, run, stop, summary, tab, image_box, note)
    return form, writer


def _lab_form(session: gr.State) -> tuple[Any, ...]:
    with gr.Row():
        choices = [(text("lab.i2v"), LAB_I2V), (text("lab.t2v"), LAB_T2V)]
        mode = gr.Radio(choices, value=LAB_I2V, label=text("lab.model"))
        count = gr.Radio([2, 3, 4], value=2, label=text("lab.variants"))
    writer = variant_writer(session)
    with gr.Column() as image_box:
        image = start_image(text("lab.shared_image"))
        note = gr.Markdown(visible=False, elem_classes="kling-lab-note")
    aspect = gr.Radio(list(ASPECT_RATIOS), value=ASPECT_RATIOS[0], label=text("form.aspect_ratio"), visible=False)
    settings: list[LabSettings] = []
    for row in range(2):
        with gr.Row(equal_height=False):
            settings += [lab_settings(letter, visible=row == 0) for letter in lab.LETTERS[2 * row : 2 * row + 2]]
    return mode, count, writer, image_box, image, note, aspect, settings


def _lab_results(shares: SharePlaces) -> list[LabResult]:
    """The variants' blocks, two to a row, each with its share box under its own buttons."""
    results: list[LabResult] = []
    with gr.Column(elem_classes="kling-lab-grid"):
        for row in range(2):
            with gr.Row(equal_height=False):
                for letter in lab.LETTERS[2 * row : 2 * row + 2]:
                    result = lab_result(letter, visible=row == 0)
                    with result.column:
                        shares.under(CLIP, result.task, result.video, f"lab_{letter.lower()}")
                    results.append(result)
    return results


def wire_lab(demo: gr.Blocks, p: Parts, handlers: Lab, opening: Opening, *, concurrency: int) -> None:
    """Its handlers read every variant from one dict keyed by component (inputs given as a set)."""
    form, slots = p.lab, p.lab.slots
    inputs: set[Block] = {form.mode, form.image, form.aspect_ratio, form.count, p.session}
    inputs |= {field for slot in slots for field in slot.settings}
    layout = [form.image_box, form.aspect_ratio, *(slot.column for slot in slots)]
    layout += [slot.guidance for slot in slots] + [slot.result for slot in slots]
    # One event for several triggers: each event costs the page's first load a little (Gradio
    # checks every component against every event as it opens).
    shown = progress_on(form.aspect_ratio)  # not the columns it shows and hides
    gr.on([form.mode.change, form.count.change], handlers.layout, [form.mode, form.count], layout, **shown, **private())
    price_inputs: set[Block] = {form.count, p.session, *(slot.duration for slot in slots)}
    price_triggers = [form.count.change, *(slot.duration.change for slot in slots)]
    gr.on(price_triggers, handlers.price, price_inputs, form.price, **private())
    opening.add([form.price], handlers.opening_price)
    carried: set[Block] = {p.i2v.image, form.image, p.session}
    form.tab.select(handlers.carry_over, carried, [form.image, form.image_note], **private())
    replaced = [form.image.upload, form.image.clear]  # the visitor's own image: the note no longer applies
    gr.on(replaced, lambda: gr.Markdown(visible=False), None, form.image_note, **private())
    results = [*(slot.status for slot in slots), *(slot.video for slot in slots), form.summary]
    results += [slot.task for slot in slots]
    event = form.run.click(handlers.run, inputs, results, api_visibility="private", **generation_queue(concurrency))
    form.stop.click(handlers.stopped, p.session, form.summary, cancels=[event], **private())
    use_inputs: set[Block] = {form.mode, form.image, form.aspect_ratio}
    # The filled tab from its top, not mid-page: the Lab's top, brought into view before the switch,
    # is where the filled tab's top will be.
    top = before(reveal())
    for slot in slots:
        use = partial(handlers.use, slot)
        slot.use.click(use, use_inputs | set(slot.settings), p.main_forms, js=top, **filling(p), **private())
