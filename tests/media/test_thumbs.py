"""The committed gallery thumbnails match their sample photos, and the page shows them (not the
full photos) while an example's click still fills in the full photo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kling.app.widgets import thumbnails
from kling.examples import ASSETS, STARTERS, T2V_EXAMPLES
from kling.media.posters import poster_path, render_poster
from kling.media.thumbs import THUMB_WIDTH, gallery_image, render_thumb, thumb_path, write_thumb


@pytest.mark.parametrize("starter", STARTERS, ids=lambda s: s.key)
def test_each_committed_thumbnail_is_a_small_copy_of_its_photo(starter):
    thumb = thumb_path(starter.image_path)
    assert thumb.is_file(), f"{thumb} is missing: python -m kling.media.thumbs"
    with Image.open(thumb) as image:
        assert image.format == "JPEG"
        committed = np.asarray(image.convert("RGB"), dtype=np.int16)
    expected = np.asarray(render_thumb(starter.image_path), dtype=np.int16)
    # Same size (so the same aspect ratio), and the same picture up to JPEG's losses: a stale
    # thumbnail of a replaced photo differs by far more.
    assert committed.shape == expected.shape == (expected.shape[0], THUMB_WIDTH, 3)
    assert np.abs(committed - expected).mean() < 8
    assert thumb.stat().st_size < starter.image_path.stat().st_size / 4


def test_a_thumbnail_keeps_the_aspect_ratio_and_never_enlarges(tmp_path: Path):
    wide, small = tmp_path / "wide.png", tmp_path / "small.png"
    Image.new("RGB", (1000, 500), (200, 10, 10)).save(wide)
    Image.new("RGB", (100, 80), (10, 200, 10)).save(small)
    assert Image.open(write_thumb(wide)).size == (THUMB_WIDTH, THUMB_WIDTH // 2)
    assert Image.open(write_thumb(small)).size == (100, 80)
    assert thumb_path(wide) == tmp_path / "thumbs" / "wide.jpg"


def test_a_photo_without_a_thumbnail_shows_itself(tmp_path: Path):
    photo = tmp_path / "new.png"
    Image.new("RGB", (10, 10)).save(photo)
    assert gallery_image(photo) == photo
    write_thumb(photo)
    assert gallery_image(photo) == thumb_path(photo)


@pytest.mark.parametrize("starter", STARTERS, ids=lambda s: s.key)
def test_the_gallery_shows_the_thumbnail_not_the_full_photo(starter):
    ((image, _caption),) = thumbnails([starter], {})
    assert image == str(thumb_path(starter.image_path))


# -- the Text to Video examples' posters ---------------------------------------------------------


@pytest.mark.parametrize("example", T2V_EXAMPLES, ids=lambda e: e.key)
def test_each_committed_poster_is_what_the_drawing_code_makes_for_its_prompt_and_ratio(example):
    poster = poster_path(ASSETS, example.key)
    assert poster.is_file(), f"{poster} is missing: python -m kling.media.thumbs"
    with Image.open(poster) as image:
        assert image.format == "JPEG"
        committed = np.asarray(image.convert("RGB"), dtype=np.int16)
    expected = np.asarray(render_poster(example.prompt, example.aspect_ratio), dtype=np.int16)
    w, h = (int(side) for side in example.aspect_ratio.split(":"))
    assert committed.shape == expected.shape == (round(THUMB_WIDTH * h / w), THUMB_WIDTH, 3)
    assert np.abs(committed - expected).mean() < 8  # JPEG's losses, not another picture
    assert committed.std() > 20  # a picture, not a plain card


def test_posters_differ_with_the_prompt_and_follow_the_ratio():
    a, b = (np.asarray(render_poster(p, "16:9"), dtype=np.int16) for p in ("A park at dawn.", "A city at night."))
    assert np.abs(a - b).mean() > 8
    assert render_poster("A park at dawn.", "9:16").size == (THUMB_WIDTH, round(THUMB_WIDTH * 16 / 9))
    with pytest.raises(ValueError, match="aspect ratio"):
        render_poster("A park.", "0:1")


@pytest.mark.parametrize("example", T2V_EXAMPLES, ids=lambda e: e.key)
def test_without_a_showcase_the_text_to_video_gallery_shows_each_examples_poster(example):
    ((image, caption),) = thumbnails([example], {})
    assert image == str(poster_path(ASSETS, example.key))
    assert example.aspect_ratio in caption
