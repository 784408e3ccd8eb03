"""The preview backend: a local ASGI app that speaks the WaveSpeed v3 API (docs/API.md).

With no API key the app and the CLI talk to it in-process (`httpx.ASGITransport`); tests and
`python -m kling simulator` serve it with uvicorn on loopback. Clips are real H.264 MP4 made by
`kling.media.render`, marked PREVIEW on every frame: a stand-in, never Kling output.

Status follows the clock: `created` for `queue_s`, then `processing` for `process_s` per 5 s of
clip, then `completed`; every delay is multiplied by `time_scale` (tests use ~0.01). Faults are
switched per test through `Simulator.faults` (or `POST /_sim/faults` when served), and every
request is in `Simulator.log` (or `GET /_sim/log`) with the key redacted.

Its parts: kling.preview.models (the model pages' tables), .tasks (timing and each task's `data`),
.faults (the switches and the answers they make), .media (image rules, uploads, rendered clips),
.webhooks (signed deliveries) and .routes (the HTTP surface, in tables of routes).

It is a reading of the API independent of the client: submits are checked against its own copy
of the models' parameter tables (`PARAMETERS`) and image rules (`IMAGE_*`), never with `kling.api.params`, so the
client's validation and the server's can disagree, and a test shows it when they do.
"""

from __future__ import annotations

import asyncio
import functools
import json
import secrets
import time
import uuid
from collections import deque
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from kling.preview import catalog, optimizer, routes
from kling.preview.faults import Faults
from kling.preview.media import Renders, Uploads, read_images
from kling.preview.models import check_body
from kling.preview.routes import RouteTable
from kling.preview.tasks import SimTask, TaskBoard, created_at
from kling.preview.webhooks import WebhookSender

# The route groups the simulator serves, in order (the submit route is added after them all).
ROUTE_TABLES: tuple[RouteTable, ...] = (
    routes.TASKS,
    routes.MEDIA,
    routes.ACCOUNT,
    catalog.CATALOG,
    routes.CONTROLS,
)


@dataclass
class SimConfig:
    api_key: str | None = None  # when set, only this bearer is accepted
    queue_s: float = 1.5
    process_s: float = 5.0  # per 5 s of clip
    time_scale: float = 1.0
    max_concurrent: int | None = None  # tasks beyond it wait in `created`
    sync_timeout_s: float = 90.0
    webhook_secret: str = field(default_factory=lambda: "whsec_" + secrets.token_hex(16))
    render_workers: int = 2
    # True: a clip's render starts with its task, so the clip is ready when the task completes (the
    # app's preview). False: it starts when the clip is first asked for (tests whose tasks are
    # never downloaded spend no CPU on them).
    render_on_submit: bool = True
    log_limit: int = 20_000  # requests kept in the log
    render_limit: int = 200  # clips kept on disk; older outputs answer 404, as expired ones do
    # Each task's processing time varies by up to +-this fraction (seeded), as real ones do;
    # benchmarks use it so completions do not all land at the same moment between two polls.
    run_jitter: float = 0.0
    seed: int = 0


@dataclass
class LoggedRequest:
    time: float
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    status: int | None = None


def _summarize(body: bytes, content_type: str) -> Any:
    """What the log keeps of a body: JSON with long strings (images) shortened, else a size."""
    if not body:
        return None
    if content_type.startswith("application/json"):
        try:
            value = json.loads(body)
        except ValueError:
            return {"bytes": len(body), "json": False}
        if isinstance(value, dict):
            return {
                k: (v[:60] + f"...({len(v)} chars)" if isinstance(v, str) and len(v) > 200 else v)
                for k, v in value.items()
            }
        return value
    return {"bytes": len(body), "content_type": content_type.split(";")[0]}


