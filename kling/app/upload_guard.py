"""Gradio's upload route, bounded before a byte of the body reaches the disk.

`POST /gradio_api/upload` needs no session and no login (unless KLING_AUTH is set), and Gradio keeps
what it stores for KLING_UPLOAD_MAX_AGE_S, whatever the total. This middleware sits in front of it:

- each address (and each signed-in Hugging Face user, whose sign-in cookie the request carries)
  stores at most KLING_UPLOAD_WINDOW_MB and KLING_UPLOADS_PER_WINDOW files in any
  KLING_UPLOAD_WINDOW_S (`UploadLimits`); a token an API caller sends is not looked up here, as
  that would be a request to huggingface.co per upload;
- everything the route stored stays under KLING_UPLOADS_MB (kling/store/uploads.py).

The excess is refused from the request's Content-Length, before Gradio sees it: 429 with a sentence
and Retry-After (413 for one body larger than a whole window, 503 when the folder is full of files
still in use). A body with no Content-Length (chunked) is counted as it streams and cut off at the
limit. Another address is not touched.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kling.app.identity import address_key, clean_username
from kling.app.sliding_window import SlidingWindow, take_all
from kling.app.visitor import request_address
from kling.config import Settings
from kling.store.uploads import UploadShelf
from kling.strings import Lang, language, minutes_text, spend_text

UPLOAD_PATH = "/gradio_api/upload"


@dataclass(frozen=True)
class Refusal:
    status: int
    reason: str
    values: dict[str, Any] = field(default_factory=dict)
    wait_s: float | None = None

    def text(self, lang: Lang) -> str:
        values = dict(self.values)
        if self.wait_s is not None:
            values["wait_s"] = self.wait_s
        return spend_text(lang, self.reason, **values)

    async def send(self, send: Send, lang: Lang) -> None:
        headers = {} if self.wait_s is None or math.isinf(self.wait_s) else {"Retry-After": str(math.ceil(self.wait_s))}
        response = PlainTextResponse(self.text(lang), status_code=self.status, headers=headers)
        await response({"type": "http"}, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}


@dataclass
class UploadLimits:
    """Bytes and files per key (an address, a signed-in user) in any `window_s`."""

    window_s: float
    bytes: SlidingWindow
    files: SlidingWindow

    @classmethod
    def from_settings(cls, settings: Settings, clock: Callable[[], float] = time.monotonic) -> UploadLimits:
        window = settings.upload_window_s
        return cls(
            window,
            SlidingWindow(settings.upload_window_bytes, window, clock=clock),
            SlidingWindow(settings.uploads_per_window, window, clock=clock),
        )

    def refusal(self, keys: list[str], size: int, files: int) -> Refusal | None:
        """Why `files` more files of `size` bytes would go past a limit now, or None. Takes nothing."""
        if size > self.bytes.limit:
            return Refusal(413, "upload_too_large", self._values(self.bytes.limit >> 20))
        for key in keys:
            wait = self.files.wait(key, files)
            if wait > 0:
                return Refusal(429, "uploads_count", self._values(self.files.limit), wait)
            wait = self.bytes.wait(key, size)
            if wait > 0:
                return Refusal(429, "uploads_bytes", self._values(self.bytes.limit >> 20), wait)
        return None

    def take(self, keys: list[str], size: int, files: int) -> None:
        takes = [(self.files, key, files) for key in keys] + [(self.bytes, key, size) for key in keys]
        take_all([(window, key, amount) for window, key, amount in takes if amount])

    def _values(self, limit: int) -> dict[str, Any]:
        return {"limit": limit, "window": minutes_text(self.window_s)}


class UploadGuard:
    """The middleware (Studio.launch_kwargs registers it, like GzipPage); everything but a POST
    to the upload route passes through untouched."""

    def __init__(self, app: ASGIApp, *, limits: UploadLimits, shelf: UploadShelf, settings: Settings) -> None:
        self.app = app
        self.limits = limits
        self.shelf = shelf
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_upload(scope):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        keys, lang = self.keys(scope), language(headers.get("accept-language"))
        length = _content_length(headers)
        if length is None:
            await self._streamed(scope, receive, send, keys, lang)
            return
        refusal = self._admit(keys, length, files=1)
        if refusal is not None:
            if length <= self.limits.bytes.limit and "100-continue" not in headers.get("expect", "").lower():
                await _drain(receive)  # read and dropped: else the client may hear a reset, not the answer
            await refusal.send(send, lang)
            return
        try:
            await self.app(scope, receive, self._recording(send))
        finally:
            self.shelf.release(length)

    def keys(self, scope: Scope) -> list[str]:
        """What the limits count by: the address as the trusted proxy saw it, and the signed-in user."""
        keys = [f"address:{address_key(request_address(HTTPConnection(scope), self.settings))}"]
        user = _signed_in_user(scope)
        return [*keys, f"user:{user}"] if user else keys

    def _admit(self, keys: list[str], size: int, *, files: int) -> Refusal | None:
        """Room in the limits and in the folder for `size` more bytes, taken; or why not (nothing
        taken). No await inside: nothing else on the event loop runs between the check and the take."""
        refusal = self.limits.refusal(keys, size, files)
        if refusal is not None:
            return refusal
        wait = self.shelf.reserve(size)
        if wait > 0:
            return Refusal(503, "uploads_full", wait_s=wait)
        self.limits.take(keys, size, files)
        return None

    async def _streamed(self, scope: Scope, receive: Receive, send: Send, keys: list[str], lang: Lang) -> None:
        """A body of unknown length: its file counted at once, its bytes as they come; past a limit
        the rest never reaches Gradio, which is handed an ending it cannot parse so that it deletes
        the part it wrote (on a plain disconnect it would leave it), and the client hears the refusal."""
        refusal = self._admit(keys, 0, files=1)
        if refusal is not None:
            await refusal.send(send, lang)
            return
        cut: list[Refusal] = []
        reserved = [0]

        async def counted() -> Message:
            message = await receive()
            size = len(message.get("body", b"")) if message["type"] == "http.request" else 0
            if size and not cut:
                refused = self._admit(keys, size, files=0)
                if refused is None:
                    reserved[0] += size
                else:
                    cut.append(refused)
            if cut:
                return {"type": "http.request", "body": _unparsable_end(scope), "more_body": False}
            return message

        recording = self._recording(send)
        answered = [False]

        async def answer(message: Message) -> None:
            if not cut:
                await recording(message)
            elif message["type"] == "http.response.body" and not message.get("more_body") and not answered[0]:
                answered[0] = True
                await cut[0].send(send, lang)

        try:
            await self.app(scope, counted, answer)
        finally:
            self.shelf.release(reserved[0])
        if cut and not answered[0]:
            await cut[0].send(send, lang)

    def _recording(self, send: Send) -> Send:
        """`send`, noting the files the route answers it stored (a JSON list of their paths)."""
        status, body = [0], bytearray()

        async def recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif message["type"] == "http.response.body" and status[0] == 200:
                body.extend(message.get("body", b""))
                if not message.get("more_body"):
                    self.shelf.stored(_paths(bytes(body)))
            await send(message)

        return recording


def _is_upload(scope: Scope) -> bool:
    path = str(scope.get("path", "")).rstrip("/")
    return scope["type"] == "http" and scope.get("method") == "POST" and path.endswith(UPLOAD_PATH)


def _content_length(headers: Headers) -> int | None:
    raw = headers.get("content-length", "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


def _signed_in_user(scope: Scope) -> str | None:
    """The Hugging Face username of the sign-in cookie (Gradio's OAuth session), while it is valid."""
    session = scope.get("session")
    info = session.get("oauth_info") if isinstance(session, dict) else None
    if not isinstance(info, dict) or float(info.get("expires_at") or math.inf) < time.time():
        return None
    userinfo = info.get("userinfo")
    return clean_username(userinfo.get("preferred_username")) if isinstance(userinfo, dict) else None


def _unparsable_end(scope: Scope) -> bytes:
    """A boundary followed by a header line no multipart parser accepts: Gradio's parser then
    fails, and on that failure (only) it deletes the files it had begun to write."""
    content_type = Headers(scope=scope).get("content-type", "")
    boundary = content_type.partition("boundary=")[2].split(";")[0].strip().strip('"')
    return b"\r\n--" + boundary.encode("latin-1", "replace") + b"\r\n\x00:\r\n\r\n"


async def _drain(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body"):
            return


def _paths(body: bytes) -> list[str]:
    try:
        paths = json.loads(body)
    except ValueError:
        return []
    return [path for path in paths if isinstance(path, str)] if isinstance(paths, list) else []
