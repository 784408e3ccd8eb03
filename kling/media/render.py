"""Preview simulator: renders stand-in MP4 clips locally when no WaveSpeed API key is set.

Nothing here touches the network. Every frame carries a "PREVIEW" banner so a simulated clip can
never pass for Kling output. Clips are H.264 / yuv420p / 24 fps, BT.709-tagged, with the moov atom
first (faststart) so a browser <video> starts playing before the download ends.

Speed: all per-frame geometry is a box-resize of a pre-fitted source (Pillow's separable resampler
is about twice as fast as its affine transform), frames are drawn on two helper threads while the
calling thread feeds libx264 (Pillow and swscale release the GIL), and libx264 runs `ultrafast`.
Every function is pure: per-call state only, safe to run in several threads at once.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import math
import re
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import ColorRange, Colorspace
from PIL import Image, ImageDraw, ImageFont, ImageOps

from kling.files import replacing

FPS = 24
MAX_LONG_SIDE = 1280  # "at most 720p"
MAX_SHORT_SIDE = 720
CAMERA_MOVES = ("push_in", "pan_left", "pan_right", "orbit", "handheld")
T2V_SIZES = {"16:9": (1280, 720), "9:16": (720, 1280), "1:1": (720, 720)}
BANNER_TEXT = ("PREVIEW", " · simulated, not Kling output")
FADE_SHARE = 0.4  # the end image fades in over the last 40% of the clip

# Earliest match in the prompt wins; on a tie (e.g. "pan" inside "pan left") the longer one.
_MOVE_KEYWORDS = (
    ("push in", "push_in"),
    ("push-in", "push_in"),
    ("zoom", "push_in"),
    ("dolly in", "push_in"),
    ("pan left", "pan_left"),
    ("pan right", "pan_right"),
    ("pan", "pan_right"),
    ("orbit", "orbit"),
    ("circle around", "orbit"),
    ("rotate around", "orbit"),
    ("handheld", "handheld"),
    ("shake", "handheld"),
    ("micro-sway", "handheld"),
)
_X264 = {"preset": "ultrafast", "crf": "23"}
_DRAW_THREADS = 2  # drawing is the bottleneck; libx264 runs its own threads
_BILINEAR = Image.Resampling.BILINEAR
_YELLOW = (255, 204, 0)

Size = tuple[int, int]


@dataclass(frozen=True)
class RenderInfo:
    width: int
    height: int
    fps: int
    frames: int
    duration: int  # seconds
    camera_move: str | None  # I2V only
    caption: tuple[str, ...] = ()  # T2V only: the prompt as its lines appear on the clip


def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    # Whole words, with inflections ("pans left", "zooming", "panned") but not "panorama"/"Japan".
    words = [re.escape(w) + r"(?:s|es|d|ed|ned|ing|ning)?" for w in re.split(r"[\s-]+", keyword)]
    return re.compile(r"\b" + r"[\s-]+".join(words) + r"\b")


_MOVE_PATTERNS = tuple((_keyword_pattern(keyword), move) for keyword, move in _MOVE_KEYWORDS)


def camera_move_for(prompt: str) -> str:
    """Pick the camera move named by the prompt (first keyword in it wins); default push_in."""
    text = prompt.lower()
    hits = []
    for pattern, move in _MOVE_PATTERNS:
        if match := pattern.search(text):
            hits.append((match.start(), -len(match.group()), move))
    return min(hits)[2] if hits else "push_in"


def render_i2v(start: bytes, end: bytes | None, prompt: str, duration: int, out: Path) -> RenderInfo:
    """Camera move over the start image, cross-fading into `end` (if any) so the last frame shows it."""
    count = _frame_count(duration)
    first = _decode(start)
    size = fit_size(*first.size)
    source = first.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    target = ImageOps.fit(_decode(end), size, Image.Resampling.LANCZOS) if end is not None else None
    move = camera_move_for(prompt)
    banner = _banner(size)

    def draw(i: int) -> Image.Image:
        t = i / (count - 1)
        frame = source.resize(size, _BILINEAR, box=camera_box(move, t, i / FPS, size))
        if target is not None and t > 1 - FADE_SHARE:
            frame = Image.blend(frame, target, _ease((t - 1 + FADE_SHARE) / FADE_SHARE))
        frame.paste(banner, (0, 0), banner)
        return frame

    _write_mp4(out, size, count, draw)
    return RenderInfo(*size, FPS, count, duration, move)


def render_t2v(prompt: str, aspect_ratio: str, duration: int, out: Path) -> RenderInfo:
    """A drifting sky with floating orbs and rolling hills, seeded by the prompt, captioned with it."""
    count = _frame_count(duration)
    if aspect_ratio not in T2V_SIZES:
        raise ValueError(f"aspect_ratio must be one of {', '.join(T2V_SIZES)}, not {aspect_ratio!r}")
    size = w, h = T2V_SIZES[aspect_ratio]
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(prompt.encode()).digest()[:8], "big"))
    hue = rng.random()
    travel = (w // 4, h // 6)
    sky = _sky(rng, hue, (w + travel[0], h + travel[1]))
    hills = _hills(rng, hue, (w * 2, min(w, h) * 9 // 20))
    orbs = [_orb(rng, hue, min(size)) for _ in range(5)]
    caption, caption_at, lines = _caption(prompt, size)
    banner = _banner(size)

    def draw(i: int) -> Image.Image:
        t, secs = i / (count - 1), i / FPS
        x, y = round(travel[0] * t), round(travel[1] * (1 - t))
        frame = sky.crop((x, y, x + w, y + h))
        for colour, mask, (fx, fy, phase, cx, cy) in orbs:
            d = mask.width
            ox = cx * w + 0.35 * w * math.sin(2 * math.pi * fx * secs + phase) - d / 2
            oy = cy * h + 0.25 * h * math.cos(2 * math.pi * fy * secs + phase) - d / 2
            frame.paste(colour, (round(ox), round(oy), round(ox) + d, round(oy) + d), mask)
        frame.paste(hills, (-round(w * t * 0.8), h - hills.height), hills)  # hills outpace the sky
        if caption is not None:
            frame.paste(caption, caption_at, caption)
        frame.paste(banner, (0, 0), banner)
        return frame

    _write_mp4(out, size, count, draw)
    return RenderInfo(w, h, FPS, count, duration, None, tuple(lines))


# --- geometry ---------------------------------------------------------------------------------


def _frame_count(duration: int) -> int:
    if duration not in (5, 10):
        raise ValueError(f"duration must be 5 or 10 seconds, not {duration!r}")
    return FPS * duration


def _even(x: float) -> int:
    return max(2, round(x / 2) * 2)


def fit_size(width: int, height: int) -> Size:
    """An I2V clip's size for a start image of this size: scaled to fill the 1280x720 (or 720x1280)
    box, keeping its aspect, both sides even for yuv420p."""
    box = (MAX_LONG_SIDE, MAX_SHORT_SIDE) if width >= height else (MAX_SHORT_SIDE, MAX_LONG_SIDE)
    scale = min(box[0] / width, box[1] / height)
    return _even(width * scale), _even(height * scale)


def _ease(t: float) -> float:
    t = min(max(t, 0.0), 1.0)
    return t * t * (3 - 2 * t)


def camera_box(move: str, t: float, secs: float, size: Size) -> tuple[float, float, float, float]:
    """What a camera move shows: the crop of the fitted start image at `t` (0..1 through the clip,
    `secs` seconds in). Every move starts at zoom 1, so the first frame is the whole image."""
    zoom, stretch, sx, sy = 1.0, 1.0, 0.0, 0.0  # sx/sy: -1..1 across the free margin
    if move == "push_in":
        zoom = 1 + 0.2 * _ease(t)
    elif move in ("pan_left", "pan_right"):
        zoom = 1 + 0.22 * _ease(t / 0.25)  # zoom in first to gain room to pan
        sx = (1 if move == "pan_left" else -1) * (1 - 2 * _ease(t))
    elif move == "orbit":  # sweep with a slight widening mid-way, as if seen from the side
        zoom, stretch = 1 + 0.2 * _ease(t / 0.3), 1 + 0.08 * math.sin(math.pi * t)
        sx, sy = math.cos(math.pi * t), -0.4 * math.sin(math.pi * t)
    elif move == "handheld":  # incommensurate sines read as an unsteady hand
        zoom = 1 + 0.06 * _ease(t / 0.1)
        sx = 0.6 * math.sin(2 * math.pi * 0.8 * secs) + 0.3 * math.sin(2 * math.pi * 1.9 * secs + 1.3)
        sy = 0.5 * math.sin(2 * math.pi * 0.6 * secs + 0.7) + 0.3 * math.sin(2 * math.pi * 2.3 * secs + 2.1)
    w, h = size
    bw, bh = w / (zoom * stretch), h / zoom
    x0, y0 = (w - bw) / 2 * (1 + sx), (h - bh) / 2 * (1 + sy)
    return x0, y0, x0 + bw, y0 + bh


# --- pictures ---------------------------------------------------------------------------------


def _decode(data: bytes) -> Image.Image:
    opened = Image.open(io.BytesIO(data), formats=("JPEG", "PNG"))
    opened.draft("RGB", (MAX_LONG_SIDE, MAX_LONG_SIDE))  # JPEG: decode big photos at reduced scale
    image = ImageOps.exif_transpose(opened)
    if image.has_transparency_data:  # flatten onto black rather than exposing hidden RGB
        image = Image.alpha_composite(Image.new("RGBA", image.size, "black"), image.convert("RGBA"))
    return image.convert("RGB")


def _font(size: float) -> ImageFont.FreeTypeFont:
    font = ImageFont.load_default(size=max(8, round(size)))  # bundled; no font files needed
    assert isinstance(font, ImageFont.FreeTypeFont), "Pillow without FreeType cannot size its font"
    return font


def banner_height(size: Size) -> int:
    """Rows the PREVIEW band covers at the top of a preview clip of this size."""
    return _even(min(size) * 0.1)


def _banner(size: Size) -> Image.Image:
    """Semi-opaque top band, drawn once per clip and pasted on every frame."""
    w, h = size
    height = banner_height(size)
    font = _font(height * 0.48)
    length = sum(font.getlength(part) for part in BANNER_TEXT)
    if length > w * 0.92:  # narrow (portrait) frames: shrink the text to fit
        font = _font(font.size * w * 0.92 / length)
        length = sum(font.getlength(part) for part in BANNER_TEXT)
    band = Image.new("RGBA", (w, height), (0, 0, 0, 184))
    pen = ImageDraw.Draw(band)
    pen.rectangle((0, height - max(2, height // 20), w, height), fill=_YELLOW + (255,))
    x = (w - length) / 2
    pen.text(
        (x, height / 2),
        BANNER_TEXT[0],
        font=font,
        fill=_YELLOW,
        anchor="lm",
        stroke_width=max(1, round(font.size / 18)),
        stroke_fill=_YELLOW,
    )  # faux bold
    pen.text((x + font.getlength(BANNER_TEXT[0]), height / 2), BANNER_TEXT[1], font=font, fill="white", anchor="lm")
    return band


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: float, max_lines: int) -> list[str]:
    """Greedy word wrap by pixel width; over-long words are split; overflow ends in an ellipsis."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        if font.getlength(candidate := f"{line} {word}".lstrip()) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while font.getlength(word) > width and len(lines) <= max_lines:
            cut = _longest_prefix(word, font, width)
            lines.append(word[:cut])
            word = word[cut:]
        line = word
        if len(lines) > max_lines:
            break
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and font.getlength(last + "…") > width:
            last = last[:-1]
        lines = lines[: max_lines - 1] + [last.rstrip() + "…"]
    return lines