class Simulator:
    """One simulated WaveSpeed account. `app` is the ASGI application."""

    def __init__(
        self,
        config: SimConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        webhook_transport: httpx.AsyncBaseTransport | None = None,
        clip_dir: Path | None = None,
        route_tables: Sequence[RouteTable] = ROUTE_TABLES,
    ) -> None:
        """`clip_dir`: where rendered clips are kept, named by what they show; simulators given the
        same folder reuse each other's clips instead of rendering them again (tests). `route_tables`:
        the endpoints served, in order (the submit route always follows them)."""
        self.config = config or SimConfig()
        self.faults = Faults()
        # Bounded: in preview mode this simulator lives as long as the Space does.
        self.log: deque[LoggedRequest] = deque(maxlen=self.config.log_limit)
        self.board = TaskBoard(self.config, clock, self.config.seed)
        self.tasks: dict[str, SimTask] = self.board.tasks
        self.uploads = Uploads()
        self.renders = Renders(clip_dir, self.config.render_workers, self.config.render_limit)
        self._clock = clock
        self._webhooks = WebhookSender(webhook_transport)
        self.webhook_answers: list[tuple[int, str]] = self._webhooks.answers  # (status, text) of each delivery
        self._background: set[asyncio.Task[None]] = set()
        self._app = Starlette(routes=routes.routes(self, route_tables))

    # -- the ASGI entry, with the request log ------------------------------------------------

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self._app(scope, receive, send)
        headers = {k.decode().lower(): v.decode(errors="replace") for k, v in scope["headers"]}
        if "authorization" in headers:
            headers["authorization"] = "Bearer <redacted>"
        entry = LoggedRequest(
            time=time.time(),
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode(),
            headers=headers,
            body=None,
        )
        if not scope["path"].startswith("/_sim/log"):
            self.log.append(entry)
        body = bytearray()

        async def logged_receive():
            message = await receive()
            if message["type"] == "http.request":
                body.extend(message.get("body", b""))
            return message

        async def logged_send(message):
            if message["type"] == "http.response.start":
                entry.status = message["status"]
            await send(message)

        try:
            await self._app(scope, logged_receive, logged_send)
        finally:
            entry.body = _summarize(bytes(body), headers.get("content-type", ""))

    __call__ = app

    def finish_time(self, task_id: str) -> float:
        """When the task leaves `processing`, on the simulator's clock (inf for a stuck task)."""
        return self.board.finish_time(task_id)

    def status(self, task: SimTask) -> str:
        return self.board.status(task)

    def requests(self, method: str | None = None, path_contains: str = "") -> list[LoggedRequest]:
        return [r for r in self.log if (method is None or r.method == method) and path_contains in r.path]

    def submits(self) -> list[LoggedRequest]:
        return [r for r in self.log if r.method == "POST" and "/kwaivgi/" in r.path]

    def close(self) -> None:
        self.renders.close()

    # -- making a task ---------------------------------------------------------------------------

    def _create(self, model: str, body: dict[str, Any], webhook: str | None) -> SimTask | Response:
        """Check the body against the model page's table; make the task and start its render."""
        fields_in = {k: v for k, v in body.items() if not k.startswith("enable_")}
        values, problems = check_body(model, fields_in)
        if problems:
            return self.faults.error(400, "; ".join(problems))
        images, media_error, problem = read_images(values, self.uploads)
        if problem:
            return self.faults.error(400, problem)
        duration = values["duration"]
        task = SimTask(
            id=uuid.uuid4().hex,
            model=model,
            params={
                "prompt": values["prompt"],
                "duration": duration,
                "aspect_ratio": values.get("aspect_ratio"),
                "_input": {k: v for k, v in fields_in.items() if not (isinstance(v, str) and len(v) > 300)},
                "_created_at": created_at(),
            },
            submitted=self._clock(),
            run_s=self.board.run_seconds(duration),
            fail_code=self.faults.fail_code,
            final_status=self.faults.final_status,
            nsfw=self.faults.nsfw,
            stuck=self.faults.stuck,
            base64_output=bool(body.get("enable_base64_output")),
            webhook=webhook,
            media_error=media_error,
            undocumented_status=self.faults.undocumented_status,
            undocumented_share=self.faults.undocumented_share,
        )
        if not media_error and task.fail_code is None:
            start = functools.partial(self.renders.start, model, values, images)
            if self.config.render_on_submit:
                task.render = start()
            else:
                task.pending_render = start
        self.board.add(task)
        return task

    def _create_suggestion(self, body: dict[str, Any], webhook: str | None) -> SimTask | Response:
        """The prompt optimizer's task (kling.preview.optimizer): no clip, its answer is text."""
        values, problems = optimizer.check_fields(body)
        if problems:
            return self.faults.error(400, "; ".join(problems))
        sentence, media_error = None, ""
        if values["image"]:
            data = self.uploads.bytes_of(values["image"])
            sentence = optimizer.describe_image(data) if data is not None else None
            if data is None:
                media_error = f"Failed to fetch image from {values['image'][:100]}."
            elif sentence is None:
                return self.faults.error(400, "image is not a readable image")
        task = SimTask(
            id=uuid.uuid4().hex,
            model=optimizer.OPTIMIZER_MODEL,
            params={
                "prompt": values["text"],
                "_input": {k: v for k, v in body.items() if not (isinstance(v, str) and len(v) > 300)},
                "_created_at": created_at(),
            },
            submitted=self._clock(),
            run_s=self.board.scaled(self.config.process_s / 5),
            fail_code=self.faults.fail_code,
            final_status=self.faults.final_status,
            nsfw=False,
            stuck=self.faults.stuck,
            base64_output=False,
            webhook=webhook,
            media_error=media_error,
            text_output=optimizer.rewrite(values["text"], values["style"], values["mode"], sentence),
        )
        self.board.add(task)
        return task

    # -- webhooks --------------------------------------------------------------------------------

    def send_webhook(self, task: SimTask, url: str, base_url: str) -> None:
        """Deliver the task's webhook when it ends, in the background."""
        self._spawn(self._deliver_webhook(task, url, base_url))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        job = asyncio.ensure_future(coro)
        self._background.add(job)
        job.add_done_callback(self._background.discard)

    async def _deliver_webhook(self, task: SimTask, url: str, base_url: str) -> None:
        status = await self.board.ended(task)
        # The flat `data` object plus an `input` echo of the request, as WaveSpeed's docs describe.
        payload = {**await self.board.final_data(task, base_url, status), "input": task.params.get("_input", {})}
        await self._webhooks.deliver(
            url, payload, secret=self.config.webhook_secret, times=self.faults.webhook_deliveries
        )


def serve(host: str = "127.0.0.1", port: int = 8911, config: SimConfig | None = None) -> None:
    import uvicorn

    uvicorn.run(Simulator(config).app, host=host, port=port, log_level="warning", interface="asgi3")
