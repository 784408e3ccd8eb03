"""Prompt Lab: 2 to 4 variants of one idea, run at once, compared side by side.

Pure helpers only: building the variants' requests, naming what differs between them, pricing the
whole batch before it runs. The page and the runs live in `kling.app.tabs.lab` and
`kling.jobs.runner`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from kling.api.params import I2VRequest, T2VRequest, format_price, price_cents
from kling.errors import Problem, ValidationError
from kling.media.images import ImageSource, Preparer
from kling.strings import Lang, literal, say

MAX_VARIANTS = 4
LETTERS = "ABCD"


@dataclass(frozen=True)
class Variant:
    prompt: str
    negative_prompt: str = ""
    guidance_scale: float = 0.5
    duration: int = 5

    def request(self, *, image: ImageSource | None, aspect_ratio: str) -> I2VRequest | T2VRequest:
        """An I2V request when there is a start image, else T2V at the shared aspect ratio."""
        if image is not None:
            return I2VRequest(
                image=image,
                prompt=self.prompt,
                negative_prompt=self.negative_prompt,
                guidance_scale=self.guidance_scale,
                duration=self.duration,
            )
        return T2VRequest(
            prompt=self.prompt, negative_prompt=self.negative_prompt, aspect_ratio=aspect_ratio, duration=self.duration
        )


def validated(
    variants: list[Variant], *, image: ImageSource | None, aspect_ratio: str, prepare: Preparer | None = None
) -> list[I2VRequest | T2VRequest]:
    """Every variant's request, checked; all problems of all variants in one ValidationError.
    `prepare` reads the shared image (the page passes the visitor's share of the decodes)."""
    problems: list[Problem] = []
    requests = []
    if image is not None:
        try:  # prepare the shared image once, not once per variant
            image = I2VRequest(image=image, prompt="-").validate(prepare).image
        except ValidationError as exc:
            raise ValidationError([p for p in exc.problems if p.field == "image"]) from None
    for letter, variant in zip(LETTERS, variants):
        try:
            requests.append(variant.request(image=image, aspect_ratio=aspect_ratio).validate())
        except ValidationError as exc:
            problems.extend(Problem(f"Variant {letter} {p.field}", p.message) for p in exc.problems)
    if not 2 <= len(variants) <= MAX_VARIANTS:
        problems.append(Problem("variants", f"{len(variants)} given; run 2 to {MAX_VARIANTS}"))
    if problems:
        raise ValidationError(problems)
    return requests


def differences(variants: list[Variant], *, i2v: bool, lang: Lang = "en") -> list[str]:
    """For each variant, what sets it apart: the fields whose values are not the same in all."""
    names = [f.name for f in fields(Variant) if i2v or f.name != "guidance_scale"]
    varying = [name for name in names if len({getattr(v, name) for v in variants}) > 1]
    labels = []
    for letter, variant in zip(LETTERS, variants):
        parts = [_describe(name, getattr(variant, name), lang) for name in varying]
        what = "; ".join(parts) if parts else say(lang, "lab.same")
        labels.append(say(lang, "lab.label", letter=letter, what=what))
    return labels


def _describe(name: str, value: Any, lang: Lang) -> str:
    if name == "duration":
        return say(lang, "lab.seconds", value=value)
    if name == "guidance_scale":
        return say(lang, "lab.guidance", value=f"{value:g}")
    text = str(value).strip()
    short = text if len(text) <= 60 else text[:57] + "..."
    # The label is Markdown: the visitor's text goes in as text (literal), never as markup.
    shown = literal(short) if text else say(lang, "lab.none")
    return say(lang, "lab.negative", text=shown) if name == "negative_prompt" else f"“{shown}”"


def total_price_text(durations: list[Any], *, preview: bool, lang: Lang = "en") -> str:
    if preview:
        return say(lang, "lab.price_preview", count=len(durations))
    try:
        cents = sum(price_cents(int(d)) for d in durations)
    except (TypeError, ValueError, ValidationError):
        return ""
    return say(lang, "lab.price_live", count=len(durations), price=format_price(cents))
