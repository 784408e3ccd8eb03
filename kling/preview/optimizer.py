"""The simulator's prompt optimizer: `POST /api/v3/wavespeed-ai/prompt-optimizer`, read from its
model page and llms.txt (docs/API.md), independently of the client's `kling.api.optimizer`.

Inputs `text` and/or `image`, `style` (default, artistic, photographic, technical, anime,
realistic; default "default"), `mode` (image | video; default "image"), `enable_sync_mode`.
Asynchronous like every WaveSpeed model: a task, then its result, whose `outputs[0]` is the text.
The rewrite is plainly simulated and deterministic: "[simulated]", the words given, then words
for the style and the mode, and for an image a sentence about its size and main colour.
"""

from __future__ import annotations

import io
from typing import Any

from PIL import Image, UnidentifiedImageError

OPTIMIZER_MODEL = "wavespeed-ai/prompt-optimizer"
STYLES = ("default", "artistic", "photographic", "technical", "anime", "realistic")
MODES = ("image", "video")
FIELDS = {"text", "image", "style", "mode"}  # and the `enable_*` flags, read by the submit route

STYLE_WORDS = {
    "default": "Clear composition, balanced light.",
    "artistic": "Painterly colour, expressive texture, a bold composition.",
    "photographic": "Shot on a 35mm lens, shallow depth of field, natural light.",
    "technical": "Precise framing, even lighting, sharp focus throughout.",
    "anime": "Anime style, clean cel shading, vivid colour.",
    "realistic": "Photorealistic detail, true-to-life texture and light.",
}
MODE_WORDS = {
    "image": "A single still frame.",
    "video": "Smooth, steady camera movement; natural motion over a few seconds.",
}
COLOURS = {
    "red": (200, 40, 40),
    "orange": (220, 130, 40),
    "yellow": (220, 210, 60),
    "green": (60, 160, 70),
    "blue": (50, 90, 200),
    "purple": (130, 60, 170),
    "white": (235, 235, 235),
    "grey": (128, 128, 128),
    "black": (20, 20, 20),
}


def check_fields(body: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The body's values with defaults, and every rule it breaks."""
    problems = [f"unknown parameter {name}" for name in sorted(set(body) - FIELDS) if not name.startswith("enable_")]
    values = {
        "text": body.get("text") or "",
        "image": body.get("image") or "",
        "style": body.get("style", "default"),
        "mode": body.get("mode", "image"),
    }
    for name in ("text", "image", "style", "mode"):
        if not isinstance(values[name], str):
            problems.append(f"{name} must be a string")
    if values["style"] not in STYLES:
        problems.append(f"style must be one of {', '.join(STYLES)}")
    if values["mode"] not in MODES:
        problems.append(f"mode must be one of {', '.join(MODES)}")
    if not problems and not values["text"].strip() and not values["image"].strip():
        problems.append("text or image is required")
    return values, problems


def describe_image(data: bytes) -> str | None:
    """A sentence about the picture (its shape and main colour), or None when it is no image."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            r, g, b = img.convert("RGB").resize((1, 1)).getpixel((0, 0))  # type: ignore[misc]
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    shape = "wide" if width > height * 1.1 else "tall" if height > width * 1.1 else "square"
    colour = min(COLOURS, key=lambda name: sum((a - c) ** 2 for a, c in zip(COLOURS[name], (r, g, b), strict=True)))
    return f"The scene from the {shape} {width}x{height} photo, mostly {colour} in tone, comes to life."


def rewrite(text: str, style: str, mode: str, image_sentence: str | None) -> str:
    """The simulated suggestion: the same input always gives the same text."""
    parts = ["[simulated]"]
    words = " ".join(text.split())
    if words:
        parts.append(words if words.endswith((".", "!", "?")) else words + ".")
    if image_sentence:
        parts.append(image_sentence)
    parts += [STYLE_WORDS[style], MODE_WORDS[mode]]
    return " ".join(parts)
