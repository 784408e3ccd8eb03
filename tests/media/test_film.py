"""Continue and stitch: last frames and joined films, checked by decoding the files independently."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw

from kling.errors import ClipNotFoundError, CrossfadeError, NotAVideoError, TooFewClipsError
from kling.media.video import films_dir, last_frame, probe, save_last_frame, stitch, stitch_to_films
from kling.store.journal import Journal
from tests.helpers.media import decoded_frames, index_first, write_clip
from tests.helpers.paths import ROOT

# --- clips made on the fly --------------------------------------------------------------------


def disc(size: tuple[int, int], background=(30, 60, 200)):
    """A white disc as wide as the frame's short side, on a blue ground: stretching makes it an ellipse."""
    width, height = size
    image = Image.new("RGB", size, background)
    d = min(width, height) * 0.9
    ImageDraw.Draw(image).ellipse(((width - d) / 2, (height - d) / 2, (width + d) / 2, (height + d) / 2), "white")
    picture = np.asarray(image)
    return lambda i: picture


# --- reading them back, independently of kling.media.video --------------------------------------------


def packets(path: Path) -> list[av.Packet]:
    with av.open(str(path)) as container:
        return [p for p in container.demux(video=0) if p.size]


def span_seconds(path: Path) -> float:
    """Presentation span from the packets: first timestamp to the end of the last frame."""
    got = packets(path)
    start = min(p.pts for p in got)
    end = max(p.pts + p.duration for p in got)
    return float((end - start) * got[0].time_base)


