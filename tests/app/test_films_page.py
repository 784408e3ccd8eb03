"""Continue and stitch on the page, at the handlers: what "Continue from the last frame" puts in
Image to Video, what the next run's journal row says it continues, and History's Stitch and films,
each reachable only by the browser that owns them. Real clips from the simulator, no mocks."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from kling.api.params import T2VRequest
from kling.app.views import job_markdown, task_id_in_status
from kling.media import video as film
from kling.store.films import films_dir, films_for, frame_path
from tests.helpers.media import probe
from tests.helpers.page import page_handlers, signed_session
from tests.helpers.runner import finish, make_runner

# Two browsers, each with an id signed by the page's secret (what its restore handler gives them).
SECRET = b"films page test secret, 32 bytes"
A, OWNER_A = signed_session(SECRET)
B, OWNER_B = signed_session(SECRET)


def finished_clips(runner, *jobs: tuple[str, str, int]) -> list[str]:
    """Run T2V tasks (prompt, owner, duration) to the end; their task ids."""

    async def go():
        states = [
            await finish(runner.start(T2VRequest(prompt=prompt, duration=duration), owner=owner))
            for prompt, owner, duration in jobs
        ]
        return states

    states = asyncio.run(go())
    assert all(state.stage == "done" for state in states), [state.message for state in states]
    return [state.task_id for state in states]


@pytest.fixture
def studio(tmp_path):
    runner, sim = make_runner(tmp_path)
    handlers = page_handlers(runner, tmp_path, secret=SECRET)
    yield runner, sim, handlers
    asyncio.run(runner.backend.aclose())


def pixels(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


@pytest.mark.slow  # a second or more of real waiting or rendering: kept out of the fast loop
def test_continue_fills_image_to_video_with_the_exact_last_frame_and_the_prompt(studio, tmp_path):
    runner, sim, handlers = studio
    (task,) = finished_clips(runner, ("a kite over the dunes, slow push-in", OWNER_A, 5))
    parts = handlers.films.parts
    posts_before = len(sim.log)

    filled = asyncio.run(handlers.films.continue_from(task, A))

    assert filled[parts.tabs].selected == "i2v"
    assert filled[parts.i2v.text.prompt] == "a kite over the dunes, slow push-in"
    assert filled[parts.i2v.end_image] is None
    start = Path(filled[parts.i2v.image])
    assert start.suffix == ".png" and Image.open(start).format == "PNG"
    clip = runner.journal.get(task).local_path
    expected = np.asarray(film.last_frame(Path(clip)))
    size = probe(clip)
    assert pixels(start).shape == expected.shape == (size.height, size.width, 3)  # full resolution
    assert np.array_equal(pixels(start), expected)
    kept = frame_path(tmp_path / "data", task)
    assert kept.is_file() and np.array_equal(pixels(kept), expected)  # under the data dir, frames/<task>.png
    assert filled[parts.i2v.continues]["task"] == task
    assert task in filled[parts.i2v.out.status]
    assert len(sim.log) == posts_before  # continuing costs nothing


@pytest.mark.slow  # several seconds: kept out of the fast loop
def test_the_run_from_a_continued_frame_records_what_it_continues(studio):
    runner, sim, handlers = studio
    (task,) = finished_clips(runner, ("a lantern rises", OWNER_A, 5))
    parts, generation = handlers.films.parts, handlers.generation
    filled = asyncio.run(handlers.films.continue_from(task, A))

    async def generate(image, continuing):
        async for outputs in generation.image_to_video(  # noqa: B007 (the last value is the answer)
            image, "the lantern drifts out to sea", "", 0.5, 5, None, A, continuing
        ):
            pass
        return task_id_in_status(outputs.status)

    continued = asyncio.run(generate(filled[parts.i2v.image], filled[parts.i2v.continues]))
    row = runner.journal.get(continued)
    assert row.continues == task and row.owner == OWNER_A and row.model.endswith("i2v-master")
    assert row.params["prompt"] == "the lantern drifts out to sea"
    assert f"Continues task `{task}`" in job_markdown(row)  # History's details say so

    # The visitor swapped the start image after continuing: the new run continues nothing.
    other = Path(filled[parts.i2v.image]).with_name("swapped.png")
    Image.fromarray(255 - pixels(filled[parts.i2v.image])).save(other)
    fresh = asyncio.run(generate(str(other), filled[parts.i2v.continues]))
    assert runner.journal.get(fresh).continues is None
    # And a run never continued (the public API, the tab as it loads) records none.
    assert runner.journal.get(asyncio.run(generate(filled[parts.i2v.image], None))).continues is None


def test_only_your_own_finished_clip_can_be_continued(studio, tmp_path):
    runner, sim, handlers = studio
    (theirs,) = finished_clips(runner, ("their secret shot", OWNER_B, 5))
    parts = handlers.films.parts
    for task_id in (theirs, "no-such-task", "", "../../etc/passwd"):
        answer = asyncio.run(handlers.films.continue_from(task_id, A))
        assert answer == {parts.tabs: gr.skip()}, task_id  # nothing filled: no frame, no prompt
    assert not frame_path(tmp_path / "data", theirs).exists()


@pytest.mark.slow  # a second or more of real waiting or rendering: kept out of the fast loop
def test_stitch_refuses_fewer_than_two_clips_and_other_browsers_clips(studio, tmp_path):
    runner, sim, handlers = studio
    mine, theirs = finished_clips(runner, ("mine", OWNER_A, 5), ("theirs", OWNER_B, 5))
    about = handlers.films.parts.history.stitch.about

    def refusal(*args) -> str:  # said in the stitch panel, not raised as a red toast
        (said,) = asyncio.run(handlers.films.stitch(*args)).items()
        assert said[0] is about and said[1].startswith("### ⛔ Not stitched, nothing was charged."), said
        return said[1]

    for picked in ([], [mine], None):
        assert "at least two clips" in refusal(picked, 0.0, A)
    assert f"Not one of this browser's finished clips: {theirs}" in refusal([mine, theirs], 0.0, A)
    assert "Not one of this browser's finished clips" in refusal([mine, mine], 0.0, {"token": "forged", "key": ""})
    assert "cross-fade" in refusal([mine, mine], 4.0, A)  # longer than a 5 s clip can give twice
    assert not films_dir(tmp_path / "data").exists() or not any(films_dir(tmp_path / "data").iterdir())


@pytest.mark.slow  # several seconds: kept out of the fast loop
def test_stitch_makes_a_film_listed_only_for_its_owner(studio, tmp_path):
    runner, sim, handlers = studio
    first, second, theirs = finished_clips(
        runner, ("shot one", OWNER_A, 5), ("shot two", OWNER_A, 10), ("theirs", OWNER_B, 5)
    )
    parts, data_dir = handlers.films.parts, tmp_path / "data"
    stitch = parts.history.stitch
    posts_before = len(sim.log)

    made = asyncio.run(handlers.films.stitch([second, first], 0.0, A))

    (film_a,) = films_for(data_dir, OWNER_A)
    assert film_a.tasks == (second, first)  # in the order picked
    shown = probe(made[stitch.film])
    parts_seconds = sum(probe(runner.journal.get(task).local_path).seconds for task in (first, second))
    assert abs(shown.seconds - parts_seconds) <= 1 / shown.fps and shown.codec == "h264"
    assert abs(film_a.duration - parts_seconds) <= 1 / shown.fps
    assert film_a.path(data_dir).parent == data_dir / "films" and film_a.path(data_dir).is_file()
    assert json.loads(film_a.path(data_dir).with_suffix(".json").read_text())["owner"] == OWNER_A
    assert made[stitch.films].value == film_a.name and "PREVIEW" not in made[stitch.about]
    assert len(sim.log) == posts_before  # stitching calls no API

    # History lists the film and the clips for their owner only.
    mine = asyncio.run(handlers.history.list(A))
    assert [name for _, name in mine[stitch.films].choices] == [film_a.name]
    assert {task for _, task in mine[stitch.clips].choices} == {first, second}
    other = asyncio.run(handlers.history.list(B))
    assert other[stitch.films].choices == [] and [t for _, t in other[stitch.clips].choices] == [theirs]
    assert asyncio.run(handlers.films.show(film_a.name, B))[stitch.film] is None
    assert probe(asyncio.run(handlers.films.show(film_a.name, A))[stitch.film]).frames == shown.frames
    assert asyncio.run(handlers.films.show("../jobs.sqlite3", A))[stitch.film] is None


@pytest.mark.slow  # several seconds: kept out of the fast loop
def test_a_crossfaded_film_is_shorter_by_the_fade(studio, tmp_path):
    runner, sim, handlers = studio
    first, second = finished_clips(runner, ("one", OWNER_A, 5), ("two", OWNER_A, 5))
    made = asyncio.run(handlers.films.stitch([first, second], 0.5, A))
    shown = probe(made[handlers.films.parts.history.stitch.film])
    parts_seconds = sum(probe(runner.journal.get(task).local_path).seconds for task in (first, second))
    assert abs(shown.seconds - (parts_seconds - 0.5)) <= 1 / shown.fps
    assert "cross-fade 0.5 s" in made[handlers.films.parts.history.stitch.about]


def test_a_damaged_sidecar_hides_its_film_and_breaks_nothing(tmp_path):
    folder = films_dir(tmp_path)
    folder.mkdir(parents=True)
    (folder / "film-x.mp4").write_bytes(b"not checked here")
    (folder / "film-x.json").write_text("{not json")
    (folder / "film-y.json").write_text(json.dumps({"owner": OWNER_A}))
    assert films_for(tmp_path, OWNER_A) == []


@pytest.mark.slow  # a second or more of real waiting or rendering: kept out of the fast loop
def test_a_prompt_lab_variant_can_be_continued(studio):
    runner, sim, handlers = studio
    form, parts = handlers.lab.parts.lab, handlers.films.parts
    values = {form.mode: "Text to Video", form.image: None, form.aspect_ratio: "1:1", form.count: 2, parts.session: A}
    for slot, prompt in zip(form.slots, ("a red door opens", "a blue door opens")):
        values.update(zip(slot.settings, (prompt, "", 0.5, 5)))

    async def go():
        updates = [update async for update in handlers.lab.run(values)]
        return updates[-1]

    last = asyncio.run(go())
    second = last[form.slots[1].task]
    assert runner.journal.get(second).params["prompt"] == "a blue door opens"
    filled = asyncio.run(handlers.films.continue_from(second, A))
    assert filled[parts.i2v.text.prompt] == "a blue door opens" and filled[parts.i2v.continues]["task"] == second


def test_a_result_panel_continues_the_task_its_status_line_names(studio):
    runner, _, handlers = studio
    (task,) = finished_clips(runner, ("a paper boat on a pond", OWNER_A, 5))
    parts = handlers.films.parts
    status = f"### ✅ Done in 0:05\n\nTask `{task}` · status **completed** · 3 status checks"
    filled = asyncio.run(handlers.films.continue_from(status, A))
    assert filled[parts.i2v.text.prompt] == "a paper boat on a pond" and filled[parts.i2v.continues]["task"] == task
    # The same status line in another browser's page continues nothing.
    assert asyncio.run(handlers.films.continue_from(status, B)) == {parts.tabs: gr.skip()}
