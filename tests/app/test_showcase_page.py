"""The showcase on the page: clicking an example fills its form and, when the showcase has that
example's clip (unchanged, made with its current settings), shows the clip at once. No click and
no page build ever sends a request; a tampered or missing clip is never shown."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import gradio as gr
import pytest
from PIL import Image

from kling import examples as ex
from kling.app.studio import Studio
from kling.media.thumbs import thumb_path
from kling.store.clips import ClipShelf
from kling.store.showcase import load_showcase, write_manifest
from tests.helpers.fakes import FAKE_MP4
from tests.helpers.runner import make_runner
from tests.helpers.showcase import make_showcase_dir

LABEL = "Kling's output for this example, made 2026-11-20: free to watch"
STARTER, T2V = ex.STARTERS[0], ex.T2V_EXAMPLES[1]


def studio_with(tmp_path: Path, showcase_dir: Path):
    """A live-mode studio (its HTTP goes to an in-process simulator) over the showcase in `showcase_dir`."""
    runner, simulator = make_runner(tmp_path)
    settings = dataclasses.replace(runner.backend.settings, showcase_dir=showcase_dir)
    studio = Studio(
        settings,
        runner.backend,
        runner.journal,
        runner,
        ClipShelf(tmp_path / "clips"),
        showcase=load_showcase(showcase_dir),
    )
    return studio, simulator


def click(gallery_pick, index: int) -> dict:
    return gallery_pick(None, gr.SelectData(None, {"index": index, "value": None, "selected": True}))


@pytest.fixture
def show(tmp_path) -> Path:
    make_showcase_dir(tmp_path / "show", [STARTER, T2V], content=FAKE_MP4)
    return tmp_path / "show"


def test_clicking_a_starter_with_a_clip_fills_the_form_and_shows_the_clip_without_a_request(tmp_path, show):
    studio, simulator = studio_with(tmp_path, show)
    handlers = studio.build_with_handlers()[1]
    i2v = handlers.examples.parts.i2v

    updates = click(handlers.examples.pick_starter, 0)

    assert updates[i2v.image] == str(STARTER.image_path)
    assert updates[i2v.text.prompt] == STARTER.prompt and updates[i2v.text.negative] == STARTER.negative_prompt
    assert (updates[i2v.guidance], updates[i2v.duration], updates[i2v.end_image]) == (0.5, 5, None)
    assert Path(updates[i2v.out.video]).read_bytes() == FAKE_MP4
    assert Path(updates[i2v.out.video]) == show / f"{STARTER.key}.mp4"
    assert LABEL in updates[i2v.out.status] and STARTER.title in updates[i2v.out.status]
    clip = studio.showcase[STARTER.key]
    details = updates[i2v.out.details]
    assert clip.task_id in details and "chelsea.png" in details and STARTER.prompt in details
    assert len(simulator.log) == 0 and studio.journal.all() == []  # no request, no task


def test_clicking_a_text_to_video_example_with_a_clip_shows_it_in_its_own_tab(tmp_path, show):
    studio, simulator = studio_with(tmp_path, show)
    handlers = studio.build_with_handlers()[1]
    parts = handlers.examples.parts

    updates = click(handlers.examples.pick_t2v, 1)

    assert updates[parts.t2v.text.prompt] == T2V.prompt and updates[parts.t2v.aspect_ratio] == "9:16"
    assert Path(updates[parts.t2v.out.video]).read_bytes() == FAKE_MP4
    assert LABEL in updates[parts.t2v.out.status]
    assert "Aspect ratio**: 9:16" in updates[parts.t2v.out.details]
    assert not {parts.i2v.out.video, parts.i2v.out.status} & set(updates)  # the other tab is left alone
    assert len(simulator.log) == 0


def test_an_example_without_a_clip_only_fills_the_form(tmp_path, show):
    studio, simulator = studio_with(tmp_path, show)
    handlers = studio.build_with_handlers()[1]
    parts = handlers.examples.parts

    updates = click(handlers.examples.pick_starter, 2)  # the espresso: no clip in this showcase
    assert updates[parts.i2v.text.prompt] == ex.STARTERS[2].prompt
    results = {parts.i2v.out.status, parts.i2v.out.video, parts.i2v.out.details}
    assert not results & set(updates), "an example without a clip must leave the result panel as it is"
    assert len(simulator.log) == 0


def test_a_tampered_clip_is_not_shown_and_says_so_once_in_the_log(tmp_path, show, caplog):
    (show / f"{STARTER.key}.mp4").write_bytes(FAKE_MP4 + b"tampered")
    (show / f"{T2V.key}.mp4").unlink()
    with caplog.at_level(logging.INFO, logger="kling.store.showcase"):
        studio, simulator = studio_with(tmp_path, show)
        handlers = studio.build_with_handlers()[1]
        parts = handlers.examples.parts
        starter, t2v = click(handlers.examples.pick_starter, 0), click(handlers.examples.pick_t2v, 1)
    assert studio.showcase == {}
    assert starter[parts.i2v.text.prompt] == STARTER.prompt and parts.i2v.out.video not in starter
    assert t2v[parts.t2v.text.prompt] == T2V.prompt and parts.t2v.out.video not in t2v
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2 and any("SHA-256" in line for line in lines) and any("missing" in line for line in lines)
    assert len(simulator.log) == 0


def test_a_clip_made_with_other_settings_is_not_shown_as_this_examples(tmp_path, show):
    clips = load_showcase(show)
    clips[STARTER.key] = dataclasses.replace(clips[STARTER.key], settings={**STARTER.settings(), "prompt": "A dog."})
    write_manifest(show, clips)
    studio, _ = studio_with(tmp_path, show)
    handlers = studio.build_with_handlers()[1]
    assert handlers.examples.parts.i2v.out.video not in click(handlers.examples.pick_starter, 0)


def test_a_clip_deleted_after_start_up_is_not_shown(tmp_path, show, caplog):
    studio, _ = studio_with(tmp_path, show)
    handlers = studio.build_with_handlers()[1]
    (show / f"{STARTER.key}.mp4").unlink()
    with caplog.at_level(logging.WARNING, logger="kling.store.showcase"):
        updates = click(handlers.examples.pick_starter, 0)
    assert handlers.examples.parts.i2v.out.video not in updates
    assert len(caplog.records) == 1


def test_launch_allows_only_the_checked_showcase_files_and_keeps_the_data_folder_blocked(tmp_path, show):
    (show / "notes.txt").write_text("not the page's to serve")
    studio, _ = studio_with(tmp_path, show)
    kwargs = studio.launch_kwargs(share=False)
    assert sorted(kwargs["allowed_paths"]) == sorted(
        str((show / name).resolve()) for name in (f"{STARTER.key}.mp4", f"{T2V.key}.mp4")
    )
    assert str(studio.settings.data_dir.resolve()) in kwargs["blocked_paths"]


def test_thumbnails_show_a_poster_where_a_clip_has_one_and_say_so_in_their_alt_text(tmp_path):
    from kling.app.widgets import thumbnails

    show = tmp_path / "show"
    clips = make_showcase_dir(show, [STARTER], content=FAKE_MP4)
    (show / "poster.jpg").write_bytes(b"jpeg")
    clips[STARTER.key] = dataclasses.replace(clips[STARTER.key], poster="poster.jpg")
    write_manifest(show, clips)
    showcase = load_showcase(show)

    first, second = thumbnails([STARTER, ex.STARTERS[1]], showcase)
    assert first == (str(show / "poster.jpg"), "Chelsea the cat · 🎬 Kling clip")
    assert second == (str(thumb_path(ex.STARTERS[1].image_path)), "Astronaut portrait")
    # No clip, no photo: the example's committed poster, drawn from its prompt in its ratio.
    ((poster, caption),) = thumbnails([ex.T2V_EXAMPLES[1]], showcase)
    with Image.open(poster) as card:
        assert caption == "Golden hour portrait (9:16)" and abs(card.width / card.height - 9 / 16) < 0.01
    # The same thumbnails for a browser in Chinese: captions (the images' alt texts) translated.
    assert [caption for _, caption in thumbnails([STARTER, ex.T2V_EXAMPLES[1]], showcase, "zh")] == [
        "猫咪切尔西 · 🎬 可灵视频",
        "黄金时刻肖像（9:16）",
    ]
