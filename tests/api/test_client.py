"""The client against exact request sequences (httpx.MockTransport, a clock that moves only when
the client sleeps). Each test names a rule from docs/DESIGN.md and breaks if the rule is broken."""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
from pathlib import Path

import httpx
import pytest

from kling.api.backend import Backend
from kling.api.client import AsyncKlingClient, KlingClient
from kling.api.models import PollPolicy, Task
from kling.api.params import I2VRequest, T2VRequest
from kling.api.retry import Backoff
from kling.config import Settings
from kling.errors import (
    AuthenticationError,
    BadRequestError,
    DeadlineExceededError,
    DownloadError,
    InsufficientCreditsError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    SubmitRefusedError,
    SubmitUncertainError,
    TaskFailedError,
    ValidationError,
)
from tests.helpers.fakes import FAKE_MP4, KEY, TASK_ID, FakeAPI, FakeTime, envelope
from tests.helpers.media import image_bytes

REQUEST = T2VRequest(prompt="a red kite over a beach", duration=5)
NO_JITTER = PollPolicy(first=2.0, ceiling=8.0, jitter=0.0, deadline=600)


def client_for(api: FakeAPI, time_: FakeTime, poll: PollPolicy = NO_JITTER, **kwargs) -> AsyncKlingClient:
    return AsyncKlingClient(
        KEY,
        base_url="https://api.example",
        transport=httpx.MockTransport(api),
        poll=poll,
        sleep=time_.sleep,
        clock=time_.clock,
        rng=random.Random(1),
        **kwargs,
    )


def run(coro):
    return asyncio.run(coro)


def error_response(status: int, message: str = "nope", **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"code": status, "message": message, "data": None}, headers=headers)


# -- submit: sent once ------------------------------------------------------------------------


def test_submit_sends_one_post_with_the_documented_body(fake_api, fake_time):
    task = run(client_for(fake_api, fake_time).submit(REQUEST))
    assert task.id == TASK_ID and task.status == "created"
    (post,) = fake_api.requests
    assert post.url == "https://api.example/api/v3/kwaivgi/kling-v2.0-t2v-master"
    assert post.headers["authorization"] == f"Bearer {KEY}"
    assert httpx.Response(200, content=post.content).json() == {
        "prompt": "a red kite over a beach",
        "aspect_ratio": "16:9",
        "duration": 5,
    }


@pytest.mark.parametrize(
    "fault",
    [
        httpx.ReadTimeout("read timed out"),
        httpx.RemoteProtocolError("peer closed connection"),
        httpx.ReadError("connection reset"),
        httpx.WriteTimeout("write timed out"),
        error_response(500),
        error_response(502),
        error_response(504),
        httpx.Response(200, json={"code": 200, "message": "success", "data": None}),
        httpx.Response(200, text="<html>gateway</html>", headers={"content-type": "text/html"}),
    ],
    ids=["read-timeout", "dropped", "reset", "write-timeout", "500", "502", "504", "data-null", "not-json"],
)
def test_a_submit_that_may_have_landed_is_never_sent_again(fake_api, fake_time, fault):
    fake_api.submits.append(fault)
    with pytest.raises(SubmitUncertainError) as caught:
        run(client_for(fake_api, fake_time).submit(REQUEST))
    assert fake_api.posts == 1
    assert "may have been created" in str(caught.value)
    assert fake_time.sleeps == []


def test_a_5xx_that_names_the_task_keeps_its_id(fake_api, fake_time):
    fake_api.submits.append(httpx.Response(500, json=envelope("created", task_id="t-known")))
    with pytest.raises(SubmitUncertainError) as caught:
        run(client_for(fake_api, fake_time).submit(REQUEST))
    assert caught.value.task_id == "t-known" and "t-known" in str(caught.value)
    assert fake_api.posts == 1


@pytest.mark.parametrize(
    "refusal",
    [
        error_response(429, "slow down", **{"Retry-After": "7"}),
        httpx.Response(200, json={"code": 503, "message": "busy", "data": None}, headers={"Retry-After": "7"}),
        httpx.ConnectError("connection refused"),
        httpx.ConnectTimeout("connect timed out"),
    ],
    ids=["429", "code-503-inside-200", "connect-refused", "connect-timeout"],
)
def test_a_submit_that_created_nothing_is_retried(fake_api, fake_time, refusal):
    fake_api.submits.append(refusal)
    task = run(client_for(fake_api, fake_time).submit(REQUEST))
    assert task.id == TASK_ID
    assert fake_api.posts == 2
    if isinstance(refusal, httpx.Response):
        assert fake_time.sleeps == [7.0]  # Retry-After honoured


