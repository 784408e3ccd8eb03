"""Tests for the preview simulator: real, browser-playable, clearly marked MP4 clips."""

from __future__ import annotations

import io
import struct
import threading
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont, ImageOps

from kling.media import render
from kling.media.render import (
    CAMERA_MOVES,
    FPS,
    RenderInfo,
    camera_box,
    camera_move_for,
    fit_size,
    render_i2v,
    render_t2v,
)

SAMPLE_EVERY = 12  # decode everything, keep every 12th frame (plus the last) as arrays


# --- inputs -----------------------------------------------------------------------------------


def start_image(width: int, height: int) -> Image.Image:
    """Flat light top (under the banner), a colour gradient below, four distinct colour blocks."""
    a = np.zeros((height, width, 3), np.uint8)
    a[..., 0] = np.linspace(0, 255, width)[None, :]
    a[..., 1] = np.linspace(0, 255, height)[:, None]
    a[..., 2] = 110
    a[: int(height * 0.3)] = 225
    image = Image.fromarray(a)
    pen = ImageDraw.Draw(image)
    for k, colour in enumerate([(255, 0, 0), (0, 200, 0), (0, 0, 255), (255, 255, 0)]):
        pen.rectangle((width * (0.08 + 0.22 * k), height * 0.45, width * (0.24 + 0.22 * k), height * 0.8), fill=colour)
    return image


def end_image() -> Image.Image:
    """Square and unlike the start: teal with a white disc (it gets cover-cropped to the frame)."""
    image = Image.new("RGB", (800, 800), (0, 140, 150))
    ImageDraw.Draw(image).ellipse((250, 250, 550, 550), fill=(250, 250, 250))
    return image


def encoded(image: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, quality=95)
    return buf.getvalue()


# --- probing ----------------------------------------------------------------------------------


@dataclass
class Clip:
    path: Path
    codec: str
    pix_fmt: str
    profile: str | None
    width: int
    height: int
    rate: float
    frames: int
    samples: dict[int, np.ndarray]  # frame index -> RGB array


def probe(path: Path) -> Clip:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        samples, last, count = {}, None, 0
        for count, frame in enumerate(container.decode(stream), start=1):
            last = frame
            if (count - 1) % SAMPLE_EVERY == 0:
                samples[count - 1] = frame.to_ndarray(format="rgb24")
        samples[count - 1] = last.to_ndarray(format="rgb24")
        ctx = stream.codec_context
        return Clip(
            path, ctx.name, ctx.pix_fmt, ctx.profile, ctx.width, ctx.height, float(stream.average_rate), count, samples
        )


def top_level_boxes(path: Path) -> list[str]:
    data, boxes, at = path.read_bytes(), [], 0
    while at + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        if size == 1:
            size = struct.unpack(">Q", data[at + 8 : at + 16])[0]
        elif size == 0:
            size = len(data) - at
        boxes.append(kind.decode("latin-1"))
        at += size
    return boxes


def mean_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def banner_rows(clip: Clip) -> slice:
    return slice(0, int(min(clip.width, clip.height) * 0.06))  # well inside the band (10%)


def body(a: np.ndarray) -> np.ndarray:
    return a[int(a.shape[0] * 0.2) :]  # below the banner


# --- fixtures: render each clip once --------------------------------------------------------------

# Tests on the module's rendered clips (ten H.264 encodes, about 10 s): outside the fast loop.
RENDERS_CLIPS = pytest.mark.slow


@pytest.fixture(scope="module")
def landscape(tmp_path_factory):
    start, end = start_image(1000, 600), end_image()
    out = tmp_path_factory.mktemp("i2v") / "landscape.mp4"
    info = render_i2v(encoded(start, "JPEG"), encoded(end, "PNG"), "Slow pan left over the desk", 5, out)
    return info, probe(out), start, end


@pytest.fixture(scope="module")
def portrait(tmp_path_factory):
    out = tmp_path_factory.mktemp("i2v") / "portrait.mp4"
    start = start_image(600, 1200)
    info = render_i2v(encoded(start, "PNG"), None, "Orbit around the vase", 10, out)
    return info, probe(out), start


