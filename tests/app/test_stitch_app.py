"""Stitching and the disk, attacked through the launched app as a visitor reaches them: the page's
own queue (POST /gradio_api/queue/join, then its event stream), since Stitch is no API endpoint.
Each visitor is one session that first runs the page's load (a signed browser id), then generates
free previews and stitches them."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers.launch import launch_app, stop
from tests.helpers.paths import ROOT
from tests.helpers.queue import PageVisitor, QueueError

pytestmark = pytest.mark.slow


def films(app) -> list[Path]:
    return sorted((app.data_dir / "films").glob("*.mp4"))


@pytest.fixture(scope="module")
def capped_app(tmp_path_factory):
    app = launch_app(
        tmp_path_factory.mktemp("capped"), {"KLING_FILM_MAX_SECONDS": "30", "KLING_FILMS_PER_VISITOR": "2"}
    )
    yield app
    stop(app)


def test_a_film_past_its_caps_is_refused_in_one_sentence_before_any_work(capped_app):
    ann = PageVisitor(capped_app.url)
    clip = ann.preview_clip("a red kite")
    for picked, says in (
        ([clip] * 13, "these 13 clips make 65 s"),  # past 12 clips (and 30 s)
        ([clip] * 7, "these 7 clips make 35 s"),  # seven copies are 35 s: past this app's 30 s
        ([clip] * 1000, "these 1000 clips make > 30 s"),  # not a thousand look-ups to say no
    ):
        with pytest.raises(QueueError) as refused:
            ann.stitch(picked)
        message = str(refused.value)
        assert message.startswith("A film takes at most 12 clips and 30 s in all") and says in message, message
        assert message.count(".") == 1 and "\n" not in message  # one sentence
    assert films(capped_app) == []  # nothing was cut
    ann.stitch([clip] * 6)  # 30 s: within the caps, duplicates and all
    assert len(films(capped_app)) == 1

    li = PageVisitor(capped_app.url, lang="zh-CN,zh;q=0.9")
    theirs = li.preview_clip("一只红色风筝")
    with pytest.raises(QueueError) as refused:
        li.stitch([theirs] * 13)
    assert str(refused.value) == "一部影片最多 12 个视频、共 30 秒，而这 13 个视频共 65 秒。"


def test_a_visitors_oldest_film_goes_past_their_count_and_the_page_says_so(capped_app):
    bo = PageVisitor(capped_app.url)
    clip = bo.preview_clip("a paper boat")
    names = []
    for _ in range(3):
        _film, about, listing = bo.stitch([clip, clip])
        names.append(listing["value"])
    assert f"your oldest film `{names[0]}` was removed" in about
    assert [choice[1] for choice in listing["choices"]] == [names[2], names[1]]
    kept = {path.name for path in films(capped_app)}
    assert names[0] not in kept and {names[1], names[2]} <= kept
    assert not (capped_app.data_dir / "films" / names[0]).with_suffix(".json").exists()


def test_one_visitors_long_stitch_does_not_hold_up_anothers_short_one(tmp_path):
    app = launch_app(tmp_path, {})
    try:
        ann, bo = PageVisitor(app.url), PageVisitor(app.url)
        try:
            long_clip, short_clip = ann.preview_clip("a long road", 10), bo.preview_clip("a short hop")
        except QueueError:  # once seen in CI with no message: the app's console says why
            print(app.log_tail())
            raise
        finished: list[str] = []
        started = threading.Event()

        def long_film() -> None:
            ann.stitch([long_clip] * 4, crossfade=1.0, started=started)  # 40 s re-encoded with fades
            finished.append("ann")

        worker = threading.Thread(target=long_film)
        worker.start()
        assert started.wait(60)
        ann_again = PageVisitor(app.url, token=ann.token)  # her second tab: the same browser
        with pytest.raises(QueueError, match="Your previous film is still being stitched"):
            ann_again.stitch([long_clip, long_clip])  # she holds one slot, never two
        bo.stitch([short_clip, short_clip])
        finished.append("bo")
        worker.join(timeout=300)
    finally:
        stop(app)
    assert finished == ["bo", "ann"]  # Bo's film was not queued behind Ann's


def test_at_start_partial_files_go_and_gradio_removes_old_uploads(tmp_path):
    data = tmp_path / "data"
    planted = [data / "films" / ".film-x.mp4.k9.part", data / "outputs" / "t.mp4.part", data / "a" / "b.part"]
    for path in planted:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\0" * 1000)
    app = launch_app(tmp_path, {"KLING_UPLOAD_MAX_AGE_S": "2", "GRADIO_TEMP_DIR": str(tmp_path / "gradio")})
    try:
        assert not any(path.exists() for path in planted)
        with (ROOT / "assets" / "coffee.png").open("rb") as image:
            uploaded = httpx.post(f"{app.url}/gradio_api/upload", files={"files": image}, timeout=30).json()[0]
        assert Path(uploaded).is_file()
        deadline = time.monotonic() + 30  # a bound on the wait, not a measured time
        while Path(uploaded).exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        gone = not Path(uploaded).exists()
    finally:
        stop(app)
    assert gone  # an upload no run used does not stay until the next restart