def test_rate_limit_gives_up_after_the_allowed_attempts(fake_api, fake_time):
    fake_api.submits.extend(error_response(429, "slow down", **{"Retry-After": "3"}) for _ in range(10))
    with pytest.raises(RateLimitedError) as caught:
        run(client_for(fake_api, fake_time, retry=Backoff(attempts=3)).submit(REQUEST))
    assert fake_api.posts == 3
    assert caught.value.retry_after == 3.0


@pytest.mark.parametrize(
    "status, error",
    [
        (401, AuthenticationError),
        (403, AuthenticationError),
        (402, InsufficientCreditsError),
        (400, BadRequestError),
        (404, NotFoundError),
    ],
)
def test_submit_refusals_are_typed_and_not_retried(fake_api, fake_time, status, error):
    fake_api.submits.append(error_response(status, "server reason here"))
    with pytest.raises(error) as caught:
        run(client_for(fake_api, fake_time).submit(REQUEST))
    assert fake_api.posts == 1
    assert "server reason here" in str(caught.value)


def test_error_text_falls_back_to_the_error_field_then_raw_text(fake_api, fake_time):
    fake_api.submits.append(httpx.Response(400, json={"error": "prompt too spicy"}))
    with pytest.raises(BadRequestError, match="prompt too spicy"):
        run(client_for(fake_api, fake_time).submit(REQUEST))
    fake_api.submits.append(httpx.Response(400, text="plain words"))
    with pytest.raises(BadRequestError, match="plain words"):
        run(client_for(fake_api, fake_time).submit(REQUEST))


# -- poll ------------------------------------------------------------------------------------


def test_polls_follow_the_latency_schedule(fake_api, fake_time):
    """One early look, sparse polls while completion is unlikely, the floor while it is likely,
    then in proportion to the time waited, up to the ceiling."""
    policy = PollPolicy(
        first=2, early=6, likely_from=20, interval=5, likely_until=40, ceiling=8, jitter=0, deadline=600
    )
    fake_api.polls.extend(httpx.Response(200, json=envelope("processing")) for _ in range(13))
    task = run(client_for(fake_api, fake_time, poll=policy).wait(TASK_ID))
    assert task.status == "completed" and task.video_url
    assert fake_api.gets == 14
    assert fake_time.sleeps == pytest.approx(
        [2.0, 6.0, 6.0, 6.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.625, 6.328125, 7.119140625, 8.0, 8.0]
    )


def test_the_default_policy_never_polls_faster_than_wavespeed_asks():
    policy, rng = PollPolicy(), random.Random(7)
    elapsed, delays = 0.0, []
    for polls in range(300):
        delays.append(policy.delay(polls, rng, elapsed))
        elapsed += delays[-1]
    assert delays[0] == pytest.approx(2.0, rel=0.11)  # the one early look
    assert min(delays[1:]) >= 5.0 and max(delays) <= 15.0 * 1.1
    assert elapsed >= policy.deadline  # 300 polls outlast the deadline: the tail backs off


def test_a_scaled_policy_is_the_same_schedule_on_a_faster_clock():
    policy, fast = PollPolicy(), PollPolicy().scaled(0.1)
    for polls, elapsed in [(0, 0.0), (1, 2.0), (5, 30.0), (40, 200.0), (90, 700.0)]:
        assert fast.delay(polls, random.Random(3), elapsed * 0.1) == pytest.approx(
            0.1 * policy.delay(polls, random.Random(3), elapsed)
        )
    assert fast.deadline == pytest.approx(policy.deadline * 0.1)


def test_with_a_webhook_polls_are_a_sparse_safety_net(fake_api, fake_time):
    policy = PollPolicy(first=2.0, interval=5.0, safety_net=60.0, ceiling=15.0, jitter=0.0, deadline=600)
    fake_api.polls.extend(httpx.Response(200, json=envelope("processing")) for _ in range(3))
    run(client_for(fake_api, fake_time, poll=policy).wait(TASK_ID, webhook=True))
    assert fake_time.sleeps == [2.0, 60.0, 60.0, 60.0]


