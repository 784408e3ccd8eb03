"""An image checked as soon as it is uploaded: a refusal (too small, too large, the wrong shape,
not an image) shows beside its field at once rather than on Generate. The image is read through
the visitor's preparer, so the run that follows reuses that read instead of decoding it again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import gradio as gr

from kling.app.tabs.common import Session, lang_of
from kling.app.tabs.generate import Generation
from kling.app.views import field_problem
from kling.app.widgets import Parts
from kling.errors import BusyRefused, ValidationError


def upload_validator(gen: Generation, field: str) -> Callable[..., Any]:
    """The validator of one image field's upload event: (image, session) -> one gr.validate each."""

    async def check(
        image: str | None, session: Session | None, request: gr.Request, profile: gr.OAuthProfile | None
    ) -> list[dict[str, Any]]:
        ok = gr.validate(True, "")
        if not image:
            return [ok, ok]
        who = await gen.who(request, profile, session)
        try:
            await asyncio.to_thread(gen.fairness.images.preparer(who), image, field)
        except ValidationError as exc:
            return [gr.validate(False, "; ".join(field_problem(p, lang_of(session)) for p in exc.problems)), ok]
        except BusyRefused:  # the visitor's images are being read: Generate checks this one
            return [ok, ok]
        return [ok, ok]

    return check


def upload_checked(image: str | None, session: Session | None) -> None:
    """The upload event itself does nothing: its validator says what is wrong, beside the field."""


def wire_upload_checks(p: Parts, gen: Generation, *, concurrency: int) -> None:
    """Image to Video's start and end images, each checked when uploaded."""
    for image, field in ((p.i2v.image, "image"), (p.i2v.end_image, "end_image")):
        image.upload(
            upload_checked,
            [image, p.session],
            None,
            validator=upload_validator(gen, field),
            api_visibility="private",
            show_progress="hidden",
            # Queued (a validator needs the queue), apart from the runs: a check never waits for one.
            concurrency_limit=concurrency,
            concurrency_id="upload_check",
        )
