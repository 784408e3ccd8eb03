"""The page's own answers compressed on the wire: its HTML carries the whole component config
(some 350 KB for this page), which compresses to a seventh. Everything else (clips with their
Range requests, the queue's event stream, files) goes out exactly as Gradio sends it."""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

# The page and the JSON the browser reads to draw it; nothing else is worth the CPU or the risk.
COMPRESSED_PATHS = frozenset({"", "/config", "/gradio_api/info", "/info"})


class GzipPage:
    def __init__(self, app: ASGIApp, minimum_size: int = 1024) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", "")).rstrip("/")
        if scope["type"] == "http" and path in COMPRESSED_PATHS:
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
