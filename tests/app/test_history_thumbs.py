"""History's thumbnails and a stitch's progress, at the handlers and the functions under them: each
saved clip's first frame as a small JPEG, served from the clip shelf's keyed-digest folders and
listed only in its owner's table, a neutral box for a row without a clip, the thumbnails kept under
the frames' cap; the stitch telling each clip it starts cutting. Real clips (PyAV), no mocks."""

from __future__ import annotations

import asyncio
import html
import re
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest
from PIL import Image

from kling.app.views import thumb_cell
from kling.config import DiskCaps
from kling.errors import NotAVideoError
from kling.media import video
from kling.media.thumbs import CLIP_THUMB_WIDTH, clip_thumb
from kling.store.clips import ClipShelf
from kling.store.disk import DiskKeeper
from kling.store.films import frame_path, thumb_path
from tests.helpers.media import write_clip
from tests.helpers.page import page_handlers, signed_session
from tests.helpers.runner import make_runner

SECRET = b"history thumbs test secret, 32 b"
IMG = re.compile(r'<img class="kling-thumb" src="gradio_api/file=([^"]+)" alt="" loading="lazy">')
T2V = "kwaivgi/kling-v2.0-t2v-master"


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """One page for the module (building it takes seconds); each test its own task ids."""
    tmp_path = tmp_path_factory.mktemp("history-thumbs")
    runner, _sim = make_runner(tmp_path, key=None)
    handlers = page_handlers(runner, tmp_path, secret=SECRET)
    yield runner, handlers
    asyncio.run(runner.backend.aclose())


def saved_task(runner, task_id: str, owner: str, colour=(200, 40, 40), status="completed") -> Path:
    """A journal row whose clip is saved in outputs/, as a finished run leaves it."""
    (runner.journal.inputs_dir.parent / "outputs").mkdir(parents=True, exist_ok=True)
    clip = write_clip(runner.journal.inputs_dir.parent / "outputs" / f"{task_id}.mp4", colour=colour)
    runner.journal.record(
        task_id=task_id, model=T2V, mode="preview", owner=owner, key=None, params={"prompt": task_id}, price_cents=0
    )
    runner.journal.update(task_id, status=status, local_path=str(clip))
    return clip


def bare_task(runner, task_id: str, owner: str, status: str) -> None:
    runner.journal.record(
        task_id=task_id, model=T2V, mode="preview", owner=owner, key=None, params={"prompt": task_id}, price_cents=0
    )
    runner.journal.update(task_id, status=status)


def first_cells(handlers, session) -> dict[str, str]:
    """Task id -> the row's first cell, as the page gets the table."""
    listing = asyncio.run(handlers.history.list(session))
    table = listing[handlers.history.parts.history.table].value
    assert table["headers"][0] == "Clip" and table["headers"][-1] == "Task id"
    return {row[-1]: row[0] for row in table["data"]}


def served(cell: str) -> Path:
    match = IMG.fullmatch(cell)
    assert match, cell
    return Path(unquote(match.group(1)))


def test_each_saved_clip_gets_its_first_frame_served_from_a_keyed_folder_listed_only_to_its_owner(studio, tmp_path):
    runner, handlers = studio
    A, OWNER_A = signed_session(SECRET)  # a browser of this test's own
    outputs = runner.journal.inputs_dir.parent / "outputs"
    outputs.mkdir(parents=True, exist_ok=True)
    saved_task(runner, "a1" * 16, OWNER_A, colour=(200, 40, 40))
    saved_task(runner, "a2" * 16, OWNER_A, colour=(40, 200, 40))
    B, OWNER_B = signed_session(SECRET)
    saved_task(runner, "b1" * 16, OWNER_B, colour=(40, 40, 200))

    mine, theirs = first_cells(handlers, A), first_cells(handlers, B)
    assert set(mine) == {"a1" * 16, "a2" * 16} and set(theirs) == {"b1" * 16}
    shelf: ClipShelf = handlers.history.g.clips
    for task_id, colour in (("a1" * 16, (200, 40, 40)), ("a2" * 16, (40, 200, 40))):
        path = served(mine[task_id])
        # A digest folder of the shelf keyed with the server's secret, named without the task id.
        assert path.parent.parent == shelf.folder and path.name == "thumb.jpg", path
        assert path.parent.name == shelf.digest(thumb_path(runner.backend.settings.data_dir, task_id))
        assert task_id not in str(path) and re.fullmatch(r"[0-9a-f]{32}", path.parent.name)
        assert path.parent.name != ClipShelf(tmp_path / "other", key=b"another server's key").digest(
            thumb_path(runner.backend.settings.data_dir, task_id)
        )
        with Image.open(path) as image:
            assert image.format == "JPEG" and image.width == CLIP_THUMB_WIDTH
            middle = np.asarray(image.convert("RGB"))[:, 40:100].reshape(-1, 3).mean(axis=0)
        assert np.abs(middle - colour).max() < 30, (middle, colour)  # the clip's own picture
    # Nothing of A's reaches B's table: no shared thumbnail, and A's links appear in A's only.
    assert not {served(cell) for cell in theirs.values()} & {served(cell) for cell in mine.values()}


