"""The routes of shared links: /clip/<id> (the page), and under it the clip, its poster and (for
image-to-video) its start image. Registered on Gradio's own app (app_kwargs["routes"]), outside its
login: a shared link is meant for anyone who has it.

A share names its files itself (kling.store.sharing); the path's last part only picks one of those
three by a fixed name, so nothing else of the data folder is reachable from here.

A shared page is public, so a flood of it must stay cheap for everyone else on the server:

- each request reads the share's row (an unshare answers 404 from the next request on) and nothing
  else: what the share resolves to is kept (`Sharing.served`), its page rendered once per language
  and kept until the share changes, its poster served from memory and its video without a stat;
- each address may load `share_views_per_minute` pages a minute (ten times that in files); past
  it, 429 with a sentence and Retry-After (after a one-second pause), before any lookup. The
  address is the one the trusted proxy saw (kling.app.identity), as for every limit of the app.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from kling.app.identity import address_key
from kling.app.share_page import IMAGE_NAMES, POSTER, VIDEO, clip_page, public_base
from kling.app.sliding_window import SlidingWindow
from kling.app.visitor import request_address
from kling.config import Settings
from kling.store.sharing import SharedClip, Sharing
from kling.strings import Lang, language, say

# Shared clips change only by being unshared: a short cache keeps that quick to take effect.
_CACHE = "public, max-age=60"
_SAFE = {"X-Content-Type-Options": "nosniff"}
FILES_PER_VIEW = 10  # a page's poster, its video's ranges, the Shared tab's posters
PAGES_KEPT = 1024  # rendered pages kept (a share in two languages is two)
# A refusal is answered after this pause, which costs a sleeping coroutine: a client that asks again
# as soon as it is answered then asks once a second per connection instead of as fast as the server
# can refuse, and the server's one event loop stays free for everyone else.
REFUSAL_PAUSE_S = 1.0
Render = Callable[[SharedClip, str, Lang], str]


def not_found() -> Response:
    return PlainTextResponse("Not found", status_code=404, headers={"Cache-Control": "no-store"})


def pick_file(clip: SharedClip, name: str) -> tuple[Path, str] | None:
    """The one file a share serves under `name`, with its media type; None for any other name."""
    if name == VIDEO:
        return clip.video, "video/mp4"
    if name == POSTER:
        return clip.poster, "image/jpeg"
    if clip.image is not None and name == IMAGE_NAMES.get(clip.image.suffix.lower()):
        return clip.image, "image/png" if name.endswith(".png") else f"image/{name.rsplit('.', 1)[1]}"
    return None


class RenderedPages:
    """Each share's page, rendered once per language and kept while the share resolves to the same
    SharedClip (an unshare, or a new resolution after the share's TTL, renders it anew)."""

    def __init__(self, render: Render, base: str) -> None:
        self.render = render
        self.base = base
        self._pages: OrderedDict[tuple[str, Lang], tuple[SharedClip, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def page(self, clip: SharedClip, lang: Lang) -> bytes:
        key = (clip.share.id, lang)
        with self._lock:
            kept = self._pages.get(key)
            if kept is not None and kept[0] is clip:
                self._pages.move_to_end(key)
                return kept[1]
        body = self.render(clip, self.base, lang).encode()
        with self._lock:
            self._pages[key] = (clip, body)
            while len(self._pages) > PAGES_KEPT:
                self._pages.popitem(last=False)
        return body

    def forget(self, share_id: str) -> None:
        with self._lock:
            for key in [key for key in self._pages if key[0] == share_id]:
                del self._pages[key]


class ViewLimits:
    """Pages and files of shared links per address per minute."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pages = SlidingWindow(settings.share_views_per_minute, 60.0)
        self.files = SlidingWindow(settings.share_views_per_minute * FILES_PER_VIEW, 60.0)

    def address(self, request: Request) -> str:
        return address_key(request_address(request, self.settings))

    async def refusal(self, window: SlidingWindow, request: Request) -> Response | None:
        """429 with one sentence and Retry-After once the request's address has had its minute."""
        wait = window.take(self.address(request))
        if not wait:
            return None
        await asyncio.sleep(REFUSAL_PAUSE_S)
        seconds = max(1, math.ceil(wait))
        sentence = say(
            language(request.headers.get("accept-language")),
            "share.views_limited",
            limit=self.settings.share_views_per_minute,
            seconds=seconds,
        )
        headers = {"Retry-After": str(seconds), "Cache-Control": "no-store", **_SAFE}
        return PlainTextResponse(sentence, status_code=429, headers=headers)


def file_response(clip: SharedClip, path: Path, media_type: str) -> Response:
    """The poster from memory; the video and start image from disk with the stat taken at resolve."""
    headers = {"Cache-Control": _CACHE, **_SAFE}
    if path == clip.poster and clip.poster_bytes:
        return Response(clip.poster_bytes, media_type=media_type, headers=headers)
    stat = clip.video_stat if path == clip.video else clip.image_stat
    return FileResponse(path, media_type=media_type, headers=headers, stat_result=stat)


def share_routes(sharing: Sharing, settings: Settings, *, render: Render = clip_page) -> list[Route]:
    """`render` is the page's renderer (a test counts its calls)."""
    pages = RenderedPages(render, public_base(settings))
    limits = ViewLimits(settings)

    async def served(share_id: str) -> SharedClip | None:
        clip = await asyncio.to_thread(sharing.served, share_id)
        if clip is None:
            pages.forget(share_id)
        return clip

    async def page(request: Request) -> Response:
        refused = await limits.refusal(limits.pages, request)
        if refused is not None:
            return refused
        clip = await served(request.path_params["share_id"])
        if clip is None:
            return not_found()
        body = pages.page(clip, language(request.headers.get("accept-language")))
        return HTMLResponse(body, headers={"Cache-Control": "no-cache", **_SAFE})

    async def file(request: Request) -> Response:
        refused = await limits.refusal(limits.files, request)
        if refused is not None:
            return refused
        clip = await served(request.path_params["share_id"])
        picked = pick_file(clip, request.path_params["name"]) if clip is not None else None
        if clip is None or picked is None:
            return not_found()
        return file_response(clip, *picked)

    return [
        Route("/clip/{share_id}", page, methods=["GET", "HEAD"]),
        Route("/clip/{share_id}/{name}", file, methods=["GET", "HEAD"]),
    ]
