"""Webhooks from an attacker: malformed headers answer 400 without a traceback, and forged posts
never turn into a stream of requests to WaveSpeed for the secret."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from kling.api.backend import Backend
from kling.api.webhooks import (
    SECRET_RETRY_S,
    WEBHOOK_PATH,
    MalformedWebhook,
    WebhookError,
    WebhookSecret,
    check_headers,
    verify,
)
from kling.config import Settings
from kling.preview.webhooks import sign_webhook

KEY = "wsk_test_key"
SECRET = "whsec_" + "cd34" * 8
BODY = b'{"id": "task123", "status": "completed"}'
NOW = 1_800_000_000


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def wavespeed(secret_status: int | list[int], requests: list[httpx.Request]) -> httpx.MockTransport:
    """WaveSpeed's secret endpoint answering `secret_status` (a one-item list: a test may change
    it between calls); every request is recorded."""
    status = secret_status if isinstance(secret_status, list) else [secret_status]

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        secret_status = status[0]
        if request.url.path == "/api/v3/webhook/secret" and secret_status == 200:
            return httpx.Response(200, json={"code": 200, "message": "success", "data": {"secret": SECRET}})
        return httpx.Response(secret_status, json={"code": secret_status, "message": "unavailable"})

    return httpx.MockTransport(handler)


def backend(secret_status: int | list[int], requests: list[httpx.Request], clock: FakeClock) -> Backend:
    settings = Settings(api_key=KEY, base_url="http://wavespeed.test", webhook_secret=None)
    return Backend(settings, webhooks=True, clock=clock, transport=wavespeed(secret_status, requests))


def forged(n: int, timestamp: int = NOW) -> dict[str, str]:
    return {"webhook-id": f"msg_{n}", "webhook-timestamp": str(timestamp), "webhook-signature": "v3," + "f" * 64}


def post_all(target: Backend, posts: list[dict[str, str]], now: float = NOW) -> list[tuple[int, str]]:
    """Each post in turn; the backend's MockTransport client stays open for the next call."""

    async def go():
        return [await target.webhook_receiver.receive(headers, BODY, now=now) for headers in posts]

    return asyncio.run(go())


@pytest.mark.parametrize(
    "timestamp", ["1" * 400, "9" * 13, "-1", "1e9", " 1800000000", "１８００００００００", "1800000000.5", "0x6b49d200"]
)
def test_a_timestamp_that_is_not_one_is_malformed(timestamp):
    headers = forged(0) | {"webhook-timestamp": timestamp}
    with pytest.raises(MalformedWebhook, match="not a whole number"):
        check_headers(headers, now=NOW)
    with pytest.raises(MalformedWebhook):
        verify(SECRET, headers, BODY, now=NOW)


def test_a_signature_in_any_text_is_refused_not_crashed_on():
    headers = forged(0) | {"webhook-signature": "v3,é" + "0" * 63}
    with pytest.raises(WebhookError, match="signature does not match"):
        verify(SECRET, headers, BODY, now=NOW)


def test_a_400_digit_timestamp_answers_400_on_the_route_without_a_traceback():
    requests: list[httpx.Request] = []
    target = backend(200, requests, FakeClock())

    async def webhook(request: Request) -> PlainTextResponse:
        status, text = await target.webhook_receiver.receive(request.headers, await request.body())
        return PlainTextResponse(text, status_code=status)

    app = Starlette(routes=[Route(WEBHOOK_PATH, webhook, methods=["POST"])])
    with TestClient(app, raise_server_exceptions=True) as client:
        response = client.post(WEBHOOK_PATH, content=BODY, headers=forged(0) | {"webhook-timestamp": "1" * 400})
    assert (response.status_code, response.text) == (400, "malformed webhook")
    assert requests == []  # refused before the secret was needed


def test_unsigned_posts_never_ask_for_the_secret():
    requests: list[httpx.Request] = []
    posts = [{"webhook-id": f"m{n}", "webhook-timestamp": str(NOW)} for n in range(300)]
    results = post_all(backend(500, requests, FakeClock()), posts)
    assert set(results) == {(400, "malformed webhook")}
    assert requests == []


def test_300_forged_posts_with_the_secret_unreadable_make_one_request_until_the_retry_time():
    requests: list[httpx.Request] = []
    clock = FakeClock()
    target = backend(503, requests, clock)
    results = post_all(target, [forged(n) for n in range(300)])
    assert set(results) == {(503, "webhook secret unavailable")}
    assert [r.url.path for r in requests] == ["/api/v3/webhook/secret"]

    clock.now += SECRET_RETRY_S - 1
    post_all(target, [forged(n) for n in range(50)])
    assert len(requests) == 1
    clock.now += 1
    post_all(target, [forged(n) for n in range(50)])
    assert len(requests) == 2  # one retry once the failure is old enough, not one per post


def test_300_forged_posts_with_the_secret_readable_make_one_request_and_are_all_refused():
    requests: list[httpx.Request] = []
    target = backend(200, requests, FakeClock())
    results = post_all(target, [forged(n) for n in range(300)])
    assert set(results) == {(401, "invalid webhook")}
    assert len(requests) == 1


def test_after_a_failure_the_secret_is_read_again_and_a_genuine_webhook_is_accepted():
    requests: list[httpx.Request] = []
    clock = FakeClock()
    status = [503]
    target = backend(status, requests, clock)
    post_all(target, [forged(0)])
    status[0] = 200
    clock.now += SECRET_RETRY_S
    now = time.time()
    genuine = {
        "webhook-id": "m1",
        "webhook-timestamp": str(int(now)),
        "webhook-signature": "v3," + sign_webhook(SECRET, "m1", str(int(now)), BODY),
    }
    # The second delivery is a repeat of the first: acknowledged, acted on once.
    assert post_all(target, [genuine, genuine], now=now) == [(200, "ok"), (200, "duplicate")]
    assert len(requests) == 2  # the failed read, then one successful read kept for good


def test_the_secret_source_reads_once_keeps_success_and_waits_after_a_failure():
    answers = [RuntimeError("down"), "whsec_x"]
    reads: list[int] = []

    async def fetch() -> str:
        reads.append(1)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    clock = FakeClock()
    source = WebhookSecret(None, fetch, errors=(RuntimeError,), clock=clock, retry_after=300)

    async def get_many(n: int) -> list[str | None]:
        return list(await asyncio.gather(*(source.get() for _ in range(n))))

    assert asyncio.run(get_many(100)) == [None] * 100 and len(reads) == 1  # 100 at once: one read
    clock.now += 299
    assert asyncio.run(get_many(10)) == [None] * 10 and len(reads) == 1
    clock.now += 1
    assert asyncio.run(get_many(10)) == ["whsec_x"] * 10 and len(reads) == 2
    clock.now += 10_000
    assert asyncio.run(get_many(10)) == ["whsec_x"] * 10 and len(reads) == 2  # success is kept for good
    assert asyncio.run(WebhookSecret("whsec_given", None, errors=()).get()) == "whsec_given"
