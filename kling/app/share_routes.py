"""The routes of shared links: /clip/<id> (the page), and under it the clip, its poster and (for
image-to-video) its start image. Registered on Gradio's own app (app_kwargs["routes"]), outside its
login: a shared link is meant for anyone who has it.

Each request looks the share up afresh, so an unshared link answers 404 from the next request on. A
share names its files itself (kling.store.sharing); the path's last part only picks one of those
three by a fixed name, so nothing else of the data folder is reachable from here.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from kling.app.share_page import IMAGE_NAMES, POSTER, VIDEO, clip_page, public_base
from kling.config import Settings
from kling.store.sharing import SharedClip, Sharing
from kling.strings import language

# Shared clips change only by being unshared: a short cache keeps that quick to take effect.
_CACHE = "public, max-age=60"


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


def share_routes(sharing: Sharing, settings: Settings) -> list[Route]:
    async def page(request: Request) -> Response:
        clip = await asyncio.to_thread(sharing.resolve, request.path_params["share_id"])
        if clip is None:
            return not_found()
        base = public_base(settings, str(request.base_url))
        body = clip_page(clip, base, language(request.headers.get("accept-language")))
        headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
        return HTMLResponse(body, headers=headers)

    async def file(request: Request) -> Response:
        clip = await asyncio.to_thread(sharing.resolve, request.path_params["share_id"])
        picked = pick_file(clip, request.path_params["name"]) if clip is not None else None
        if picked is None:
            return not_found()
        path, media_type = picked
        headers = {"Cache-Control": _CACHE, "X-Content-Type-Options": "nosniff"}
        return FileResponse(path, media_type=media_type, headers=headers)

    return [
        Route("/clip/{share_id}", page, methods=["GET", "HEAD"]),
        Route("/clip/{share_id}/{name}", file, methods=["GET", "HEAD"]),
    ]
