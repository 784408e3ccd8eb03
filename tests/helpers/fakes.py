"""A scripted fake API (httpx.MockTransport) and a clock that moves only when the client sleeps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

KEY = "sk-test-0123456789abcdef"
FAKE_MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64
TASK_ID = "abc123"


def envelope(status: str = "created", task_id: str = TASK_ID, **data: Any) -> dict[str, Any]:
    body = {
        "id": task_id,
        "model": "kwaivgi/kling-v2.0-t2v-master",
        "outputs": [],
        "urls": {"get": f"https://api.example/api/v3/predictions/{task_id}/result"},
        "has_nsfw_contents": [],
        "status": status,
        "created_at": "2026-11-21T12:34:56.789Z",
        "error": "",
        "timings": {"inference": 0},
    }
    if status == "completed":
        body.update(outputs=["https://cdn.example/out/clip.mp4"], has_nsfw_contents=[False])
    body.update(data)
    return {"code": 200, "message": "success", "data": body}


Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


@dataclass
class FakeAPI:
    """Answers from queues; when a queue is empty, the default for that route."""

    submits: list[Reply] = field(default_factory=list)
    polls: list[Reply] = field(default_factory=list)
    downloads: list[Reply] = field(default_factory=list)
    uploads: list[Reply] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if request.method == "POST" and "/kwaivgi/" in path:
            queue, default = self.submits, lambda r: httpx.Response(200, json=envelope("created"))
        elif request.method == "POST" and path.endswith("/media/upload/binary"):
            queue, default = (
                self.uploads,
                lambda r: httpx.Response(
                    200,
                    json={"code": 200, "message": "success", "data": {"download_url": "https://cdn.example/in.png"}},
                ),
            )
        elif request.method == "GET" and "/predictions/" in path:
            queue, default = self.polls, lambda r: httpx.Response(200, json=envelope("completed"))
        else:
            queue, default = self.downloads, lambda r: httpx.Response(200, content=FAKE_MP4)
        reply = queue.pop(0) if queue else default
        if isinstance(reply, Exception):
            raise reply
        return reply(request) if callable(reply) else reply

    def count(self, method: str, contains: str) -> int:
        return sum(1 for r in self.requests if r.method == method and contains in r.url.path)

    @property
    def posts(self) -> int:
        return self.count("POST", "/kwaivgi/")

    @property
    def gets(self) -> int:
        return self.count("GET", "/predictions/")


class FakeTime:
    """A clock that only moves when the client sleeps: no real waiting, every delay recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
