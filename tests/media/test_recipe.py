"""A clip's recipe in its MP4: written by remuxing (the packets and decoded frames stay the same),
read back with PyAV, and written by every path that saves a clip (the runner, the stitcher, the
showcase)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import av
import numpy as np
import pytest

from kling.errors import NotAVideoError
from kling.media.recipe import (
    PREVIEW_NOTE,
    RECIPE_TAG,
    Recipe,
    copy_with_recipe,
    film_recipe,
    read_recipe,
    write_recipe,
)
from kling.store.journal import Journal
from kling.store.stamps import job_recipe, stamp_film
from tests.helpers.media import decoded_frames, index_first, write_clip
from tests.helpers.runner import finish, make_runner


def packet_bytes(path: Path) -> list[tuple[int | None, int | None, bytes]]:
    with av.open(str(path)) as container:
        return [(p.pts, p.dts, bytes(p)) for p in container.demux(video=0) if p.size]


def pixels(path: Path) -> list[np.ndarray]:
    return [frame.to_ndarray(format="rgb24") for frame in decoded_frames(path)]


RECIPE = Recipe(
    prompt='A paper lantern <rises> "slowly" 灯笼',
    negative_prompt="blur",
    model="kwaivgi/kling-v2.0-t2v-master",
    duration=5,
    aspect_ratio="16:9",
    task_id="task-123",
    made="2026-01-02T03:04:05Z",
    preview=True,
)


@pytest.mark.parametrize("bframes", [False, True])
def test_the_recipe_is_written_by_remuxing_and_read_back(tmp_path, bframes):
    clip = write_clip(tmp_path / "clip.mp4", bframes=bframes)
    before_packets, before_pixels = packet_bytes(clip), pixels(clip)
    assert read_recipe(clip) is None

    assert write_recipe(clip, RECIPE) is True

    assert read_recipe(clip) == RECIPE
    assert packet_bytes(clip) == before_packets  # not re-encoded: every packet byte for byte
    assert all(np.array_equal(a, b) for a, b in zip(pixels(clip), before_pixels, strict=True))
    assert index_first(clip)
    with av.open(str(clip)) as container:
        tags = dict(container.metadata)
    assert tags["title"] == RECIPE.prompt
    assert PREVIEW_NOTE in tags["comment"] and "task-123" in tags["comment"]
    assert json.loads(tags[RECIPE_TAG])["note"] == PREVIEW_NOTE


def test_writing_the_same_recipe_again_leaves_the_file_alone(tmp_path):
    clip = write_clip(tmp_path / "clip.mp4")
    write_recipe(clip, RECIPE)
    inode, data = clip.stat().st_ino, clip.read_bytes()
    assert write_recipe(clip, RECIPE) is False
    assert clip.stat().st_ino == inode and clip.read_bytes() == data
    assert write_recipe(clip, Recipe(prompt="another")) is True
    assert read_recipe(clip) == Recipe(prompt="another")


def test_a_file_that_is_no_video_is_refused_and_left_as_it_was(tmp_path):
    bogus = tmp_path / "bogus.mp4"
    bogus.write_bytes(b"not a video at all")
    with pytest.raises(NotAVideoError):
        write_recipe(bogus, RECIPE)
    assert bogus.read_bytes() == b"not a video at all"
    assert [p.name for p in tmp_path.iterdir()] == ["bogus.mp4"]  # no .part left behind


def test_a_paid_clip_is_not_marked_preview(tmp_path):
    clip = write_clip(tmp_path / "clip.mp4")
    write_recipe(clip, Recipe(prompt="x", preview=False, guidance_scale=0.5))
    with av.open(str(clip)) as container:
        tags = dict(container.metadata)
    assert PREVIEW_NOTE not in tags["comment"] and "guidance 0.5" in tags["comment"]
    assert read_recipe(clip) == Recipe(prompt="x", preview=False, guidance_scale=0.5)


def test_the_runner_saves_every_clip_with_its_recipe(tmp_path):
    runner, _ = make_runner(tmp_path)
    from kling.api.params import T2VRequest

    async def go():
        run = runner.start(
            T2VRequest(prompt="a fox in snow", negative_prompt="blur", aspect_ratio="9:16", duration=5), owner="me"
        )
        return await finish(run)

    state = asyncio.run(go())
    assert state.stage == "done", state.message
    job = runner.journal.get(state.task_id)
    recipe = read_recipe(Path(job.local_path))
    assert recipe == job_recipe(job)
    assert (recipe.prompt, recipe.negative_prompt, recipe.aspect_ratio, recipe.duration) == (
        "a fox in snow",
        "blur",
        "9:16",
        5,
    )
    assert recipe.task_id == state.task_id and recipe.model.endswith("t2v-master") and recipe.preview is False
    assert recipe.made.endswith("Z")


def test_a_film_carries_its_clips_task_ids_and_prompts(tmp_path):
    from kling.media.video import stitch

    journal = Journal(tmp_path / "jobs.sqlite3")
    jobs = []
    for n, prompt in enumerate(["first shot", "second shot"]):
        journal.record(
            task_id=f"t{n}", model="m", mode="preview", owner="o", key=None, params={"prompt": prompt}, price_cents=0
        )
        jobs.append(journal.get(f"t{n}"))
    a, b = write_clip(tmp_path / "a.mp4"), write_clip(tmp_path / "b.mp4", colour=(200, 10, 10))
    film = stitch([a, b], tmp_path / "film.mp4").path
    before = packet_bytes(film)
    assert stamp_film(film, jobs, made=0) is True
    recipe = read_recipe(film)
    assert recipe is not None and recipe.preview is True
    assert recipe.clips == ({"task_id": "t0", "prompt": "first shot"}, {"task_id": "t1", "prompt": "second shot"})
    assert packet_bytes(film) == before


def test_a_copy_without_ids_keeps_the_recipe_and_frames_and_names_no_task_id(tmp_path):
    clip = write_clip(tmp_path / "clip.mp4")
    write_recipe(clip, RECIPE)
    copy_with_recipe(clip, tmp_path / "shared.mp4", RECIPE.without_ids())
    with av.open(str(tmp_path / "shared.mp4")) as container:
        tags = json.dumps(dict(container.metadata), ensure_ascii=False)
    assert "task-123" not in tags and "A paper lantern" in tags and "2026-01-02T03:04:05Z" in tags
    assert read_recipe(tmp_path / "shared.mp4") == dataclasses.replace(RECIPE, task_id="")
    assert packet_bytes(tmp_path / "shared.mp4") == packet_bytes(clip)
    assert read_recipe(clip) == RECIPE  # the owner's clip keeps its whole recipe

    film = film_recipe([("t0", "first shot"), ("t1", "second shot")], made="2026-01-02T03:04:05Z")
    shared = film.without_ids().tags()
    assert not any("t0" in value or "t1" in value for value in shared.values())
    assert shared["comment"] == "Film of first shot; second shot" and "second shot" in shared[RECIPE_TAG]


def test_a_showcase_clip_carries_its_recipe_before_its_sha256_enters_the_manifest(tmp_path):
    """A clip an earlier run saved without a recipe is reused (no request): the showcase's copy gets
    the recipe, and the manifest's SHA-256 is that of the file as stored, so it loads and is served."""
    import kling.examples as ex
    from kling.api.backend import Backend
    from kling.cli.showcase import make_one
    from kling.config import Settings
    from kling.jobs.runner import Runner
    from kling.store.showcase import load_showcase, owner_tag, write_manifest

    example = ex.T2V_EXAMPLES[0]
    settings = Settings(api_key="k", base_url="http://nowhere.invalid", data_dir=tmp_path / "data")
    journal = Journal(settings.journal_path)
    old = write_clip(tmp_path / "old.mp4")
    params = {"prompt": example.prompt, "negative_prompt": example.negative_prompt, "duration": example.duration}
    journal.record(
        task_id="paid-1",
        model=example.model,
        mode="live",
        owner=owner_tag(example),
        key="k",
        params=params,
        price_cents=40,
    )
    journal.update("paid-1", status="completed", local_path=str(old))
    runner = Runner(Backend(settings), journal)
    show = tmp_path / "show"
    clip = asyncio.run(make_one(example, show, runner, say=lambda line: None))
    write_manifest(show, {clip.key: clip})

    recipe = read_recipe(clip.clip_path)
    assert recipe is not None and recipe.task_id == "paid-1" and recipe.prompt == example.prompt
    assert recipe.preview is False
    assert read_recipe(old) is None  # the journal's own copy is not touched by the showcase
    assert load_showcase(show)[clip.key].sha256 == clip.sha256  # the manifest's hash is the stamped file's
    assert packet_bytes(clip.clip_path) == packet_bytes(old)
