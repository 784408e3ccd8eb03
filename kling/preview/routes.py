"""The simulator's HTTP surface: WaveSpeed's endpoints (submit, poll, listing, uploads, outputs,
balance, webhook secret) and the test controls (`/_sim/log`, `/_sim/faults`).

Routes come in tables of (path, methods, handler) rows; a handler takes the simulator and the
request. A new group of routes is a new table (in its own module if it likes, using `authorized`
and `base_url` from here) added to `kling.preview.simulator.ROUTE_TABLES`. The submit route
(`POST /api/v3/<owner>/<model>`) always comes last, so any other POST under /api/v3 with two path
segments is matched first.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from kling.preview.faults import Dropped, after_create, envelope, refusal
from kling.preview.models import API, MODELS
from kling.preview.optimizer import OPTIMIZER_MODEL
from kling.preview.tasks import clip_of, parse_time

if TYPE_CHECKING:
    from kling.preview.simulator import Simulator

Handler = Callable[["Simulator", Request], Awaitable[Response]]
RouteTable = Sequence[tuple[str, tuple[str, ...], Handler]]


def routes(sim: Simulator, tables: Sequence[RouteTable]) -> list[Route]:
    """Starlette routes for the tables' rows, in order, and the submit route last."""
    rows = [*(row for table in tables for row in table), (f"{API}/{{owner}}/{{model}}", ("POST",), submit)]
    return [Route(path, _bind(sim, handler), methods=list(methods)) for path, methods, handler in rows]


