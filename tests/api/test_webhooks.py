"""Webhooks: the signature rules of docs/API.md, the wake-up they give a waiting poll, and the
route on the launched app. The simulator signs with its own `sign_webhook`, so the check here is
tested against an independent implementation of the same rule."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from kling.api.backend import Backend
from kling.api.models import PollPolicy
from kling.api.params import T2VRequest
from kling.api.webhooks import WEBHOOK_PATH, Wakeups, signature, verify
from kling.app.studio import Studio
from kling.config import Settings
from kling.errors import WebhookError
from kling.jobs.guard import SpendGuard
from kling.jobs.runner import Runner
from kling.preview.simulator import Simulator
from kling.preview.webhooks import sign_webhook
from kling.store.clips import ClipShelf
from kling.store.journal import Journal
from tests.helpers.fakes import KEY
from tests.helpers.launch import launch_app, stop
from tests.helpers.paths import SIM_CLIPS
from tests.helpers.runner import finish
from tests.helpers.sim import sim_config

SECRET = "whsec_" + "ab12" * 8
NOW = 1_800_000_000
BODY = json.dumps({"id": "task123", "status": "completed", "outputs": ["https://cdn.example/x.mp4"]}).encode()


def signed(
    body: bytes = BODY, *, secret: str = SECRET, timestamp: int = NOW, message_id: str = "msg_1"
) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": "v3," + sign_webhook(secret, message_id, str(timestamp), body),
    }


# -- the signature check (pure) -------------------------------------------------------------


def test_a_valid_webhook_gives_its_payload():
    assert verify(SECRET, signed(), BODY, now=NOW + 10)["id"] == "task123"


def test_the_secret_works_with_or_without_its_prefix():
    assert verify(SECRET.removeprefix("whsec_"), signed(), BODY, now=NOW)["status"] == "completed"


def test_one_matching_signature_among_several_is_enough():
    headers = signed()
    headers["webhook-signature"] = "v3," + "0" * 64 + " " + headers["webhook-signature"]
    assert verify(SECRET, headers, BODY, now=NOW)["id"] == "task123"


@pytest.mark.parametrize(
    "headers, body, reason",
    [
        (signed(secret="whsec_" + "cd34" * 8), BODY, "does not match"),
        (signed(), BODY.replace(b"completed", b"failed"), "does not match"),
        (signed(timestamp=NOW - 301), BODY, "from now"),
        (signed(timestamp=NOW + 301), BODY, "from now"),
        ({**signed(), "webhook-signature": "v1," + signed()["webhook-signature"][3:]}, BODY, "does not match"),
        ({**signed(), "webhook-timestamp": "yesterday"}, BODY, "whole number"),
    ],
    ids=["wrong-secret", "tampered-body", "old", "future", "other-scheme", "bad-timestamp"],
)
def test_bad_webhooks_are_refused(headers, body, reason):
    with pytest.raises(WebhookError, match=reason) as caught:
        verify(SECRET, headers, body, now=NOW)
    assert SECRET.removeprefix("whsec_") not in str(caught.value)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_webhook_missing_a_header_is_refused(missing):
    headers = {k: v for k, v in signed().items() if k != missing}
    with pytest.raises(WebhookError, match="missing"):
        verify(SECRET, headers, BODY, now=NOW)


def test_the_age_limit_is_inclusive_at_300_seconds():
    assert verify(SECRET, signed(timestamp=NOW - 300), BODY, now=NOW)
    assert verify(SECRET, signed(timestamp=NOW + 300), BODY, now=NOW)


# -- wake-ups ---------------------------------------------------------------------------------


def test_a_wake_before_the_sleep_is_kept_and_consumed_once():
    async def go():
        wakeups = Wakeups()
        wakeups.wake("t1")
        first = await wakeups.sleep("t1", 0)
        second = await wakeups.sleep("t1", 0)
        return first, second

    assert asyncio.run(go()) == (True, False)


def test_a_wake_ends_a_sleep_in_progress_even_from_another_thread():
    async def go():
        wakeups = Wakeups()
        sleeper = asyncio.create_task(wakeups.sleep("t1", 3600))
        await asyncio.sleep(0)  # the sleeper registers first
        threading.Thread(target=wakeups.wake, args=("t1",)).start()
        return await asyncio.wait_for(sleeper, 10)

    assert asyncio.run(go()) is True


def test_wakeups_remember_only_recent_task_ids():
    wakeups = Wakeups(remember=3)
    for n in range(5):
        wakeups.wake(f"t{n}")
    assert [wakeups.woken(f"t{n}") for n in range(5)] == [False, False, True, True, True]


def test_the_signature_matches_openssl(tmp_path):
    """Known answer computed outside Python: `openssl dgst -sha256 -hmac KEY` over the signed text."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    signed_text = tmp_path / "signed.txt"
    signed_text.write_bytes(b"msg_1." + str(NOW).encode() + b"." + BODY)
    out = subprocess.run(
        [openssl, "dgst", "-sha256", "-hmac", SECRET.removeprefix("whsec_"), str(signed_text)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    expected = out.strip().rsplit(" ", 1)[-1]
    assert len(expected) == 64
    assert signature(SECRET, "msg_1", str(NOW), BODY) == expected
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(NOW), "webhook-signature": "v3," + expected}
    assert verify(SECRET, headers, BODY, now=NOW)["id"] == "task123"


# -- the backend: secret, refusal, wake ---------------------------------------------------------


def test_a_delivery_with_an_input_object_wakes_once_and_its_repeat_changes_nothing(tmp_path):
    studio, simulator = live_studio(tmp_path)
    secret = simulator.config.webhook_secret
    body = json.dumps(
        {"id": "task777", "status": "completed", "outputs": [], "input": {"prompt": "x", "duration": 5}}
    ).encode()

    async def go():
        now = time.time()
        headers = signed(body, secret=secret, timestamp=int(now), message_id="msg_repeat")
        first = await studio.backend.webhook_receiver.receive(headers, body, now=now)
        woken_first = await studio.backend.wakeups.sleep("task777", 0.0)  # the wait consumes the wake
        again = await studio.backend.webhook_receiver.receive(headers, body, now=now)
        await studio.backend.aclose()
        return first, woken_first, again

    first, woken_first, again = asyncio.run(go())
    assert first == (200, "ok") and woken_first
    assert again == (200, "duplicate") and not studio.backend.wakeups.woken("task777")


@pytest.mark.parametrize(
    "url, warned",
    [("http://space.example", True), ("https://space.example", False), ("http://127.0.0.1:7860", False)],
)
def test_a_public_url_that_is_not_https_gets_one_warning_at_start(tmp_path, caplog, url, warned):
    settings = Settings(api_key=KEY, data_dir=tmp_path, public_url=url)
    with caplog.at_level(logging.WARNING, logger="kling.api.webhooks"):
        Backend(settings, webhooks=True)
    lines = [r.getMessage() for r in caplog.records if "not https" in r.getMessage()]
    assert len(lines) == (1 if warned else 0)
    assert all("\n" not in line and url in line for line in lines)


def live_studio(
    tmp_path: Path, *, public_url: str | None = "http://app.test", process_s: float = 0.5, **poll
) -> tuple[Studio, Simulator]:
    """A live studio whose API calls go to an in-process simulator, and whose webhook route
    receives the simulator's webhooks in-process too (no ports)."""
    receiver = Starlette()
    simulator = Simulator(
        sim_config(api_key=KEY, queue_s=0.05, process_s=process_s),
        webhook_transport=httpx.ASGITransport(app=receiver),
        clip_dir=SIM_CLIPS,
    )
    settings = Settings(api_key=KEY, base_url="http://sim.test", data_dir=tmp_path / "data", public_url=public_url)
    backend = Backend(
        settings, webhooks=True, transport=httpx.ASGITransport(app=simulator.app), live_poll=PollPolicy(**poll)
    )
    journal = Journal(settings.journal_path)
    studio = Studio(
        settings,
        backend,
        journal,
        Runner(backend, journal, SpendGuard(settings, journal)),
        ClipShelf(tmp_path / "clips"),
    )
    receiver.router.routes.extend(studio.webhook_routes())
    return studio, simulator


def test_the_secret_is_fetched_once_and_a_valid_webhook_wakes_its_task(tmp_path):
    studio, simulator = live_studio(tmp_path)
    secret = simulator.config.webhook_secret

    async def go():
        now = time.time()
        results = [
            await studio.backend.webhook_receiver.receive(
                signed(secret=secret, timestamp=int(now), message_id=f"m{n}"), BODY, now=now
            )
            for n in range(2)
        ]
        await studio.backend.aclose()
        return results

    # The second is the same task and status under another delivery id: a repeat, not acted on.
    assert asyncio.run(go()) == [(200, "ok"), (200, "duplicate")]
    assert len(simulator.requests("GET", "/webhook/secret")) == 1
    assert studio.backend.wakeups.woken("task123")


def test_a_forged_webhook_is_refused_logged_and_wakes_nothing(tmp_path, caplog):
    studio, simulator = live_studio(tmp_path)

    async def go():
        result = await studio.backend.webhook_receiver.receive(signed(secret="whsec_forged"), BODY, now=NOW)
        await studio.backend.aclose()
        return result

    with caplog.at_level(logging.WARNING, logger="kling.api.webhooks"):
        assert asyncio.run(go()) == (401, "invalid webhook")
    assert not studio.backend.wakeups.woken("task123")
    assert "Refused webhook msg_1: the signature does not match" in caplog.text
    assert simulator.config.webhook_secret.removeprefix("whsec_") not in caplog.text


def test_webhooks_are_asked_for_only_with_a_public_url_and_the_servers_key(tmp_path):
    studio, _ = live_studio(tmp_path)
    assert studio.backend.webhook_url() == "http://app.test" + WEBHOOK_PATH
    assert studio.backend.webhook_url(user_key="visitor-key") is None  # signed with their secret, not ours
    webhook_routes = [route.path for route in studio.launch_kwargs()["app_kwargs"]["routes"] if "webhook" in route.path]
    assert webhook_routes == [WEBHOOK_PATH]
    plain, _ = live_studio(tmp_path / "plain", public_url=None)
    plain_routes = [route.path for route in plain.launch_kwargs()["app_kwargs"]["routes"]]
    assert plain.backend.webhook_url() is None and not [path for path in plain_routes if "webhook" in path]
    # The CLI serves no route: with the same settings its tasks must keep polling normally.
    assert Backend(studio.settings).webhook_url() is None


def test_the_public_url_must_be_http_and_loses_its_trailing_slash():
    assert Settings.from_env({"KLING_PUBLIC_URL": "https://me.hf.space/"}).public_url == "https://me.hf.space"
    with pytest.raises(ValueError, match="KLING_PUBLIC_URL"):
        Settings.from_env({"KLING_PUBLIC_URL": "me.hf.space"})


# -- the whole path: a webhook ends the wait ----------------------------------------------------


def status_polls(simulator: Simulator, task_id: str) -> int:
    return len(simulator.requests("GET", f"/predictions/{task_id}"))


@pytest.mark.slow  # several seconds: kept out of the fast loop
def test_a_webhook_ends_the_wait_with_fewer_polls(tmp_path):
    # The safety net (60 s) outlasts the deadline (20 s): only the webhook can end this wait in time.
    # The task lasts 2 s, so the first look (at 0.05 s) sees it running even on a loaded machine.
    hooked, hooked_sim = live_studio(
        tmp_path / "hooked", process_s=2.0, first=0.05, safety_net=60, deadline=20, jitter=0
    )
    polled, polled_sim = live_studio(
        tmp_path / "polled", public_url=None, first=0.05, early=0.05, interval=0.05, ceiling=0.05, deadline=20, jitter=0
    )

    async def go(studio):
        state = await finish(studio.runner.start(T2VRequest(prompt="a kite"), owner="b1"))
        await studio.backend.aclose()
        return state

    with_hook, without = asyncio.run(go(hooked)), asyncio.run(go(polled))
    assert (with_hook.stage, without.stage) == ("done", "done"), with_hook.message
    (submit,) = hooked_sim.submits()
    assert submit.query == "webhook=http%3A%2F%2Fapp.test%2Fwebhooks%2Fwavespeed"
    assert status_polls(hooked_sim, with_hook.task_id) == 2  # the first look, then the woken final poll
    assert status_polls(polled_sim, without.task_id) >= 5
    assert Path(with_hook.path).stat().st_size > 0


# -- the launched app -------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_launched_app_serves_the_webhook_route(tmp_path):
    app = launch_app(tmp_path, {"KLING_PUBLIC_URL": "http://127.0.0.1:9", "KLING_WEBHOOK_SECRET": SECRET})
    try:
        url = app.url + WEBHOOK_PATH
        now = int(time.time())
        good = httpx.post(url, content=BODY, headers=signed(timestamp=now))
        forged = httpx.post(url, content=BODY, headers=signed(timestamp=now, secret="whsec_forged"))
        stale = httpx.post(url, content=BODY, headers=signed(timestamp=now - 3600))
        assert (good.status_code, forged.status_code, stale.status_code) == (200, 401, 401)
        assert httpx.get(url).status_code == 405
    finally:
        stop(app)
    log = (tmp_path / "app.log").read_text()
    assert "Refused webhook" in log and SECRET.removeprefix("whsec_") not in log


@pytest.mark.slow  # several seconds: kept out of the fast loop
def test_repeated_deliveries_with_an_input_object_change_nothing(tmp_path):
    hooked, sim = live_studio(tmp_path, process_s=2.0, first=0.05, safety_net=60, deadline=20, jitter=0)
    sim.faults.webhook_deliveries = 3

    async def go():
        state = await finish(hooked.runner.start(T2VRequest(prompt="a kite"), owner="b1"))
        for _ in range(50):  # the repeats arrive after the first has ended the wait
            if len(sim.webhook_answers) == 3:
                break
            await asyncio.sleep(0.05)
        await hooked.backend.aclose()
        return state

    state = asyncio.run(go())
    assert state.stage == "done"
    assert [status for status, _ in sim.webhook_answers] == [200, 200, 200]
    assert [text for _, text in sim.webhook_answers] == ["ok", "duplicate", "duplicate"]
    assert status_polls(sim, state.task_id) == 2  # the repeats woke nothing
    assert hooked.journal.get(state.task_id).clip_saved
