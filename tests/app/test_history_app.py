"""History's thumbnails and a stitch's progress through the launched app, as a browser reaches them:
the page's queue (kling's PageVisitor), then the file route Gradio serves the thumbnails from."""

from __future__ import annotations

import json
import re
from urllib.parse import quote, unquote

import httpx
import pytest

from tests.helpers.launch import launch_app, stop
from tests.helpers.queue import PageVisitor, QueueError

pytestmark = pytest.mark.slow

THUMB = re.compile(r'<img class="kling-thumb" src="(gradio_api/file=[^"]+)"')


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    launched = launch_app(tmp_path_factory.mktemp("history-app"), {})
    yield launched
    stop(launched)


def thumbs(visitor: PageVisitor) -> dict[str, str]:
    """Task id -> the thumbnail's link, for the rows of this visitor's History that have one."""
    table = visitor.call("list")[1]["value"]
    return {row[-1]: THUMB.match(row[0]).group(1) for row in table["data"] if THUMB.match(row[0])}


def progress_of(visitor: PageVisitor, api_name: str, *values) -> tuple[list[str], list]:
    """Run a page event; every progress line the page was sent before it ended, and its output."""
    event = visitor.events[api_name]
    data = list(values) + [None] * (len(event["inputs"]) - len(values))
    body = {"data": data, "fn_index": event["id"], "session_hash": visitor.session_hash, "trigger_id": None}
    said: list[str] = []
    with httpx.Client(base_url=visitor.url, headers=visitor.headers, timeout=300) as http:
        event_id = http.post("/gradio_api/queue/join", json=body).json()["event_id"]
        with http.stream("GET", "/gradio_api/queue/data", params={"session_hash": visitor.session_hash}) as stream:
            for line in stream.iter_lines():
                message = json.loads(line[5:]) if line.startswith("data:") else {}
                if message.get("event_id") != event_id:
                    continue
                if message.get("msg") == "progress":
                    said += [unit["desc"] for unit in message["progress_data"] if unit.get("desc")]
                if message.get("msg") == "process_completed":
                    if not message.get("success"):
                        raise QueueError(message.get("output", {}).get("error"))
                    return said, message["output"]["data"]
    raise QueueError("the stream ended without a result")


def test_thumbnails_are_served_by_their_keyed_link_to_their_owner_and_never_by_task_id(app):
    ann, bo = PageVisitor(app.url), PageVisitor(app.url)
    first, second = ann.preview_clip("a red kite over the dunes"), ann.preview_clip("a lighthouse in a storm")
    theirs = bo.preview_clip("a paper boat on a pond")
    mine = thumbs(ann)
    assert set(mine) == {first, second}
    for task_id, link in mine.items():
        assert task_id not in link and re.search(r"/kling-clips/[0-9a-f]{32}/thumb\.jpg$", unquote(link)), link
        got = httpx.get(f"{app.url}/{link}", timeout=30)
        assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg", got.status_code
        assert got.content[:3] == b"\xff\xd8\xff" and len(got.content) < 30_000  # a small JPEG
    # Bo's History lists Bo's thumbnail only: Ann's links never reach Bo's page.
    bos = thumbs(bo)
    assert set(bos) == {theirs} and not set(bos.values()) & set(mine.values())
    # The thumbnail's own file, in the data folder, is not served; nor is a path made of the task id.
    for guess in (app.data_dir / "frames" / f"{first}.thumb.jpg", f"/tmp/gradio/kling-clips/{first}/thumb.jpg"):
        assert httpx.get(f"{app.url}/gradio_api/file={quote(str(guess))}", timeout=30).status_code in (403, 404)
    assert (app.data_dir / "frames" / f"{first}.thumb.jpg").is_file()  # kept under frames/, within its cap


@pytest.mark.parametrize(
    ("lang", "cutting"), [("en-US", "Cutting clip {} of 2…"), ("zh-CN", "正在剪辑第 {} 个视频，共 2 个……")]
)
def test_a_cross_faded_stitch_streams_which_clip_it_is_cutting_before_the_film(app, lang, cutting):
    visitor = PageVisitor(app.url, lang=lang)
    clips = [visitor.preview_clip("a red kite"), visitor.preview_clip("a blue kite")]
    visitor.call("list")
    said, (film, _about, _films) = progress_of(visitor, "stitch", clips, 0.5)
    assert str((film.get("video") or film)["path"]).endswith(".mp4")  # the film was made
    # Before the film: which clip is being cut, in order, then the saving; nothing else.
    saving = "Saving the film…" if lang == "en-US" else "正在保存影片……"
    print(said)
    assert said[0] == cutting.format(1), said
    order = [cutting.format(1), cutting.format(2), saving]
    assert set(said) <= set(order) and [order.index(line) for line in said] == sorted(
        order.index(line) for line in said
    )