def stream_facts(path: Path) -> tuple[str, int, int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return stream.codec_context.name, stream.width, stream.height


def luma(frame: av.VideoFrame) -> np.ndarray:
    return frame.to_ndarray(format="gray").astype(int)


# --- the last frame ---------------------------------------------------------------------------


@pytest.mark.parametrize("bframes", [False, True])
def test_last_frame_is_the_final_decoded_frame_at_full_size(tmp_path, bframes):
    clip = write_clip(tmp_path / "clip.mp4", size=(320, 180), frames=30, bframes=bframes)
    frames = decoded_frames(clip)
    final, before = frames[-1].to_ndarray(format="rgb24"), frames[-2].to_ndarray(format="rgb24")

    image = last_frame(clip)

    assert image.size == (320, 180) and image.mode == "RGB"
    assert np.array_equal(np.asarray(image), final)
    assert not np.array_equal(final, before)  # so an off-by-one frame would fail the line above
    row = np.asarray(image)[90]  # frame 29's bar covers x 174-181, frame 28's 168-175
    assert row[178].min() > 200 and row[170].max() < 200


def test_save_last_frame_writes_a_lossless_png(tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", size=(256, 144), frames=12)
    out = save_last_frame(clip, tmp_path / "deep" / "frame.png")
    assert out == tmp_path / "deep" / "frame.png"
    with Image.open(out) as png:
        assert png.format == "PNG" and png.size == (256, 144)
        assert np.array_equal(np.asarray(png.convert("RGB")), decoded_frames(clip)[-1].to_ndarray(format="rgb24"))
    assert [p.name for p in out.parent.iterdir()] == ["frame.png"]  # no temp file left behind


# --- stitching: copied packets ----------------------------------------------------------------


@pytest.mark.parametrize("bframes", [False, True])
def test_matching_clips_are_joined_without_reencoding_bit_identical(tmp_path, bframes):
    a = write_clip(tmp_path / "a.mp4", frames=24, colour=(200, 40, 40), bframes=bframes)
    b = write_clip(tmp_path / "b.mp4", frames=36, colour=(40, 200, 40), bframes=bframes)
    assert probe(a).extradata == probe(b).extradata  # same encoder settings, so joinable

    result = stitch([a, b, a], tmp_path / "film.mp4")

    assert result.reencoded is False
    assert (result.codec, result.width, result.height) == ("h264", 320, 180)
    assert stream_facts(result.path) == ("h264", 320, 180)
    joined, parts = packets(result.path), packets(a) + packets(b) + packets(a)
    assert [bytes(p) for p in joined] == [bytes(p) for p in parts]
    assert [p.is_keyframe for p in joined] == [p.is_keyframe for p in parts]
    expected = (24 + 36 + 24) / 24
    assert result.duration == pytest.approx(expected, abs=1e-9)
    assert span_seconds(result.path) == pytest.approx(expected, abs=1 / 24)
    dts = [p.dts for p in joined]
    assert dts == sorted(dts) and len(set(dts)) == len(dts)
    assert len(decoded_frames(result.path)) == 84  # every frame decodes, in order, once
    assert index_first(result.path)


def test_preview_clips_join_without_reencoding_and_keep_their_band(tmp_path):
    from kling.media.render import render_t2v

    render_t2v("a lantern over a harbour", "1:1", 5, tmp_path / "one.mp4")
    render_t2v("the lantern drifts away", "1:1", 5, tmp_path / "two.mp4")

    result = stitch([tmp_path / "one.mp4", tmp_path / "two.mp4"], tmp_path / "film.mp4")

    assert result.reencoded is False and (result.width, result.height) == (720, 720)
    assert span_seconds(result.path) == pytest.approx(10.0, abs=1 / 24)
    final = last_frame(result.path)
    assert np.array_equal(np.asarray(final), np.asarray(last_frame(tmp_path / "two.mp4")))
    band = np.asarray(final)[:60].reshape(-1, 3)
    assert ((band[:, 0] > 200) & (band[:, 1] > 170) & (band[:, 2] < 80)).sum() > 500  # the yellow PREVIEW mark


def test_a_crossfade_under_half_a_frame_is_a_plain_cut(tmp_path):
    a = write_clip(tmp_path / "a.mp4", frames=24)
    result = stitch([a, a], tmp_path / "film.mp4", crossfade=0.01)  # 0.24 of a frame at 24 fps
    assert result.reencoded is False and result.duration == pytest.approx(2.0)


# --- stitching: re-encoded ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "second",
    [
        {"fps": 30, "frames": 45},  # another frame rate
        {"codec": "mpeg4", "frames": 30},  # another codec
        {"size": (256, 144), "frames": 30},  # another size, same aspect
        {"x264": {"x264-params": "cabac=1"}, "frames": 30},  # same all else, but other SPS/PPS (extradata)
    ],
)
def test_unlike_clips_are_reencoded_to_h264_at_the_first_size(tmp_path, second):
    a = write_clip(tmp_path / "a.mp4", frames=36)
    b = write_clip(tmp_path / "b.mp4", **second)
    expected = 36 / 24 + second["frames"] / second.get("fps", 24)

    result = stitch([a, b], tmp_path / "film.mp4")

    assert result.reencoded is True
    assert stream_facts(result.path) == ("h264", 320, 180) == (result.codec, result.width, result.height)
    assert result.duration == pytest.approx(expected, abs=1 / 24)
    assert span_seconds(result.path) == pytest.approx(expected, abs=1 / 24)
    with av.open(str(result.path)) as container:
        assert container.streams.video[0].average_rate == 24  # the first clip's rate
    assert index_first(result.path)


def test_crossfade_shortens_the_film_and_blends_the_clips(tmp_path):
    dark = write_clip(tmp_path / "dark.mp4", frames=24, picture=lambda i: np.full((180, 320, 3), 40, np.uint8))
    light = write_clip(tmp_path / "light.mp4", frames=24, picture=lambda i: np.full((180, 320, 3), 220, np.uint8))

    result = stitch([dark, light, dark], tmp_path / "film.mp4", crossfade=0.25)

    assert result.reencoded is True
    expected = 3 * 1.0 - 2 * 0.25
    assert result.duration == pytest.approx(expected, abs=1 / 24)
    assert span_seconds(result.path) == pytest.approx(expected, abs=1 / 24)
    levels = [luma(f).mean() for f in decoded_frames(result.path)]
    assert len(levels) == 60
    assert levels[10] < 50 and levels[30] > 210 and levels[55] < 50  # each clip's own middle
    fade_in = levels[18:24]  # 6 frames (0.25 s at 24 fps) where dark becomes light
    assert all(50 < level < 210 for level in fade_in)
    assert fade_in == sorted(fade_in)
    fade_out = levels[36:42]
    assert all(50 < level < 210 for level in fade_out) and fade_out == sorted(fade_out, reverse=True)


@pytest.mark.parametrize(
    ("size", "bars"),
    [((180, 320), "columns"), ((320, 90), "rows"), ((240, 180), "columns")],  # 9:16, 32:9, 4:3 into 16:9
)
def test_other_aspect_ratios_are_letterboxed_not_stretched(tmp_path, size, bars):
    first = write_clip(tmp_path / "wide.mp4", frames=12, colour=(120, 120, 120))
    other = write_clip(tmp_path / "other.mp4", size=size, frames=12, picture=disc(size))

    result = stitch([first, other], tmp_path / "film.mp4")

    assert result.reencoded is True and (result.width, result.height) == (320, 180)
    picture = decoded_frames(result.path)[-1].to_ndarray(format="rgb24").astype(int)
    scale = min(320 / size[0], 180 / size[1])
    shown_w, shown_h = size[0] * scale, size[1] * scale
    content = picture.max(axis=2) > 40  # the blue ground and the disc; bars are black
    cols, rows = np.flatnonzero(content.any(axis=0)), np.flatnonzero(content.any(axis=1))
    assert cols[-1] - cols[0] + 1 == pytest.approx(shown_w, abs=3)
    assert rows[-1] - rows[0] + 1 == pytest.approx(shown_h, abs=3)
    bar = picture[:, : cols[0]] if bars == "columns" else picture[: rows[0]]
    assert bar.size and bar.max() < 24  # black, not blue
    assert (cols[0] + cols[-1]) / 2 == pytest.approx(159.5, abs=2) and (rows[0] + rows[-1]) / 2 == pytest.approx(
        89.5, abs=2
    )  # centred
    white = picture.min(axis=2) > 200
    disc_w = np.ptp(np.flatnonzero(white.any(axis=0))) + 1
    disc_h = np.ptp(np.flatnonzero(white.any(axis=1))) + 1
    assert disc_w == pytest.approx(disc_h, rel=0.05)  # still round
    assert disc_w == pytest.approx(min(shown_w, shown_h) * 0.9, abs=4)


# --- refusals ---------------------------------------------------------------------------------


def test_refusals_are_typed_and_write_nothing(tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", frames=24)
    (tmp_path / "notes.txt").write_text("not a video")
    Image.new("RGB", (64, 64), "red").save(tmp_path / "still.png")
    out = tmp_path / "film.mp4"

    with pytest.raises(TooFewClipsError, match="at least two clips, got 1"):
        stitch([clip], out)
    with pytest.raises(ClipNotFoundError, match="missing.mp4"):
        stitch([clip, tmp_path / "missing.mp4"], out)
    with pytest.raises(NotAVideoError, match="notes.txt is not a video"):
        stitch([clip, tmp_path / "notes.txt"], out)
    with pytest.raises(NotAVideoError, match="still.png is a still image"):
        stitch([clip, tmp_path / "still.png"], out)
    with pytest.raises(CrossfadeError, match="too long for clip.mp4"):
        stitch([clip, clip], out, crossfade=1.0)
    with pytest.raises(CrossfadeError, match="under 0.50 s"):  # the middle clip fades in and out
        stitch([clip, clip, clip], out, crossfade=0.6)
    with pytest.raises(CrossfadeError, match="positive"):
        stitch([clip, clip], out, crossfade=-0.5)
    with pytest.raises(CrossfadeError, match="positive"):
        stitch([clip, clip], out, crossfade=float("nan"))
    with pytest.raises(NotAVideoError):
        last_frame(tmp_path / "notes.txt")
    with pytest.raises(ClipNotFoundError):
        save_last_frame(tmp_path / "missing.mp4", tmp_path / "frame.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "notes.txt", "still.png"]


def test_stitch_to_films_names_each_film_uniquely(tmp_path):
    a = write_clip(tmp_path / "a.mp4", frames=12)
    first = stitch_to_films([a, a], tmp_path / "data")
    second = stitch_to_films([a, a], tmp_path / "data")
    assert films_dir(tmp_path / "data") == tmp_path / "data" / "films"
    assert first.path != second.path and first.path.parent == second.path.parent == tmp_path / "data" / "films"
    assert first.path.suffix == ".mp4" and span_seconds(second.path) == pytest.approx(1.0, abs=1 / 24)


# --- the command line -------------------------------------------------------------------------


def kling(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WAVESPEED_", "KLING_"))}
    env.update(PYTHONPATH=str(ROOT), KLING_DATA_DIR=str(cwd / "data"))
    return subprocess.run(
        [sys.executable, "-m", "kling", *args],
        check=False,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def journal_with_clips(tmp_path: Path, clips: dict[str, Path | None]) -> None:
    """Rows as the runner writes them: a task id, and the clip's path once saved (None: not saved)."""
    journal = Journal(tmp_path / "data" / "jobs.sqlite3")
    for task_id, clip in clips.items():
        journal.record(
            task_id=task_id,
            model="kwaivgi/kling-v2.0-t2v-master",
            mode="preview",
            owner="cli",
            key=None,
            params={"prompt": "x"},
            price_cents=0,
        )
        journal.update(task_id, status="completed" if clip else "processing", local_path=str(clip or ""))
    journal.close()


@pytest.mark.slow
def test_cli_stitches_task_ids_and_files_and_saves_last_frames(tmp_path):
    from kling.media.render import render_t2v

    render_t2v("a kite over a beach", "16:9", 5, tmp_path / "kite.mp4")
    write_clip(tmp_path / "small.mp4", size=(640, 360), frames=24)
    journal_with_clips(tmp_path, {"0a1b2c3d4e5f": tmp_path / "kite.mp4"})

    done = kling("stitch", "0a1b2c3d4e5f", "kite.mp4", "--out", "films/film.mp4", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "films/film.mp4\n"
    assert "joined without re-encoding: 10.00 s, 1280x720 h264" in done.stderr
    assert [bytes(p) for p in packets(tmp_path / "films/film.mp4")] == 2 * [
        bytes(p) for p in packets(tmp_path / "kite.mp4")
    ]

    done = kling("stitch", "kite.mp4", "small.mp4", "--crossfade", "0.5", "--out", "mixed.mp4", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "mixed.mp4\n" and "re-encoded" in done.stderr
    assert stream_facts(tmp_path / "mixed.mp4") == ("h264", 1280, 720)
    assert span_seconds(tmp_path / "mixed.mp4") == pytest.approx(5 + 1 - 0.5, abs=1 / 24)

    done = kling("last-frame", "0a1b2c3d4e5f", "--out", "next.png", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "next.png\n"
    with Image.open(tmp_path / "next.png") as png:
        assert png.size == (1280, 720)
        assert np.array_equal(np.asarray(png), decoded_frames(tmp_path / "kite.mp4")[-1].to_ndarray(format="rgb24"))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("stitch", "a.mp4", "--out", "f.mp4"), "error: stitching needs at least two clips, got 1"),
        (("stitch", "--out", "f.mp4"), "error: stitching needs at least two clips, got 0"),
        (("stitch", "a.mp4", "gone.mp4", "--out", "f.mp4"), "error: no such clip: gone.mp4"),
        (("stitch", "a.mp4", "notes.txt", "--out", "f.mp4"), "error: notes.txt is not a video"),
        (("stitch", "a.mp4", "still.png", "--out", "f.mp4"), "error: still.png is a still image, not a video"),
        (("stitch", "a.mp4", "ffff0000aaaa", "--out", "f.mp4"), "error: ffff0000aaaa is neither a file nor a task"),
        (("stitch", "a.mp4", "0123abcd0123", "--out", "f.mp4"), "error: task 0123abcd0123 has no saved clip"),
        (("stitch", "a.mp4", "a.mp4", "--crossfade", "soon", "--out", "f.mp4"), "error: --crossfade: 'soon' is not"),
        (("stitch", "a.mp4", "a.mp4", "--crossfade", "3", "--out", "f.mp4"), "error: a 3 s cross-fade is too long"),
        (("last-frame", "gone.mp4", "--out", "f.png"), "error: no such clip: gone.mp4"),
        (("last-frame", "notes.txt", "--out", "f.png"), "error: notes.txt is not a video"),
        (("last-frame", "ffff0000aaaa", "--out", "f.png"), "error: ffff0000aaaa is neither a file nor a task"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(tmp_path, args, message):
    write_clip(tmp_path / "a.mp4", frames=24)
    (tmp_path / "notes.txt").write_text("not a video")
    Image.new("RGB", (64, 64), "red").save(tmp_path / "still.png")
    if "0123abcd0123" in args:
        journal_with_clips(tmp_path, {"0123abcd0123": None})

    done = kling(*args, cwd=tmp_path)

    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith(message), done.stderr
    assert not (tmp_path / "f.mp4").exists() and not (tmp_path / "f.png").exists()
    if "0123abcd0123" not in args:
        assert not (tmp_path / "data").exists()  # looking an id up never creates a journal
