"""The parameters of Kling v2.0 master (I2V and T2V) and the checks that run before any paid call.

Everything here is pure: no network, no global state. A request is validated as a whole, so the
person sees every problem at once; its images are read and checked by kling.media.images, and
each fix made there is reported in plain words.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import re
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from kling.controls import control_at
from kling.errors import Problem, ValidationError
from kling.media.images import ImageSource, Preparer, is_url, prepare_image, unencodable_at

I2V_MODEL = "kwaivgi/kling-v2.0-i2v-master"
T2V_MODEL = "kwaivgi/kling-v2.0-t2v-master"
PROMPT_MAX_CHARS = 2500
NEGATIVE_PROMPT_MAX_CHARS = 2500  # our guess: the API documents no limit, so we mirror the prompt's
DURATIONS = (5, 10)
DEFAULT_DURATION = 5
ASPECT_RATIOS = ("16:9", "9:16", "1:1")
DEFAULT_ASPECT_RATIO = "16:9"
GUIDANCE_MIN = 0.0
GUIDANCE_MAX = 1.0
DEFAULT_GUIDANCE = 0.5
PRICE_CENTS_PER_5S = 130


def price_cents(duration: int) -> int:
    """5 -> 130, 10 -> 260. Raises ValidationError for a duration the API does not offer."""
    problems: list[Problem] = []
    seconds = _duration(duration, problems)
    if problems:
        raise ValidationError(problems)
    return PRICE_CENTS_PER_5S * seconds // 5


def format_price(cents: int) -> str:
    """130 -> "$1.30", with integer arithmetic so nothing is lost to float rounding."""
    whole, frac = divmod(abs(int(cents)), 100)
    return f"{'-' if cents < 0 else ''}${whole:,}.{frac:02d}"


def _show(value: object) -> str:
    text = value if isinstance(value, str) else str(value)
    short = text if len(text) <= 40 else text[:37] + "..."
    return repr(short) if isinstance(value, str) else short


def _choices(items: tuple[object, ...]) -> str:
    return ", ".join(str(i) for i in items[:-1]) + f" or {items[-1]}"


def _text(value: object, field: str, limit: int, required: bool, problems: list[Problem]) -> str:
    if not isinstance(value, str | None):
        problems.append(Problem(field, f"must be text, not {type(value).__name__}"))
        return ""
    text = (value or "").replace("\r\n", "\n").strip()  # a Windows line end is a newline; a lone CR is refused
    position = unencodable_at(text)
    control = control_at(text)
    if position is not None:
        # A lone surrogate (U+D800..U+DFFF) fits in a Python str but in no UTF-8 request body.
        code = f"U+{ord(text[position]):04X}"
        message = f"character {position + 1} ({code}) is not valid text; remove it and try again"
        problems.append(Problem(field, message, "not_text", (("position", position + 1), ("code", code))))
    elif control is not None:
        # Stored, shared and printed by the CLI later: an ESC sequence there would drive the terminal.
        code = f"U+{ord(text[control]):04X}"
        message = f"character {control + 1} ({code}) is an invisible control character; remove it and try again"
        problems.append(Problem(field, message, "control", (("position", control + 1), ("code", code))))
    elif required and not text:
        problems.append(Problem(field, "required; describe the video you want", "required_prompt"))
    elif len(text) > limit:
        values: tuple[tuple[str, object], ...] = (("count", len(text)), ("limit", limit))
        problems.append(Problem(field, f"{len(text)} characters; the limit is {limit}", "too_long", values))
    return text


def _duration(value: object, problems: list[Problem]) -> int:
    seconds = None
    if isinstance(value, bool):
        pass  # True == 1 in Python, but a checkbox is never a duration
    elif isinstance(value, numbers.Integral) or (isinstance(value, float) and value.is_integer()):
        seconds = int(value)  # gr.Number gives 5.0
    elif isinstance(value, str) and re.fullmatch(r"[0-9]{1,6}", value.strip()):
        seconds = int(value)  # old examples sent "5"
    if seconds in DURATIONS:
        return seconds
    problems.append(Problem("duration", f"{_show(value)} is not allowed; choose {_choices(DURATIONS)} seconds"))
    return DEFAULT_DURATION


def _guidance(value: object, problems: list[Problem]) -> float:
    allowed = f"use {GUIDANCE_MIN} to {GUIDANCE_MAX}"
    try:
        if isinstance(value, bool) or not isinstance(value, numbers.Real | str):
            raise TypeError
        scale = float(value)
    except (TypeError, ValueError):
        problems.append(Problem("guidance_scale", f"{_show(value)} is not a number; {allowed}"))
        return DEFAULT_GUIDANCE
    if not math.isfinite(scale):
        problems.append(Problem("guidance_scale", f"{_show(value)} is not a finite number; {allowed}"))
    elif not GUIDANCE_MIN <= scale <= GUIDANCE_MAX:
        problems.append(Problem("guidance_scale", f"{_show(value)} is out of range; {allowed}"))
    return scale


def _aspect_ratio(value: object, problems: list[Problem]) -> str:
    if isinstance(value, str) and value.strip() in ASPECT_RATIOS:
        return value.strip()
    problems.append(Problem("aspect_ratio", f"{_show(value)} is not offered; choose {_choices(ASPECT_RATIOS)}"))
    return DEFAULT_ASPECT_RATIO


def _image_field(
    value: ImageSource | None, field: str, required: bool, problems: list[Problem], prepare: Preparer
) -> ImageSource | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(Problem(field, "required; give a JPEG or PNG file or an http(s) URL", "required_image"))
        return None
    try:
        return prepare(value, field)
    except ValidationError as exc:
        problems.extend(exc.problems)
        return value


def _sendable(value: object, field: str, problems: list[Problem]) -> str:
    """payload() sends strings only: the client turns a PreparedImage into a URL or data URI first."""
    if not isinstance(value, str):
        raise TypeError(
            f"I2VRequest.payload() needs {field} as a URL or data URI string, not "
            f"{type(value).__name__}; upload the PreparedImage and dataclasses.replace() it in"
        )
    text = value.strip()
    if not (is_url(text) or text[:5].lower() == "data:"):
        problems.append(Problem(field, "must be an http(s) URL or a data URI when sent; upload the file first"))
    return text


# What `validate()` alone puts on a request: it passed every check, so `validate()` hands it back
# as is and `payload()` builds the body without checking again. Not a constructor argument, and
# dataclasses.replace() drops it: a changed request is checked again.
_CHECKED = object()
Checkable = TypeVar("Checkable", bound="T2VRequest | I2VRequest")


def _checked_field() -> object:
    return dataclasses.field(default=None, init=False, repr=False, compare=False)


def _mark(request: Checkable) -> Checkable:
    object.__setattr__(request, "_checked", _CHECKED)
    return request


@dataclass(frozen=True)
class T2VRequest:
    """Text to video. `validate()` returns a normalised, checked copy; `payload()` is the JSON body."""

    prompt: str
    negative_prompt: str = ""
    aspect_ratio: str = DEFAULT_ASPECT_RATIO
    duration: int = DEFAULT_DURATION
    model: ClassVar[str] = T2V_MODEL
    _checked: object = _checked_field()

    @property
    def checked(self) -> bool:
        """Made by `validate()` and unchanged since."""
        return self._checked is _CHECKED

    def validate(self, prepare: Preparer | None = None) -> T2VRequest:
        """`prepare` is I2VRequest's (no image here), so callers validate either kind alike."""
        if self.checked:
            return self
        problems: list[Problem] = []
        clean = dataclasses.replace(
            self,
            prompt=_text(self.prompt, "prompt", PROMPT_MAX_CHARS, True, problems),
            negative_prompt=_text(self.negative_prompt, "negative_prompt", NEGATIVE_PROMPT_MAX_CHARS, False, problems),
            aspect_ratio=_aspect_ratio(self.aspect_ratio, problems),
            duration=_duration(self.duration, problems),
        )
        if problems:
            raise ValidationError(problems)
        return _mark(clean)

    def payload(self) -> dict:
        req = self.validate()
        body: dict = {"prompt": req.prompt, "aspect_ratio": req.aspect_ratio, "duration": req.duration}
        if req.negative_prompt:
            body["negative_prompt"] = req.negative_prompt
        return body

    @property
    def price_cents(self) -> int:
        return price_cents(self.duration)