def test_poll_jitter_only_lengthens_and_stays_within_its_band(fake_api, fake_time):
    policy = PollPolicy(first=2.0, early=2.0, interval=2.0, ceiling=2.0, jitter=0.2, deadline=600)
    fake_api.polls.extend(httpx.Response(200, json=envelope("processing")) for _ in range(30))
    run(client_for(fake_api, fake_time, poll=policy).wait(TASK_ID))
    later = fake_time.sleeps[1:]
    assert all(2.0 <= s <= 2.4 for s in later) and len(set(later)) > 5


def test_poll_honours_retry_after(fake_api, fake_time):
    fake_api.polls.append(error_response(429, "slow", **{"Retry-After": "13"}))
    run(client_for(fake_api, fake_time).wait(TASK_ID))
    assert fake_time.sleeps[1] == 13.0
    assert fake_api.gets == 2


@pytest.mark.parametrize(
    "flake",
    [
        error_response(500),
        error_response(502),
        error_response(503),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("dropped"),
        httpx.ConnectError("refused"),
        httpx.Response(200, json={"code": 200, "message": "success", "data": None}),
        httpx.Response(200, text="<html>oops</html>"),
    ],
    ids=["500", "502", "503", "timeout", "dropped", "refused", "data-null", "not-json"],
)
def test_polls_survive_transient_failures(fake_api, fake_time, flake):
    fake_api.polls.extend([flake, flake])
    task = run(client_for(fake_api, fake_time).wait(TASK_ID))
    assert task.status == "completed"
    assert fake_api.gets == 3
    assert fake_api.posts == 0


def test_three_unreadable_answers_in_a_row_end_the_wait(fake_api, fake_time):
    fake_api.polls.extend(httpx.Response(200, json={"data": None}) for _ in range(3))
    with pytest.raises(ProtocolError, match=TASK_ID):
        run(client_for(fake_api, fake_time).wait(TASK_ID))
    assert fake_api.gets == 3


@pytest.mark.parametrize(
    "status, error", [(401, AuthenticationError), (403, AuthenticationError), (404, NotFoundError)]
)
def test_fatal_poll_answers_stop_after_one_request(fake_api, fake_time, status, error):
    fake_api.polls.append(error_response(status))
    with pytest.raises(error) as caught:
        run(client_for(fake_api, fake_time).wait(TASK_ID))
    assert fake_api.gets == 1
    assert caught.value.task_id == TASK_ID


@pytest.mark.parametrize("status", ["cancelled", "timeout", "deleted"])
def test_a_final_status_ends_the_wait(fake_api, fake_time, status):
    fake_api.polls.append(httpx.Response(200, json=envelope(status)))
    with pytest.raises(TaskFailedError) as caught:
        run(client_for(fake_api, fake_time).wait(TASK_ID))
    assert caught.value.status == status and status in str(caught.value)
    assert fake_api.gets == 1


def test_a_failed_task_carries_its_id_code_and_reason(fake_api, fake_time):
    fake_api.polls.append(httpx.Response(200, json=envelope("failed", code=1200, error="nsfw input")))
    with pytest.raises(TaskFailedError) as caught:
        run(client_for(fake_api, fake_time).wait(TASK_ID))
    err = caught.value
    assert (err.task_id, err.code) == (TASK_ID, 1200)
    assert "moderation" in str(err) and "nsfw input" in str(err) and TASK_ID in str(err)


def test_the_deadline_ends_the_wait_with_the_task_id(fake_api, fake_time):
    policy = PollPolicy(first=2.0, ceiling=8.0, jitter=0.0, deadline=60)
    fake_api.polls.extend(httpx.Response(200, json=envelope("processing")) for _ in range(100))
    with pytest.raises(DeadlineExceededError) as caught:
        run(client_for(fake_api, fake_time, poll=policy).wait(TASK_ID))
    assert caught.value.task_id == TASK_ID and f"python -m kling result {TASK_ID}" in str(caught.value)
    assert sum(fake_time.sleeps) == pytest.approx(60)
    assert fake_api.gets < 15


def test_the_poll_url_is_built_from_the_base_never_from_the_answer(fake_api, fake_time):
    fake_api.submits.append(httpx.Response(200, json=envelope("created", urls={"get": "https://evil.example/steal"})))
    run(client_for(fake_api, fake_time).generate(REQUEST, Path("/tmp/kling-test-out")))
    assert {r.url.host for r in fake_api.requests if "authorization" in r.headers} == {"api.example"}


# -- download --------------------------------------------------------------------------------


