"""Shared fixtures: a scripted fake API (httpx.MockTransport), the simulator served on loopback,
and images made on the fly."""

from __future__ import annotations

import gc
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from gradio.i18n import I18nData
from PIL import Image

from kling.api.backend import Backend
from kling.api.models import PollPolicy
from kling.app.handlers import Handlers
from kling.app.identity import new_browser_token, owner_for, state_secret
from kling.app.studio import Studio
from kling.app.tabs.generate import Generation
from kling.config import Settings
from kling.jobs.runner import Runner
from kling.preview.simulator import SimConfig, Simulator
from kling.store.clips import ClipShelf
from kling.store.journal import Job, Journal
from kling.strings import PAGE_EN

# The modules imported above (gradio, PyAV, httpx...) stay for the whole session: frozen, the
# garbage collector stops walking their objects at every full collection (about 5 s of the fast loop).
gc.freeze()


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (pyproject.toml): a worker per core and one more, at most four. The slow tests spend
    most of their time waiting (a simulated task's stages, a browser's timers): on 2 cores, two
    workers kept about one core busy; every worker launches its own apps and browser, hence the cap."""
    return max(1, min(len(os.sched_getaffinity(0)) + 1, 4))


# What a test costs a worker, roughly, by its marks: a browser test drives Chromium against a launched
# app, a slow one launches, renders or waits; the rest take milliseconds.
TEST_WEIGHTS = {"browser": 8.0, "slow": 4.0}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker, the heaviest test files first (pyproject.toml's `--no-loadscope-reorder`
    keeps this order): a worker that draws a heavy file late would otherwise run it alone while the
    others sit idle. Tests keep their order within a file; `-n 0` keeps the plain order."""
    if not hasattr(config, "workerinput"):
        return
    weights: dict[Path, float] = {}
    for item in items:
        marks = {mark.name for mark in item.iter_markers()}
        cost = max((TEST_WEIGHTS[name] for name in marks & TEST_WEIGHTS.keys()), default=0.05)
        weights[item.path] = weights.get(item.path, 0.0) + cost
    items.sort(key=lambda item: -weights[item.path])


ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-test-0123456789abcdef"
# Clips rendered by the tests' simulators, shared for the session: a clip asked for again (same
# model, prompt, length, images) is not rendered again. Tests of rendering itself render their own.
SIM_CLIPS = Path(tempfile.mkdtemp(prefix="kling-test-clips-"))
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


@pytest.fixture(scope="session", autouse=True)
def _shared_simulator_clips() -> Iterator[None]:
    yield
    shutil.rmtree(SIM_CLIPS, ignore_errors=True)


@pytest.fixture
def fake_api() -> FakeAPI:
    return FakeAPI()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def english(value: Any) -> Any:
    """What the page shows an English browser: a fixed text's English (kling/strings.py), else the
    value. A fixed text reaches Gradio as an I18nData, or as its marked string in an update."""
    if isinstance(value, I18nData):
        return PAGE_EN[value.key]
    if isinstance(value, str) and value.startswith("__i18n__"):
        return PAGE_EN[json.loads(value.removeprefix("__i18n__"))["key"]]
    return value


