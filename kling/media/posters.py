"""Posters for the Text to Video examples, for a gallery with no showcase clip of them.

A Text to Video example has no photo, and without a showcase (what most duplicated Spaces serve)
its tile would be an empty card. Each example gets a still drawn from its prompt and aspect
ratio instead: a sky in colours seeded by the prompt, the scene's opening words, and the ratio.
The posters are committed beside the photos' thumbnails (`assets/thumbs/<key>.jpg`); after
changing an example, remake them with `python -m kling.media.thumbs` (tests/media/test_thumbs.py checks
that they match what this module draws).
"""

from __future__ import annotations

import colorsys
import hashlib
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from kling.media.thumbs import THUMB_QUALITY, THUMB_WIDTH

CAPTION_WORDS = 9  # the scene's opening words: enough to recognise it at tile size


def poster_path(folder: Path, key: str) -> Path:
    """Where an example's poster lives: `thumbs/<key>.jpg` in the assets folder."""
    return folder / "thumbs" / f"{key}.jpg"


def _ratio(aspect_ratio: str) -> tuple[int, int]:
    w, h = (int(side) for side in aspect_ratio.split(":"))
    if w <= 0 or h <= 0:
        raise ValueError(f"aspect ratio must be two positive numbers, not {aspect_ratio!r}")
    return w, h


def _rgb(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(hue % 1.0, saturation, value)
    return round(r * 255), round(g * 255), round(b * 255)


def _font(size: float) -> ImageFont.FreeTypeFont:
    font = ImageFont.load_default(size=max(8, round(size)))  # bundled with Pillow: no font files
    assert isinstance(font, ImageFont.FreeTypeFont), "Pillow without FreeType cannot size its font"
    return font


def _backdrop(hue: float, size: tuple[int, int]) -> Image.Image:
    """A vertical gradient from a deep to a pale shade of the hue, with a dark hill line below."""
    w, h = size
    top, bottom = _rgb(hue, 0.7, 0.35), _rgb(hue + 0.08, 0.45, 0.85)
    image = Image.new("RGB", size)
    pen = ImageDraw.Draw(image)
    for y in range(h):
        t = y / max(1, h - 1)
        pen.line((0, y, w, y), fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom)))
    sun = min(w, h) // 4
    pen.ellipse((w * 0.62, h * 0.18, w * 0.62 + sun, h * 0.18 + sun), fill=_rgb(hue + 0.5, 0.35, 1.0))
    hill = [(0, h), (0, h * 0.78), (w * 0.3, h * 0.7), (w * 0.6, h * 0.8), (w, h * 0.68), (w, h)]
    pen.polygon(hill, fill=_rgb(hue + 0.5, 0.5, 0.22))
    return image


def _words(prompt: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """The prompt's opening words, wrapped to `width`, at most three lines, ending in an ellipsis."""
    words = prompt.split()[:CAPTION_WORDS]
    lines: list[str] = []
    for word in words:
        if lines and font.getlength(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    cut = len(prompt.split()) > CAPTION_WORDS or len(lines) > 3
    lines = lines[:3]
    if lines and cut:
        lines[-1] = lines[-1].rstrip(".,;") + "…"
    return lines


def render_poster(prompt: str, aspect_ratio: str, width: int = THUMB_WIDTH) -> Image.Image:
    """The poster: `width` wide in the aspect ratio, coloured by the prompt, captioned with it."""
    rw, rh = _ratio(aspect_ratio)
    size = w, h = width, max(1, round(width * rh / rw))
    hue = int.from_bytes(hashlib.sha256(prompt.encode()).digest()[:4], "big") / 2**32
    image = _backdrop(hue, size)
    pen = ImageDraw.Draw(image, "RGBA")
    font = _font(w * 0.06)
    pad, leading = round(font.size * 0.6), round(font.size * 1.3)
    lines = _words(prompt, font, w - 4 * pad)
    box_h = leading * len(lines) + 2 * pad
    top = h - box_h - pad
    pen.rounded_rectangle((pad, top, w - pad, h - pad), radius=pad, fill=(0, 0, 0, 150))
    for n, line in enumerate(lines):
        pen.text((w / 2, top + pad + leading * (n + 0.5)), line, font=font, fill="white", anchor="mm")
    badge = _font(w * 0.055)
    corner = (pad * 2, pad * 2)
    pen.text(corner, aspect_ratio, font=badge, fill="white", anchor="lt", stroke_width=1, stroke_fill="black")
    return image


def write_poster(folder: Path, key: str, prompt: str, aspect_ratio: str) -> Path:
    """Writes an example's poster to `poster_path(folder, key)` and returns that path."""
    path = poster_path(folder, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    render_poster(prompt, aspect_ratio).save(path, format="JPEG", quality=THUMB_QUALITY, optimize=True)
    return path


def main() -> None:
    from kling.examples import ASSETS, T2V_EXAMPLES

    for example in T2V_EXAMPLES:
        print(write_poster(ASSETS, example.key, example.prompt, example.aspect_ratio))


if __name__ == "__main__":
    main()
