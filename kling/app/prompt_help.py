"""What "Improve prompt", "Use this prompt", "Back to mine", the Lab's "Write variants" and the
`/improve_prompt` endpoint do: one call to WaveSpeed's prompt optimizer each (kling.api.optimizer),
paid with the key the generation would use and under the spend guard. A suggestion is only shown:
the prompt changes when the visitor says so, and a refused or failed call leaves it as it was.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import gradio as gr

from kling.api.optimizer import (
    DEFAULT_STYLE,
    PRICE_MILLS,
    PRICE_TEXT,
    STYLES,
    VARIANT_STYLES,
    PromptRequest,
    Suggestion,
    improve_prompt,
)
from kling.api.params import PROMPT_MAX_CHARS
from kling.app.identity import Identity
from kling.app.prompt_help_page import HelpPanel, VariantWriter
from kling.app.tabs.common import Session, Updates, lang_of, spend_refusal
from kling.app.tabs.generate import Generation
from kling.app.views import LAB_I2V, refusal_text
from kling.app.widgets import LabForm
from kling.errors import KlingError, SpendRefused, SubmitUncertainError, ValidationError
from kling.jobs.lab import LETTERS
from kling.strings import Lang, say


@dataclass(frozen=True)
class Outcome:
    """One call's result: the suggestion, or why there is none (one sentence, the visitor's language)."""

    suggestion: Suggestion | None
    refusal: str = ""
    preview: bool = False


def style_name(style: str, lang: Lang) -> str:
    return say(lang, f"prompt_help.style_{style}") if style in STYLES else style


class PromptHelp:
    """The optimizer's handlers for both generate tabs, the Lab and the API."""

    def __init__(
        self, generation: Generation, panels: tuple[HelpPanel, HelpPanel], lab: LabForm, writer: VariantWriter
    ) -> None:
        self.g = generation
        self.i2v, self.t2v = panels
        self.lab, self.writer = lab, writer

    async def ask(
        self, text: str, style: str, image: str | None, who: Identity, user_key: str | None, lang: Lang
    ) -> Outcome:
        """One optimizer call for this visitor, with `mode: "video"`; never raises for a visitor's reason."""
        runner = self.g.runner
        preview = runner.backend.is_preview(user_key)
        if not self.g.may_spend(who, user_key):
            return Outcome(None, say(lang, "sign_in.refusal"), preview)
        try:
            checked = await asyncio.to_thread(PromptRequest(text or "", style or DEFAULT_STYLE, image or None).validate)
        except ValidationError as exc:
            return Outcome(None, refusal_text(exc, lang), preview)
        try:
            call = runner.guard.admit_prompt_call(
                owner=who.owner, ip=who.address, own_key=bool(user_key), price_mills=PRICE_MILLS, price=PRICE_TEXT
            ) if runner.guard else None  # fmt: skip
        except SpendRefused as exc:
            return Outcome(None, spend_refusal(exc, lang), preview)
        try:
            return Outcome(await improve_prompt(runner.backend.client(user_key), checked), preview=preview)
        except KlingError as exc:
            # No task id and no doubt: WaveSpeed made nothing, so nothing was charged.
            charged = exc.task_id is not None or isinstance(exc, SubmitUncertainError)
            if runner.guard:
                runner.guard.settle_prompt_call(call, charged=charged)
            return Outcome(None, str(exc), preview)

    async def _visitor(
        self, session: Session | None, request: gr.Request | None, profile: gr.OAuthProfile | None
    ) -> tuple[Identity, str | None, Lang]:
        return await self.g.who(request, profile, session), self.g.key(session, request), lang_of(session)

    # -- the generate tabs -----------------------------------------------------------------------

    async def improve_i2v(
        self,
        image: str | None,
        prompt: str | None,
        style: str,
        session: Session | None,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> Updates:
        who, key, lang = await self._visitor(session, request, profile)
        return self.shown(self.i2v, await self.ask(prompt or "", style, image, who, key, lang), style, lang)

    async def improve_t2v(
        self,
        prompt: str | None,
        style: str,
        session: Session | None,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> Updates:
        who, key, lang = await self._visitor(session, request, profile)
        return self.shown(self.t2v, await self.ask(prompt or "", style, None, who, key, lang), style, lang)

    @staticmethod
    def shown(panel: HelpPanel, outcome: Outcome, style: str, lang: Lang) -> Updates:
        """The suggestion beside the prompt (never in it), or why there is none."""
        suggestion = outcome.suggestion
        if suggestion is None:
            note = say(lang, "prompt_help.failed", reason=outcome.refusal)
            hidden = gr.update(visible=False)  # no stale suggestion stays usable beside the refusal
            return {panel.group: gr.update(visible=True), panel.note: note, panel.suggestion: hidden, panel.use: hidden}
        key = "prompt_help.note_preview" if outcome.preview else "prompt_help.note"
        note = say(lang, key, style=style_name(style, lang))
        if suggestion.cut:
            note += " " + say(lang, "prompt_help.cut", count=len(suggestion.text), limit=PROMPT_MAX_CHARS)
        return {
            panel.group: gr.update(visible=True),
            panel.note: note,
            panel.suggestion: gr.update(value=suggestion.fitted, visible=True),
            panel.use: gr.update(visible=True),
        }

    @staticmethod
    def use(panel: HelpPanel, suggestion: str, prompt: str, mine: str | None, session: Session | None) -> Updates:
        """The suggestion becomes the prompt; the visitor's own words are kept for "Back to mine"
        (the first ones: a second "Use" of the same suggestion does not overwrite them)."""
        kept = mine if mine is not None and prompt == suggestion else prompt
        note = say(lang_of(session), "prompt_help.used")
        return {panel.prompt: suggestion, panel.mine: kept, panel.back: gr.update(visible=True), panel.note: note}

    @staticmethod
    def back(panel: HelpPanel, mine: str | None, session: Session | None) -> Updates:
        if mine is None:
            return {panel.back: gr.update(visible=False)}
        note = say(lang_of(session), "prompt_help.back_done")
        return {panel.prompt: mine, panel.mine: None, panel.back: gr.update(visible=False), panel.note: note}

    # -- the API ---------------------------------------------------------------------------------

    async def improve_prompt(
        self,
        prompt: str | None,
        style: str = DEFAULT_STYLE,
        image: str | None = None,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> str:
        """Rewrite a video prompt with WaveSpeed's prompt optimizer ($0.001 a call; free and simulated in preview).

        Args:
            prompt: the idea or prompt to improve (at most 2500 characters); may be empty when an image is given.
            style: "default", "artistic", "photographic", "technical", "anime" or "realistic".
            image: optional start image (a file or an http(s) URL): the suggestion is then about what is in it.
        Returns:
            The suggested prompt, cut at a sentence end to fit the 2500-character prompt limit.
        """  # noqa: E501 (the API's documentation: one line per argument)
        who, key, _ = await self._visitor(None, request, profile)
        outcome = await self.ask(prompt or "", style, image, who, key, "en")
        if outcome.suggestion is None:
            raise gr.Error(outcome.refusal)
        return outcome.suggestion.fitted

    # -- the Prompt Lab --------------------------------------------------------------------------

    async def write_variants(
        self, values: dict[Any, Any], request: gr.Request | None = None, profile: gr.OAuthProfile | None = None
    ) -> Updates:
        """2 to 4 variants of one idea, each in its own style and labelled with it, written into the
        Lab's prompts for the visitor to edit; nothing runs. With Image to Video, the shared start
        image goes along."""
        session = values.get(self.writer.session)
        who, key, lang = await self._visitor(session, request, profile)
        count = int(values[self.lab.count])
        image = values[self.lab.image] if values[self.lab.mode] == LAB_I2V else None
        updates: Updates = {}
        for index, (slot, style) in enumerate(zip(self.lab.slots[:count], VARIANT_STYLES, strict=False)):
            outcome = await self.ask(values[self.writer.idea], style, image, who, key, lang)
            if outcome.suggestion is None:
                stopped = say(lang, "lab.write_stopped", letter=LETTERS[index], reason=outcome.refusal)
                updates[self.writer.note] = stopped
                return updates
            label = say(lang, "lab.style_label", letter=LETTERS[index], style=style_name(style, lang))
            updates[slot.prompt] = gr.update(value=outcome.suggestion.fitted, label=label)
        updates[self.writer.note] = say(lang, "lab.written", count=count)
        return updates