def image_bytes(width: int, height: int, fmt: str = "PNG", color=(200, 120, 40)) -> bytes:
    buffer = io.BytesIO()
    img = Image.new("RGB", (width, height), color)
    # A little structure so renders and encoders have something to move.
    for x in range(0, width, max(1, width // 8)):
        img.paste((40, 80, 200), (x, 0, x + max(1, width // 16), height))
    img.save(buffer, format=fmt)
    return buffer.getvalue()


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


@pytest.fixture
def served_simulator() -> Iterator[Served]:
    """The simulator on a real loopback port, fast clock, requiring KEY."""
    simulator = Simulator(sim_config(api_key=KEY, queue_s=0.1, process_s=0.3, time_scale=1.0), clip_dir=SIM_CLIPS)
    port = free_port()
    server, thread = serve_in_thread(simulator.app, port)
    try:
        yield Served(simulator, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        simulator.close()


def log_json(url: str) -> list[dict[str, Any]]:
    return json.loads(httpx.get(f"{url}/_sim/log").text)


@dataclass(frozen=True)
class Probe:
    codec: str
    pix_fmt: str
    width: int
    height: int
    frames: int
    fps: float

    @property
    def seconds(self) -> float:
        return self.frames / self.fps


def probe(path_or_bytes: Any) -> Probe:
    """Decode a clip fully: codec, size, frame count. Fails on anything that is not a real video."""
    import av

    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else str(path_or_bytes)
    with av.open(source) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return Probe(
            stream.codec_context.name,
            stream.codec_context.pix_fmt or "",
            stream.codec_context.width,
            stream.codec_context.height,
            frames,
            float(stream.average_rate),
        )


@dataclass
class LaunchedApp:
    url: str
    process: subprocess.Popen
    data_dir: Path
    simulator: Simulator | None = None

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the app's console (launch_app writes it beside the data folder): what an
        event that failed without a message to the page (Gradio hides unexpected errors) said."""
        log = self.data_dir.parent / "app.log"
        return log.read_text(errors="replace")[-chars:] if log.exists() else "(no app.log)"

    def client(self, **kwargs):
        import gradio_client

        return gradio_client.Client(self.url, verbose=False, **kwargs)


def launch_app(tmp: Path, env_extra: dict[str, str]) -> LaunchedApp:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WAVESPEED_", "KLING_", "GRADIO_"))}
    # Every test visitor comes from 127.0.0.1: generous limits unless a test sets its own.
    env.update(
        GRADIO_SERVER_PORT=str(port),
        GRADIO_SERVER_NAME="127.0.0.1",
        KLING_DATA_DIR=str(tmp / "data"),
        GRADIO_ANALYTICS_ENABLED="False",
        PYTHONUNBUFFERED="1",
        KLING_TASKS_PER_HOUR_PER_IP="1000",
        KLING_TASKS_PER_HOUR_PER_BROWSER="1000",
        KLING_IN_FLIGHT_PER_ADDRESS="1000",
        KLING_PREVIEWS_PER_HOUR_PER_IP="1000",
    )
    env.update(env_extra)
    log = (tmp / "app.log").open("w")
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app exited: {(tmp / 'app.log').read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return LaunchedApp(url, process, tmp / "data")
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    process.kill()
    raise RuntimeError("app did not answer within 90 s")


def stop(app: LaunchedApp) -> None:
    app.process.terminate()
    try:
        app.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        app.process.kill()


@contextmanager
def live_app_on_simulator(
    tmp: Path, config: SimConfig, env_extra: dict[str, str] | None = None
) -> Iterator[LaunchedApp]:
    """The simulator served on loopback with `config` (set api_key to require one), and the app
    launched against it in live mode with KEY; `app.simulator` is the simulator."""
    simulator = Simulator(config, clip_dir=SIM_CLIPS)
    port = free_port()
    server, thread = serve_in_thread(simulator.app, port)
    try:
        app = launch_app(
            tmp, {"WAVESPEED_API_KEY": KEY, "WAVESPEED_BASE_URL": f"http://127.0.0.1:{port}", **(env_extra or {})}
        )
        app.simulator = simulator
        try:
            yield app
        finally:
            stop(app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        simulator.close()


@pytest.fixture(scope="module")
def preview_app(tmp_path_factory) -> Iterator[LaunchedApp]:
    """`python app.py` with no key, once per test module."""
    app = launch_app(tmp_path_factory.mktemp("preview"), {})
    yield app
    stop(app)


@pytest.fixture(scope="module")
def live_app(tmp_path_factory) -> Iterator[LaunchedApp]:
    """`python app.py` in live mode against the simulator (which requires KEY), once per test module."""
    with live_app_on_simulator(
        tmp_path_factory.mktemp("live"), SimConfig(api_key=KEY, queue_s=1.0, process_s=2.5)
    ) as app:
        yield app


def cli(
    *args: str, key: str | None = KEY, base_url: str | None = None, cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess:
    """`python -m kling ARGS` in `cwd`, its data folder `cwd/data`, with `key` (None: preview mode)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WAVESPEED_", "KLING_"))}
    env.update(PYTHONPATH=str(ROOT), KLING_DATA_DIR=str(cwd / "data"))
    if key:
        env["WAVESPEED_API_KEY"] = key
    if base_url:
        env["WAVESPEED_BASE_URL"] = base_url
    return subprocess.run(
        [sys.executable, "-m", "kling", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


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


def make_runner(
    tmp_path: Path,
    *,
    key: str | None = KEY,
    transport: httpx.AsyncBaseTransport | None = None,
    fake_time: FakeTime | None = None,
    poll: PollPolicy | None = None,
    simulator: Simulator | None = None,
    **config: Any,
) -> tuple[Runner, Simulator]:
    """A live-mode runner whose HTTP goes to an in-process simulator (no port) or to `transport`.
    With `fake_time`, the client and the simulator share a clock that moves only when the client
    sleeps: a Retry-After or a poll interval costs no real time. `simulator`: reuse one (and its
    rendered clips) instead of making a new one."""
    simulator = simulator or Simulator(
        sim_config(api_key=key, queue_s=0.05, process_s=0.2, **config),
        clip_dir=SIM_CLIPS,
        **({"clock": fake_time.clock} if fake_time else {}),
    )
    settings = Settings(api_key=key, base_url="http://sim.test", data_dir=tmp_path / "data")
    backend = Backend(
        settings,
        # Without a key the backend previews: through this simulator too (shared clips, rendered
        # when fetched), not one of its own rendering every clip in the background.
        simulator=simulator if key is None else None,
        transport=transport or httpx.ASGITransport(app=simulator.app),
        live_poll=poll or PollPolicy(first=0.05, ceiling=0.1, jitter=0.0),
        **({"sleep": fake_time.sleep, "clock": fake_time.clock} if fake_time else {}),
    )
    return Runner(backend, Journal(settings.journal_path)), simulator


def page_handlers(runner: Runner, tmp_path: Path, *, secret: bytes = b"") -> Handlers:
    """The page built over `runner`, and its handlers (bound to the page's components). `secret`:
    the key browser ids are signed with (default: the data folder's own)."""
    settings = runner.backend.settings
    studio = Studio(settings, runner.backend, runner.journal, runner, ClipShelf(tmp_path / "clips"), secret)
    return studio.build_with_handlers()[1]


def generation_over(runner: Runner, tmp_path: Path) -> Generation:
    """The generate tabs' handlers over `runner` without building the page (about a second and a
    half each): for the handlers that return values, not updates keyed by the page's components."""
    settings = runner.backend.settings
    secret = state_secret(settings.state_secret, settings.data_dir)
    return Generation(settings, runner, ClipShelf(tmp_path / "clips"), secret=secret)


def a_job(task_id: str = "t1", **fields: Any) -> Job:
    """A journal row made by hand, for code that only reads rows: a completed live text-to-video task
    of owner "o", unless `fields` (named as Job's) say otherwise."""
    row: dict[str, Any] = {
        "id": task_id, "model": "kwaivgi/kling-v2.0-t2v-master", "mode": "live", "owner": "o", "ip_hash": "",
        "key_fingerprint": "", "params": {}, "status": "completed", "error_code": None, "error": "",
        "output_url": "", "local_path": "", "price_cents": 130, "inference_ms": None, "nsfw": False,
        "created": 0.0, "updated": 0.0,
    }  # fmt: skip
    return Job(**(row | fields))


def signed_session(secret: bytes, key: str = "") -> tuple[dict[str, str], str]:
    """A browser's session as the page's restore handler leaves it (its id signed with `secret`, the
    page's `generation.secret`), and the journal owner it proves."""
    token = new_browser_token(secret)
    return {"token": token, "key": key}, owner_for(username=None, browser_token=token, secret=secret)


async def finish(run):
    """The last state of a run, once it has ended."""
    async for state in run.watch(tick=0.5):  # noqa: B007 (the loop's last value is the answer)
        pass
    return state