@pytest.fixture(scope="module")
def t2v(tmp_path_factory):
    folder, clips = tmp_path_factory.mktemp("t2v"), {}
    for aspect in ("16:9", "9:16", "1:1"):
        out = folder / f"t2v-{aspect.replace(':', 'x')}.mp4"
        clips[aspect] = render_t2v("A red fox trots through fresh snow at dawn", aspect, 5, out), probe(out)
    return clips


@pytest.fixture(scope="module")
def all_clips(landscape, portrait, t2v) -> list[Clip]:
    return [landscape[1], portrait[1], *(clip for _, clip in t2v.values())]


# --- container and stream ------------------------------------------------------------------------


@RENDERS_CLIPS
def test_every_clip_is_browser_playable_h264(all_clips):
    for clip in all_clips:
        assert clip.codec == "h264"
        assert clip.pix_fmt == "yuv420p"
        assert clip.profile in {"Constrained Baseline", "Baseline", "Main"}
        assert clip.rate == FPS
        assert clip.width % 2 == 0 and clip.height % 2 == 0


@RENDERS_CLIPS
def test_every_clip_is_faststart(all_clips):
    for clip in all_clips:
        boxes = top_level_boxes(clip.path)
        assert "moov" in boxes and "mdat" in boxes
        assert boxes.index("moov") < boxes.index("mdat")


@RENDERS_CLIPS
def test_i2v_follows_the_start_image_aspect(landscape, portrait):
    for (info, clip, start, *_), frames in ((landscape, 120), (portrait, 240)):
        assert (clip.width, clip.height) == (info.width, info.height)
        assert clip.width / clip.height == pytest.approx(start.width / start.height, rel=0.01)
        assert max(clip.width, clip.height) <= render.MAX_LONG_SIDE
        assert min(clip.width, clip.height) <= render.MAX_SHORT_SIDE
        assert clip.frames == info.frames == frames


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ((1000, 600), (1200, 720)),
        ((600, 1200), (640, 1280)),
        ((4000, 3000), (960, 720)),
        ((300, 300), (720, 720)),
        ((100, 250), (512, 1280)),
        ((1001, 599), (1204, 720)),
        ((1920, 1080), (1280, 720)),
        ((333, 777), (548, 1280)),
    ],
)
def test_fit_size_fills_the_720p_box_with_even_sides(source, expected):
    width, height = fit_size(*source)
    assert (width, height) == expected
    assert width % 2 == 0 and height % 2 == 0
    assert width / height == pytest.approx(source[0] / source[1], rel=0.01)


@RENDERS_CLIPS
def test_i2v_render_info(landscape, portrait):
    assert landscape[0] == RenderInfo(1200, 720, FPS, 120, 5, "pan_left")
    assert portrait[0] == RenderInfo(640, 1280, FPS, 240, 10, "orbit")


@RENDERS_CLIPS
def test_t2v_size_and_length(t2v):
    for aspect, expected in {"16:9": (1280, 720), "9:16": (720, 1280), "1:1": (720, 720)}.items():
        info, clip = t2v[aspect]
        assert (clip.width, clip.height) == expected
        assert clip.frames == 120
        assert info == RenderInfo(*expected, FPS, 120, 5, None, ("A red fox trots through fresh snow at dawn",))


# --- pictures ---------------------------------------------------------------------------------


@RENDERS_CLIPS
def test_i2v_first_frame_is_the_start_image(landscape, portrait):
    for info, clip, start, *_ in (landscape, portrait):
        fitted = np.asarray(start.resize((info.width, info.height), Image.Resampling.LANCZOS))
        assert mean_diff(body(clip.samples[0]), body(fitted)) < 6


@RENDERS_CLIPS
def test_i2v_last_frame_is_the_end_image(landscape):
    info, clip, start, end = landscape
    size = (info.width, info.height)
    last = body(clip.samples[clip.frames - 1])
    assert mean_diff(last, body(np.asarray(ImageOps.fit(end, size)))) < 6
    assert mean_diff(last, body(np.asarray(start.resize(size)))) > 40


