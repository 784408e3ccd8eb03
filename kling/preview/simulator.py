"""The preview backend: a local ASGI app that speaks the WaveSpeed v3 API (docs/API.md).

With no API key the app and the CLI talk to it in-process (`httpx.ASGITransport`); tests and
`python -m kling simulator` serve it with uvicorn on loopback. Clips are real H.264 MP4 made by
`kling.media.render`, marked PREVIEW on every frame: a stand-in, never Kling output.

Status follows the clock: `created` for `queue_s`, then `processing` for `process_s` per 5 s of
clip, then `completed`; every delay is multiplied by `time_scale` (tests use ~0.01). Faults are
switched per test through `Simulator.faults` (or `POST /_sim/faults` when served), and every
request is in `Simulator.log` (or `GET /_sim/log`) with the key redacted.

It is a reading of the API independent of the client: submits are checked against its own copy
of the models' parameter tables (`PARAMETERS`, `IMAGE_RULES`), never with `kling.api.params`, so the
client's validation and the server's can disagree, and a test shows it when they do.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import hashlib
import heapq
import hmac
import io
import json
import random
import secrets
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from http import HTTPStatus
from pathlib import Path
from typing import Any

import httpx
from PIL import Image, UnidentifiedImageError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from kling.preview import optimizer as sim_optimizer
from kling.preview.catalog import catalog_routes

API = "/api/v3"
I2V_MODEL = "kwaivgi/kling-v2.0-i2v-master"
T2V_MODEL = "kwaivgi/kling-v2.0-t2v-master"


@dataclass(frozen=True)
class Param:
    """One row of a model page's parameter table."""

    kind: str  # "string", "number", "integer", "image"
    required: bool = False
    default: Any = None
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None


# The two model pages' tables, as WaveSpeed publishes them.
PARAMETERS: dict[str, dict[str, Param]] = {
    I2V_MODEL: {
        "image": Param("image", required=True),
        "end_image": Param("image"),
        "prompt": Param("string", required=True, max_length=2500),
        "negative_prompt": Param("string"),
        "guidance_scale": Param("number", default=0.5, minimum=0.0, maximum=1.0),
        "duration": Param("integer", default=5, choices=(5, 10)),
    },
    T2V_MODEL: {
        "prompt": Param("string", required=True, max_length=2500),
        "negative_prompt": Param("string"),
        "aspect_ratio": Param("string", default="16:9", choices=("16:9", "9:16", "1:1")),
        "duration": Param("integer", default=5, choices=(5, 10)),
    },
}
MODELS = set(PARAMETERS)
# "jpg/jpeg/png, at most 10MB, at least 300*300px, aspect ratio between 1:2.5 ~ 2.5:1" (the
# aspect rule is stated for `image` only).
IMAGE_FORMATS = {"JPEG", "PNG"}
IMAGE_MAX_BYTES = 10 * 1024 * 1024
IMAGE_MIN_SIDE = 300
IMAGE_MAX_RATIO = 2.5


