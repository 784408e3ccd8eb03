"""Sharing through the launched app, as visitors and the operator reach it: the page's own queue for
Share / Stop sharing (no API endpoint), raw HTTP for /clip/<id>, gradio_client for the API's clips,
`python -m kling` as a subprocess, and a fresh Chromium context opening a shared link."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from PIL import Image

from kling.media.recipe import PREVIEW_NOTE, read_recipe
from kling.store.journal import Journal

from .conftest import ROOT, cli, launch_app, stop
from .test_stitch_app import PageVisitor

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    launched = launch_app(tmp_path_factory.mktemp("share"), {})
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
    assert tags["og:video"] == f"{link}/video.mp4" and tags["og:image"] == f"{link}/poster.jpg"
    assert (tags["og:video:width"], tags["og:video:height"]) == ("720", "1280")

    clip = Journal(app.data_dir / "jobs.sqlite3").get(task_id).local_path
    video = httpx.get(tags["og:video"], timeout=30)
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert hashlib.sha256(video.content).hexdigest() == hashlib.sha256(Path(clip).read_bytes()).hexdigest()
    assert all(np.array_equal(a, b) for a, b in zip(frames(video.content), frames(Path(clip)), strict=True))
    poster = httpx.get(tags["og:image"], timeout=30)
    import io

    with Image.open(io.BytesIO(poster.content)) as picture:
        assert picture.format == "JPEG"
        assert picture.size == (int(tags["og:image:width"]), int(tags["og:image:height"]))
    try_link = re.search(r'class="try" href="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    assert try_link.startswith(f"{app.url}/?tab=t2v&") and "aspect_ratio=9%3A16" in try_link

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
    assert try_link.startswith(f"{app.url}/?tab=i2v&") and try_link.endswith(f"&shared={share_id}")
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
