"""The committed gallery thumbnails match their sample photos, and the page shows them (not the
full photos) while an example's click still fills in the full photo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kling.app.widgets import thumbnails
from kling.examples import STARTERS
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
