"""Temp space stays bounded: the clips the page shows live in one capped folder inside Gradio's
cache, which Gradio serves without copying them again."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kling.store.clips import ClipShelf
from tests.helpers.launch import launch_app, stop
from tests.helpers.media import probe

PREVIEW_CLIP_BYTES = 540_000  # a 5 s preview clip as the simulator renders it (measured: 542 043 bytes)


def shelved(shelf: ClipShelf) -> list[str]:
    """The names of the files on the shelf, wherever in it they are."""
    return sorted(path.name for path in shelf.folder.rglob("*") if path.is_file())


def test_500_preview_generations_keep_the_shelf_under_its_cap(tmp_path):
    outputs = tmp_path / "data" / "outputs"
    outputs.mkdir(parents=True)
    cap = 20 * PREVIEW_CLIP_BYTES
    shelf = ClipShelf(tmp_path / "gradio" / "kling-clips", cap_bytes=cap)
    largest = 0
    for n in range(500):
        clip = outputs / f"task{n:04d}.mp4"
        clip.write_bytes(os.urandom(64) + bytes(PREVIEW_CLIP_BYTES - 64))
        served = Path(shelf.servable(clip))
        if n % 7 == 0:
            shelf.servable(outputs / "task0000.mp4")  # one clip someone keeps coming back to
        assert served.read_bytes() == clip.read_bytes()
        largest = max(largest, shelf.size())
    assert largest <= cap
    kept = shelved(shelf)
    assert len(kept) == 20 and "task0499.mp4" in kept and "task0480.mp4" not in kept
    assert "task0000.mp4" in kept  # recently shown, so not evicted though it is the oldest
    assert len(list(outputs.iterdir())) == 500  # the data folder keeps every paid clip


def test_a_clip_evicted_from_the_shelf_comes_back_when_shown_again(tmp_path):
    clips = [tmp_path / f"c{n}.mp4" for n in range(3)]
    for clip in clips:
        clip.write_bytes(b"x" * 1000)
    shelf = ClipShelf(tmp_path / "shelf", cap_bytes=2000)
    for clip in clips:
        shelf.servable(clip)
    assert shelved(shelf) == ["c1.mp4", "c2.mp4"]
    assert Path(shelf.servable(clips[0])).read_bytes() == b"x" * 1000
    assert shelved(shelf) == ["c0.mp4", "c2.mp4"]
    assert len(list(shelf.folder.iterdir())) == 2  # an evicted clip's folder goes with it


@pytest.mark.slow
def test_the_launched_app_keeps_one_copy_of_each_clip_and_no_more_than_the_cap(tmp_path):
    server_temp = tmp_path / "server-temp"
    app = launch_app(tmp_path, {"GRADIO_TEMP_DIR": str(server_temp), "KLING_CLIP_CACHE_MB": "1"})
    try:
        client = app.client(download_files=str(tmp_path / "downloads"))
        for prompt in ("a red kite", "a blue kite", "a green kite"):
            _status, clip, _details = client.predict(prompt, "", "16:9", 5, api_name="/text_to_video")
            assert probe(clip).codec == "h264"
    finally:
        stop(app)
    in_temp = sorted(path.relative_to(server_temp) for path in server_temp.rglob("*.mp4"))
    # 1 MiB holds one 5 s preview clip; no second copy in Gradio's hash-named cache folders.
    assert len(in_temp) == 1 and in_temp[0].parent.parent == Path("kling-clips")
    assert len(list((app.data_dir / "outputs").glob("*.mp4"))) == 3


def test_a_clip_is_served_from_a_folder_only_the_servers_key_makes_under_its_readable_name(tmp_path):
    clip = tmp_path / "outputs" / "0123456789abcdef0123456789abcdef.mp4"
    clip.parent.mkdir()
    clip.write_bytes(b"clip")
    one, other = ClipShelf(tmp_path / "a", key=b"k" * 32), ClipShelf(tmp_path / "b", key=b"j" * 32)
    served = Path(one.servable(clip, "a-red-kite-0123456789ab.mp4"))
    assert served.name == "a-red-kite-0123456789ab.mp4"  # what the browser saves
    assert served.parent.parent == one.folder and served.read_bytes() == b"clip"
    assert not (one.folder / clip.name).exists()  # never at the path the task id alone gives
    assert clip.stem not in served.parent.name
    assert Path(one.servable(clip)).parent == served.parent  # the same clip, the same folder
    assert Path(other.servable(clip)).parent.name != served.parent.name  # another key, another folder
    assert Path(ClipShelf(tmp_path / "a", key=b"k" * 32).servable(clip)).parent == served.parent  # after a restart


def test_clips_an_older_version_left_at_guessable_paths_are_removed(tmp_path):
    (tmp_path / "shelf").mkdir()
    (tmp_path / "shelf" / "0123456789abcdef.mp4").write_bytes(b"old")
    shelf = ClipShelf(tmp_path / "shelf")
    assert shelved(shelf) == []
