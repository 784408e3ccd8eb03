"""The page's HTML and config go out compressed; clips, files and the queue's stream go out as they are."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from kling.app.gzip_page import GzipPage

BIG = "<div>" + "kling " * 2000 + "</div>"


def app() -> Starlette:
    async def page(request):
        return HTMLResponse(BIG)

    async def clip(request):
        return Response(b"\0" * 20_000, media_type="video/mp4")

    async def stream(request):
        async def events():
            yield "data: " + "x" * 5000 + "\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    routes = [Route("/", page), Route("/config", page), Route("/file=clip.mp4", clip), Route("/queue/data", stream)]
    return Starlette(routes=routes, middleware=[Middleware(GzipPage)])


def test_the_page_and_its_config_are_compressed_and_nothing_else():
    client = TestClient(app())
    headers = {"Accept-Encoding": "gzip"}
    for path in ("/", "/config"):
        answer = client.get(path, headers=headers)
        assert answer.headers.get("content-encoding") == "gzip" and answer.text == BIG
    clip = client.get("/file=clip.mp4", headers=headers)
    assert "content-encoding" not in clip.headers and len(clip.content) == 20_000
    stream = client.get("/queue/data", headers=headers)
    assert "content-encoding" not in stream.headers


def test_a_client_that_asks_for_no_compression_gets_none():
    answer = TestClient(app()).get("/", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in answer.headers and answer.text == BIG
