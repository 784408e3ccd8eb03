"""Sharing through the launched app, as visitors and the operator reach it: the page's own queue for
Share / Stop sharing (no API endpoint), raw HTTP for /clip/<id>, gradio_client for the API's clips,
`python -m kling` as a subprocess, and a fresh Chromium context opening a shared link."""

from __future__ import annotations

import contextlib
import json
import re
import threading
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from PIL import Image

from kling.media.recipe import PREVIEW_NOTE, read_recipe
from kling.store.journal import Journal
from tests.helpers.launch import cli, launch_app, stop
from tests.helpers.paths import ROOT
from tests.helpers.queue import PageVisitor

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    # Every visitor here is 127.0.0.1: limits out of the way (limited_app tests them).
    generous = {"KLING_SHARE_VIEWS_PER_MINUTE": "5000", "KLING_SHARES_PER_HOUR_PER_VISITOR": "500"}
    launched = launch_app(tmp_path_factory.mktemp("share"), generous)
    yield launched
    stop(launched)


def meta(page: str) -> dict[str, str]:
    found = re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)">', page)
    return {name: value.replace("&amp;", "&") for name, value in found}


def frames(source: Path | bytes) -> list[np.ndarray]:
    import io

    with av.open(io.BytesIO(source) if isinstance(source, bytes) else str(source)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def share(visitor: PageVisitor, where: str, page_url: str, source: str) -> str:
    """Click Share (as the browser does, with the page's address): the link it shows, or ""."""
    _button, _stop, link = visitor.call(f"share_{where}", page_url, source)
    return (link or {}).get("value", "") if isinstance(link, dict) else ""


def test_share_unfurls_plays_the_same_clip_and_stop_sharing_makes_it_404(app):
    ann = PageVisitor(app.url)
    status = ann.call("text_to_video", 'a <b>red</b> kite "high" 风筝', "blur", "9:16", 5)[0]
    task_id = re.search(r"Task `([0-9a-f]+)`", status).group(1)
    link = share(ann, "t2v", app.url + "/", status)
    share_id = link.rsplit("/", 1)[1]
    assert link == f"{app.url}/clip/{share_id}" and len(share_id) == 22 and task_id not in link

    page = httpx.get(link, timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    tags = meta(page.text)
    assert tags["og:title"] == tags["twitter:title"] == "a &lt;b&gt;red&lt;/b&gt; kite &quot;high&quot; 风筝"
    assert "<b>red" not in page.text  # the prompt is text everywhere, never markup
    assert "kwaivgi/kling-v2.0-t2v-master" in tags["og:description"] and "9:16" in tags["og:description"]
    assert "PREVIEW" in page.text and "Made with" not in page.text
    # No KLING_PUBLIC_URL and not on a Space: links relative to the page, never the request's Host.
    assert tags["og:video"] == f"/clip/{share_id}/video.mp4" and tags["og:image"] == f"/clip/{share_id}/poster.jpg"
    tags = {name: app.url + value if value.startswith("/clip/") else value for name, value in tags.items()}
    assert (tags["og:video:width"], tags["og:video:height"]) == ("720", "1280")

    clip = Journal(app.data_dir / "jobs.sqlite3").get(task_id).local_path
    video = httpx.get(tags["og:video"], timeout=30)
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert all(np.array_equal(a, b) for a, b in zip(frames(video.content), frames(Path(clip)), strict=True))
    poster = httpx.get(tags["og:image"], timeout=30)
    import io

    with Image.open(io.BytesIO(poster.content)) as picture:
        assert picture.format == "JPEG"
        assert picture.size == (int(tags["og:image:width"]), int(tags["og:image:height"]))
    try_link = re.search(r'class="try" href="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    assert try_link.startswith("/?tab=t2v&") and "aspect_ratio=9%3A16" in try_link

    # Nothing else of the data folder is reachable under the share.
    for name in ("jobs.sqlite3", "..%2Fjobs.sqlite3", f"..%2Foutputs%2F{task_id}.mp4", "image.png", "video.MP4"):
        assert httpx.get(f"{link}/{name}", timeout=30).status_code == 404, name
    assert httpx.get(f"{app.url}/clip/{task_id}", timeout=30).status_code == 404

    # The Shared tab lists it (loaded when opened), then Stop sharing: 404 at once, gone from the tab.
    assert share_id in ann.call("gallery")[0]
    ann.call("unshare_t2v", status)
    for url in (link, tags["og:video"], tags["og:image"]):
        assert httpx.get(url, timeout=30).status_code == 404
    assert share_id not in ann.call("gallery")[0]


def test_another_visitor_can_neither_share_nor_unshare_what_is_not_theirs(app):
    ann, bo = PageVisitor(app.url), PageVisitor(app.url)
    status = ann.call("text_to_video", "a paper boat", "", "16:9", 5)[0]
    assert share(bo, "t2v", app.url, status) == ""  # refused: not theirs
    assert share(bo, "history", app.url, re.search(r"Task `([0-9a-f]+)`", status).group(1)) == ""
    assert "paper boat" not in bo.call("gallery")[0]
    link = share(ann, "t2v", app.url, status)
    bo.call("unshare_t2v", status)
    bo.call("unshare_history", re.search(r"Task `([0-9a-f]+)`", status).group(1))
    assert httpx.get(link, timeout=30).status_code == 200  # still shared
    ann.call("unshare_t2v", status)
    assert httpx.get(link, timeout=30).status_code == 404


def test_image_to_video_shares_its_start_image_and_the_try_link_names_it(app):
    ann = PageVisitor(app.url)
    photo = ROOT / "assets" / sorted(p.name for p in (ROOT / "assets").glob("*.jpg"))[0]
    uploaded = httpx.post(f"{app.url}/gradio_api/upload", files={"files": photo.open("rb")}, timeout=30).json()[0]
    image = {"path": uploaded, "meta": {"_type": "gradio.FileData"}}
    status = ann.call("image_to_video", image, "slow push-in", "", 0.5, 5)
    link = share(ann, "i2v", app.url, status[0])
    page = httpx.get(link, timeout=30).text
    try_link = re.search(r'class="try" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    share_id = link.rsplit("/", 1)[1]
    assert try_link.startswith("/?tab=i2v&") and try_link.endswith(f"&shared={share_id}")
    names = [name for name in ("image.jpg", "image.png", "image.webp") if httpx.get(f"{link}/{name}").is_success]
    copies = [copy.read_bytes() for copy in (app.data_dir / "inputs").iterdir()]
    assert len(names) == 1 and httpx.get(f"{link}/{names[0]}").content in copies


def test_clips_from_the_api_and_the_cli_carry_their_recipe(app, tmp_path):
    result = app.client().predict("a lighthouse at dusk", "rain", "1:1", 5, api_name="/text_to_video")
    recipe = read_recipe(Path(result[1]["video"] if isinstance(result[1], dict) else result[1]))
    assert recipe is not None and recipe.prompt == "a lighthouse at dusk" and recipe.negative_prompt == "rain"
    assert (recipe.aspect_ratio, recipe.duration, recipe.preview) == ("1:1", 5, True)
    assert recipe.model == "kwaivgi/kling-v2.0-t2v-master" and len(recipe.task_id) >= 16
    with av.open(result[1]["video"] if isinstance(result[1], dict) else result[1]) as container:
        assert PREVIEW_NOTE in container.metadata["comment"]

    done = cli("t2v", "--prompt", "a windmill", "--duration", "5", key=None, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    clip = Path(done.stdout.strip().splitlines()[-1])
    made = read_recipe(clip)
    assert made is not None and made.prompt == "a windmill" and made.task_id == done.stdout.split()[0]


def test_the_operator_lists_and_takes_down_shared_links(app, tmp_path):
    ann = PageVisitor(app.url)
    status = ann.call("text_to_video", "a moderated clip", "", "16:9", 5)[0]
    task_id = re.search(r"Task `([0-9a-f]+)`", status).group(1)
    link = share(ann, "t2v", app.url, status)
    share_id = link.rsplit("/", 1)[1]
    env_cwd = app.data_dir.parent  # cli() uses cwd/data as the data folder: the app's own

    listed = cli("shared", key=None, cwd=env_cwd)
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if line.startswith(share_id))
    assert row.split("\t")[1] == task_id and row.endswith("a moderated clip")

    taken = cli("unshare", share_id, key=None, cwd=env_cwd)
    assert taken.returncode == 0, taken.stderr
    assert httpx.get(link, timeout=30).status_code == 404
    assert share_id not in cli("shared", key=None, cwd=env_cwd).stdout
    assert cli("unshare", share_id, key=None, cwd=env_cwd).returncode == 1


# -- what a share link gives away, and what it costs the server ----------------------------------


def mp4_tags(content: bytes) -> str:
    """Every tag of an MP4 (container and streams) as one text."""
    import io

    with av.open(io.BytesIO(content)) as container:
        tags = [dict(container.metadata)] + [dict(stream.metadata) for stream in container.streams]
    return json.dumps(tags, ensure_ascii=False)


def video_urls(value) -> list[str]:
    """The URLs of the MP4s in an event's outputs (what the owner's browser downloads)."""
    if isinstance(value, dict):
        found = [value["url"]] if str(value.get("url", "")).endswith(".mp4") else []
        return found + [url for item in value.values() for url in video_urls(item)]
    if isinstance(value, list):
        return [url for item in value for url in video_urls(item)]
    return []


def share_files(app) -> list[Path]:
    folder = app.data_dir / "shared"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def share_rows(app) -> set[str]:
    import sqlite3

    with contextlib.closing(sqlite3.connect(app.data_dir / "shares.sqlite3", timeout=30)) as db:
        return {row[0] for row in db.execute("SELECT id FROM shares")}


def test_a_shared_clip_and_film_name_no_task_id_while_the_owners_downloads_do(app):
    ann = PageVisitor(app.url)
    made = ann.call("text_to_video", "a glass whale", "fog", "16:9", 5)
    first = re.search(r"Task `([0-9a-f]+)`", made[0]).group(1)
    second = ann.preview_clip("a copper moon")
    owners = httpx.get(video_urls(made)[0], timeout=30).content
    assert first in mp4_tags(owners)  # the owner's own download keeps the whole recipe

    link = share(ann, "t2v", app.url, made[0])
    page, served = httpx.get(link, timeout=30).text, httpx.get(f"{link}/video.mp4", timeout=30).content
    assert first not in page and first not in mp4_tags(served)
    recipe = json.loads(json.loads(mp4_tags(served))[0]["kling_recipe"])
    assert (recipe["prompt"], recipe["negative_prompt"], recipe["aspect_ratio"]) == ("a glass whale", "fog", "16:9")
    assert recipe["model"] == "kwaivgi/kling-v2.0-t2v-master" and recipe["made"] and "task_id" not in recipe

    stitched = ann.stitch([first, second])
    film = stitched[2]["value"]
    assert {first, second} <= set(re.findall(r"[0-9a-f]{16,}", mp4_tags((app.data_dir / "films" / film).read_bytes())))
    film_link = share(ann, "film", app.url, film)
    film_page = httpx.get(film_link, timeout=30).text
    film_served = mp4_tags(httpx.get(f"{film_link}/video.mp4", timeout=30).content)
    for task_id in (first, second):
        assert task_id not in film_page and task_id not in film_served and task_id not in film_link
    assert "a glass whale" in film_served and "a copper moon" in film_served


def test_a_forged_host_appears_nowhere_in_the_shared_page_and_the_log_says_how_to_unfurl(app):
    ann = PageVisitor(app.url)
    link = share(ann, "t2v", app.url, ann.call("text_to_video", "a tin robot", "", "16:9", 5)[0])
    share_id = link.rsplit("/", 1)[1]
    forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
    page = httpx.get(link, headers=forged, timeout=30)
    assert page.status_code == 200 and "evil.example" not in page.text
    assert meta(page.text)["og:url"] == f"/clip/{share_id}" and meta(page.text)["og:video"].startswith("/clip/")
    assert app.log_tail(200_000).count("Set KLING_PUBLIC_URL") == 1


def test_views_during_share_and_unshare_cycles_leave_no_orphan_poster(app):
    ann = PageVisitor(app.url)
    status = ann.call("text_to_video", "a busy lighthouse", "", "16:9", 5)[0]
    for _cycle in range(5):
        link = share(ann, "t2v", app.url, status)
        stop_viewing = threading.Event()

        def view(link=link, stop_viewing=stop_viewing):
            with httpx.Client(timeout=30) as http:
                while not stop_viewing.is_set():
                    http.get(link)
                    http.get(f"{link}/poster.jpg")

        viewers = [threading.Thread(target=view) for _ in range(8)]
        for viewer in viewers:
            viewer.start()
        ann.call("unshare_t2v", status)
        stop_viewing.set()
        for viewer in viewers:
            viewer.join(30)
        assert httpx.get(link, timeout=30).status_code == 404
        orphans = [path.name for path in share_files(app) if path.name.split(".")[0] not in share_rows(app)]
        assert orphans == []


ORPHAN = "Q" * 22 + ".jpg"  # the shape of a share's poster, with no share row


class ToastVisitor(PageVisitor):
    """A PageVisitor from its own address (X-Forwarded-For, the app trusting one proxy) that keeps
    the toasts (Gradio's "log" messages) of its last call."""

    def __init__(self, url: str, address: str) -> None:
        super().__init__(url)
        self.headers["X-Forwarded-For"] = address
        self.toasts: list[str] = []

    def call(self, api_name, *values, timeout: float = 300, started=None) -> list:
        event = self.events[api_name]
        data = list(values) + [None] * (len(event["inputs"]) - len(values))
        body = {"data": data, "fn_index": event["id"], "session_hash": self.session_hash, "trigger_id": None}
        self.toasts = []
        with httpx.Client(base_url=self.url, headers=self.headers, timeout=timeout) as http:
            event_id = http.post("/gradio_api/queue/join", json=body).json()["event_id"]
            with http.stream("GET", "/gradio_api/queue/data", params={"session_hash": self.session_hash}) as stream:
                for line in stream.iter_lines():
                    message = json.loads(line[5:]) if line.startswith("data:") else {}
                    if message.get("event_id") == event_id and message.get("msg") == "log":
                        self.toasts.append(message.get("log") or "")
                    if message.get("event_id") == event_id and message.get("msg") == "process_completed":
                        return message["output"]["data"]
        raise AssertionError("the stream ended without a result")


@pytest.fixture(scope="module")
def limited_app(tmp_path_factory):
    """An app started over a shared folder holding an orphan, two shares per visitor an hour."""
    tmp = tmp_path_factory.mktemp("limited")
    (tmp / "data" / "shared").mkdir(parents=True)
    (tmp / "data" / "shared" / ORPHAN).write_bytes(b"left by a share that is gone")
    env = {"KLING_SHARES_PER_HOUR_PER_VISITOR": "2", "KLING_TRUSTED_PROXIES": "1"}
    launched = launch_app(tmp, env)
    yield launched
    stop(launched)


def test_an_orphan_planted_in_the_shared_folder_is_swept_at_start_and_by_prune(limited_app):
    assert not (limited_app.data_dir / "shared" / ORPHAN).exists()
    assert "Removed 1 file(s) from the data folder" in limited_app.log_tail()
    ann = ToastVisitor(limited_app.url, "203.0.113.1")
    link = share(ann, "t2v", limited_app.url, ann.call("text_to_video", "a kept clip", "", "16:9", 5)[0])
    share_id = link.rsplit("/", 1)[1]
    planted = limited_app.data_dir / "shared" / ("R" * 22 + ".mp4")
    planted.write_bytes(b"an orphan")
    pruned = cli("prune", "--older-than", "9999", key=None, cwd=limited_app.data_dir.parent)
    assert pruned.returncode == 0, pruned.stderr
    assert str(planted) in pruned.stdout and not planted.exists()
    assert [path.name for path in share_files(limited_app)] == [f"{share_id}.jpg", f"{share_id}.mp4"]
    assert httpx.get(link, timeout=30).status_code == 200


def test_sharing_past_the_per_visitor_limit_is_refused_with_a_sentence(limited_app):
    ann = ToastVisitor(limited_app.url, "203.0.113.2")
    status = ann.call("text_to_video", "a flickering sign", "", "16:9", 5)[0]
    for _ in range(2):
        assert share(ann, "t2v", limited_app.url, status)
        ann.call("unshare_t2v", status)
    assert share(ann, "t2v", limited_app.url, status) == ""
    assert any(toast.startswith("You have shared 2 clips in the last hour") for toast in ann.toasts), ann.toasts
    other = ToastVisitor(limited_app.url, "198.51.100.3")  # another visitor shares as before
    assert share(other, "t2v", limited_app.url, other.call("text_to_video", "a calm pond", "", "16:9", 5)[0])
