"""The wiring both generate tabs share: the prompt's counter, camera moves and director's brief; the
price beside Generate; a run (its refusal shown in the result panel, its validator, the public
endpoint); and the result panel after it (Stop, the background timer, the browser tab's title, the
busy button). Each tab's module (i2v, t2v) builds its form and calls `wire_form` with what differs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import gradio as gr

from kling.app.scripts import before, camera_move, reveal, script
from kling.app.tabs.common import generation_queue, private
from kling.app.tabs.generate import Generation
from kling.app.views import compose_brief
from kling.app.widgets import CAMERA_MOVES, I2VForm, Parts, PromptInputs, T2VForm


def compose_into(*brief_then_prompt: str) -> Any:
    """The brief as the prompt, only over an empty one: the page's script empties a typed prompt
    only once the visitor agreed to replace it."""
    *brief, prompt = brief_then_prompt
    if (prompt or "").strip():
        return gr.skip()
    return compose_brief(*brief)


def wire_prompt_inputs(inputs: PromptInputs) -> None:
    """The live count, one camera move at a time, and the brief composed into an empty prompt."""
    inputs.prompt.change(None, inputs.prompt, inputs.count, js=script("count"))
    moves = list(CAMERA_MOVES.values())
    for button, phrase in inputs.moves.items():
        button.click(None, inputs.prompt, inputs.prompt, js=camera_move(phrase, moves))
    inputs.compose.click(compose_into, [*inputs.brief, inputs.prompt], inputs.prompt, js=script("compose"), **private())


@dataclass(frozen=True)
class RunWiring:
    """What differs between the two generate tabs' runs."""

    api_name: str  # the public endpoint ("image_to_video", "text_to_video")
    run: Callable[..., Any]  # Generation.image_to_video / text_to_video
    refusal: Callable[..., Any]  # what the result panel shows when the run is refused
    check: Callable[..., Any]  # the validator: a refusal beside the field at fault
    extra: tuple[Any, ...] = ()  # inputs after the session (Image to Video: the continued task)


def wire_form(p: Parts, gen: Generation, form: I2VForm | T2VForm, wiring: RunWiring, *, concurrency: int) -> None:
    """One generate tab: its prompt, price, run and result panel."""
    wire_prompt_inputs(form.text)
    form.duration.change(gen.price, [form.duration, p.session], form.buttons.price, **private())
    # The status panel carries the progress: no Gradio overlay ("1 steps | 0.7s") on the outputs.
    result = [form.out.status, form.out.video, form.out.details]
    # Before the run: a refused run's validator ends the click's events that come after it, and a
    # refused run says so in the result panel too. On a phone the status is under the form: it
    # comes into view as the run starts (or is refused).
    form.buttons.go.click(
        wiring.refusal,
        [*form.settings, p.session],
        result,
        js=before(reveal(".block.kling-status")),
        show_progress="hidden",
        **private(),
    )
    run = form.buttons.go.click(
        wiring.run,
        [*form.settings, p.session, *wiring.extra],
        result,
        validator=wiring.check,
        api_name=wiring.api_name,
        show_progress="hidden",
        **generation_queue(concurrency),
    )
    wire_result_panel(p, gen, form, run)


def wire_result_panel(p: Parts, gen: Generation, form: I2VForm | T2VForm, run: Any) -> None:
    """Stop waiting (the task goes on; the panel's timer follows it), the browser tab's title, and
    Generate busy while a run is under way."""
    stopped = [form.out.status, form.out.timer, form.out.following]
    stop_inputs = [form.out.status, p.session]
    form.buttons.stop.click(partial(gen.stopped, form.out), stop_inputs, stopped, cancels=[run], **private())
    background = [form.out.status, form.out.video, form.out.details, form.out.timer, form.out.following]
    form.out.timer.tick(
        gen.background_for(form.out),
        [form.out.status, p.session, form.out.following],
        background,
        show_progress="hidden",
        **private(),
    )
    form.out.status.change(
        partial(gen.busy, form.buttons),
        [form.out.status, p.session],
        [form.buttons.go, form.buttons.stop],
        js=before(script("title")),
        show_progress="hidden",
        **private(),
    )