@RENDERS_CLIPS
def test_i2v_camera_moves_without_end_image(portrait):
    _, clip, _ = portrait
    first, middle, last = (body(clip.samples[i]) for i in (0, 120, clip.frames - 1))
    assert mean_diff(first, middle) > 5
    assert mean_diff(middle, last) > 5
    assert mean_diff(first, last) < 60  # still the start image, just framed differently


@RENDERS_CLIPS
def test_preview_banner_on_every_sampled_frame(all_clips):
    for clip in all_clips:
        assert len(clip.samples) >= 10
        for index, frame in clip.samples.items():
            band = frame[banner_rows(clip)].astype(int)
            luma = band @ [0.2126, 0.7152, 0.0722]
            yellow = (band[..., 0] > 190) & (band[..., 1] > 150) & (band[..., 2] < 90)
            assert (luma < 90).mean() > 0.4, f"{clip.path.name} frame {index}: band not dark"
            assert yellow.sum() > 500, f"{clip.path.name} frame {index}: no PREVIEW text"


@RENDERS_CLIPS
def test_banner_differs_from_the_source_image(landscape, portrait):
    # The test images are flat light grey (or flat teal) at the top, so without a banner the band
    # would match the rows just below it.
    for _, clip, *_ in (landscape, portrait):
        rows = banner_rows(clip)
        below = slice(rows.stop * 2, rows.stop * 3)
        for index, frame in clip.samples.items():
            band, under = frame[rows].mean(axis=(0, 1)), frame[below].mean(axis=(0, 1))
            assert np.abs(band - under).mean() > 40, f"{clip.path.name} frame {index}"


@pytest.mark.slow  # a second or more of real waiting or rendering: kept out of the fast loop
def test_t2v_is_seeded_by_the_prompt_and_thread_safe(tmp_path):
    prompt = "Lanterns drifting over a calm lake"
    outs = [tmp_path / f"same{n}.mp4" for n in range(2)]
    threads = [threading.Thread(target=render_t2v, args=(prompt, "1:1", 5, out)) for out in outs]
    for thread in threads:
        thread.start()
    render_t2v("A neon city in the rain", "1:1", 5, other := tmp_path / "other.mp4")
    for thread in threads:
        thread.join()
    a, b, c = (probe(p) for p in (*outs, other))
    for index in a.samples:
        assert mean_diff(a.samples[index], b.samples[index]) < 0.5
    assert mean_diff(a.samples[0], c.samples[0]) > 10
    assert mean_diff(a.samples[0], a.samples[a.frames - 1]) > 3  # the scene moves


# --- camera moves -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "move"),
    [
        ("Slow push in on her face", "push_in"),
        ("PUSH-IN to the door", "push_in"),
        ("zoom into the map", "push_in"),
        ("Dolly in through the window", "push_in"),
        ("camera pans left across the bay", "pan_left"),
        ("pan left", "pan_left"),
        ("Pan right to reveal the city", "pan_right"),
        ("slow pan across the valley", "pan_right"),
        ("panning shot of the crowd", "pan_right"),
        ("orbit the statue", "orbit"),
        ("drone circles around the tower", "orbit"),
        ("circle around the car", "orbit"),
        ("rotate around the dancer", "orbit"),
        ("handheld shot in a market", "handheld"),
        ("slight camera shake", "handheld"),
        ("gentle micro-sway", "handheld"),
        ("a cat asleep in the sun", "push_in"),
        ("", "push_in"),
        ("Japanese garden panorama, company of friends", "push_in"),  # whole words only
        ("pan left, then zoom in", "pan_left"),  # the first keyword wins
        ("zoom in, then pan left", "push_in"),
        ("handheld orbit", "handheld"),
        ("orbit, handheld", "orbit"),
    ],
)
def test_camera_move_for(prompt, move):
    assert camera_move_for(prompt) == move