def test_download_is_atomic_and_sends_no_key(fake_api, fake_time, tmp_path):
    dest = tmp_path / "clip.mp4"
    run(client_for(fake_api, fake_time).download("https://cdn.example/out/clip.mp4", dest, task_id=TASK_ID))
    assert dest.read_bytes() == FAKE_MP4
    (request,) = fake_api.requests
    assert "authorization" not in request.headers
    assert list(tmp_path.iterdir()) == [dest]


@pytest.mark.parametrize(
    "reply, words",
    [
        (httpx.Response(200, text="<html>not a video</html>"), "not an MP4"),
        (httpx.Response(404, text="NoSuchKey"), "expired"),
    ],
)
def test_a_bad_download_leaves_no_file_and_keeps_the_url(fake_api, fake_time, tmp_path, reply, words):
    fake_api.downloads.append(reply)
    url = "https://cdn.example/out/clip.mp4"
    with pytest.raises(DownloadError, match=words) as caught:
        run(client_for(fake_api, fake_time).download(url, tmp_path / "clip.mp4", task_id=TASK_ID))
    assert caught.value.url == url and caught.value.task_id == TASK_ID
    assert list(tmp_path.iterdir()) == []


def test_an_oversized_download_is_cut_off(fake_api, fake_time, tmp_path):
    fake_api.downloads.append(httpx.Response(200, content=FAKE_MP4 + b"\0" * 5000))
    with pytest.raises(DownloadError, match="larger than"):
        run(
            client_for(fake_api, fake_time, max_download_bytes=1000).download(
                "https://cdn.example/x.mp4", tmp_path / "x.mp4"
            )
        )
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_download_is_retried(fake_api, fake_time, tmp_path):
    fake_api.downloads.extend([httpx.ReadError("reset"), error_response(503)])
    run(client_for(fake_api, fake_time).download("https://cdn.example/x.mp4", tmp_path / "x.mp4"))
    assert fake_api.count("GET", "/x.mp4") == 3


# -- the whole path --------------------------------------------------------------------------


def test_generate_hands_over_the_task_before_the_first_poll(fake_api, fake_time, tmp_path):
    seen: list[tuple[str, int]] = []
    fake_api.polls.append(httpx.Response(200, json=envelope("processing")))
    result = run(
        client_for(fake_api, fake_time).generate(
            REQUEST, tmp_path, on_task=lambda t: seen.append((t.id, fake_api.gets))
        )
    )
    assert seen == [(TASK_ID, 0)]
    assert result.stage == "done" and result.path == tmp_path / f"{TASK_ID}.mp4"
    assert result.path.read_bytes() == FAKE_MP4
    assert fake_api.posts == 1


def test_i2v_uploads_the_image_then_submits_its_url(fake_api, fake_time, tmp_path):
    request = I2VRequest(image=image_bytes(640, 480), prompt="slow push-in", guidance_scale=0.7)
    run(client_for(fake_api, fake_time).generate(request, tmp_path))
    upload, submit = fake_api.requests[:2]
    assert upload.url.path == "/api/v3/media/upload/binary" and b'name="file"' in upload.content
    body = httpx.Response(200, content=submit.content).json()
    assert body == {
        "image": "https://cdn.example/in.png",
        "prompt": "slow push-in",
        "guidance_scale": 0.7,
        "duration": 5,
    }


def test_i2v_inline_data_uri_option_sends_no_upload(fake_api, fake_time, tmp_path):
    request = I2VRequest(image=image_bytes(640, 480), prompt="orbit")
    run(client_for(fake_api, fake_time, upload="data_uri").submit(request))
    assert [r.url.path for r in fake_api.requests] == ["/api/v3/kwaivgi/kling-v2.0-i2v-master"]
    assert (
        httpx.Response(200, content=fake_api.requests[0].content).json()["image"].startswith("data:image/png;base64,")
    )


@pytest.mark.parametrize(
    "request_",
    [
        T2VRequest(prompt=""),
        T2VRequest(prompt="x" * 2501),
        T2VRequest(prompt="ok", duration=7),
        T2VRequest(prompt="ok", aspect_ratio="4:3"),
        I2VRequest(image=image_bytes(200, 200), prompt="ok"),
        I2VRequest(image=image_bytes(1000, 300), prompt="ok"),
        I2VRequest(image=b"this is text, not a picture", prompt="ok"),
        I2VRequest(image=image_bytes(640, 480), prompt="ok", guidance_scale=1.5),
        I2VRequest(image=image_bytes(640, 480), prompt="ok", end_image=image_bytes(100, 100)),
    ],
    ids=["blank", "long", "duration", "aspect", "tiny", "wide", "text", "guidance", "tiny-end"],
)
def test_refused_input_sends_no_request(fake_api, fake_time, tmp_path, request_):
    with pytest.raises(ValidationError):
        run(client_for(fake_api, fake_time).generate(request_, tmp_path))
    assert fake_api.requests == []


