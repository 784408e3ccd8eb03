"""The examples under each generate tab: a click fills the form and, where the showcase has the
example's clip, shows it. No run, no API call, no endpoint.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import gradio as gr

from kling.app.scripts import before, reveal
from kling.app.tabs.common import Session, Updates, filling, lang_of, private
from kling.app.views import showcase_details, showcase_status
from kling.app.widgets import I2VForm, Parts, T2VForm
from kling.examples import STARTERS, T2V_EXAMPLES, Generable, Starter
from kling.store.showcase import ShowcaseClip, clip_for
from kling.strings import Lang, example_title

log = logging.getLogger("kling.store.showcase")


class Examples:
    """Clicking an example: it fills the form, and when the showcase has its clip (made with the
    example's current settings), shows that clip at once. Reads only the showcase loaded at
    start-up: a click never calls the API and never starts a run."""

    def __init__(self, showcase: dict[str, ShowcaseClip], parts: Parts) -> None:
        self.showcase = showcase
        self.parts = parts

    def clip(self, example: Generable) -> ShowcaseClip | None:
        clip = clip_for(example, self.showcase)
        if clip is not None and not clip.clip_path.is_file():
            log.warning("Showcase clip %s is gone since start-up; not shown", clip.clip_path)
            return None
        return clip

    def pick_starter(self, session: Session | None, evt: gr.SelectData) -> Updates:
        """A thumbnail of the Image to Video gallery (it shows STARTERS in order)."""
        return self._pick(STARTERS, evt, lang_of(session))

    def pick_t2v(self, session: Session | None, evt: gr.SelectData) -> Updates:
        """A thumbnail of the Text to Video gallery (it shows T2V_EXAMPLES in order)."""
        return self._pick(T2V_EXAMPLES, evt, lang_of(session))

    def _pick(self, examples: Sequence[Generable], evt: gr.SelectData, lang: Lang) -> Updates:
        index = evt.index if isinstance(evt.index, int) else -1
        if not 0 <= index < len(examples):
            return {self.parts.tabs: gr.skip()}  # not {}: Gradio would take it for one output value
        return self.fill(examples[index], lang)

    def fill(self, example: Generable, lang: Lang = "en") -> Updates:
        form: I2VForm | T2VForm
        if isinstance(example, Starter):
            form = self.parts.i2v
            updates = form.fill({"image": str(example.image_path), "end_image": None, **example_settings(example)})
        else:
            form = self.parts.t2v
            updates = form.fill({"aspect_ratio": example.aspect_ratio, **example_settings(example)})
        clip = self.clip(example)
        if clip is not None:
            updates |= {
                form.out.status: showcase_status(example_title(example.key, example.title, lang), clip, lang),
                form.out.video: str(clip.clip_path),
                form.out.details: showcase_details(clip, lang),
            }
        return updates


def example_settings(example: Generable) -> dict[str, Any]:
    """What every example sets, whichever its tab; guidance only for Image to Video."""
    shared = {"prompt": example.prompt, "negative_prompt": example.negative_prompt, "duration": example.duration}
    return shared | ({"guidance_scale": example.guidance_scale} if isinstance(example, Starter) else {})


def wire_examples(p: Parts, examples: Examples) -> None:
    """A click on an example fills its form and, where the showcase has its clip, shows it: no run,
    no API call, and no API endpoint (gradio_client and MCP see only the two generate endpoints)."""
    shown = before(reveal())  # the form an example fills is above the examples
    for form, pick in ((p.i2v, examples.pick_starter), (p.t2v, examples.pick_t2v)):
        results = [form.out.status, form.out.video, form.out.details]
        outputs = [p.tabs, *form.settings, *results]
        form.examples.select(pick, p.session, outputs, js=shown, **filling(p), **private())
