"""Which still the empty player shows before the first run (kling.app.result_poster): the first
example's showcase poster where the Space has one made with its current settings, else the file
its gallery tile shows. The page itself is tested in tests/browser/test_result_poster.py."""

from __future__ import annotations

import dataclasses

from PIL import Image

from kling.app.result_poster import poster_file
from kling.examples import ASSETS, STARTERS, T2V_EXAMPLES
from kling.media.posters import poster_path
from kling.media.thumbs import gallery_image
from tests.helpers.showcase import showcase_entry


def test_without_a_showcase_the_poster_is_the_first_tiles_file():
    assert poster_file(STARTERS[0], {}) == gallery_image(STARTERS[0].image_path)
    assert poster_file(T2V_EXAMPLES[0], {}) == poster_path(ASSETS, T2V_EXAMPLES[0].key)


def test_a_showcase_clip_of_the_example_gives_its_poster_unless_its_settings_changed(tmp_path):
    example = T2V_EXAMPLES[0]
    clip = showcase_entry(tmp_path, example, content=b"\x00\x00\x00\x18ftypmp42")
    Image.new("RGB", (64, 36), (10, 200, 30)).save(tmp_path / "still.jpg")
    clip = dataclasses.replace(clip, poster="still.jpg")
    assert poster_file(example, {example.key: clip}) == tmp_path / "still.jpg"
    stale = dataclasses.replace(clip, settings={**clip.settings, "prompt": "another prompt"})
    assert poster_file(example, {example.key: stale}) == poster_path(ASSETS, example.key)
