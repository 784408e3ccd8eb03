"""WaveSpeed's prompt optimizer (`wavespeed-ai/prompt-optimizer`): a typed request checked once, and
one call through the client's own submit and poll that returns the suggestion's text.

The model page (docs/API.md): inputs `text` and/or `image`, `style`, `mode` (image | video),
`enable_sync_mode`; $0.001 a call; asynchronous, the text in the result's `outputs[0]`.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from kling.api.client import AsyncKlingClient
from kling.api.params import PROMPT_MAX_CHARS, _image_field, _sendable, _text
from kling.errors import Problem, TaskFailedError, ValidationError
from kling.media.images import ImageSource, PreparedImage, Preparer, prepare_image

OPTIMIZER_MODEL = "wavespeed-ai/prompt-optimizer"
STYLES = ("default", "artistic", "photographic", "technical", "anime", "realistic")
DEFAULT_STYLE = "default"
MODES = ("image", "video")
# $0.001 a call is a tenth of a cent: counted in mills (tenths of a cent) so nothing is rounded away.
PRICE_MILLS = 1
PRICE_TEXT = "$0.001"
# The Lab's variants take their styles in this order (never "default": each variant differs).
VARIANT_STYLES = ("photographic", "artistic", "realistic", "anime")
# A suggestion is short work: look again within a second or two, and give up after 3 minutes.
FIRST_LOOK_S = 1.0
EARLY_LOOKS_S = 2.0
DEADLINE_S = 180.0


@dataclass(frozen=True)
class PromptRequest:
    """What the optimizer is asked: the visitor's words and/or a start image, a style, a mode.
    `validate()` returns a checked copy (the image prepared by the same pipeline as a clip's)."""

    text: str = ""
    style: str = DEFAULT_STYLE
    image: ImageSource | None = None
    mode: str = "video"
    model: ClassVar[str] = OPTIMIZER_MODEL

    def validate(self, prepare: Preparer | None = None) -> PromptRequest:
        problems: list[Problem] = []
        text = _text(self.text, "prompt", PROMPT_MAX_CHARS, False, problems)
        style = self.style.strip() if isinstance(self.style, str) else self.style
        if style not in STYLES:
            problems.append(
                Problem("style", f"{str(style)[:40]!r} is not offered; choose one of {', '.join(STYLES)}", "bad_style")
            )
        if self.mode not in MODES:
            problems.append(Problem("mode", f"{str(self.mode)[:40]!r} is not offered; choose image or video"))
        image = _image_field(self.image, "image", False, problems, prepare or prepare_image)
        if not problems and not text and image is None:
            problems.append(Problem("prompt", "write a few words or give a start image to improve", "improve_empty"))
        if problems:
            raise ValidationError(problems)
        return dataclasses.replace(self, text=text, style=style, image=image)

    def payload(self) -> dict[str, Any]:
        """The JSON body, once the image is a URL or data URI (the client uploads it first)."""
        problems: list[Problem] = []
        body: dict[str, Any] = {"style": self.style, "mode": self.mode, "enable_sync_mode": False}
        if self.text:
            body["text"] = self.text
        if self.image is not None:
            body["image"] = _sendable(self.image, "image", problems)
        if problems:
            raise ValidationError(problems)
        return body


@dataclass(frozen=True)
class Suggestion:
    """The optimizer's text as it came, and as it fits the prompt (cut at a sentence end)."""

    text: str
    fitted: str
    task_id: str

    @property
    def cut(self) -> bool:
        return self.fitted != self.text


def fit_prompt(text: str, limit: int = PROMPT_MAX_CHARS) -> str:
    """`text` if it fits, else its longest start that ends a sentence within `limit` characters
    (at a word if no sentence ends in it)."""
    text = text.strip()
    if len(text) <= limit:
        return text
    head = text[:limit]
    ends = [m.end() for m in re.finditer(r"[.!?。！？](?=\s|$)", head)]
    if ends:
        return head[: ends[-1]].strip()
    return head.rsplit(" ", 1)[0].strip() if " " in head else head


async def improve_prompt(client: AsyncKlingClient, request: PromptRequest) -> Suggestion:
    """One optimizer task: validate, upload the image, submit once, wait for its text. Raises
    ValidationError before anything is sent, the client's errors after (SubmitRefusedError,
    TaskFailedError, DeadlineExceededError...)."""
    checked = request.validate()
    if isinstance(checked.image, PreparedImage):
        checked = dataclasses.replace(checked, image=await client.upload(checked.image))
    task = await client.submit_payload(OPTIMIZER_MODEL, checked.payload())
    if task.in_flight:
        policy = client.poll_policy
        client.poll_policy = dataclasses.replace(
            policy, first=min(policy.first, FIRST_LOOK_S), early=min(policy.early, EARLY_LOOKS_S),
            deadline=min(policy.deadline, DEADLINE_S),
        )  # fmt: skip
        task = await client.wait(task.id)
    text = (task.outputs[0] if task.outputs else "").strip()
    if task.status != "completed" or not text:
        raise TaskFailedError(f"The prompt optimizer gave no text (task {task.id}).", task_id=task.id)
    return Suggestion(text, fit_prompt(text), task.id)
