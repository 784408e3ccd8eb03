"""The simulator served on loopback (in a thread or a process of its own), and called in-process."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from kling.preview.simulator import SimConfig, Simulator
from tests.helpers.fakes import KEY
from tests.helpers.paths import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Served:
    simulator: Simulator
    url: str


def serve_in_thread(app: Any, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off", interface="asgi3")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    return server, thread


def sim_config(**values: Any) -> SimConfig:
    """The tests' simulator settings: a clip is rendered when first fetched, since most tests never
    download theirs (`render_on_submit=True` to render at submit, as the app's preview does)."""
    return SimConfig(**({"render_on_submit": False} | values))


def log_json(url: str) -> list[dict[str, Any]]:
    return json.loads(httpx.get(f"{url}/_sim/log").text)


@contextmanager
def simulator_process(*args: str) -> Iterator[str]:
    """`python -m kling simulator ARGS` in a process of its own (it outlives an app that is killed);
    yields its URL once it answers."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "kling", "simulator", "--port", str(port), *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{url}/_sim/log", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


AUTH = {"Authorization": f"Bearer {KEY}"}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def call(sim: Simulator, method: str, path: str, **kwargs) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app), base_url="http://sim.test") as http:
            return await http.request(method, path, **kwargs)

    return asyncio.run(go())