def test_rows_without_a_saved_clip_show_the_neutral_box_never_an_image(studio):
    runner, handlers = studio
    A, OWNER_A = signed_session(SECRET)  # a browser of this test's own
    bare_task(runner, "c1" * 16, OWNER_A, "processing")  # running or interrupted
    bare_task(runner, "c2" * 16, OWNER_A, "failed")
    clip = saved_task(runner, "c3" * 16, OWNER_A)
    clip.unlink()  # pruned, or removed past its cap
    runner.journal.mark_pruned("c3" * 16)
    broken = runner.journal.inputs_dir.parent / "outputs" / ("c4" * 16 + ".mp4")
    broken.write_bytes(b"not a video at all")  # a clip that cannot be read
    runner.journal.record(
        task_id="c4" * 16, model=T2V, mode="preview", owner=OWNER_A, key=None, params={}, price_cents=0
    )
    runner.journal.update("c4" * 16, status="completed", local_path=str(broken))

    cells = first_cells(handlers, A)
    assert len(cells) == 4
    for task_id, cell in cells.items():
        assert "<img" not in cell, (task_id, cell)
        assert (
            cell
            == thumb_cell(None)
            == (
                '<span class="kling-thumb kling-thumb-none" role="img"'
                ' aria-label="No saved clip" title="No saved clip"></span>'
            )
        )
    assert 'aria-label="没有已保存的视频"' in thumb_cell(None, "zh")