# -- the key ---------------------------------------------------------------------------------


def test_the_key_and_address_are_read_when_the_client_is_made(monkeypatch):
    # The library's fallback is the process environment itself, so this one test sets it.
    monkeypatch.delenv("WAVESPEED_API_KEY", raising=False)
    monkeypatch.delenv("WAVESPEED_BASE_URL", raising=False)
    with pytest.raises(AuthenticationError):
        AsyncKlingClient()
    monkeypatch.setenv("WAVESPEED_API_KEY", "from-env")
    client = AsyncKlingClient()
    assert (client._key, client.base_url) == ("from-env", "https://api.wavespeed.ai")
    monkeypatch.setenv("WAVESPEED_BASE_URL", "http://127.0.0.1:8765/")
    assert AsyncKlingClient().base_url == "http://127.0.0.1:8765"
    assert AsyncKlingClient(base_url="http://127.0.0.1:9/").base_url == "http://127.0.0.1:9"


def test_the_key_never_shows_in_repr_or_errors(fake_api, fake_time):
    client = client_for(fake_api, fake_time)
    assert KEY not in repr(client)
    fake_api.submits.append(error_response(401, f"bad key {KEY}"))
    with pytest.raises(AuthenticationError) as caught:
        run(client.submit(REQUEST))
    assert KEY not in str(caught.value) and "<hidden>" in str(caught.value)


def test_task_snapshot_tolerates_odd_fields():
    task = Task.from_data({"id": "x", "status": "completed", "outputs": ["u", 3], "timings": None, "code": True})
    assert task.outputs == ("u",) and task.inference_ms is None and task.error_code is None
    with pytest.raises(ProtocolError):
        Task.from_data({"status": "created"})


def test_the_sync_face_runs_the_whole_path(fake_api, tmp_path):
    with KlingClient(
        KEY,
        base_url="https://api.example",
        transport=httpx.MockTransport(fake_api),
        poll=PollPolicy(first=0.01, ceiling=0.01),
    ) as client:
        assert KEY not in repr(client)
        stages = [u.stage for u in client.stream(REQUEST, tmp_path)]
    assert stages == ["submitting", "submitted", "polled", "downloading", "done"]
    assert (tmp_path / f"{TASK_ID}.mp4").read_bytes() == FAKE_MP4


@pytest.mark.parametrize(
    "location, words",
    [
        ("http://169.254.169.254/latest/meta-data", "private address"),
        ("http://10.0.0.7/clip.mp4", "private address"),
        ("http://localhost:8080/clip.mp4", "private address"),
        ("http://[::1]/clip.mp4", "private address"),
        ("file:///etc/passwd", "file URL"),
    ],
)
def test_a_redirect_into_a_private_network_is_refused(fake_api, fake_time, tmp_path, location, words):
    fake_api.downloads.append(httpx.Response(302, headers={"location": location}))
    with pytest.raises(DownloadError, match=words):
        run(client_for(fake_api, fake_time).download("https://cdn.example/x.mp4", tmp_path / "x.mp4"))
    assert [r.url.host for r in fake_api.requests] == ["cdn.example"]  # the private address was never asked
    assert list(tmp_path.iterdir()) == []


def test_a_public_redirect_is_followed(fake_api, fake_time, tmp_path):
    fake_api.downloads.append(httpx.Response(302, headers={"location": "https://cdn2.example/real.mp4"}))
    run(client_for(fake_api, fake_time).download("https://cdn.example/x.mp4", tmp_path / "x.mp4"))
    assert [str(r.url) for r in fake_api.requests] == ["https://cdn.example/x.mp4", "https://cdn2.example/real.mp4"]
    assert (tmp_path / "x.mp4").read_bytes() == FAKE_MP4


def test_endless_redirects_are_refused(fake_api, fake_time, tmp_path):
    fake_api.downloads.extend(
        httpx.Response(302, headers={"location": f"https://cdn.example/{i}.mp4"}) for i in range(10)
    )
    with pytest.raises(DownloadError, match="more than 5 times"):
        run(client_for(fake_api, fake_time).download("https://cdn.example/x.mp4", tmp_path / "x.mp4"))
    assert len(fake_api.requests) == 6


