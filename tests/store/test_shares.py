"""The rules of sharing, without a server: ids, owners, NSFW, what a share serves, where links point."""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path

import av
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

import kling.store.sharing as sharing_module
from kling.app.share_page import clip_page, public_base, unfurl_note
from kling.app.share_routes import share_routes
from kling.config import Settings
from kling.errors import ShareRefused
from kling.media.recipe import read_recipe
from kling.store.journal import Journal
from kling.store.sharing import Sharing
from tests.helpers.media import write_clip


@pytest.fixture
def sharing(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    journal = Journal(settings.journal_path)
    for task, owner, nsfw in (("t-mine", "web:me", 0), ("t-theirs", "web:them", 0), ("t-flagged", "web:me", 1)):
        clip = write_clip(tmp_path / f"{task}.mp4")
        journal.record(
            task_id=task,
            model="kwaivgi/kling-v2.0-t2v-master",
            mode="preview",
            owner=owner,
            key=None,
            params={"prompt": f"prompt of {task}", "duration": 5, "aspect_ratio": "16:9"},
            price_cents=0,
        )
        journal.update(task, status="completed", local_path=str(clip), nsfw=nsfw)
    return Sharing(settings.folder, journal)


def test_a_share_id_is_128_random_bits_and_never_the_task_id(sharing):
    share = sharing.share_clip("web:me", "t-mine")
    assert len(base64.urlsafe_b64decode(share.id + "==")) == 16 and "t-mine" not in share.id
    assert sharing.share_clip("web:me", "t-mine") == share  # one link per clip
    assert sharing.resolve(share.id).video.name == f"{share.id}.mp4"  # the shared copy, named by the share
    assert sharing.resolve(share.id).recipe.prompt == "prompt of t-mine"  # stamped when shared


@pytest.mark.parametrize(
    "owner, task, reason",
    [
        ("web:me", "t-theirs", "not_yours"),
        ("", "t-mine", "not_yours"),
        ("web:me", "t-flagged", "nsfw"),
        ("web:me", "t-none", "not_yours"),
    ],
)
def test_only_ones_own_unflagged_clips_are_shared(sharing, owner, task, reason):
    with pytest.raises(ShareRefused) as refused:
        sharing.share_clip(owner, task)
    assert refused.value.reason == reason
    assert sharing.store.newest() == []


def test_only_the_owner_or_the_operator_stops_sharing_and_the_poster_goes_too(sharing):
    share = sharing.share_clip("web:me", "t-mine")
    poster = sharing.poster_path(share.id)
    assert poster.is_file()
    assert sharing.unshare(share.id, owner="web:them") is False and sharing.resolve(share.id) is not None
    assert sharing.unshare(share.id, owner="web:me") is True
    assert sharing.resolve(share.id) is None and not poster.exists()
    again = sharing.share_clip("web:me", "t-mine")
    assert again.id != share.id  # a new link: the old one stays dead
    assert sharing.unshare(again.id, owner=None) is True and sharing.resolve(again.id) is None


def test_a_clip_flagged_after_it_was_shared_is_no_longer_served(sharing):
    share = sharing.share_clip("web:me", "t-mine")
    sharing.journal.update("t-mine", nsfw=1)
    assert sharing.resolve(share.id) is None


def test_ids_of_any_other_shape_are_not_looked_up(sharing):
    sharing.share_clip("web:me", "t-mine")
    for probe in ("t-mine", "../jobs.sqlite3", "' OR 1=1 --", "a" * 500, ""):
        assert sharing.resolve(probe) is None


def test_links_point_at_the_public_url_else_the_space_else_the_owners_page():
    request = "http://127.0.0.1:7860/"
    assert public_base(Settings(public_url="https://kling.example.org"), request) == "https://kling.example.org"
    space = Settings(space_id="me/kling", space_host="me-kling.hf.space")
    assert public_base(space, request) == "https://me-kling.hf.space"
    assert public_base(Settings(space_host="me-kling.hf.space"), request) == "http://127.0.0.1:7860"  # not a Space
    assert public_base(Settings(), request) == "http://127.0.0.1:7860"  # the owner's own page address
    assert public_base(Settings()) == ""  # a shared page: relative links, never a request's Host
    assert Settings.from_env({"SPACE_HOST": "me-kling.hf.space"}, dotenv=False).space_host == "me-kling.hf.space"
    assert Settings.from_env({"KLING_GALLERY": "0"}, dotenv=False).gallery is False
    assert Settings.from_env({}, dotenv=False).gallery is True


# -- what a link gives away, and what a flood of it costs ----------------------------------------


def container_tags(path) -> str:
    """Every tag of the MP4, container and streams, as one text."""
    with av.open(str(path)) as container:
        tags = [dict(container.metadata)] + [dict(stream.metadata) for stream in container.streams]
    return json.dumps(tags, ensure_ascii=False)


def routes_app(sharing: Sharing, settings: Settings, render=clip_page) -> Starlette:
    return Starlette(routes=share_routes(sharing, settings, render=render))


def test_the_shared_copy_carries_the_recipe_without_the_task_id_and_the_owners_clip_keeps_it(sharing):
    share = sharing.share_clip("web:me", "t-mine")
    served = container_tags(sharing.resolve(share.id).video)
    assert "prompt of t-mine" in served and "kwaivgi/kling-v2.0-t2v-master" in served and "16:9" in served
    assert "t-mine" not in served.replace("prompt of t-mine", "")
    assert read_recipe(Path(sharing.journal.get("t-mine").local_path)).task_id == "t-mine"


def test_the_page_is_rendered_once_per_share_while_viewed_many_times(sharing):
    renders: list[str] = []

    def counted(clip, base, lang):
        renders.append(clip.share.id)
        return clip_page(clip, base, lang)

    share = sharing.share_clip("web:me", "t-mine")
    with TestClient(routes_app(sharing, Settings(share_views_per_minute=999), counted)) as http:
        pages = {http.get(f"/clip/{share.id}").text for _ in range(30)}
        assert len(pages) == 1 and renders == [share.id]
        http.get(f"/clip/{share.id}", headers={"Accept-Language": "zh-CN"})
        assert renders == [share.id] * 2  # one more language, one more render
        sharing.unshare(share.id, owner="web:me")
        assert http.get(f"/clip/{share.id}").status_code == 404
        again = sharing.share_clip("web:me", "t-mine")
        assert http.get(f"/clip/{again.id}").status_code == 200 and renders[-1] == again.id


def test_a_link_answers_404_from_the_next_request_after_another_sharing_stops_it(sharing):
    """The routes, the Share tab and the command line each hold their own Sharing: an unshare made
    through another one (or another process) must not be outlived by what the routes keep."""
    share = sharing.share_clip("web:me", "t-mine")
    with TestClient(routes_app(sharing, Settings(share_views_per_minute=999))) as http:
        assert http.get(f"/clip/{share.id}").status_code == 200  # now kept by the routes' Sharing
        assert http.get(f"/clip/{share.id}/video.mp4").status_code == 200
        assert http.get(f"/clip/{share.id}/poster.jpg").status_code == 200
        elsewhere = Sharing(sharing.folder, Journal(sharing.folder.journal))
        assert elsewhere.unshare(share.id, owner=None) is True
        assert http.get(f"/clip/{share.id}").status_code == 404
        assert http.get(f"/clip/{share.id}/video.mp4").status_code == 404
        assert http.get(f"/clip/{share.id}/poster.jpg").status_code == 404


def test_views_past_the_per_address_limit_get_429_while_another_address_is_served(sharing):
    share = sharing.share_clip("web:me", "t-mine")
    settings = Settings(share_views_per_minute=3, trusted_proxies=1)
    flooder = {"X-Forwarded-For": "203.0.113.5"}
    with TestClient(routes_app(sharing, settings)) as http:
        answers = [http.get(f"/clip/{share.id}", headers=flooder).status_code for _ in range(3)]
        forged = {"X-Forwarded-For": "10.9.8.7, 203.0.113.5"}  # entries written to the left change nothing
        refused = http.get(f"/clip/{share.id}", headers=forged)
        other = http.get(f"/clip/{share.id}", headers={"X-Forwarded-For": "198.51.100.7"})
    assert answers == [200, 200, 200] and refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.text.startswith("This address has opened 3 shared pages in the last minute")
    assert other.status_code == 200


def test_a_forged_host_is_nowhere_in_the_page_and_configured_addresses_make_absolute_links(sharing):
    share = sharing.share_clip("web:me", "t-mine")
    evil = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
    for settings, base in (
        (Settings(), ""),
        (Settings(public_url="https://kling.example.org"), "https://kling.example.org"),
        (Settings(space_id="me/kling", space_host="me-kling.hf.space"), "https://me-kling.hf.space"),
    ):
        with TestClient(routes_app(sharing, settings)) as http:
            page = http.get(f"/clip/{share.id}", headers=evil).text
        assert "evil.example" not in page
        assert f'<meta property="og:video" content="{base}/clip/{share.id}/video.mp4">' in page
        assert f'class="try" href="{base}/?tab=t2v&amp;' in page
    assert unfurl_note(Settings()) and "KLING_PUBLIC_URL" in unfurl_note(Settings())
    assert unfurl_note(Settings(public_url="https://kling.example.org")) is None


def test_a_view_writing_the_poster_while_the_share_is_stopped_leaves_no_file(sharing, monkeypatch):
    share = sharing.share_clip("web:me", "t-mine")
    sharing.poster_path(share.id).unlink()  # as an older version left it: the next view makes it
    writing, release = threading.Event(), threading.Event()
    real_write = sharing_module.write_poster

    def slow_write(video, out):
        writing.set()
        release.wait(10)
        return real_write(video, out)

    monkeypatch.setattr(sharing_module, "write_poster", slow_write)
    view = threading.Thread(target=sharing.served, args=(share.id,))
    view.start()
    assert writing.wait(10)
    stopping = threading.Thread(target=sharing.unshare, args=(share.id,), kwargs={"owner": "web:me"})
    stopping.start()
    release.set()
    view.join(10)
    stopping.join(10)
    assert sharing.store.get(share.id) is None and list(sharing.posters.iterdir()) == []


def test_orphans_in_the_shared_folder_are_swept_and_shared_files_are_kept(sharing):
    share = sharing.share_clip("web:me", "t-mine")
    orphans = [sharing.posters / name for name in ("A" * 22 + ".jpg", "B" * 22 + ".mp4", ".C.jpg.x1.part")]
    for orphan in orphans:
        orphan.write_bytes(b"left behind")
    assert sorted(sharing.sweep_orphans(dry_run=True)) == sorted(orphans) and all(p.exists() for p in orphans)
    assert sorted(sharing.sweep_orphans()) == sorted(orphans)
    assert sorted(p.name for p in sharing.posters.iterdir()) == [f"{share.id}.jpg", f"{share.id}.mp4"]