def test_a_thumbnail_is_made_once_and_thumbnails_stay_under_the_frames_cap(studio):
    runner, handlers = studio
    A, OWNER_A = signed_session(SECRET)  # a browser of this test's own
    data_dir = runner.backend.settings.data_dir
    for n in range(4):
        saved_task(runner, f"d{n}" * 16, OWNER_A, colour=(50 * n, 90, 160))
    first_cells(handlers, A)
    made = {n: thumb_path(data_dir, f"d{n}" * 16).stat() for n in range(4)}
    again = first_cells(handlers, A)  # the Timer lists every few seconds while a task runs
    # Not made again: the same files (a new one would be written beside and moved over, a new inode).
    assert {n: thumb_path(data_dir, f"d{n}" * 16).stat().st_ino for n in range(4)} == {
        n: stat.st_ino for n, stat in made.items()
    }
    assert all(IMG.fullmatch(cell) for cell in again.values())

    # A cap that holds about two of them, with a continue frame in the same folder: one cap for both.
    one = made[0].st_size
    caps = runner.disk.caps
    keeper = runner.disk
    runner.disk = DiskKeeper(
        runner.backend.settings.folder, DiskCaps(caps.preview_clips, caps.films, 2 * one + one // 2, caps.inputs)
    )
    frame = frame_path(data_dir, "e0" * 16)
    frame.write_bytes(b"x" * one)
    for n in range(4):
        thumb_path(data_dir, f"d{n}" * 16).unlink()
    saved_task(runner, "e1" * 16, OWNER_A)
    first_cells(handlers, A)
    kept = sum(path.stat().st_size for path in data_dir.joinpath("frames").iterdir())
    cap = runner.disk.caps.frames
    runner.disk = keeper
    assert kept <= cap, kept


def test_clip_thumb_is_the_first_frame_made_once_and_refuses_a_file_that_is_no_video(tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", size=(640, 360), colour=(200, 40, 40))
    out = tmp_path / "frames" / "t.thumb.jpg"
    assert clip_thumb(clip, out) is True and clip_thumb(clip, out) is False
    with Image.open(out) as image:
        assert (image.format, image.size) == ("JPEG", (CLIP_THUMB_WIDTH, 90))
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(NotAVideoError):
        clip_thumb(junk, tmp_path / "frames" / "junk.thumb.jpg")
    assert not (tmp_path / "frames" / "junk.thumb.jpg").exists()


def test_a_thumbnail_link_is_written_as_an_attribute_not_markup():
    cell = thumb_cell('gradio_api/file=/x/"><script>alert(1)</script>.jpg')
    assert "<script>" not in cell and html.escape('"><script>') in cell


# -- a stitch's progress ---------------------------------------------------------------------------


@pytest.mark.parametrize("crossfade", [0.0, 0.25])  # packets copied; every frame re-encoded
def test_a_stitch_says_each_clip_once_in_order_as_it_starts_cutting_it(tmp_path, crossfade):
    clips = [write_clip(tmp_path / f"c{n}.mp4", colour=(60 * n, 90, 160)) for n in range(3)]
    said: list[tuple[int, int]] = []
    result = video.stitch(clips, tmp_path / "film.mp4", crossfade=crossfade, on_clip=lambda k, n: said.append((k, n)))
    assert said == [(1, 3), (2, 3), (3, 3)]
    assert result.reencoded is (crossfade > 0)


def test_a_cut_is_told_before_its_clips_frames_are_read(tmp_path):
    """The call for clip k comes before any of clip k's frames: a progress line is never late by a clip."""
    clips = [write_clip(tmp_path / f"c{n}.mp4", frames=12) for n in range(2)]
    infos = [video.probe(clip) for clip in clips]
    events: list[str] = []
    counts = video._frame_counts(infos, infos[0].frame_rate)
    frames = video._timeline(infos, counts, (320, 180), infos[0].frame_rate, 0, lambda k, n: events.append(f"clip {k}"))
    for _ in frames:
        events.append("frame")
    assert events == ["clip 1"] + ["frame"] * counts[0] + ["clip 2"] + ["frame"] * counts[1]


class Recorder:
    """Stands where Gradio's gr.Progress does: what the handler reported, in order."""

    def __init__(self) -> None:
        self.said: list[tuple[float, str]] = []

    def __call__(self, progress, desc=None, **_):
        self.said.append((progress, desc))


@pytest.mark.parametrize(
    ("lang", "cutting", "saving"),
    [
        ("en", "Cutting clip {} of 3…", "Saving the film…"),
        ("zh", "正在剪辑第 {} 个视频，共 3 个……", "正在保存影片……"),
    ],
)
def test_the_stitch_handler_reports_each_clip_then_the_saving(studio, lang, cutting, saving):
    runner, handlers = studio
    A, OWNER_A = signed_session(SECRET)  # a browser of this test's own
    for n in range(3):
        saved_task(runner, f"{lang}{n}" * 16, OWNER_A, colour=(60 * n, 90, 160))
    session = {**A, "lang": lang}
    progress = Recorder()
    made = asyncio.run(handlers.films.stitch([f"{lang}{n}" * 16 for n in range(3)], 0.2, session, None, None, progress))
    assert made[handlers.films.parts.history.stitch.film]  # the film was made
    assert progress.said == [
        (0.0, cutting.format(1)),
        (1 / 3, cutting.format(2)),
        (2 / 3, cutting.format(3)),
        (1.0, saving),
    ]


def test_a_refused_stitch_reports_no_progress(studio):
    _runner, handlers = studio
    A, _owner = signed_session(SECRET)
    progress = Recorder()
    asyncio.run(handlers.films.stitch(["only-one"], 0.0, A, None, None, progress))
    assert progress.said == []