def _bind(sim: Simulator, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await handler(sim, request)

    return endpoint


def authorized(sim: Simulator, request: Request) -> JSONResponse | None:
    """None when the request carries a bearer key this simulator accepts, else the 401 answer."""
    auth = request.headers.get("authorization", "")
    if not auth.startswith("Bearer ") or not auth[7:].strip():
        return sim.faults.error(401, "Unauthorized: missing API key")
    expected = sim.config.api_key
    if expected is not None and not hmac.compare_digest(auth[7:].strip(), expected):
        return sim.faults.error(401, "Unauthorized: invalid API key")
    return None


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


# -- tasks: submit, poll, listing ------------------------------------------------------------


async def submit(sim: Simulator, request: Request) -> Response:
    denied = authorized(sim, request)
    if denied:
        return denied
    model = f"{request.path_params['owner']}/{request.path_params['model']}"
    if model not in MODELS and model != OPTIMIZER_MODEL:
        return sim.faults.error(404, f"Model not found: {model}")
    fault = sim.faults.next_submit()
    refused = refusal(sim.faults, fault)
    if refused:
        return refused
    try:
        body = await request.json()
    except ValueError:
        return sim.faults.error(400, "The request body is not valid JSON.")
    if not isinstance(body, dict):
        return sim.faults.error(400, "The request body must be a JSON object.")
    webhook = request.query_params.get("webhook")
    if webhook and body.get("enable_base64_output"):
        return sim.faults.error(400, "enable_base64_output cannot be combined with a webhook.")
    task = sim._create_suggestion(body, webhook) if model == OPTIMIZER_MODEL else sim._create(model, body, webhook)
    if isinstance(task, Response):
        return task
    url = base_url(request)
    if webhook:
        sim.send_webhook(task, webhook, url)
    failed = after_create(sim.faults, fault)
    if failed:
        return failed
    if fault == "timeout":
        await asyncio.sleep(sim.faults.hang_s)
    if body.get("enable_sync_mode"):
        return JSONResponse(envelope(await sim.board.wait_final(task, url, sim.config.sync_timeout_s)))
    return JSONResponse(envelope(sim.board.data(task, url, status="created")))


async def result(sim: Simulator, request: Request) -> Response:
    denied = authorized(sim, request)
    if denied:
        return denied
    fault = sim.faults.next_poll()
    if fault in ("429", "500", "502", "503", "504"):
        return sim.faults.error(int(fault), "Simulated fault", {"Retry-After": str(sim.faults.retry_after)})
    if fault == "timeout":
        await asyncio.sleep(sim.faults.hang_s)
    if fault == "drop":
        raise Dropped("simulated: connection dropped")
    if fault == "null_data":
        return JSONResponse({"code": 200, "message": "success", "data": None})
    if fault == "not_json":
        return Response("<html>Bad gateway</html>", media_type="text/html")
    task = sim.tasks.get(request.path_params["task_id"])
    if task is None or fault == "404":
        return sim.faults.error(404, "Prediction not found")
    return JSONResponse(envelope(await sim.board.final_data(task, base_url(request), sim.board.status(task))))


async def list_predictions(sim: Simulator, request: Request) -> Response:
    """The docs' listing: filters `model`, `status`, `created_after`, `created_before` (ISO
    8601), pages of `page_size` (1-100), newest first."""
    denied = authorized(sim, request)
    if denied:
        return denied
    if not sim.faults.listing:
        return sim.faults.error(404, "Not found")
    try:
        body = await request.json()
        page, page_size = int(body.get("page", 1)), int(body.get("page_size", 100))
        after, before = (parse_time(body.get(k)) for k in ("created_after", "created_before"))
    except (ValueError, TypeError, AttributeError):
        return sim.faults.error(400, "page and page_size must be integers; times ISO 8601")
    if page < 1 or not 1 <= page_size <= 100:
        return sim.faults.error(400, "page must be >= 1 and page_size between 1 and 100")
    url = base_url(request)
    items = [sim.board.data(task, url) for task in sim.board.listed(body, after, before)]
    chunk = items[(page - 1) * page_size : page * page_size]
    return JSONResponse(envelope({"page": page, "total": len(items), "items": chunk}))


TASKS: RouteTable = (
    (f"{API}/predictions/{{task_id}}/result", ("GET",), result),
    (f"{API}/predictions/{{task_id}}", ("GET",), result),
    (f"{API}/predictions", ("POST",), list_predictions),
)


# -- media: uploads in, clips out ------------------------------------------------------------


async def upload_binary(sim: Simulator, request: Request) -> Response:
    retired = sim.faults.binary_upload_status
    if retired:
        return sim.faults.error(retired, "Not Found" if retired == 404 else "Method Not Allowed")
    denied = authorized(sim, request)
    if denied:
        return denied
    form = await request.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        return sim.faults.error(400, "Missing multipart field 'file'.")
    data = await upload.read()
    content_type = upload.content_type or "application/octet-stream"
    name = sim.uploads.store(data, upload.filename or "upload", content_type)
    answer: dict[str, Any] = {
        "type": "image" if (upload.content_type or "").startswith("image/") else "file",
        "download_url": f"{base_url(request)}/media/{name}",
        "filename": upload.filename,
        "size": len(data),
    }
    return JSONResponse(envelope(answer))


async def upload_ticket(sim: Simulator, request: Request) -> Response:
    denied = authorized(sim, request)
    if denied:
        return denied
    body = await request.json()
    filename = str(body.get("filename") or "upload")
    content_type = str(body.get("content_type") or "application/octet-stream")
    token, name = sim.uploads.ticket(filename, content_type)
    url = base_url(request)
    upload = {"method": "PUT", "url": f"{url}/_sim/upload/{token}", "headers": {"Content-Type": content_type}}
    return JSONResponse(envelope({"upload": upload, "download_url": f"{url}/media/{name}"}))


async def upload_put(sim: Simulator, request: Request) -> Response:
    if not sim.uploads.put(request.path_params["token"], await request.body()):
        return Response("unknown or used upload ticket", status_code=403)
    return Response(status_code=200)


async def media_file(sim: Simulator, request: Request) -> Response:
    stored = sim.uploads.get(request.path_params["name"])
    if stored is None:
        return Response("not found", status_code=404)
    return Response(stored[0], media_type=stored[1])


async def output_file(sim: Simulator, request: Request) -> Response:
    task = sim.tasks.get(request.path_params["name"].removesuffix(".mp4"))
    missing = Response("<Error><Code>NoSuchKey</Code></Error>", status_code=404, media_type="application/xml")
    if task is None or sim.faults.expire_outputs or sim.board.status(task) != "completed":
        return missing
    clip = clip_of(task)
    if clip is None:
        return missing
    path: Path = await asyncio.wrap_future(clip)
    if not path.exists():  # pruned (render_limit): gone, like an expired output
        return missing
    # FileResponse serves Content-Length and Range, like the CDN.
    return FileResponse(path, media_type="video/mp4")


MEDIA: RouteTable = (
    (f"{API}/media/upload/binary", ("POST",), upload_binary),
    (f"{API}/media/uploads", ("POST",), upload_ticket),
    ("/_sim/upload/{token}", ("PUT",), upload_put),
    ("/media/{name}", ("GET", "HEAD"), media_file),
    ("/outputs/{name}", ("GET", "HEAD"), output_file),
)


# -- the account -----------------------------------------------------------------------------


async def webhook_secret(sim: Simulator, request: Request) -> Response:
    return authorized(sim, request) or JSONResponse(envelope({"secret": sim.config.webhook_secret}))


async def balance(sim: Simulator, request: Request) -> Response:
    return authorized(sim, request) or JSONResponse(envelope({"balance": sim.faults.balance}))


ACCOUNT: RouteTable = (
    (f"{API}/webhook/secret", ("GET",), webhook_secret),
    (f"{API}/balance", ("GET",), balance),
)


# -- test controls (served, not part of WaveSpeed's API) -------------------------------------


async def get_log(sim: Simulator, request: Request) -> Response:
    return JSONResponse([asdict(entry) for entry in sim.log])


async def set_faults(sim: Simulator, request: Request) -> Response:
    try:
        sim.faults.update(await request.json())
    except (ValueError, TypeError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse(asdict(sim.faults))


CONTROLS: RouteTable = (
    ("/_sim/log", ("GET",), get_log),
    ("/_sim/faults", ("POST",), set_faults),
)