def test_a_declared_huge_body_is_refused_before_reading(fake_api, fake_time, tmp_path):
    fake_api.downloads.append(httpx.Response(200, headers={"content-length": str(10**12)}, content=FAKE_MP4))
    with pytest.raises(DownloadError, match="larger than"):
        run(client_for(fake_api, fake_time).download("https://cdn.example/x.mp4", tmp_path / "x.mp4"))


# -- as WaveSpeed's own clients read the API --------------------------------------------------


def test_an_undocumented_status_keeps_the_wait_going_and_says_so(fake_api, fake_time):
    fake_api.polls.extend(httpx.Response(200, json=envelope(s)) for s in ("pending", "queued", "processing"))

    async def go():
        return [u async for u in client_for(fake_api, fake_time).watch(TASK_ID)]

    updates = run(go())
    assert [u.task.status for u in updates] == ["pending", "queued", "processing", "completed"]
    assert [u.message for u in updates] == [
        "status pending, not documented: still waiting",
        "status queued, not documented: still waiting",
        "",
        "",
    ]
    assert fake_api.gets == 4


def test_an_error_code_inside_a_200_refuses_the_submit_once(fake_api, fake_time):
    body = {"code": 400, "message": "Bad Request", "data": {"error": "prompt: not allowed"}}
    fake_api.submits.append(httpx.Response(200, json=body))
    with pytest.raises(SubmitRefusedError) as caught:
        run(client_for(fake_api, fake_time).generate(REQUEST, Path("/nonexistent")))
    assert "prompt: not allowed" in str(caught.value) and "No task was created" in str(caught.value)
    assert caught.value.task_id is None
    assert [(r.method, r.url.path) for r in fake_api.requests] == [("POST", "/api/v3/kwaivgi/kling-v2.0-t2v-master")]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_after_a_submit_is_never_resent(fake_api, fake_time, status):
    fake_api.submits.append(httpx.Response(status, text="<html><body><h1>Bad gateway</h1></body></html>"))
    with pytest.raises(SubmitUncertainError) as caught:
        run(client_for(fake_api, fake_time).submit(REQUEST))
    assert fake_api.posts == 1 and fake_time.sleeps == []
    assert "Bad gateway" in str(caught.value) and "<" not in str(caught.value)
    assert caught.value.model == "kwaivgi/kling-v2.0-t2v-master" and caught.value.sent_at is not None


@pytest.mark.parametrize(
    "body, reason",
    [
        (
            {"code": 400, "message": "Bad Request", "data": {"error": "image: could not fetch"}, "error": "x"},
            "image: could not fetch",
        ),
        ({"code": 400, "message": "Bad Request", "data": None, "error": "from error"}, "from error"),
        ({"code": 400, "message": "from message", "data": None}, "from message"),
        ("<html><head><style>p{}</style></head><body>" + "word " * 400 + "</body></html>", "word word"),
    ],
    ids=["data.error", "error", "message", "html-trimmed"],
)
def test_the_reason_is_read_data_error_first(fake_api, fake_time, body, reason):
    reply = httpx.Response(400, json=body) if isinstance(body, dict) else httpx.Response(400, text=body)
    fake_api.submits.append(reply)
    with pytest.raises(SubmitRefusedError) as caught:
        run(client_for(fake_api, fake_time).submit(REQUEST))
    assert reason in str(caught.value) and "Bad Request" not in str(caught.value)
    assert "<" not in str(caught.value) and len(str(caught.value)) < 400


@pytest.mark.parametrize(
    "body, reason",
    [
        ({"message": "This key's role may not run models", "error_code": "ROLE_FORBIDDEN"},
         "This key's role may not run models [ROLE_FORBIDDEN]"),
        ({"message": "quota", "error_code": 4021}, "quota [4021]"),
        ({"detail": "duration: must be 5 or 10"}, "duration: must be 5 or 10"),
        ({"detail": [{"loc": ["body", "prompt"], "msg": "field required"}, {"msg": "too long"}]},
         "field required; too long"),
        ({"errors": [{"message": "image too small"}, "aspect ratio out of range"]},
         "image too small; aspect ratio out of range"),
        ({"message": "from message", "detail": "from detail", "errors": [{"message": "from errors"}]},
         "from message"),
    ],
    ids=["message+error_code", "numeric error_code", "detail", "detail list", "errors list", "message first"],
)  # fmt: skip
def test_the_reason_is_read_from_every_shape_an_official_client_reads(fake_api, fake_time, body, reason):
    """WaveSpeed's MCP server reads `{message, error_code}` on a non-2xx answer, its desktop app also
    `detail` and `errors[]`: a refusal in any of those shapes shows its reason, not the raw JSON."""
    fake_api.submits.append(httpx.Response(422, json=body))
    with pytest.raises(SubmitRefusedError) as caught:
        run(client_for(fake_api, fake_time).submit(REQUEST))
    message = str(caught.value)
    assert f"(422: {reason})" in message and "{" not in message
    assert fake_api.posts == 1