@pytest.mark.parametrize("move", CAMERA_MOVES)
def test_camera_box_starts_on_the_full_image_and_stays_inside(move):
    size = (1200, 720)
    count = 240
    boxes = [camera_box(move, i / (count - 1), i / FPS, size) for i in range(count)]
    assert boxes[0] == pytest.approx((0, 0, *size))
    for x0, y0, x1, y1 in boxes:
        assert -1e-6 <= x0 < x1 <= size[0] + 1e-6
        assert -1e-6 <= y0 < y1 <= size[1] + 1e-6
    assert boxes[count // 2] != pytest.approx(boxes[0], abs=5)  # it actually moves


def test_camera_moves_differ():
    middles = {camera_box(move, 0.3, 1.5, (1280, 720)) for move in CAMERA_MOVES}
    assert len(middles) == len(CAMERA_MOVES)


# --- caption wrapping -------------------------------------------------------------------------

# The layout being tested: on a 720x720 clip the caption is set in 30-px type within 84% of the width.
CAPTION_FONT, CAPTION_WIDTH = ImageFont.load_default(size=30), 720 * 0.84


@pytest.fixture(scope="module")
def captions(tmp_path_factory) -> dict[str, tuple[str, ...]]:
    folder = tmp_path_factory.mktemp("captions")
    prompts = {"long": "word " * 400, "overlong": "x" * 500, "untidy": "  A fox \n in snow ", "blank": " \n "}
    return {name: render_t2v(p, "1:1", 5, folder / f"{name}.mp4").caption for name, p in prompts.items()}


@RENDERS_CLIPS
def test_caption_wraps_and_truncates_with_an_ellipsis(captions):
    lines = captions["long"]
    assert len(lines) == 3
    assert lines[-1].endswith("…") and lines[-1] != "…"
    assert ("word " * 400).startswith(" ".join(lines)[:-1])  # the prompt's start, cut where it stops fitting
    assert all(set(line.split()) == {"word"} for line in lines[:-1])
    assert all(CAPTION_FONT.getlength(line) <= CAPTION_WIDTH for line in lines)
    assert all(CAPTION_FONT.getlength(line + " word") > CAPTION_WIDTH for line in lines[:-1])  # filled greedily


@RENDERS_CLIPS
def test_caption_keeps_a_short_prompt_whole(captions, t2v):
    assert captions["untidy"] == ("A fox in snow",)
    assert captions["blank"] == ()
    assert {info.caption for info, _ in t2v.values()} == {("A red fox trots through fresh snow at dawn",)}


@RENDERS_CLIPS
def test_caption_splits_an_overlong_word(captions):
    lines = captions["overlong"]
    assert len(lines) == 3 and lines[-1].endswith("…")
    assert set("".join(lines)) == {"x", "…"} and len(lines[0]) == len(lines[1]) < 500
    assert all(CAPTION_FONT.getlength(line) <= CAPTION_WIDTH for line in lines)
    assert CAPTION_FONT.getlength(lines[0] + "x") > CAPTION_WIDTH  # each piece is as long as fits


# --- errors and atomic writes ------------------------------------------------------------------


def test_duration_must_be_5_or_10(tmp_path):
    start = encoded(start_image(320, 240), "PNG")
    with pytest.raises(ValueError, match="duration"):
        render_i2v(start, None, "zoom", 7, tmp_path / "a.mp4")
    with pytest.raises(ValueError, match="duration"):
        render_t2v("a fox", "16:9", 7, tmp_path / "b.mp4")
    with pytest.raises(ValueError, match="aspect_ratio"):
        render_t2v("a fox", "4:3", 5, tmp_path / "c.mp4")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("existing", [False, True])
def test_failed_render_leaves_nothing_behind(tmp_path, monkeypatch, existing):
    out = tmp_path / "clip.mp4"
    if existing:
        out.write_bytes(b"previous clip")
    real, calls = render.camera_box, []

    def failing(*args):
        calls.append(1)
        if len(calls) == 10:
            raise RuntimeError("boom mid-render")
        return real(*args)

    monkeypatch.setattr(render, "camera_box", failing)
    with pytest.raises(RuntimeError, match="boom"):
        render_i2v(encoded(start_image(640, 360), "JPEG"), None, "push in", 5, out)
    assert 10 <= len(calls) < 20  # stopped within the look-ahead, not after the whole clip
    if existing:
        assert out.read_bytes() == b"previous clip"
        assert list(tmp_path.iterdir()) == [out]
    else:
        assert list(tmp_path.iterdir()) == []