def _longest_prefix(word: str, font: ImageFont.FreeTypeFont, width: float) -> int:
    """Characters of `word` that fit in `width` (at least one), by bisection."""
    lo, hi = 1, len(word)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if font.getlength(word[:mid]) <= width else (lo, mid - 1)
    return lo


def _caption(prompt: str, size: Size) -> tuple[Image.Image | None, tuple[int, int], list[str]]:
    """The prompt in a translucent box near the bottom (at most three lines), where it goes, and its lines."""
    w, h = size
    font = _font(min(w, h) * 0.042)
    lines = _wrap(prompt, font, w * 0.84, 3)
    if not lines:
        return None, (0, 0), lines
    pad, leading = round(font.size * 0.6), round(font.size * 1.3)
    box = Image.new("RGBA", (round(w * 0.84) + 2 * pad, leading * len(lines) + 2 * pad))
    pen = ImageDraw.Draw(box)
    pen.rounded_rectangle((0, 0, box.width - 1, box.height - 1), radius=pad, fill=(0, 0, 0, 150))
    for n, text in enumerate(lines):
        pen.text((box.width / 2, pad + leading * (n + 0.5)), text, font=font, fill="white", anchor="mm")
    return box, ((w - box.width) // 2, h - box.height - round(h * 0.05)), lines


def _rgb(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(hue % 1.0, saturation, value)
    return round(r * 255), round(g * 255), round(b * 255)


def _sky(rng: np.random.Generator, hue: float, size: Size) -> Image.Image:
    """A blotchy vertical gradient: a tiny noisy grid upscaled bicubically is smooth and cheap."""
    stops = np.array([_rgb(hue, 0.7, 0.35), _rgb(hue + 0.08, 0.5, 0.8), _rgb(hue - 0.1, 0.35, 0.95)])
    rows = np.linspace(0, 2, 6)[:, None]
    upper, lower = stops[0] + (stops[1] - stops[0]) * rows, stops[1] + (stops[2] - stops[1]) * (rows - 1)
    column = np.where(rows <= 1, upper, lower)
    grid = column[:, None, :] + rng.normal(0, 18, (6, 8, 3))
    small = Image.fromarray(np.clip(grid, 0, 255).astype(np.uint8), "RGB")
    return small.resize(size, Image.Resampling.BICUBIC)


def _hills(rng: np.random.Generator, hue: float, size: Size) -> Image.Image:
    """A dark rolling silhouette, twice the frame width so it can scroll."""
    w, h = size
    xs = np.arange(0, w + 9, 8)
    waves = np.sum(
        [rng.uniform(0.08, 0.2) * np.sin(xs / h * math.pi * k + rng.uniform(0, 6)) for k in (0.2, 0.5, 1.1)], axis=0
    )
    ys = h * (0.45 + waves)
    layer = Image.new("RGBA", size)
    ImageDraw.Draw(layer).polygon([(0, h), *zip(xs.tolist(), ys.tolist()), (w, h)], fill=_rgb(hue + 0.5, 0.5, 0.22))
    return layer


def _orb(rng: np.random.Generator, hue: float, short: int) -> tuple[tuple[int, int, int], Image.Image, tuple]:
    """A soft disc (colour + alpha mask) and its drift path: frequencies (Hz), phase, centre."""
    d = int(short * rng.uniform(0.12, 0.32))
    r = np.linspace(-1, 1, d)
    alpha = np.clip(1 - np.hypot(r[None, :], r[:, None]), 0, 1) ** 1.5 * 230
    colour = _rgb(hue + rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7), 1.0)
    path = (*rng.uniform(0.05, 0.2, 2), rng.uniform(0, 2 * math.pi), rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.6))
    return colour, Image.fromarray(alpha.astype(np.uint8), "L"), path