def test_a_refused_key_says_why_with_its_error_code(fake_api, fake_time):
    fake_api.polls.append(httpx.Response(403, json={"message": "Account suspended", "error_code": "SUSPENDED"}))
    with pytest.raises(AuthenticationError) as caught:
        run(client_for(fake_api, fake_time).get(TASK_ID))
    assert "(403: Account suspended [SUSPENDED])" in str(caught.value)


def test_a_404_after_a_submit_is_ridden_out_for_a_minute_then_ends(fake_api, fake_time):
    fake_api.polls.extend(error_response(404, "Prediction not found") for _ in range(100))

    async def go():
        updates = []
        with pytest.raises(NotFoundError) as caught:
            async for update in client_for(fake_api, fake_time).watch(TASK_ID, new_task=True):
                updates.append(update)
        return updates, caught.value

    updates, error = run(go())
    assert len(updates) == fake_api.gets - 1 > 1  # every 404 but the last was ridden out, with an update
    assert all(u.stage == "retrying" and "not readable yet" in u.message for u in updates)
    assert 60 <= sum(fake_time.sleeps) < 90  # for the grace minute, not one poll nor for ever
    assert "Unknown or expired task" in str(error) and TASK_ID in str(error)
    assert sum(fake_time.sleeps[:-1]) < 60 <= sum(fake_time.sleeps)
    fake_api.requests.clear()
    with pytest.raises(NotFoundError, match="Unknown or expired"):  # a resumed task: no grace
        run(client_for(fake_api, fake_time).wait(TASK_ID))
    assert fake_api.gets == 1


def ticket_api(binary_status: int, log: list[httpx.Request]):
    def handle(request: httpx.Request) -> httpx.Response:
        log.append(request)
        path = request.url.path
        if path.endswith("/media/upload/binary"):
            return error_response(binary_status)
        if path.endswith("/media/uploads"):
            ticket = {"upload": {"method": "PUT", "url": "https://store.example/put/1", "headers": {"X-Up": "1"}}}
            return httpx.Response(
                200, json={"code": 200, "data": {**ticket, "download_url": "https://cdn.example/a.png"}}
            )
        if request.method == "PUT":
            return httpx.Response(200)
        return httpx.Response(200, json=envelope("created"))

    return handle


@pytest.mark.parametrize("status", [404, 405])
def test_a_retired_binary_upload_uses_the_ticket_flow_from_then_on(fake_time, status):
    log: list[httpx.Request] = []
    client = AsyncKlingClient(
        KEY,
        base_url="https://retired.example",
        transport=httpx.MockTransport(ticket_api(status, log)),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    )
    request = I2VRequest(image=image_bytes(600, 600), end_image=image_bytes(600, 600), prompt="x")
    run(client.submit(request))
    assert [(r.method, r.url.path) for r in log] == [
        ("POST", "/api/v3/media/upload/binary"),
        ("POST", "/api/v3/media/uploads"),
        ("PUT", "/put/1"),
        ("POST", "/api/v3/media/uploads"),
        ("PUT", "/put/1"),
        ("POST", "/api/v3/kwaivgi/kling-v2.0-i2v-master"),
    ]
    put = log[2]
    assert "authorization" not in put.headers and put.headers["x-up"] == "1" and put.content.startswith(b"\x89PNG")
    ticket = json.loads(log[1].content)
    assert set(ticket) == {"filename", "size", "content_type"} and ticket["size"] == len(put.content)
    assert json.loads(log[-1].content)["image"] == "https://cdn.example/a.png"


