"""A shared link's note about the start image it cannot carry (kling.app.link_note)."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr
import pytest

from kling.app.link_note import image_note


def request(query: dict[str, str], lang: str = "en-US") -> SimpleNamespace:
    return SimpleNamespace(query_params=query, headers={"accept-language": lang})


@pytest.mark.parametrize(
    "query",
    [{"tab": "i2v", "prompt": "a cat"}, {"prompt": "a cat", "duration": "5"}],  # the tab named, or implied
)
def test_an_image_to_video_link_is_told_its_image_is_not_part_of_it(query):
    assert "the start image is not part of a link" in image_note(request(query))
    assert "起始图片不包含在链接中" in image_note(request(query, "zh-CN,zh;q=0.9"))


@pytest.mark.parametrize("query", [{}, {"tab": "t2v", "prompt": "a kite"}, {"aspect_ratio": "1:1"}, {"tab": "lab"}])
def test_a_plain_visit_or_another_tabs_link_is_left_as_it_is(query):
    assert image_note(request(query)) == gr.skip()
    assert image_note(None) == gr.skip()
