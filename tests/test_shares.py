"""The rules of sharing, without a server: ids, owners, NSFW, what a share serves, where links point."""

from __future__ import annotations

import base64

import pytest

from kling.app.share_page import public_base
from kling.config import Settings
from kling.errors import ShareRefused
from kling.store.journal import Journal
from kling.store.sharing import Sharing
from tests.test_film import write_clip


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
    assert sharing.resolve(share.id).video.name == "t-mine.mp4"
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


def test_links_point_at_the_public_url_else_the_space_else_the_request():
    request = "http://127.0.0.1:7860/"
    assert public_base(Settings(public_url="https://kling.example.org"), request) == "https://kling.example.org"
    assert public_base(Settings(space_host="me-kling.hf.space"), request) == "https://me-kling.hf.space"
    assert public_base(Settings(), request) == "http://127.0.0.1:7860"
    assert Settings.from_env({"SPACE_HOST": "me-kling.hf.space"}, dotenv=False).space_host == "me-kling.hf.space"
    assert Settings.from_env({"KLING_GALLERY": "0"}, dotenv=False).gallery is False
    assert Settings.from_env({}, dotenv=False).gallery is True
