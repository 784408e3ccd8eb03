"""The app's examples as data: what the page offers to click, and what a showcase generates.

Three kinds, all gradio-free:

* `STARTERS`: each sample photo in `assets/` with a prompt written for that photo (Image to Video);
* `I2V_PROMPTS`: the model page's example prompts and negative prompts, word for word, as text to
  use with your own photo (they describe scenes none of our photos show);
* `T2V_EXAMPLES`: the same page prompts as Text to Video examples, each with an aspect ratio.

Every example has a stable `key` (a slug, used for file names and the showcase manifest) and a
`settings()` dict that defines it: two examples with equal settings make the same request, and a
showcase clip is stale when its example's settings change.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

from kling.api.params import (
    DEFAULT_ASPECT_RATIO,
    DEFAULT_DURATION,
    DEFAULT_GUIDANCE,
    I2V_MODEL,
    T2V_MODEL,
    I2VRequest,
    T2VRequest,
    price_cents,
)

ASSETS = Path(__file__).resolve().parent.parent / "assets"


@lru_cache(maxsize=32)
def _file_sha256(path: Path, size: int, mtime_ns: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def file_sha256(path: Path) -> str:
    """The file's SHA-256, read once per version of the file."""
    stat = path.stat()
    return _file_sha256(path, stat.st_size, stat.st_mtime_ns)