def test_each_backend_learns_for_itself_that_the_binary_upload_is_retired(fake_time, tmp_path):
    """One backend's clients share what they learnt of the binary endpoint; another backend in the
    same process, against the same base, asks the binary endpoint itself."""
    logs: list[list[httpx.Request]] = [[], []]
    backends = [
        Backend(
            Settings(api_key=KEY, base_url="https://retired.example", data_dir=tmp_path / str(n)),
            transport=httpx.MockTransport(ticket_api(404, log)),
            sleep=fake_time.sleep,
            clock=fake_time.clock,
        )
        for n, log in enumerate(logs)
    ]
    image = I2VRequest(image=image_bytes(600, 600), prompt="x")
    run(backends[0].client().submit(image))
    run(backends[0].client().submit(image))  # a new client of the same backend
    run(backends[1].client().submit(image))
    binary = [[r.url.path.endswith("/upload/binary") for r in log if r.method == "POST"] for log in logs]
    assert binary[0] == [True, False, False, False, False]  # binary, ticket, submit, ticket, submit
    assert binary[1] == [True, False, False]
    for backend in backends:
        run(backend.aclose())


def test_the_listing_is_asked_with_the_documented_filters(fake_time):
    log: list[httpx.Request] = []
    items = [
        envelope("processing", task_id="mine")["data"],
        envelope("completed", task_id="older", created_at="2020-01-01T00:00:00Z")["data"],
        envelope("created", task_id="other-model", model="kwaivgi/kling-v2.0-i2v-master")["data"],
    ]

    def handle(request: httpx.Request) -> httpx.Response:
        log.append(request)
        return httpx.Response(200, json={"code": 200, "message": "success", "data": {"page": 1, "items": items}})

    client = AsyncKlingClient(KEY, base_url="https://api.example", transport=httpx.MockTransport(handle))
    since = 1795264000.0  # 2026-11-21T12:26:40Z, before the items' 12:34:56
    found = run(client.find_tasks("kwaivgi/kling-v2.0-t2v-master", created_after=since))
    assert [t.id for t in found] == ["mine"]  # a server ignoring the filters cannot widen the search
    assert (log[0].method, log[0].url.path) == ("POST", "/api/v3/predictions")
    assert json.loads(log[0].content) == {
        "page": 1,
        "page_size": 100,
        "model": "kwaivgi/kling-v2.0-t2v-master",
        "created_after": "2026-11-21T12:26:40Z",
    }


def test_the_listing_is_read_again_after_a_dropped_connection_or_a_5xx(fake_time):
    """Right after a lost submit, a pooled connection may have been closed under us: the listing
    (a read, creating nothing) is sent again on the shared backoff, and the task is found."""
    answers: list[object] = [httpx.ReadError("connection closed"), httpx.Response(502, text="<html>bad</html>")]
    log: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        log.append(request)
        if answers:
            answer = answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        items = [envelope("processing", task_id="mine")["data"]]
        return httpx.Response(200, json={"code": 200, "message": "success", "data": {"page": 1, "items": items}})

    client = AsyncKlingClient(
        KEY,
        base_url="https://api.example",
        transport=httpx.MockTransport(handle),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    )
    found = run(client.find_tasks("kwaivgi/kling-v2.0-t2v-master", created_after=1795264000.0))
    assert [t.id for t in found] == ["mine"]
    assert [r.url.path for r in log] == ["/api/v3/predictions"] * 3
    assert fake_time.sleeps == [1.0, 2.0]  # the one backoff rule: 1 s, then 2 s


def test_upload_submit_and_download_share_one_backoff(fake_api, fake_time):
    fake_api.uploads.extend([error_response(503), error_response(503)])
    fake_api.submits.append(error_response(429))
    fake_api.downloads.extend([error_response(503), error_response(503)])
    request = I2VRequest(image=image_bytes(600, 600), prompt="x")
    out = run(client_for(fake_api, fake_time).generate(request, Path(tempfile.mkdtemp())))
    assert out.stage == "done"
    # 1 s, 2 s for the upload; 1 s for the refused submit; the poll's own 2 s; 1 s, 2 s for the download.
    assert fake_time.sleeps == [1.0, 2.0, 1.0, 2.0, 1.0, 2.0]


def test_a_poll_answered_200_with_an_error_code_is_read_by_that_code(fake_api, fake_time):
    fake_api.polls.extend(
        [
            httpx.Response(200, json={"code": 500, "message": "Internal", "data": None}),
            httpx.Response(200, json={"code": 401, "message": "Unauthorized", "data": {"error": "key revoked"}}),
        ]
    )
    with pytest.raises(AuthenticationError, match="key revoked") as caught:
        run(client_for(fake_api, fake_time).wait(TASK_ID))
    assert fake_api.gets == 2 and caught.value.http_status == 401  # the 500 inside a 200 was ridden out
