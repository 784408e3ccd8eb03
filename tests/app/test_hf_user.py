"""The Hugging Face user behind an API/MCP caller's token: asked once, kept, and never a way to
make us flood huggingface.co."""

from __future__ import annotations

import asyncio
import secrets

import httpx
import pytest

from kling.app.hf_user import WHOAMI_URL, HfUsers, bearer_token

GOOD = "hf_" + "a" * 34
ORG = "hf_" + "o" * 34


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def huggingface(requests: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token == GOOD:
            return httpx.Response(200, json={"type": "user", "name": "alice", "fullname": "Alice"})
        if token == ORG:
            return httpx.Response(200, json={"type": "org", "name": "acme"})
        return httpx.Response(401, json={"error": "Invalid credentials in Authorization header"})

    return httpx.MockTransport(handler)


def users(requests: list[httpx.Request], clock: FakeClock, **options) -> HfUsers:
    return HfUsers(httpx.AsyncClient(transport=huggingface(requests)), clock=clock, **options)


def ask(resolver: HfUsers, headers: list[str | None]) -> list[str | None]:
    async def go():
        return [await resolver.username(h) for h in headers]

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("header", "token"),
    [
        (f"Bearer {GOOD}", GOOD),
        (f"bearer   {GOOD} ", GOOD),
        (GOOD, None),
        (f"Basic {GOOD}", None),
        ("Bearer hf_short", None),
        ("Bearer " + "hf_" + "a" * 300, None),
        ("Bearer wsk_" + "a" * 30, None),
        (None, None),
        ("", None),
    ],
)
def test_only_a_bearer_hf_token_is_taken(header, token):
    assert bearer_token(header) == token


def test_a_users_token_gives_the_username_once_then_from_memory():
    requests: list[httpx.Request] = []
    clock = FakeClock()
    resolver = users(requests, clock)
    assert ask(resolver, [f"Bearer {GOOD}"] * 10) == ["alice"] * 10
    assert len(requests) == 1 and str(requests[0].url) == WHOAMI_URL
    clock.now += 601
    assert ask(resolver, [f"Bearer {GOOD}"]) == ["alice"]
    assert len(requests) == 2  # asked again once the answer is 10 minutes old


def test_a_bad_or_an_organisations_token_is_no_user_and_is_remembered():
    requests: list[httpx.Request] = []
    resolver = users(requests, FakeClock())
    bad = "hf_" + "b" * 34
    assert ask(resolver, [f"Bearer {bad}"] * 5 + [f"Bearer {ORG}"] * 5) == [None] * 10
    assert len(requests) == 2


def test_garbage_headers_make_no_request():
    requests: list[httpx.Request] = []
    assert ask(users(requests, FakeClock()), ["Bearer x", "hf_nope", None, "Bearer " + "z" * 500]) == [None] * 4
    assert requests == []


def test_a_new_random_token_per_request_is_capped_per_minute():
    requests: list[httpx.Request] = []
    clock = FakeClock()
    resolver = users(requests, clock, lookups_per_minute=30)
    forged = [f"Bearer hf_{secrets.token_hex(17)}" for _ in range(300)]
    assert set(ask(resolver, forged)) == {None}
    assert len(requests) == 30
    clock.now += 61
    assert ask(resolver, [f"Bearer {GOOD}"]) == ["alice"]  # the cap frees up with time
    assert len(requests) == 31


def test_huggingface_unreachable_means_anonymous_not_an_error():
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("unreachable", request=request)

    resolver = HfUsers(httpx.AsyncClient(transport=httpx.MockTransport(down)), clock=FakeClock())
    assert ask(resolver, [f"Bearer {GOOD}"]) == [None]


def test_the_token_is_kept_only_as_a_hash():
    requests: list[httpx.Request] = []
    resolver = users(requests, FakeClock())
    ask(resolver, [f"Bearer {GOOD}"])
    assert GOOD not in repr(vars(resolver)) and GOOD not in "".join(resolver._answers)