def settings_digest(settings: dict[str, Any]) -> str:
    """A short, stable fingerprint of a settings dict (key order does not matter)."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Starter:
    """Image to Video: a sample photo from `assets/` and a prompt written for what it shows."""

    key: str
    title: str
    image: str  # file name in assets/
    prompt: str
    negative_prompt: str
    guidance_scale: float = DEFAULT_GUIDANCE
    duration: int = DEFAULT_DURATION
    model: ClassVar[str] = I2V_MODEL

    @property
    def image_path(self) -> Path:
        return ASSETS / self.image

    def settings(self) -> dict[str, Any]:
        # The photo's hash is part of the example: a clip made from another photo is not this one's.
        return {
            "model": self.model,
            "image": self.image,
            "image_sha256": file_sha256(self.image_path),
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "guidance_scale": self.guidance_scale,
            "duration": self.duration,
        }

    def request(self) -> I2VRequest:
        return I2VRequest(
            image=self.image_path.read_bytes(),
            prompt=self.prompt,
            negative_prompt=self.negative_prompt,
            guidance_scale=self.guidance_scale,
            duration=self.duration,
        )

    @property
    def price_cents(self) -> int:
        return price_cents(self.duration)


@dataclass(frozen=True)
class PromptIdea:
    """Image to Video text only: a prompt and negative prompt to use with your own photo."""

    key: str
    title: str
    prompt: str
    negative_prompt: str
    guidance_scale: float = DEFAULT_GUIDANCE
    duration: int = DEFAULT_DURATION
    model: ClassVar[str] = I2V_MODEL

    def settings(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "guidance_scale": self.guidance_scale,
            "duration": self.duration,
        }


@dataclass(frozen=True)
class TextExample:
    """Text to Video: a prompt, a negative prompt, an aspect ratio and a duration."""

    key: str
    title: str
    prompt: str
    negative_prompt: str
    aspect_ratio: str = DEFAULT_ASPECT_RATIO
    duration: int = DEFAULT_DURATION
    model: ClassVar[str] = T2V_MODEL

    def settings(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "aspect_ratio": self.aspect_ratio,
            "duration": self.duration,
        }

    def request(self) -> T2VRequest:
        return T2VRequest(
            prompt=self.prompt,
            negative_prompt=self.negative_prompt,
            aspect_ratio=self.aspect_ratio,
            duration=self.duration,
        )

    @property
    def price_cents(self) -> int:
        return price_cents(self.duration)


# What a showcase can generate: an example with everything a request needs.
Generable = Starter | TextExample

STARTERS: tuple[Starter, ...] = (
    Starter(
        key="cat-blinks",
        title="Chelsea the cat",
        image="chelsea.png",
        prompt=(
            "Close-up of a tabby cat indoors. The cat blinks slowly, its ears twitch and it turns its head "
            "slightly toward the camera; whiskers quiver as it breathes. Soft window light, shallow depth of "
            "field, camera slowly pushes in, natural motion."
        ),
        negative_prompt="blur, distort, low quality, extra eyes",
    ),
    Starter(
        key="astronaut-smiles",
        title="Astronaut portrait",
        image="astronaut.png",
        prompt=(
            "Studio portrait of an astronaut in an orange flight suit, a flag and a space shuttle model behind "
            "her. She smiles, blinks and turns her head a little toward the camera, shoulders rising with a "
            "calm breath. Steady camera with a gentle push-in, soft studio light; keep her face and suit unchanged."
        ),
        negative_prompt="jitter, warping, flicker, melted details",
    ),
    Starter(
        key="espresso-steam",
        title="Espresso",
        image="coffee.png",
        prompt=(
            "An espresso in a red cup on a saucer, on a wooden table. Thin wisps of steam rise and curl from the "
            "crema, a faint ripple crosses the coffee, warm light glints on the spoon. Camera slow orbit around "
            "the cup, shallow depth of field."
        ),
        negative_prompt="blur, distort, low quality, watermark, text artifacts",
    ),
    Starter(
        key="rocket-liftoff",
        title="Rocket at dusk",
        image="rocket.jpg",
        prompt=(
            "Dusk at the launch pad. White vapor vents from the rocket and drifts in the breeze, the pad lights "
            "flicker, then the engines ignite and the rocket rises slowly between the lightning towers on a "
            "column of fire and smoke. Camera holds, then tilts up to follow it."
        ),
        negative_prompt="jitter, warping, flicker, melted details",
    ),
)

# The model page's example prompts and negative prompts, word for word.
PAGE_PROMPTS = (
    (
        "A warm, serene park scene. An elderly couple sits on a bench; the wife gently pats her husband’s back, "
        "both smiling. Sunlight filters through leaves with soft dappled shadows. Camera slowly pushes in, subtle "
        "breeze moves their hair and clothing, natural motion, 5 seconds."
    ),
    (
        "Portrait outdoors at golden hour. The subject smiles and looks toward the camera, hair sways slightly in "
        "the wind. Gentle handheld micro-sway, shallow depth of field, 5 seconds."
    ),
    (
        "Cozy indoor scene. The subject turns a page in a book, warm lamp lighting, floating dust motes, camera "
        "slow orbit, 5 seconds."
    ),
)
PAGE_NEGATIVES = (
    "blur, distort, low quality",
    "jitter, warping, flicker, melted details",
    "watermark, logo, subtitles, text artifacts",
)
_PAGE = (("park-bench", "Park bench"), ("golden-hour", "Golden hour portrait"), ("cozy-reading", "Cozy reading"))

I2V_PROMPTS: tuple[PromptIdea, ...] = tuple(
    PromptIdea(key=f"page-{slug}", title=title, prompt=prompt, negative_prompt=negative)
    for (slug, title), prompt, negative in zip(_PAGE, PAGE_PROMPTS, PAGE_NEGATIVES)
)

# Each scene in the aspect ratio that suits it: a wide park, a tall portrait, a square reading nook.
T2V_EXAMPLES: tuple[TextExample, ...] = tuple(
    TextExample(key=f"t2v-{slug}", title=title, prompt=prompt, negative_prompt=negative, aspect_ratio=ratio)
    for (slug, title), prompt, negative, ratio in zip(_PAGE, PAGE_PROMPTS, PAGE_NEGATIVES, ("16:9", "9:16", "1:1"))
)


def showcase_examples() -> list[Generable]:
    """The examples a showcase makes one clip for: the starters, then the Text to Video examples.
    (Text-only prompts have no photo, so there is nothing to generate for them.)"""
    return [*STARTERS, *T2V_EXAMPLES]


Example = Starter | PromptIdea | TextExample


def by_key() -> dict[str, Example]:
    examples: list[Example] = [*STARTERS, *I2V_PROMPTS, *T2V_EXAMPLES]
    return {example.key: example for example in examples}