@dataclass(frozen=True)
class I2VRequest:
    """Image to video. After `validate()`, each image is a PreparedImage or a URL string; `sent_as`
    puts the uploaded images' URLs in their place and keeps the request checked."""

    image: ImageSource
    prompt: str
    negative_prompt: str = ""
    guidance_scale: float = DEFAULT_GUIDANCE
    duration: int = DEFAULT_DURATION
    end_image: ImageSource | None = None
    model: ClassVar[str] = I2V_MODEL
    _checked: object = _checked_field()

    @property
    def checked(self) -> bool:
        """Made by `validate()` (or `sent_as` of a checked request) and unchanged since."""
        return self._checked is _CHECKED

    def _scalars(self, problems: list[Problem]) -> dict:
        prompt = _text(self.prompt, "prompt", PROMPT_MAX_CHARS, True, problems)  # in this order, as shown
        negative = _text(self.negative_prompt, "negative_prompt", NEGATIVE_PROMPT_MAX_CHARS, False, problems)
        return {
            "prompt": prompt,
            "negative_prompt": negative,
            "guidance_scale": _guidance(self.guidance_scale, problems),
            "duration": _duration(self.duration, problems),
        }

    def _checked_scalars(self) -> dict:
        return {
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "guidance_scale": self.guidance_scale,
            "duration": self.duration,
        }

    def validate(self, prepare: Preparer | None = None) -> I2VRequest:
        """`prepare`: what reads each image (default prepare_image); the page passes one that reads
        an upload once however many times a click asks, within the visitor's share of the decodes."""
        if self.checked:
            return self
        problems: list[Problem] = []
        scalars = self._scalars(problems)
        image = _image_field(self.image, "image", True, problems, prepare or prepare_image)
        end_image = _image_field(self.end_image, "end_image", False, problems, prepare or prepare_image)
        if problems or image is None:  # a missing image is one of the problems
            raise ValidationError(problems)
        return _mark(dataclasses.replace(self, image=image, end_image=end_image, **scalars))

    def sent_as(self, image: ImageSource, end_image: ImageSource | None) -> I2VRequest:
        """This request with its images as sent (uploaded URLs or data URIs), checked if it was."""
        sent = dataclasses.replace(self, image=image, end_image=end_image)
        return _mark(sent) if self.checked else sent

    def payload(self) -> dict:
        problems: list[Problem] = []
        body: dict = {"image": _sendable(self.image, "image", problems)}
        if self.end_image is not None and not (isinstance(self.end_image, str) and not self.end_image.strip()):
            body["end_image"] = _sendable(self.end_image, "end_image", problems)
        scalars = self._checked_scalars() if self.checked else self._scalars(problems)
        if problems:
            raise ValidationError(problems)
        if not scalars["negative_prompt"]:
            del scalars["negative_prompt"]
        return body | scalars

    @property
    def price_cents(self) -> int:
        return price_cents(self.duration)
