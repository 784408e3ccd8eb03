"""Continue from the last frame of a preview clip: the next start image has none of the PREVIEW
band's pixels (which would otherwise come back under the next clip's band as a ghosted double
band), keeps the clip's size and aspect ratio, and a live clip's last frame is taken as it is."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kling.media.render import banner_height, render_i2v, render_t2v
from kling.media.start_frame import save_start_frame, without_band
from kling.media.video import last_frame, save_last_frame

GREY = 128


def band_pixels(image: Image.Image) -> int:
    """Pixels that can only come from the band: its yellow (text and rule) and its darkened grey."""
    a = np.asarray(image.convert("RGB")).astype(int)
    yellow = (a[..., 0] > 190) & (a[..., 1] > 150) & (a[..., 2] < 90)
    dark = a.mean(axis=2) < GREY - 40  # black at 72% over grey 128: about 36
    return int((yellow | dark).sum())


def yellow_rows(image: Image.Image) -> int:
    """Rows that are mostly the band's yellow rule: the band's mark whatever lies under it."""
    a = np.asarray(image.convert("RGB")).astype(int)
    yellow = (a[..., 0] > 190) & (a[..., 1] > 150) & (a[..., 2] < 90)
    return int((yellow.mean(axis=1) > 0.9).sum())


@pytest.fixture(scope="module")
def grey_preview(tmp_path_factory) -> Path:
    """A preview clip of a flat grey photo: whatever is not grey in its frames is the band."""
    buf = io.BytesIO()
    Image.new("RGB", (640, 360), (GREY, GREY, GREY)).save(buf, "PNG")
    out = tmp_path_factory.mktemp("clips") / "grey.mp4"
    render_i2v(buf.getvalue(), None, "Camera holds.", 5, out)
    return out


@pytest.mark.slow  # renders and decodes a 5 s clip
def test_a_preview_clips_saved_start_frame_has_no_band_pixels(grey_preview: Path, tmp_path: Path):
    banded = last_frame(grey_preview)
    assert band_pixels(banded) > banded.width * banner_height(banded.size) // 2  # the band is there
    saved = save_start_frame(grey_preview, tmp_path / "frame.png", preview=True)
    with Image.open(saved) as image:
        assert image.format == "PNG"
        assert image.size == banded.size  # the next clip keeps this one's shape
        assert band_pixels(image) == 0
        assert np.abs(np.asarray(image.convert("RGB")).astype(int) - GREY).max() < 16


@pytest.mark.slow  # renders and decodes a 5 s clip
def test_a_text_to_video_preview_start_frame_has_no_yellow_rule(tmp_path: Path):
    clip = tmp_path / "t2v.mp4"
    render_t2v("A quiet lake at dawn, mist over the water.", "9:16", 5, clip)
    assert yellow_rows(last_frame(clip)) >= 1
    with Image.open(save_start_frame(clip, tmp_path / "frame.png", preview=True)) as image:
        assert yellow_rows(image) == 0
        assert image.size == (720, 1280)


@pytest.mark.slow  # renders and decodes a 5 s clip
def test_a_live_clips_last_frame_is_taken_as_it_is(grey_preview: Path, tmp_path: Path):
    live = save_start_frame(grey_preview, tmp_path / "live.png", preview=False)
    plain = save_last_frame(grey_preview, tmp_path / "plain.png")
    assert live.read_bytes() == plain.read_bytes()


@pytest.mark.parametrize("size", [(1280, 720), (720, 1280), (720, 720), (1000, 562)])
def test_without_band_keeps_the_size_and_drops_the_band_rows(size):
    w, h = size
    band = banner_height(size)
    frame = Image.new("RGB", size, (0, 90, 200))
    frame.paste((255, 204, 0), (0, 0, w, band))  # a band of a colour nowhere else
    out = without_band(frame)
    assert out.size == size
    a = np.asarray(out).astype(int)
    assert np.abs(a - (0, 90, 200)).max() <= 2
