"""The page's view of identity: a gr.Request (direct or rebuilt by Gradio's queue) and an optional
signed-in profile or Hugging Face token, in; owner, token and limit keys, out."""

from __future__ import annotations

import asyncio

import gradio as gr
import httpx
from starlette.requests import Request as StarletteRequest

from kling.app.hf_user import HfUsers
from kling.app.identity import new_browser_token, verify_browser_token
from kling.app.visitor import request_address, visitor
from kling.config import Settings

SECRET = b"k" * 32
SPACE = Settings(space_id="me/kling")
HF_TOKEN = "hf_" + "u" * 34


def direct(peer: str, headers: list[tuple[str, str]]) -> gr.Request:
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
        "client": (peer, 5555),
    }
    return gr.Request(request=StarletteRequest(scope))


def queued(peer: str, headers: dict[str, str]) -> gr.Request:
    # What Gradio's queue hands a handler: the request's parts copied into kwargs.
    return gr.Request(headers=headers, client={"host": peer, "port": 5555}, session_hash="abc")


def test_the_address_on_a_space_is_the_proxys_entry_for_direct_and_queued_requests():
    chain = "6.6.6.6, 203.0.113.50"
    assert request_address(direct("10.0.0.1", [("X-Forwarded-For", chain)]), SPACE) == "203.0.113.50"
    assert request_address(queued("10.0.0.1", {"x-forwarded-for": chain}), SPACE) == "203.0.113.50"
    assert request_address(queued("10.0.0.1", {"x-forwarded-for": chain}), Settings()) == "10.0.0.1"
    assert request_address(None, Settings()) == "unknown"


def test_a_signed_in_profile_owns_and_keys_by_username():
    profile = gr.OAuthProfile({"preferred_username": "alice", "name": "Alice", "picture": "", "profile": ""})
    who = asyncio.run(visitor(queued("10.0.0.1", {}), profile, None, settings=SPACE, secret=SECRET))
    assert (who.owner, who.visitor, who.signed_in) == ("hf:alice", "hf:alice", True)


def test_an_anonymous_browser_gets_a_signed_token_and_a_forged_owner_changes_nothing():
    request = queued("10.0.0.1", {"x-forwarded-for": "203.0.113.7"})
    first = asyncio.run(visitor(request, None, "cli", settings=SPACE, secret=SECRET))
    assert first.owner.startswith("web:") and verify_browser_token(first.browser_token, SECRET)
    again = asyncio.run(visitor(request, None, first.browser_token, settings=SPACE, secret=SECRET))
    assert again.owner == first.owner and again.visitor == "ip:203.0.113.7"
    other = asyncio.run(visitor(request, None, new_browser_token(b"x" * 32), settings=SPACE, secret=SECRET))
    assert other.owner not in (first.owner, "cli") and not other.signed_in


def test_an_api_or_mcp_caller_with_a_hugging_face_token_is_keyed_on_its_user():
    requests: list[httpx.Request] = []

    def huggingface(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        ok = request.headers["authorization"] == f"Bearer {HF_TOKEN}"
        return httpx.Response(200, json={"type": "user", "name": "bob"}) if ok else httpx.Response(401)

    users = HfUsers(httpx.AsyncClient(transport=httpx.MockTransport(huggingface)))

    async def go(headers: dict[str, str]):
        return await visitor(queued("10.0.0.1", headers), None, None, settings=SPACE, secret=SECRET, hf_users=users)

    by_client = asyncio.run(go({"x-hf-authorization": f"Bearer {HF_TOKEN}", "x-forwarded-for": "203.0.113.9"}))
    by_agent = asyncio.run(go({"authorization": f"Bearer {HF_TOKEN}", "x-forwarded-for": "198.51.100.1"}))
    anonymous = asyncio.run(go({"x-forwarded-for": "198.51.100.1"}))
    assert by_client.visitor == by_agent.visitor == "hf:bob"
    assert anonymous.visitor == "ip:198.51.100.1"
    assert len(requests) == 1
