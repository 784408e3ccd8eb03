"""The one call a page handler makes to learn who is asking: `kling.app.identity` applied to a gr.Request.

Handlers add `profile: gr.OAuthProfile | None` and `request: gr.Request` to their parameters (Gradio
injects both and leaves them out of the API and the MCP tool schema) and pass the browser's stored
token; what comes back is the owner for the journal, the token to store, and the keys for the limits.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
from starlette.requests import HTTPConnection

from kling.app.hf_user import HfUsers
from kling.app.identity import Identity, client_address, identify
from kling.config import Settings


def request_address(request: gr.Request | HTTPConnection | None, settings: Settings) -> str:
    """The visitor's address as the trusted proxy saw it (see identity.client_address), from a
    handler's gr.Request or a plain route's or middleware's Starlette connection."""
    if request is None:
        return client_address("", {}, on_space=settings.on_space, trusted_proxies=settings.trusted_proxies)
    client: Any = getattr(request, "client", None)
    peer = str(getattr(client, "host", "") or "") if client is not None else ""
    headers: Any = getattr(request, "headers", None) or {}
    return client_address(peer, headers, on_space=settings.on_space, trusted_proxies=settings.trusted_proxies)


async def visitor(
    request: gr.Request | None,
    profile: gr.OAuthProfile | None,
    browser_token: str | None,
    *,
    settings: Settings,
    secret: bytes,
    hf_users: HfUsers | None = None,
) -> Identity:
    """Who this request is. The username comes from the signed-in profile, else (for API and MCP
    callers, when `hf_users` is given) from the Hugging Face token in its Authorization header."""
    username = getattr(profile, "username", None) if profile is not None else None
    if username is None and hf_users is not None and request is not None:
        headers: Any = getattr(request, "headers", None) or {}
        # gradio_client sends its hf_token as x-hf-authorization (the Space's proxy keeps Authorization).
        username = await hf_users.username(headers.get("x-hf-authorization") or headers.get("authorization"))
    return identify(
        username=username,
        browser_token=browser_token,
        address=request_address(request, settings),
        secret=secret,
    )