# --- encoding ---------------------------------------------------------------------------------


def _frames_ahead(
    draw: Callable[[int], Image.Image], count: int, workers: int, depth: int = 4
) -> Iterator[av.VideoFrame]:
    """Draw and convert frames on helper threads, a few ahead of the encoder, in order."""

    def video_frame(i: int) -> av.VideoFrame:
        image = draw(i)  # Pillow keeps RGB as RGBX: handing those bytes over as-is skips a repack
        rgbx = np.frombuffer(image.tobytes("raw", "RGBX"), np.uint8).reshape(image.height, image.width, 4)
        frame = av.VideoFrame.from_numpy_buffer(rgbx, format="rgba").reformat(
            format="yuv420p", dst_colorspace=Colorspace.ITU709, dst_color_range=ColorRange.MPEG, threads=1
        )  # one swscale thread: per-frame thread pools cost more than they save
        frame.pts, frame.time_base = i, Fraction(1, FPS)
        return frame

    with ThreadPoolExecutor(workers, thread_name_prefix="kling-preview") as pool:
        pending: deque = deque()
        try:
            for i in range(count):
                pending.append(pool.submit(video_frame, i))
                if len(pending) > depth:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def _write_mp4(out: Path, size: Size, count: int, draw: Callable[[int], Image.Image]) -> None:
    """Encode to a temp file beside `out`, then rename it into place: readers never see half a clip."""
    with (
        replacing(out) as tmp,
        av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as container,
    ):
        stream = container.add_stream("libx264", rate=FPS, options=_X264)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        codec = stream.codec_context
        codec.colorspace, codec.color_range = Colorspace.ITU709, ColorRange.MPEG
        codec.color_primaries = codec.color_trc = 1  # BT.709, so players don't guess
        for frame in _frames_ahead(draw, count, _DRAW_THREADS):
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
