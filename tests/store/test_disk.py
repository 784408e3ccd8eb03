"""The data folder stays bounded (kling/store/disk.py): preview clips, films, last frames and input copies
under their caps, oldest first; leftover `.part` files gone at start; paid clips removed only by the
operator's prune, their rows kept and never resumed."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

from kling.api.params import T2VRequest
from kling.app.studio import Studio
from kling.app.views import job_status
from kling.config import DataFolder, DiskCaps, Settings
from kling.store.clips import ClipShelf
from kling.store.disk import DiskKeeper, folder_bytes, prune_paid_clips, remove_partials
from kling.store.films import films_for, oldest_films_past
from kling.store.journal import Journal
from tests.helpers.page import page_handlers, signed_session
from tests.helpers.runner import finish, make_runner

T2V = "kwaivgi/kling-v2.0-t2v-master"
SECRET = b"disk test secret, 32 bytes long!"


def clip_row(journal: Journal, folder: DataFolder, task_id: str, mode: str, size: int, when: float) -> Path:
    path = folder.outputs / f"{task_id}.mp4"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    journal.record(task_id=task_id, model=T2V, mode=mode, owner="o", key=None, params={}, price_cents=0)
    journal.update(task_id, status="completed", local_path=str(path))
    journal._db.execute("UPDATE tasks SET updated = ? WHERE id = ?", (when, task_id))
    return path


def keeper(tmp_path: Path, **caps: int) -> tuple[DiskKeeper, DataFolder]:
    folder = DataFolder(tmp_path / "data")
    limits = {"preview_clips": 1 << 30, "films": 1 << 30, "frames": 1 << 30, "inputs": 1 << 30} | caps
    return DiskKeeper(folder, DiskCaps(**limits)), folder


def test_leftover_part_files_anywhere_under_the_data_folder_are_removed(tmp_path):
    folder = DataFolder(tmp_path / "data")
    planted = [folder.films / ".film-x.mp4.abc.part", folder.outputs / "t.mp4.part", folder.inputs / "a.png.1.part"]
    for path in planted:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half")
    (folder.films / "film-y.mp4").write_bytes(b"whole")
    assert sorted(remove_partials(folder.root)) == sorted(planted)
    assert not any(path.exists() for path in planted) and (folder.films / "film-y.mp4").exists()


def test_preview_clips_past_their_cap_go_oldest_first_and_paid_clips_never(tmp_path):
    disk, folder = keeper(tmp_path, preview_clips=3000)
    journal = Journal(folder.journal)
    paid = [clip_row(journal, folder, f"paid{n}", "live", 5000, when=100.0 + n) for n in range(3)]
    previews = [clip_row(journal, folder, f"prev{n}", "preview", 1000, when=200.0 + n) for n in range(5)]

    removed = disk.preview_clips(journal, keep=previews[0])  # the clip just made is kept even if oldest

    assert sorted(removed) == sorted(previews[1:3])
    assert all(path.exists() for path in paid) and previews[0].exists() and previews[4].exists()
    for n in (1, 2):
        row = journal.get(f"prev{n}")
        assert row.pruned is not None and job_status(row) == "clip removed to keep the disk bounded"
    assert journal.get("prev3").pruned is None and all(journal.get(f"paid{n}").pruned is None for n in range(3))


def test_films_frames_and_input_copies_keep_under_their_caps(tmp_path):
    disk, folder = keeper(tmp_path, films=2500, frames=2500, inputs=2500)
    for kind, name in ((folder.films, "film-{n}.mp4"), (folder.frames, "t{n}.png"), (folder.inputs, "i{n}.png")):
        kind.mkdir(parents=True)
        for n in range(4):
            path = kind / name.format(n=n)
            path.write_bytes(b"x" * 1000)
            os.utime(path, (1000 + n, 1000 + n))
    (folder.films / "film-0.json").write_text("{}")
    assert [p.name for p in disk.films()] == ["film-0.mp4", "film-1.mp4"]
    assert not (folder.films / "film-0.json").exists()  # a film goes with its sidecar
    assert [p.name for p in disk.frames(keep=folder.frames / "t0.png")] == ["t1.png", "t2.png"]
    assert [p.name for p in disk.inputs()] == ["i0.png", "i1.png"]
    assert folder_bytes(folder.frames) == 2000 and folder_bytes(folder.inputs) == 2000


def test_prune_removes_only_old_paid_clips_keeps_their_rows_and_never_resumes_them(tmp_path):
    folder = DataFolder(tmp_path / "data")
    journal = Journal(folder.journal)
    now = time.time()
    old = clip_row(journal, folder, "old", "live", 100, when=now - 40 * 86400)
    new = clip_row(journal, folder, "new", "live", 100, when=now - 2 * 86400)
    preview = clip_row(journal, folder, "prev", "preview", 100, when=now - 90 * 86400)

    dry = prune_paid_clips(journal, 30, dry_run=True)
    assert [each.job.id for each in dry] == ["old"] and old.exists() and journal.get("old").pruned is None

    done = prune_paid_clips(journal, 30, dry_run=False)
    assert [each.job.id for each in done] == ["old"] and done[0].size == 100
    assert not old.exists() and new.exists() and preview.exists()
    row = journal.get("old")
    assert row.status == "completed" and row.pruned is not None and not row.unfinished
    assert journal.unfinished(key=None) == []  # a completed paid task without its clip is not fetched again
    assert prune_paid_clips(journal, 30, dry_run=False) == []  # pruned once


def test_a_visitors_oldest_films_past_the_count_are_removed(tmp_path):
    folder = DataFolder(tmp_path)
    folder.films.mkdir()
    for n in range(4):
        (folder.films / f"film-{n}.mp4").write_bytes(b"x")
        (folder.films / f"film-{n}.json").write_text(
            f'{{"name": "film-{n}.mp4", "owner": "a", "tasks": [], "crossfade": 0, "duration": 1,'
            f' "width": 2, "height": 2, "preview": true, "created": {n}}}'
        )
    gone = oldest_films_past(tmp_path, "a", keep=2)
    assert [film.name for film in gone] == ["film-1.mp4", "film-0.mp4"]
    assert [film.name for film in films_for(tmp_path, "a")] == ["film-3.mp4", "film-2.mp4"]
    assert not (folder.films / "film-0.json").exists()


def test_the_caps_are_settings():
    settings = Settings.from_env(
        {
            "KLING_PREVIEW_CLIPS_MB": "10",
            "KLING_FILMS_MB": "20",
            "KLING_FRAMES_MB": "3",
            "KLING_INPUTS_MB": "4",
            "KLING_FILM_MAX_CLIPS": "6",
            "KLING_FILM_MAX_SECONDS": "60",
            "KLING_FILMS_PER_VISITOR": "2",
            "KLING_STITCH_WORKERS": "3",
            "KLING_UPLOAD_MAX_AGE_S": "90",
        },
        dotenv=False,
    )
    assert settings.disk_caps == DiskCaps(10 << 20, 20 << 20, 3 << 20, 4 << 20)
    assert settings.disk_caps.total == 37 << 20
    assert (settings.film_max_clips, settings.film_max_seconds, settings.films_per_visitor) == (6, 60, 2)
    assert (settings.stitch_workers, settings.upload_max_age_s) == (3, 90)
    with pytest.raises(ValueError, match="KLING_FILMS_MB"):
        Settings.from_env({"KLING_FILMS_MB": "lots"}, dotenv=False)


def test_the_page_sets_gradios_delete_cache_from_the_setting(tmp_path):
    runner, _ = make_runner(tmp_path, key=None)
    settings = replace(runner.backend.settings, upload_max_age_s=3600)
    demo = Studio(settings, runner.backend, runner.journal, runner, ClipShelf(tmp_path / "clips"), SECRET).build()
    assert demo.delete_cache == (600, 3600)  # Gradio then removes uploads an hour old, every 10 minutes
    asyncio.run(runner.backend.aclose())


@pytest.mark.slow
def test_100_preview_generations_and_20_stitches_keep_the_data_folder_under_its_cap(tmp_path):
    """Measured: every cap at once, through the runner and the page's stitch handler (what a visitor
    reaches), with the simulator's clips (one rendered, then copied for each task). The caps are small
    (6 clips, 4 two-clip films) so that 100 generations cross the clip cap 16 times over and 20 films
    five times over the films cap; a film count per visitor alone (2 x 5 visitors) would not hold it."""
    runner, _ = make_runner(tmp_path, key=None)
    clip = 540_000  # a 5 s preview clip (test_clips.PREVIEW_CLIP_BYTES)
    caps = DiskCaps(preview_clips=6 * clip, films=4 * 2 * clip, frames=1 << 20, inputs=1 << 20)
    settings = replace(runner.backend.settings, films_per_visitor=2, **caps_settings(caps))
    runner.backend.settings = settings
    runner.disk = DiskKeeper(settings.folder, settings.disk_caps)
    handlers = page_handlers(runner, tmp_path, secret=SECRET)
    visitors = [signed_session(SECRET) for _ in range(5)]
    peak = 0

    async def generate(owner: str) -> str:
        state = await finish(runner.start(T2VRequest(prompt="a kite", duration=5), owner=owner))
        assert state.stage == "done", state.message
        return state.task_id

    async def batch() -> list[str]:
        return await asyncio.gather(*(generate(visitors[n % 5][1]) for n in range(20)))

    ids: list[str] = []
    for _ in range(4):  # 20 generations at once, then each visitor makes a clip and a film
        ids += asyncio.run(batch())
        peak = max(peak, removable_bytes(settings.folder))
        for session, owner in visitors:
            fresh = asyncio.run(generate(owner))
            ids.append(fresh)
            saved = [job.id for job in runner.journal.for_owner(owner) if job.clip_saved and job.id != fresh]
            asyncio.run(handlers.films.stitch([fresh, *saved[:1]] if saved else [fresh, fresh], 0.0, session))
            peak = max(peak, removable_bytes(settings.folder))
    assert len(ids) == 100
    asyncio.run(runner.backend.aclose())

    outputs, films = folder_bytes(settings.folder.outputs), folder_bytes(settings.folder.films)
    print(
        f"peak {peak / 1e6:.1f} MB (cap {caps.total / 1e6:.1f} MB);",
        f"outputs {outputs / 1e6:.1f} MB, films {films / 1e6:.1f} MB",
    )
    assert peak <= caps.total
    assert outputs <= caps.preview_clips and films <= caps.films
    assert len(list(settings.folder.outputs.glob("*.mp4"))) <= 6
    assert all(len(films_for(settings.data_dir, owner)) <= 2 for _, owner in visitors)
    pruned = [task for task in ids if runner.journal.get(task).pruned is not None]
    assert len(pruned) >= 94  # their rows stay, marked


def caps_settings(caps: DiskCaps) -> dict[str, int]:
    return {
        "preview_clips_bytes": caps.preview_clips,
        "films_bytes": caps.films,
        "frames_bytes": caps.frames,
        "inputs_bytes": caps.inputs,
    }


def removable_bytes(folder: DataFolder) -> int:
    """The data folder without its journal (the journal is the record; it is not capped)."""
    return folder_bytes(folder.root) - sum(path.stat().st_size for path in folder.root.glob("jobs.sqlite3*"))