def check_body(model: str, body: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The body with defaults filled in, and every rule it breaks (images are checked apart)."""
    table = PARAMETERS[model]
    problems = [f"unknown parameter {name}" for name in sorted(set(body) - set(table))]
    values: dict[str, Any] = {}
    for name, rule in table.items():
        value = body.get(name, rule.default)
        if value is None or (rule.kind == "string" and value == "" and not rule.required):
            if rule.required:
                problems.append(f"{name} is required")
            continue
        if rule.kind == "integer" and isinstance(value, str) and value.strip().isdigit():
            value = int(value)  # old examples sent "5"
        if rule.kind in ("string", "image") and not isinstance(value, str):
            problems.append(f"{name} must be a string")
        elif rule.kind == "string" and rule.required and not value.strip():
            problems.append(f"{name} is required")
        elif rule.kind == "integer" and (not isinstance(value, int) or isinstance(value, bool)):
            problems.append(f"{name} must be an integer")
        elif rule.kind == "number" and (not isinstance(value, (int, float)) or isinstance(value, bool)):
            problems.append(f"{name} must be a number")
        elif rule.choices and value not in rule.choices:
            problems.append(f"{name} must be one of {', '.join(map(str, rule.choices))}")
        elif rule.minimum is not None and not rule.minimum <= value <= rule.maximum:
            problems.append(f"{name} must be between {rule.minimum} and {rule.maximum}")
        elif rule.max_length is not None and len(value) > rule.max_length:
            problems.append(f"{name} is longer than {rule.max_length} characters")
        values[name] = value
    return values, problems


def check_image(name: str, data: bytes) -> str | None:
    """The image rule `data` breaks, or None."""
    if len(data) > IMAGE_MAX_BYTES:
        return f"{name} is larger than 10MB"
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt, (width, height) = img.format, img.size
    except (UnidentifiedImageError, OSError):
        return f"{name} is not a jpg/jpeg/png image"
    if fmt not in IMAGE_FORMATS:
        return f"{name} must be jpg/jpeg/png, not {fmt}"
    if width < IMAGE_MIN_SIDE or height < IMAGE_MIN_SIDE:
        return f"{name} must be at least 300*300px, not {width}*{height}"
    if name == "image" and not 1 / IMAGE_MAX_RATIO <= width / height <= IMAGE_MAX_RATIO:
        return f"{name} aspect ratio must be between 1:2.5 and 2.5:1"
    return None


SUBMIT_FAULTS = {
    # refused outright, no task made
    "401",
    "402",
    "403",
    "429",
    "500_before_create",
    "503",
    "refused_in_200",  # HTTP 200, body code 400 with a reason: refused, no task
    "insufficient_in_200",  # HTTP 200, body code 402: no credit, no task
    "busy_in_200",  # HTTP 200, body code 503: refused before any task, may be sent again
    "image_unfetchable",  # 400 whose data.error says the image could not be fetched
    # the task is made, then the answer goes wrong
    "500",
    "502",
    "504",
    "drop",
    "timeout",
}
POLL_FAULTS = {"429", "500", "502", "503", "504", "timeout", "drop", "null_data", "not_json", "404"}


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
class Faults:
    """Switches a test flips. `submit` and `poll` are one-shot queues, consumed in order."""

    submit: list[str] = field(default_factory=list)
    poll: list[str] = field(default_factory=list)
    fail_code: int | None = None  # new tasks end `failed` with this data.code
    final_status: str | None = None  # new tasks end with this status instead (e.g. "cancelled")
    nsfw: bool = False
    stuck: bool = False  # new tasks never leave `processing`
    expire_outputs: bool = False  # output URLs answer 404
    retry_after: int = 1
    hang_s: float = 30.0  # how long a "timeout" fault keeps the client waiting
    # New tasks answer this status (say "pending") instead of created/processing for the first
    # `undocumented_share` of their run: a status the docs do not list, while the task runs.
    undocumented_status: str | None = None
    undocumented_share: float = 0.5
    # Where an error answer puts its reason: "message" ({"code","message":reason,"data":null}),
    # "data_error" (WaveSpeed's OpenAPI: "message":"Bad Request","data":{"error":reason}), "error".
    error_shape: str = "message"
    binary_upload_status: int | None = None  # 404/405: the binary upload endpoint is retired
    listing: bool = True  # POST /api/v3/predictions answers (False: 404)
    webhook_deliveries: int = 1  # each webhook is sent this many times (WaveSpeed may repeat one)
    balance: float = 100.0  # what GET /api/v3/balance answers, in dollars
    # The catalog (kling/sim_catalog.py): "" as read, or "duration_removed", "field_renamed",
    # "not_found", "unknown_shape".
    catalog: str = ""

    def update(self, changes: dict[str, Any]) -> None:
        names = {f.name for f in fields(self)}
        unknown = set(changes) - names
        if unknown:
            raise ValueError(f"unknown fault switches: {sorted(unknown)}")
        for name, value in changes.items():
            setattr(self, name, value)


@dataclass
class LoggedRequest:
    time: float
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    status: int | None = None


@dataclass
class SimTask:
    id: str
    model: str
    params: dict[str, Any]
    submitted: float
    run_s: float
    fail_code: int | None
    final_status: str | None
    nsfw: bool
    stuck: bool
    base64_output: bool
    webhook: str | None
    render: Future[Path] | None = None
    # The render not started yet (render_on_submit=False): started by `_clip_of` on first need.
    pending_render: Callable[[], Future[Path]] | None = None
    media_error: str = ""
    undocumented_status: str | None = None
    undocumented_share: float = 0.0
    text_output: str | None = None  # the prompt optimizer's answer: its outputs[0] is text, not a URL


FINAL_STATUSES = {"completed", "failed", "cancelled", "timeout", "deleted"}
FAILURE_TEXT = {
    1200: "The content was flagged by moderation.",
    1400: "A required parameter is missing.",
    1401: "A parameter is invalid.",
    1402: "The media URL could not be fetched.",
    1403: "Execution failed.",
    1405: "Execution failed.",
    5000: "Internal server error.",
    5003: "The service is unavailable.",
    5004: "The task timed out.",
}


class _Dropped(httpx.RemoteProtocolError):
    """Raised inside a handler to cut the connection: uvicorn closes it, ASGITransport raises it."""


def _envelope(data: Any, code: int = 200, message: str = "success") -> dict[str, Any]:
    return {"code": code, "message": message, "data": data}


# Set per simulator by `Simulator._error_shape`; module-level so every handler's errors follow it.
def _error(
    status: int, message: str, headers: dict[str, str] | None = None, *, shape: str = "message", http: int | None = None
) -> JSONResponse:
    if shape == "data_error":
        body: dict[str, Any] = _envelope({"error": message}, status, HTTPStatus(status).phrase)
    elif shape == "error":
        body = {"error": message}
    else:
        body = _envelope(None, status, message)
    return JSONResponse(body, status_code=http or status, headers=headers)


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
    ) -> None:
        """`clip_dir`: where rendered clips are kept, named by what they show; simulators given the
        same folder reuse each other's clips instead of rendering them again (tests)."""
        self.config = config or SimConfig()
        self.faults = Faults()
        # Bounded: in preview mode this simulator lives as long as the Space does.
        self.log: deque[LoggedRequest] = deque(maxlen=self.config.log_limit)
        self.tasks: dict[str, SimTask] = {}
        self.media: dict[str, tuple[bytes, str]] = {}
        self._tickets: dict[str, str] = {}
        self._clock = clock
        self._workdir = clip_dir or Path(tempfile.mkdtemp(prefix="kling-sim-"))
        self._owns_workdir = clip_dir is None  # a shared clip_dir is the caller's to clean
        self._renders: dict[str, Future[Path]] = {}
        self._schedule_cache: tuple[int, dict[str, tuple[float, float]]] = (-1, {})
        self._rng = random.Random(self.config.seed)
        self._executor = ThreadPoolExecutor(max_workers=self.config.render_workers, thread_name_prefix="kling-render")
        self._webhook_transport = webhook_transport
        self._background: set[asyncio.Task[None]] = set()
        self.webhook_answers: list[tuple[int, str]] = []  # (status, text) of each webhook delivery
        routes = [
            Route(f"{API}/predictions/{{task_id}}/result", self.result, methods=["GET"]),
            Route(f"{API}/predictions/{{task_id}}", self.result, methods=["GET"]),
            Route(f"{API}/media/upload/binary", self.upload_binary, methods=["POST"]),
            Route(f"{API}/media/uploads", self.upload_ticket, methods=["POST"]),
            Route(f"{API}/webhook/secret", self.webhook_secret, methods=["GET"]),
            Route(f"{API}/balance", self.balance, methods=["GET"]),
            Route(f"{API}/predictions", self.list_predictions, methods=["POST"]),
            *catalog_routes(self),
            # Last: any other POST /api/v3/<owner>/<model> is a submit (unknown models get 404).
            Route(f"{API}/{{owner}}/{{model}}", self.submit, methods=["POST"]),
            Route("/_sim/upload/{token}", self.upload_put, methods=["PUT"]),
            Route("/media/{name}", self.media_file, methods=["GET", "HEAD"]),
            Route("/outputs/{name}", self.output_file, methods=["GET", "HEAD"]),
            Route("/_sim/log", self.get_log, methods=["GET"]),
            Route("/_sim/faults", self.set_faults, methods=["POST"]),
        ]
        self._app = Starlette(routes=routes)

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
        return self._schedule()[task_id][1]

    def _run_factor(self) -> float:
        jitter = self.config.run_jitter
        return 1 + jitter * (2 * self._rng.random() - 1) if jitter else 1.0

    def requests(self, method: str | None = None, path_contains: str = "") -> list[LoggedRequest]:
        return [r for r in self.log if (method is None or r.method == method) and path_contains in r.path]

    def submits(self) -> list[LoggedRequest]:
        return [r for r in self.log if r.method == "POST" and "/kwaivgi/" in r.path]

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    # -- helpers -------------------------------------------------------------------------------

    def _err(self, status: int, message: str, headers: dict[str, str] | None = None, **kwargs: Any) -> JSONResponse:
        return _error(status, message, headers, shape=self.faults.error_shape, **kwargs)

    def _scaled(self, seconds: float) -> float:
        return seconds * self.config.time_scale

    def _authorized(self, request: Request) -> JSONResponse | None:
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return self._err(401, "Unauthorized: missing API key")
        expected = self.config.api_key
        if expected is not None and not hmac.compare_digest(auth[7:].strip(), expected):
            return self._err(401, "Unauthorized: invalid API key")
        return None

    def _schedule(self) -> dict[str, tuple[float, float]]:
        # Tasks are only ever added, and each one's timing is fixed when it is made: the schedule
        # changes only when a task is added, so it is computed once per task, not once per poll.
        if self._schedule_cache[0] != len(self.tasks):
            self._schedule_cache = (len(self.tasks), self._compute_schedule())
        return self._schedule_cache[1]

    def _compute_schedule(self) -> dict[str, tuple[float, float]]:
        """(start, end) of every task on the clock, honouring the concurrency cap in submit order."""
        cap = self.config.max_concurrent
        free_at: list[float] = []
        times: dict[str, tuple[float, float]] = {}
        for task in sorted(self.tasks.values(), key=lambda t: t.submitted):
            start = task.submitted + self._scaled(self.config.queue_s)
            if cap is not None and len(free_at) >= cap:
                start = max(start, heapq.heappop(free_at))
            end = float("inf") if task.stuck else start + task.run_s
            if cap is not None:
                heapq.heappush(free_at, end)
            times[task.id] = (start, end)
        return times

    def status(self, task: SimTask) -> str:
        start, end = self._schedule()[task.id]
        now = self._clock()
        if task.media_error:
            return "failed"
        if task.undocumented_status and now < task.submitted + task.undocumented_share * (end - task.submitted):
            return task.undocumented_status
        if now < start:
            return "created"
        if now < end:
            return "processing"
        if task.fail_code is not None:
            return "failed"
        return task.final_status or "completed"

    def _data(self, task: SimTask, base_url: str, status: str | None = None) -> dict[str, Any]:
        status = status or self.status(task)
        data: dict[str, Any] = {
            "id": task.id,
            "model": task.model,
            "outputs": [],
            "urls": {"get": f"{base_url}{API}/predictions/{task.id}/result"},
            "has_nsfw_contents": [],
            "status": status,
            "created_at": task.params["_created_at"],
            "error": "",
            "timings": {"inference": 0},
        }
        if status == "completed":
            data["outputs"] = [task.text_output or f"{base_url}/outputs/{task.id}.mp4"]
            data["has_nsfw_contents"] = [task.nsfw]
            data["timings"] = {"inference": int(task.run_s * 1000 / max(self.config.time_scale, 1e-9))}
        elif status == "failed":
            # status() says "failed" only for a media error or a fail_code, so 1402 stands for the first.
            code = task.fail_code if task.fail_code is not None and not task.media_error else 1402
            data["error"] = task.media_error or FAILURE_TEXT.get(code, "Execution failed.")
            data["code"] = code
        elif status in FINAL_STATUSES:
            data["error"] = f"The task was {status}."
        return data

    def _base_url(self, request: Request) -> str:
        return str(request.base_url).rstrip("/")

    # -- submit ----------------------------------------------------------------------------------

    async def submit(self, request: Request) -> Response:
        denied = self._authorized(request)
        if denied:
            return denied
        model = f"{request.path_params['owner']}/{request.path_params['model']}"
        if model not in MODELS and model != sim_optimizer.OPTIMIZER_MODEL:
            return self._err(404, f"Model not found: {model}")
        fault = self.faults.submit.pop(0) if self.faults.submit else None
        refused = self._refusal(fault)
        if refused:
            return refused
        try:
            body = await request.json()
        except ValueError:
            return self._err(400, "The request body is not valid JSON.")
        if not isinstance(body, dict):
            return self._err(400, "The request body must be a JSON object.")
        webhook = request.query_params.get("webhook")
        if webhook and body.get("enable_base64_output"):
            return self._err(400, "enable_base64_output cannot be combined with a webhook.")
        if model == sim_optimizer.OPTIMIZER_MODEL:
            task_or_error = self._create_suggestion(body, webhook)
        else:
            task_or_error = self._create(model, body, webhook)
        if isinstance(task_or_error, Response):
            return task_or_error
        task = task_or_error
        base_url = self._base_url(request)
        if webhook:
            self._spawn(self._deliver_webhook(task, webhook, base_url))
        if fault == "500":
            return self._err(500, "Internal server error")
        if fault in ("502", "504"):
            # A gateway in front of the API answers, with its own HTML page: the task exists.
            title = "502 Bad Gateway" if fault == "502" else "504 Gateway Time-out"
            page = f"<html><head><title>{title}</title></head><body><center><h1>{title}</h1></center>"
            return Response(
                page + "<hr><center>nginx</center></body></html>" + " " * 600, int(fault), media_type="text/html"
            )
        if fault == "drop":
            raise _Dropped("simulated: connection dropped after the task was created")
        if fault == "timeout":
            await asyncio.sleep(self.faults.hang_s)
        if body.get("enable_sync_mode"):
            return JSONResponse(_envelope(await self._sync_wait(task, base_url)))
        return JSONResponse(_envelope(self._data(task, base_url, status="created")))

    def _refusal(self, fault: str | None) -> Response | None:
        if fault is None or fault not in SUBMIT_FAULTS:
            return None
        retry = {"Retry-After": str(self.faults.retry_after)}
        return {
            "401": lambda: self._err(401, "Unauthorized: invalid API key"),
            "402": lambda: self._err(402, "Insufficient credits"),
            "403": lambda: self._err(403, "Account suspended"),
            "429": lambda: self._err(429, "Rate limit exceeded", retry),
            "503": lambda: self._err(503, "Service temporarily unavailable", retry),
            "500_before_create": lambda: self._err(500, "Internal server error"),
            "refused_in_200": lambda: self._err(400, "prompt: rejected by the safety filter", http=200),
            "insufficient_in_200": lambda: self._err(402, "Insufficient balance", http=200),
            "busy_in_200": lambda: self._err(503, "Service temporarily unavailable", retry, http=200),
            "image_unfetchable": lambda: _error(
                400, "Failed to fetch image from url: the server answered 403 Forbidden", shape="data_error"
            ),
        }.get(fault, lambda: None)()

    def _create(self, model: str, body: dict[str, Any], webhook: str | None) -> SimTask | Response:
        """Check the body against the model page's table; make the task and start its render."""
        fields_in = {k: v for k, v in body.items() if not k.startswith("enable_")}
        values, problems = check_body(model, fields_in)
        if problems:
            return self._err(400, "; ".join(problems))
        images: dict[str, bytes | None] = {"image": None, "end_image": None}
        media_error = ""
        for name in ("image", "end_image"):
            ref = values.get(name)
            if ref is None:
                continue
            data = images[name] = self._media_bytes(ref)
            if data is None:
                # Like WaveSpeed, a URL it cannot read fails the task (1402), not the submit.
                media_error = (
                    f"Failed to fetch {name} from {ref[:100]}: the preview simulator reads only images "
                    "uploaded to it or sent as data URIs."
                )
                continue
            problem = check_image(name, data)
            if problem:
                return self._err(400, problem)
        duration = values["duration"]
        task = SimTask(
            id=uuid.uuid4().hex,
            model=model,
            params={
                "prompt": values["prompt"],
                "duration": duration,
                "aspect_ratio": values.get("aspect_ratio"),
                "_input": {k: v for k, v in fields_in.items() if not (isinstance(v, str) and len(v) > 300)},
                "_created_at": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            },
            submitted=self._clock(),
            run_s=self._scaled(self.config.process_s * duration / 5) * self._run_factor(),
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
            start = functools.partial(self._render, model, values, images)
            if self.config.render_on_submit:
                task.render = start()
            else:
                task.pending_render = start
        self.tasks[task.id] = task
        return task

    def _create_suggestion(self, body: dict[str, Any], webhook: str | None) -> SimTask | Response:
        """The prompt optimizer's task (kling.preview.optimizer): no clip, its answer is text."""
        values, problems = sim_optimizer.check_fields(body)
        if problems:
            return self._err(400, "; ".join(problems))
        sentence, media_error = None, ""
        if values["image"]:
            data = self._media_bytes(values["image"])
            sentence = sim_optimizer.describe_image(data) if data is not None else None
            if data is None:
                media_error = f"Failed to fetch image from {values['image'][:100]}."
            elif sentence is None:
                return self._err(400, "image is not a readable image")
        created = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        inputs = {k: v for k, v in body.items() if not (isinstance(v, str) and len(v) > 300)}
        task = SimTask(
            id=uuid.uuid4().hex,
            model=sim_optimizer.OPTIMIZER_MODEL,
            params={"prompt": values["text"], "_input": inputs, "_created_at": created},
            submitted=self._clock(),
            run_s=self._scaled(self.config.process_s / 5),
            fail_code=self.faults.fail_code,
            final_status=self.faults.final_status,
            nsfw=False,
            stuck=self.faults.stuck,
            base64_output=False,
            webhook=webhook,
            media_error=media_error,
            text_output=sim_optimizer.rewrite(values["text"], values["style"], values["mode"], sentence),
        )
        self.tasks[task.id] = task
        return task

    def _media_bytes(self, ref: str) -> bytes | None:
        if ref.startswith("data:"):
            try:
                return base64.b64decode(ref.split(",", 1)[1], validate=True)
            except (IndexError, binascii.Error):
                return None
        name = ref.rstrip("/").rsplit("/", 1)[-1]
        stored = self.media.get(name)
        return stored[0] if stored and "/media/" in ref else None

    def _clip_of(self, task: SimTask) -> Future[Path] | None:
        """The task's render (None: it has no clip), started now if it was deferred."""
        if task.render is None and task.pending_render is not None:
            task.render, task.pending_render = task.pending_render(), None
        return task.render

    def _render(self, model: str, values: dict[str, Any], images: dict[str, bytes | None]) -> Future[Path]:
        """Start (or reuse) the clip's render: identical requests share one file."""
        prompt, duration, aspect_ratio = values["prompt"], values["duration"], values.get("aspect_ratio", "")
        digest = hashlib.sha256()
        for part in (model, prompt, str(duration), str(aspect_ratio)):
            digest.update(part.encode() + b"\0")
        for data in images.values():
            digest.update(hashlib.sha256(data or b"").digest())
        key = digest.hexdigest()[:24]
        if key not in self._renders:
            from kling.media import render  # PyAV is imported on the first clip, not at start-up

            out = self._workdir / f"{key}.mp4"
            if out.exists():  # rendered before, into a shared clip_dir (written whole or not at all)
                done: Future[Path] = Future()
                done.set_result(out)
                self._renders[key] = done
                return done
            if model == I2V_MODEL:
                start = images["image"]
                if start is None:  # _create renders only when check_body found the image and it was read
                    raise ValueError("an image-to-video render needs its start image")
                job = functools.partial(render.render_i2v, start, images["end_image"], prompt, duration, out)
            else:
                job = functools.partial(render.render_t2v, prompt, aspect_ratio, duration, out)
            self._renders[key] = self._executor.submit(_render_file, job, out)
            self._prune_renders()
        return self._renders[key]

    def _prune_renders(self) -> None:
        """Keep the newest `render_limit` clips on disk (dicts keep insertion order); a shared
        clip_dir is only forgotten, never emptied."""
        while len(self._renders) > self.config.render_limit:
            oldest = next(iter(self._renders))
            future = self._renders.pop(oldest)
            if self._owns_workdir and future.done() and not future.exception():
                future.result().unlink(missing_ok=True)

    async def _sync_wait(self, task: SimTask, base_url: str) -> dict[str, Any]:
        deadline = self._clock() + self._scaled(self.config.sync_timeout_s)
        while self._clock() < deadline:
            status = self.status(task)
            if status in FINAL_STATUSES:
                return await self._final_data(task, base_url, status)
            await asyncio.sleep(min(0.05, max(0.0, deadline - self._clock())))
        data = self._data(task, base_url)
        data.update(code=5004, error="Sync mode timed out after 90 seconds; the task is still running.")
        return data

    async def _final_data(self, task: SimTask, base_url: str, status: str) -> dict[str, Any]:
        data = self._data(task, base_url, status)
        clip = self._clip_of(task) if status == "completed" and task.base64_output else None
        if clip is not None:
            path = await asyncio.wrap_future(clip)
            data["outputs"] = [base64.b64encode(path.read_bytes()).decode()]
        return data

    # -- poll ------------------------------------------------------------------------------------

    async def result(self, request: Request) -> Response:
        denied = self._authorized(request)
        if denied:
            return denied
        fault = self.faults.poll.pop(0) if self.faults.poll else None
        if fault in ("429", "500", "502", "503", "504"):
            return self._err(int(fault), "Simulated fault", {"Retry-After": str(self.faults.retry_after)})
        if fault == "timeout":
            await asyncio.sleep(self.faults.hang_s)
        if fault == "drop":
            raise _Dropped("simulated: connection dropped")
        if fault == "null_data":
            return JSONResponse({"code": 200, "message": "success", "data": None})
        if fault == "not_json":
            return Response("<html>Bad gateway</html>", media_type="text/html")
        task = self.tasks.get(request.path_params["task_id"])
        if task is None or fault == "404":
            return self._err(404, "Prediction not found")
        base_url = self._base_url(request)
        return JSONResponse(_envelope(await self._final_data(task, base_url, self.status(task))))

    # -- media -----------------------------------------------------------------------------------

    async def upload_binary(self, request: Request) -> Response:
        retired = self.faults.binary_upload_status
        if retired:
            return self._err(retired, "Not Found" if retired == 404 else "Method Not Allowed")
        denied = self._authorized(request)
        if denied:
            return denied
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            return self._err(400, "Missing multipart field 'file'.")
        data = await upload.read()
        name = self._store(data, upload.filename or "upload", upload.content_type or "application/octet-stream")
        return JSONResponse(
            _envelope(
                {
                    "type": "image" if (upload.content_type or "").startswith("image/") else "file",
                    "download_url": f"{self._base_url(request)}/media/{name}",
                    "filename": upload.filename,
                    "size": len(data),
                }
            )
        )

    async def upload_ticket(self, request: Request) -> Response:
        denied = self._authorized(request)
        if denied:
            return denied
        body = await request.json()
        filename = str(body.get("filename") or "upload")
        content_type = str(body.get("content_type") or "application/octet-stream")
        name = f"{uuid.uuid4().hex[:12]}-{Path(filename).name}"
        token = secrets.token_urlsafe(16)
        self._tickets[token] = name
        self.media[name] = (b"", content_type)
        base = self._base_url(request)
        return JSONResponse(
            _envelope(
                {
                    "upload": {
                        "method": "PUT",
                        "url": f"{base}/_sim/upload/{token}",
                        "headers": {"Content-Type": content_type},
                    },
                    "download_url": f"{base}/media/{name}",
                }
            )
        )

    async def upload_put(self, request: Request) -> Response:
        name = self._tickets.pop(request.path_params["token"], None)
        if name is None:
            return Response("unknown or used upload ticket", status_code=403)
        self.media[name] = (await request.body(), self.media[name][1])
        return Response(status_code=200)

    def _store(self, data: bytes, filename: str, content_type: str) -> str:
        name = f"{uuid.uuid4().hex[:12]}-{Path(filename).name}"
        self.media[name] = (data, content_type)
        return name

    async def media_file(self, request: Request) -> Response:
        stored = self.media.get(request.path_params["name"])
        if stored is None:
            return Response("not found", status_code=404)
        return Response(stored[0], media_type=stored[1])

    async def output_file(self, request: Request) -> Response:
        task = self.tasks.get(request.path_params["name"].removesuffix(".mp4"))
        missing = Response("<Error><Code>NoSuchKey</Code></Error>", status_code=404, media_type="application/xml")
        if task is None or self.faults.expire_outputs or self.status(task) != "completed":
            return missing
        clip = self._clip_of(task)
        if clip is None:
            return missing
        path = await asyncio.wrap_future(clip)
        if not path.exists():  # pruned (render_limit): gone, like an expired output
            return missing
        # FileResponse serves Content-Length and Range, like the CDN.
        return FileResponse(path, media_type="video/mp4")

    async def webhook_secret(self, request: Request) -> Response:
        return self._authorized(request) or JSONResponse(_envelope({"secret": self.config.webhook_secret}))

    async def list_predictions(self, request: Request) -> Response:
        """The docs' listing: filters `model`, `status`, `created_after`, `created_before` (ISO
        8601), pages of `page_size` (1-100), newest first."""
        denied = self._authorized(request)
        if denied:
            return denied
        if not self.faults.listing:
            return self._err(404, "Not found")
        try:
            body = await request.json()
            page, page_size = int(body.get("page", 1)), int(body.get("page_size", 100))
            after, before = (_parse_time(body.get(k)) for k in ("created_after", "created_before"))
        except (ValueError, TypeError, AttributeError):
            return self._err(400, "page and page_size must be integers; times ISO 8601")
        if page < 1 or not 1 <= page_size <= 100:
            return self._err(400, "page must be >= 1 and page_size between 1 and 100")
        base_url = self._base_url(request)
        items = []
        for task in sorted(self.tasks.values(), key=lambda t: t.params["_created_at"], reverse=True):
            created = _parse_time(task.params["_created_at"]) or 0.0
            if body.get("model") and task.model != body["model"]:
                continue
            if body.get("status") and self.status(task) != body["status"]:
                continue
            if (after is not None and created < after) or (before is not None and created > before):
                continue
            items.append(self._data(task, base_url))
        chunk = items[(page - 1) * page_size : page * page_size]
        return JSONResponse(_envelope({"page": page, "total": len(items), "items": chunk}))

    async def balance(self, request: Request) -> Response:
        return self._authorized(request) or JSONResponse(_envelope({"balance": self.faults.balance}))

    # -- webhooks --------------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        job = asyncio.ensure_future(coro)
        self._background.add(job)
        job.add_done_callback(self._background.discard)

    async def _deliver_webhook(self, task: SimTask, url: str, base_url: str) -> None:
        while (status := self.status(task)) not in FINAL_STATUSES:
            # Sleep to the finish (re-checked every 50 ms in case the schedule moves), so the
            # webhook leaves when the task ends, as WaveSpeed's would.
            await asyncio.sleep(min(0.05, max(0.0, self.finish_time(task.id) - self._clock())))
        # The flat `data` object plus an `input` echo of the request, as WaveSpeed's docs describe.
        payload = {**await self._final_data(task, base_url, status), "input": task.params.get("_input", {})}
        body = json.dumps(payload).encode()
        message_id = f"msg_{uuid.uuid4().hex}"
        timestamp = str(int(time.time()))
        async with httpx.AsyncClient(transport=self._webhook_transport, timeout=10) as http:
            # A delivery may be repeated (WaveSpeed retries): `webhook_deliveries` sends it again.
            for _ in range(max(1, self.faults.webhook_deliveries)):
                try:
                    answer = await http.post(
                        url,
                        content=body,
                        headers={
                            "content-type": "application/json",
                            "webhook-id": message_id,
                            "webhook-timestamp": timestamp,
                            "webhook-signature": "v3,"
                            + sign_webhook(self.config.webhook_secret, message_id, timestamp, body),
                        },
                    )
                    self.webhook_answers.append((answer.status_code, answer.text[:100]))
                except httpx.HTTPError:
                    pass  # WaveSpeed does not promise delivery; the client's polling is the safety net

    # -- test controls (served, not part of WaveSpeed's API) -------------------------------------

    async def get_log(self, request: Request) -> Response:
        return JSONResponse([asdict(entry) for entry in self.log])

    async def set_faults(self, request: Request) -> Response:
        try:
            self.faults.update(await request.json())
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(asdict(self.faults))


def _parse_time(value: Any) -> float | None:
    if value in (None, ""):
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def _render_file(render: Callable[[], object], out: Path) -> Path:
    render()
    return out


def sign_webhook(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 hex over "{id}.{timestamp}.{body}", keyed by the secret without `whsec_`."""
    key = secret.removeprefix("whsec_").encode()
    return hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def serve(host: str = "127.0.0.1", port: int = 8911, config: SimConfig | None = None) -> None:
    import uvicorn

    uvicorn.run(Simulator(config).app, host=host, port=port, log_level="warning", interface="asgi3")
