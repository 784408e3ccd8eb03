"""A WaveSpeed client for Kling v2.0 master that never loses or duplicates a paid task.

`AsyncKlingClient` does the work over one pooled `httpx.AsyncClient`; `KlingClient` is a thin
blocking face over it for scripts. The rules (docs/DESIGN.md, "Rules"; the API in docs/API.md):

* A submit is sent once. It is sent again only when it provably never reached the server
  (a connect error) or the server refused it outright (429, or an HTTP 200 whose body `code` is
  429/5xx). A 5xx status, a time-out or an unreadable answer raises `SubmitUncertainError`: the
  task may exist and be billed; `find_tasks` (the predictions listing) is how a caller finds it.
* A body `code` other than 200 is an error even inside an HTTP 200, and an error's reason is read
  from `data.error`, then `error`, then `message` (with `error_code`), `detail`, `errors[]`, then
  the raw text.
* Polls follow what is known of Kling's latency (`PollPolicy`), never closer than WaveSpeed asks,
  honour `Retry-After`, ride out 429/5xx/timeouts, stop at once on 401/403, and end at a total
  deadline with the task id in the error. A webhook (`wakeups`) ends a wait at once. A 404 just
  after a submit is ridden out for `new_task_grace` s (a new id may not be readable at once).
* Only `completed`, `failed`, `cancelled`, `timeout` and `deleted` end a wait; any other status,
  documented or not, means the task is still running (as WaveSpeed's SDK 2.x reads it).
* Uploads use the binary endpoint until it answers 404/405, then the ticket flow for the rest of
  the process. Uploads, refused submits and downloads share one retry rule (`kling.api.retry`).
* The key is sent only to the API base, never to the URLs of outputs, and never appears in a
  repr, a log line or an error message.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import os
import random
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx

from kling.api.params import I2VRequest, PreparedImage, T2VRequest
from kling.api.retry import Backoff, Retry, with_retries
from kling.api.webhooks import Wakeups
from kling.config import api_key_from_env, base_url_from_env
from kling.errors import (
    AuthenticationError,
    BadRequestError,
    DeadlineExceededError,
    DownloadError,
    InsufficientCreditsError,
    KlingError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    ServerError,
    SubmitRefusedError,
    SubmitUncertainError,
    TaskFailedError,
)

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# Not the API's limit: ours. A 10 s 1080p clip is ~20 MB; anything far past that is not a clip.
MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024
MAX_REDIRECTS = 5

# The statuses that end a wait (WaveSpeed's SDK 2.0.5 stops on exactly these); anything else runs.
FINAL = frozenset({"completed", "failed", "cancelled", "timeout", "deleted"})
DOCUMENTED = frozenset({"created", "processing", "completed", "failed"})
TASK_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
# Reasons for `data.code` on a failed task (docs/API.md, from WaveSpeed's docs).
FAILURE_REASONS = {
    1200: "blocked by content moderation",
    1400: "a required parameter was missing",
    1401: "a parameter was invalid",
    1402: "an image URL could not be fetched by WaveSpeed",
    1403: "generation failed",
    1405: "generation failed",
    5000: "WaveSpeed had an internal error",
    5003: "the model was unavailable",
    5004: "the task timed out at WaveSpeed",
}

Request = I2VRequest | T2VRequest
T = TypeVar("T")


@dataclass(frozen=True)
class Task:
    """A snapshot of one prediction, read from the envelope's `data` object."""

    id: str
    model: str = ""
    status: str = "created"
    outputs: tuple[str, ...] = ()
    has_nsfw_contents: tuple[bool, ...] = ()
    error: str = ""
    error_code: int | None = None
    created_at: str = ""
    inference_ms: int | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Task:
        task_id = data.get("id")
        if not isinstance(task_id, str) or not task_id:
            raise ProtocolError("The API's answer has no task id in `data.id`.")
        timings = data.get("timings")
        timings = timings if isinstance(timings, Mapping) else {}
        inference = timings.get("inference")
        code = data.get("code")
        return cls(
            id=task_id,
            model=str(data.get("model") or ""),
            status=str(data.get("status") or ""),
            outputs=tuple(o for o in data.get("outputs") or () if isinstance(o, str)),
            has_nsfw_contents=tuple(bool(n) for n in data.get("has_nsfw_contents") or ()),
            error=str(data.get("error") or ""),
            error_code=code if isinstance(code, int) and not isinstance(code, bool) else None,
            created_at=str(data.get("created_at") or ""),
            inference_ms=inference if isinstance(inference, int) and not isinstance(inference, bool) else None,
        )

    @property
    def in_flight(self) -> bool:
        return self.status not in FINAL

    @property
    def video_url(self) -> str | None:
        return self.outputs[0] if self.outputs else None

    @property
    def nsfw(self) -> bool:
        return any(self.has_nsfw_contents)


@dataclass(frozen=True)
class Update:
    """One step of a generation, for progress displays.

    stage: "uploading", "submitting", "recovering", "submitted", "polled", "retrying", "downloading",
    "done". `note` is something to keep showing for the rest of the run (e.g. "recovered").
    """

    stage: str
    task: Task | None = None
    message: str = ""
    path: Path | None = None
    note: str = ""


@dataclass(frozen=True)
class PollPolicy:
    """How often to ask, shaped by what is known of Kling's latency (docs/API.md): 1.5 to 5 min
    for a 5 s clip, a tail past 10 min, and WaveSpeed asks for about 5 s between polls and backoff.

    * one look after `first` s: a refused input or an unreachable image fails within seconds;
    * then `early` s apart until `likely_from` s into the wait, while completion is unlikely;
    * `interval` s apart (WaveSpeed's floor) until `likely_until` s, where completions cluster;
      the mean delay between completion and knowing it is then about half of `interval`;
    * past `likely_until`, in proportion to the time already waited (the delay stays the same
      small share of the wait), up to `ceiling`.

    Jitter only lengthens a wait, so the floor holds. With a webhook expected, polling is only
    the safety net: at least `safety_net` s apart after the first look. `scaled(k)` multiplies
    every duration by k; benchmarks pair it with the simulator's `time_scale`.
    """

    first: float = 2.0
    early: float = 6.0
    likely_from: float = 20.0
    interval: float = 5.0
    likely_until: float = 360.0
    ceiling: float = 15.0
    jitter: float = 0.1
    safety_net: float = 60.0
    deadline: float = 20 * 60.0
    max_retry_after: float = 60.0
    new_task_grace: float = 60.0

    def delay(self, polls_done: int, rng: random.Random, elapsed: float = 0.0, *, webhook: bool = False) -> float:
        """Seconds to wait before the next poll, with `polls_done` polls made `elapsed` s into the wait."""
        if polls_done == 0:
            base = self.first
        elif elapsed < self.likely_from:
            base = self.early
        elif elapsed < self.likely_until:
            base = self.interval
        else:
            base = self.interval * elapsed / self.likely_until
        base = min(self.ceiling, base)
        if webhook and polls_done:
            base = max(base, self.safety_net)
        return base * (1 + self.jitter * rng.random())

    def scaled(self, factor: float) -> PollPolicy:
        """The same schedule on a clock running `factor` times as fast (0.1: ten times faster)."""
        durations = (
            "first",
            "early",
            "likely_from",
            "interval",
            "likely_until",
            "ceiling",
            "safety_net",
            "deadline",
            "max_retry_after",
            "new_task_grace",
        )
        return replace(self, **{name: getattr(self, name) * factor for name in durations})


# Uploads, submits that provably created nothing, and downloads: one rule (kling.api.retry).
RETRY = Backoff()


def is_task_id(value: str) -> bool:
    """WaveSpeed ids are hex; anything else must not reach a URL path."""
    return bool(TASK_ID.fullmatch(value or ""))


def task_failed_message(task: Task) -> str:
    reason = FAILURE_REASONS.get(task.error_code or 0, "")
    if task.status != "failed":
        reason = f"it ended with status '{task.status}'"
    parts = [f"Task {task.id} failed"]
    if reason:
        parts.append(f": {reason}")
    if task.error_code is not None:
        parts.append(f" (code {task.error_code})")
    if task.error:
        parts.append(f". WaveSpeed says: {task.error}")
    return "".join(parts) + "."


def parse_retry_after(value: str | None, cap: float) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), capped."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        when = email.utils.parsedate_to_datetime(value) if value.strip() else None
        if when is None:
            return None
        seconds = when.timestamp() - time.time()
    return max(0.0, min(cap, seconds))


_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.DOTALL | re.IGNORECASE)


def _json_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _short(text: str, limit: int = 200) -> str:
    """One line of at most `limit` characters: markup removed, whitespace folded."""
    text = " ".join(_TAGS.sub(" ", text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _first_text(item: Any, keys: tuple[str, ...]) -> str | None:
    if isinstance(item, str):
        return item
    if isinstance(item, Mapping):
        return next((item[key] for key in keys if isinstance(item.get(key), str)), None)
    return None


def _texts(value: Any, *keys: str) -> str | None:
    """A reason from a string, or from a list of strings or objects (each one's first string under
    `keys`), joined with "; ": the shapes of FastAPI's `detail` and of an `errors[]` list."""
    items = value if isinstance(value, list) else [value]
    texts = [text for text in (_first_text(item, keys) for item in items) if text and text.strip()]
    return "; ".join(texts) or None


def _body_reason(body: Mapping[str, Any]) -> str | None:
    """Every error shape an official client reads (docs/API.md, "Error bodies"), in this order:
    `data.error`, `error`, `message` with its `error_code` (the MCP server), `detail`, `errors[]`
    (the desktop app)."""
    data = body.get("data")
    for value in (data.get("error") if isinstance(data, Mapping) else None, body.get("error")):
        if isinstance(value, str) and value.strip():
            return value
    message, code = body.get("message"), body.get("error_code")
    if isinstance(message, str) and message.strip():
        has_code = isinstance(code, (str, int)) and not isinstance(code, bool) and str(code).strip()
        return f"{message} [{code}]" if has_code else message
    return _texts(body.get("detail"), "msg", "message") or _texts(body.get("errors"), "message", "msg")


def _error_text(response: httpx.Response) -> str:
    """The server's reason, read from the body's error shapes (`_body_reason`), else the raw text
    (short, markup removed: a gateway's HTML page is not a reason)."""
    body = _json_body(response)
    reason = _body_reason(body) if isinstance(body, Mapping) else None
    if reason:
        return _short(reason)
    text = _short(response.text)
    return text or response.reason_phrase or "no details"


def _body_code(response: httpx.Response) -> int | None:
    """The envelope's `code` when it says something other than success; None otherwise."""
    body = _json_body(response)
    code = body.get("code") if isinstance(body, Mapping) else None
    if isinstance(code, int) and not isinstance(code, bool) and code != 200:
        return code
    return None


def effective_status(response: httpx.Response) -> int:
    """The HTTP status, or the body's `code` when an HTTP 200 carries an error code in it."""
    if response.status_code == 200:
        code = _body_code(response)
        if code is not None:
            return code if 100 <= code <= 599 else 400
    return response.status_code


def _http_url(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ProtocolError(f"The {what} answer has no http(s) URL where one belongs.")
    return value


def _iso_time(value: str, *, default: float) -> float:
    """Unix time of an ISO 8601 stamp such as "2025-05-19T06:09:15.948268264Z" (nanoseconds cut)."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?", value.strip())
    if not match:
        return default
    zone = match.group(3) or "Z"
    stamp = datetime.fromisoformat(match.group(1) + ("+00:00" if zone == "Z" else zone))
    return stamp.timestamp() + float(match.group(2) or 0)


def _envelope_data(response: httpx.Response) -> dict[str, Any]:
    """`data` of a 200 envelope, or ProtocolError. Never assumes `data` is an object."""
    try:
        body = response.json()
    except ValueError:
        raise ProtocolError(
            f"The API answered HTTP {response.status_code} with a body that is not JSON "
            f"({response.headers.get('content-type', 'no content type')})."
        ) from None
    if not isinstance(body, Mapping) or not isinstance(body.get("data"), Mapping):
        message = body.get("message") if isinstance(body, Mapping) else None
        raise ProtocolError("The API's answer has no `data` object" + (f" (message: {message})." if message else "."))
    return dict(body["data"])


async def _is_private_host(host: str) -> bool:
    """True when `host` is, or resolves to, a loopback, private, link-local or reserved address."""
    try:
        addresses = [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, None)
        except OSError:
            return False  # unresolvable: the request itself will fail
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    return any(
        a.is_private or a.is_loopback or a.is_link_local or a.is_reserved or a.is_multicast or a.is_unspecified
        for a in addresses
    )


def _is_mp4(head: bytes) -> bool:
    return len(head) >= 12 and head[4:8] == b"ftyp"


# Base URLs whose binary upload endpoint answered 404/405: the ticket flow from then on.
_BINARY_RETIRED: set[str] = set()


class AsyncKlingClient:
    """The WaveSpeed API for Kling v2.0 master.

    Cheap to make: many clients (one per key) can share one pooled `httpx.AsyncClient` via `http`.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        http: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        poll: PollPolicy = PollPolicy(),
        retry: Backoff = RETRY,
        upload: Literal["binary", "data_uri"] = "binary",
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        max_download_bytes: int = MAX_DOWNLOAD_BYTES,
        wakeups: Wakeups | None = None,
    ) -> None:
        key = api_key if api_key is not None else api_key_from_env() or ""
        if not key.strip():
            raise AuthenticationError(
                "No WaveSpeed API key: set WAVESPEED_API_KEY or pass api_key (without one, use preview mode)."
            )
        self._key = key.strip()
        self.base_url = (base_url or base_url_from_env()).rstrip("/")
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(transport=transport, timeout=DEFAULT_TIMEOUT)
        self.poll_policy = poll
        self.retry_policy = retry
        self.upload_mode = upload
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self.max_download_bytes = max_download_bytes
        # Set by whoever receives webhooks (kling.api.backend): a valid one ends a poll's sleep at once.
        self.wakeups = wakeups

    def __repr__(self) -> str:
        return f"AsyncKlingClient(base_url={self.base_url!r}, api_key=<hidden>)"

    async def __aenter__(self) -> AsyncKlingClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    # -- plumbing -------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}", "Accept": "application/json"}

    def _scrub(self, text: str) -> str:
        """A server that echoes the request must not put the key into our messages."""
        return text.replace(self._key, "<hidden>") if self._key else text

    def _error(self, response: httpx.Response, *, task_id: str | None = None, what: str) -> KlingError:
        error = self._classify(response, task_id=task_id, what=what)
        error.http_status = effective_status(response)
        return error

    def _classify(self, response: httpx.Response, *, task_id: str | None, what: str) -> KlingError:
        status = effective_status(response)
        reason = self._scrub(_error_text(response))
        suffix = f" (task {task_id})" if task_id else ""
        if status == 401:
            return AuthenticationError(
                f"The API key was refused (401: {reason}). Check the key and try again.", task_id=task_id
            )
        if status == 403:
            return AuthenticationError(
                f"The WaveSpeed account may not do this (403: {reason}); it may be suspended.", task_id=task_id
            )
        if status == 402 or (400 <= status < 500 and "insufficient" in reason.lower()):
            return InsufficientCreditsError(
                f"The WaveSpeed account has no credits left (402: {reason}). Top up, then try again.",
                task_id=task_id,
            )
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"), 3600)
            when = f" Try again in {retry_after:.0f} s." if retry_after is not None else " Try again shortly."
            return RateLimitedError(
                f"WaveSpeed is rate limiting this account (429: {reason}).{when}",
                retry_after=retry_after,
                task_id=task_id,
            )
        if status == 404:
            return NotFoundError(f"Not found while trying to {what}{suffix} (404: {reason}).", task_id=task_id)
        if 400 <= status < 500:
            return BadRequestError(f"The API refused to {what} ({status}: {reason}).", task_id=task_id)
        return ServerError(f"WaveSpeed failed to {what}{suffix} ({status}: {reason}).", task_id=task_id)

    # -- images -----------------------------------------------------------------------------

    async def upload(self, image: PreparedImage) -> str:
        """A URL (or data URI) for an image that passed `prepare_image`. Uploads are free and
        create nothing billable, so transient failures are retried."""
        if self.upload_mode == "data_uri":
            return image.data_uri()
        if self.base_url not in _BINARY_RETIRED:
            try:
                return await self._retrying(lambda: self._upload_binary(image))
            except KlingError as exc:
                if exc.http_status not in (404, 405):
                    raise
                # SDK 2.x moved to the ticket flow; once the old endpoint is gone, it stays gone.
                _BINARY_RETIRED.add(self.base_url)
        return await self._retrying(lambda: self._upload_ticket(image))

    async def _retrying(self, attempt: Callable[[], Awaitable[T]]) -> T:
        return await with_retries(attempt, self.retry_policy, sleep=self._sleep, clock=self._clock)

    def _transient(self, response: httpx.Response, what: str) -> KlingError:
        """The error for an answer; raised as `Retry` when the same request may simply be sent again."""
        error = self._error(response, what=what)
        status = effective_status(response)
        if status in (408, 429) or status >= 500:
            raise Retry(error, retry_after=parse_retry_after(response.headers.get("retry-after"), 3600))
        return error

    async def _upload_binary(self, image: PreparedImage) -> str:
        url = f"{self.base_url}/api/v3/media/upload/binary"
        files = {"file": (image.filename, image.data, image.mime_type)}
        try:
            response = await self._http.post(url, files=files, headers=self._headers())
        except httpx.TransportError as exc:
            raise Retry(ServerError(f"The image upload did not go through ({type(exc).__name__}).")) from None
        if effective_status(response) != 200:
            raise self._transient(response, "upload the image")
        return _http_url(_envelope_data(response).get("download_url"), "upload")

    async def _upload_ticket(self, image: PreparedImage) -> str:
        """SDK 2.x's flow: ask for a ticket, then PUT the raw bytes where it says, without our key."""
        ticket_url = f"{self.base_url}/api/v3/media/uploads"
        body = {"filename": image.filename, "size": len(image.data), "content_type": image.mime_type}
        try:
            response = await self._http.post(ticket_url, json=body, headers=self._headers())
        except httpx.TransportError as exc:
            raise Retry(ServerError(f"The image upload did not go through ({type(exc).__name__}).")) from None
        if effective_status(response) != 200:
            raise self._transient(response, "upload the image")
        data = _envelope_data(response)
        raw_upload = data.get("upload")
        upload: Mapping[str, Any] = raw_upload if isinstance(raw_upload, Mapping) else {}
        put_url = _http_url(upload.get("url"), "upload ticket")
        download_url = _http_url(data.get("download_url"), "upload ticket")
        if str(upload.get("method", "PUT")).upper() != "PUT":
            raise ProtocolError("The upload ticket asks for a method other than PUT.")
        given = upload.get("headers")
        given = given if isinstance(given, Mapping) else {}
        headers = {str(k): str(v) for k, v in given.items() if str(k).lower() != "authorization"}
        headers.setdefault("Content-Type", image.mime_type)
        try:
            put = await self._http.put(put_url, content=image.data, headers=headers)
        except httpx.TransportError as exc:
            raise Retry(ServerError(f"The image upload did not go through ({type(exc).__name__}).")) from None
        if put.status_code >= 500 or put.status_code == 429:
            raise Retry(ServerError(f"Storing the image failed with HTTP {put.status_code}."))
        if not 200 <= put.status_code < 300:
            raise ServerError(f"Storing the image failed with HTTP {put.status_code}.")
        return download_url

    async def _resolve_images(self, request: Request) -> Request:
        if not isinstance(request, I2VRequest):
            return request
        image, end_image = request.image, request.end_image
        if isinstance(image, PreparedImage):
            image = await self.upload(image)
        if isinstance(end_image, PreparedImage):
            end_image = await self.upload(end_image)
        return replace(request, image=image, end_image=end_image)

    # -- submit -----------------------------------------------------------------------------

    async def submit(self, request: Request, *, webhook: str | None = None) -> Task:
        """Validate, upload images, and create the task. One POST unless it provably failed."""
        request = await self._resolve_images(request.validate())
        return await self.submit_payload(request.model, request.payload(), webhook=webhook)

    async def submit_payload(self, model: str, payload: Mapping[str, Any], *, webhook: str | None = None) -> Task:
        """One POST; sent again only after a connect error or an outright refusal (429, or a body
        `code` of 429/5xx inside an HTTP 200). Raises SubmitRefusedError when no task was made and
        SubmitUncertainError when one may have been."""
        url = f"{self.base_url}/api/v3/{model}"
        params = {"webhook": webhook} if webhook else None
        sent_at = time.time()

        def uncertain(cause: str, task_id: str | None = None) -> SubmitUncertainError:
            return SubmitUncertainError(
                f"{cause} The task may have been created and billed, so the submit was not sent again."
                + (f" Its id: {task_id}." if task_id else ""),
                task_id=task_id,
                model=model,
                sent_at=sent_at,
            )

        async def attempt() -> Task:
            nonlocal sent_at
            sent_at = time.time()
            try:
                response = await self._http.post(url, json=dict(payload), params=params, headers=self._headers())
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # The request never left this machine: sending it again cannot duplicate a task.
                raise Retry(
                    ServerError(f"Could not reach {self.base_url} ({type(exc).__name__}); nothing was submitted.")
                ) from None
            except httpx.TransportError as exc:
                raise uncertain(f"The submit was sent but its answer was lost ({type(exc).__name__}).") from None
            status = response.status_code
            if status == 200 and _body_code(response) is None:
                try:
                    return Task.from_data(_envelope_data(response))
                except ProtocolError as exc:
                    raise uncertain(f"The submit was accepted but its answer could not be read ({exc}).") from None
            if status == 429 or (status == 200 and effective_status(response) in (429, 500, 502, 503, 504)):
                # Refused before any task was made: the same request may go again, later.
                raise Retry(
                    self._refusal(response), retry_after=parse_retry_after(response.headers.get("retry-after"), 3600)
                )
            if status >= 500 or status == 408:
                raise uncertain(
                    f"WaveSpeed answered the submit with {status} ({self._scrub(_error_text(response))}).",
                    self._task_id_in(response),
                )
            raise self._refusal(response)

        return await self._retrying(attempt)

    def _refusal(self, response: httpx.Response) -> KlingError:
        """A submit refused outright. Auth, credits and rate limits keep their own classes."""
        error = self._error(response, what="submit")
        if type(error) not in (BadRequestError, NotFoundError, ServerError) or response.status_code == 404:
            return error  # auth, credits, rate limits and an unknown model keep their own classes
        reason = self._scrub(_error_text(response))
        refused = SubmitRefusedError(
            f"WaveSpeed refused the submit ({error.http_status}: {reason}). No task was created; nothing was charged."
        )
        refused.http_status = error.http_status
        return refused

    @staticmethod
    def _task_id_in(response: httpx.Response) -> str | None:
        try:
            return Task.from_data(_envelope_data(response)).id
        except KlingError:
            return None

    async def find_tasks(self, model: str, *, created_after: float, page_size: int = 100) -> list[Task]:
        """Recent tasks of `model` made at or after `created_after` (Unix time), newest first, from
        WaveSpeed's predictions listing: how a submit whose answer was lost finds its task."""
        when = datetime.fromtimestamp(created_after, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        body = {"page": 1, "page_size": page_size, "model": model, "created_after": when}

        async def attempt() -> httpx.Response:
            # A read that creates nothing: safe to send again, and the answer matters most right
            # after a failed submit, when a pooled connection may have just been closed under us.
            try:
                response = await self._http.post(
                    f"{self.base_url}/api/v3/predictions", json=body, headers=self._headers()
                )
            except httpx.TransportError as exc:
                raise Retry(ServerError(f"Listing recent tasks did not go through ({type(exc).__name__}).")) from None
            if effective_status(response) != 200:
                raise self._transient(response, "list recent tasks")
            return response

        data = _envelope_data(await self._retrying(attempt))
        raw_items = data.get("items")
        items: list[Any] = raw_items if isinstance(raw_items, list) else []
        tasks = []
        for item in items:
            if not isinstance(item, Mapping):
                continue
            try:
                task = Task.from_data(item)
            except ProtocolError:
                continue
            # The filters are applied here too: a server that ignores them must not widen the search.
            if task.model in ("", model) and _iso_time(task.created_at, default=created_after) >= created_after:
                tasks.append(task)
        return tasks

    # -- poll -------------------------------------------------------------------------------

    async def get(self, task_id: str) -> Task:
        """One status request, no retries."""
        response = await self._http.get(self._result_url(task_id), headers=self._headers())
        if effective_status(response) != 200:
            raise self._error(response, task_id=task_id, what="read the task")
        return Task.from_data(_envelope_data(response))

    async def webhook_secret(self) -> str:
        """The account's webhook signing secret (`whsec_...`), for checking webhooks it sends."""
        response = await self._http.get(f"{self.base_url}/api/v3/webhook/secret", headers=self._headers())
        if effective_status(response) != 200:
            raise self._error(response, what="read the webhook secret")
        secret = _envelope_data(response).get("secret")
        if not isinstance(secret, str) or not secret.strip():
            raise ProtocolError("The webhook secret answer has no `data.secret`.")
        return secret.strip()

    async def balance(self) -> float:
        """The account's balance in US dollars (`GET /api/v3/balance`): free, and the cheapest way
        to learn whether a key is accepted (401 raises AuthenticationError)."""
        response = await self._http.get(f"{self.base_url}/api/v3/balance", headers=self._headers())
        if effective_status(response) != 200:
            raise self._error(response, what="read the balance")
        balance = _envelope_data(response).get("balance")
        if isinstance(balance, bool) or not isinstance(balance, (int, float)):
            raise ProtocolError("The balance answer has no numeric `data.balance`.")
        return float(balance)

    async def catalog_request(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> httpx.Response:
        """One read of WaveSpeed's catalog (its model listing, a price quote), the answer as it
        came: kling.api.schema_check reads it, tolerant of any shape. Makes no task, costs nothing."""
        return await self._http.request(method, f"{self.base_url}{path}", headers=self._headers(), json=body)

    def _result_url(self, task_id: str) -> str:
        # Built from our base, never taken from `urls.get`: the key goes nowhere else.
        if not is_task_id(task_id):
            raise NotFoundError(f"{task_id[:60]!r} is not a task id.", task_id=None)
        return f"{self.base_url}/api/v3/predictions/{task_id}/result"

    async def watch(
        self, task_id: str, *, first_delay: float | None = None, webhook: bool = False, new_task: bool = False
    ) -> AsyncIterator[Update]:
        """Poll until the task ends. Yields "polled" and "retrying" updates; returns after a
        completed snapshot; raises TaskFailedError, DeadlineExceededError or a fatal HTTP error.

        `webhook`: a webhook was requested for this task, so polls are only the safety net; a
        wake-up from `self.wakeups` (a valid webhook arrived) makes the next poll happen at once.
        `new_task`: the task was created just now, so a 404 is ridden out for `new_task_grace` s."""
        policy = self.poll_policy
        started = self._clock()
        deadline = started + policy.deadline
        polls = 0
        bad_answers = 0
        retry_after: float | None = None
        while True:
            now = self._clock()
            remaining = deadline - now
            if remaining <= 0:
                raise DeadlineExceededError(
                    f"Stopped waiting for task {task_id} after {policy.deadline / 60:.0f} min. It keeps running "
                    f"at WaveSpeed and is billed; resume it with: python -m kling result {task_id}",
                    task_id=task_id,
                )
            if polls == 0 and first_delay is not None:
                delay = first_delay
            else:
                delay = policy.delay(polls, self._rng, now - started, webhook=webhook)
            if retry_after is not None:
                delay, retry_after = max(delay, retry_after), None
            await self._nap(task_id, min(delay, remaining))
            polls += 1
            try:
                response = await self._http.get(self._result_url(task_id), headers=self._headers())
            except httpx.TransportError as exc:
                yield Update("retrying", message=f"status check failed ({type(exc).__name__}); trying again")
                continue
            status = effective_status(response)
            if status in (429, 408) or status >= 500:
                retry_after = parse_retry_after(response.headers.get("retry-after"), policy.max_retry_after)
                when = f"in {retry_after:.0f} s" if retry_after is not None else "shortly"
                yield Update("retrying", message=f"status check answered {status}; trying again {when}")
                continue
            if status == 404 and new_task and self._clock() - started < policy.new_task_grace:
                yield Update("retrying", message=f"task {task_id} is not readable yet (404); trying again")
                continue
            if status == 404:
                error = NotFoundError(
                    f"Unknown or expired task {task_id}: WaveSpeed does not know it (404; tasks are kept 7 days).",
                    task_id=task_id,
                )
                error.http_status = 404
                raise error
            if status != 200:
                raise self._error(response, task_id=task_id, what="read the task")
            try:
                task = Task.from_data(_envelope_data(response))
            except ProtocolError as exc:
                bad_answers += 1
                if bad_answers >= 3:
                    raise ProtocolError(f"{exc} (task {task_id}, 3 times in a row)", task_id=task_id) from None
                yield Update("retrying", message=f"unreadable status answer; trying again ({exc})")
                continue
            bad_answers = 0
            undocumented = task.status not in DOCUMENTED and task.status not in FINAL
            note = f"status {task.status or '(empty)'}, not documented: still waiting" if undocumented else ""
            yield Update("polled", task=task, message=note)
            if task.in_flight:
                continue
            if task.status == "completed" and task.outputs:
                return
            if task.status == "completed":
                raise TaskFailedError(
                    f"Task {task_id} completed without an output.", task_id=task_id, status=task.status
                )
            raise TaskFailedError(
                self._scrub(task_failed_message(task)), task_id=task_id, code=task.error_code, status=task.status
            )

    async def _nap(self, task_id: str, seconds: float) -> None:
        if self.wakeups is None:
            await self._sleep(seconds)
        else:
            await self.wakeups.sleep(task_id, seconds, self._sleep)

    async def wait(self, task_id: str, *, first_delay: float | None = None, webhook: bool = False) -> Task:
        task: Task | None = None
        async for update in self.watch(task_id, first_delay=first_delay, webhook=webhook):
            task = update.task or task
        assert task is not None  # watch returns only after a completed snapshot
        return task

    # -- download ---------------------------------------------------------------------------

    async def download(self, url: str, dest: Path, *, task_id: str | None = None) -> Path:
        """Stream `url` to a temp file beside `dest`, check it is an MP4, rename it into place.
        No partial file is ever left. The API key is not sent: outputs live on a CDN."""
        if not url.startswith(("http://", "https://")):
            raise DownloadError(f"The output of task {task_id} is not an http(s) URL.", url=url, task_id=task_id)
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)

        async def attempt() -> Path:
            try:
                return await self._download_once(url, dest, task_id)
            except _TransientDownload as exc:
                raise Retry(DownloadError(str(exc), url=url, task_id=task_id)) from None

        return await self._retrying(attempt)

    async def _download_once(self, url: str, dest: Path, task_id: str | None) -> Path:
        tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.part")
        what = f"the clip of task {task_id}" if task_id else "the clip"
        try:
            response = await self._open_download(url, what, task_id)
            try:
                if response.status_code >= 500 or response.status_code == 429:
                    raise _TransientDownload(f"Downloading {what} failed with HTTP {response.status_code}.")
                if response.status_code != 200:
                    hint = (
                        " The URL may have expired (outputs are kept 7 days)."
                        if response.status_code in (403, 404, 410)
                        else ""
                    )
                    raise DownloadError(
                        f"Downloading {what} failed with HTTP {response.status_code}.{hint}", url=url, task_id=task_id
                    )
                too_big = DownloadError(
                    f"{what.capitalize()} is larger than {self.max_download_bytes // 2**20} MB; refused.",
                    url=url,
                    task_id=task_id,
                )
                if int(response.headers.get("content-length") or 0) > self.max_download_bytes:
                    raise too_big
                size = 0
                head = b""
                with tmp.open("wb") as out:
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > self.max_download_bytes:
                            raise too_big
                        if len(head) < 12:
                            head += chunk[:12]
                        out.write(chunk)
            finally:
                await response.aclose()
            if not _is_mp4(head):
                raise DownloadError(f"{what.capitalize()} is not an MP4 file.", url=url, task_id=task_id)
            os.replace(tmp, dest)
            return dest
        except httpx.TransportError as exc:
            raise _TransientDownload(f"Downloading {what} was interrupted ({type(exc).__name__}).") from None
        finally:
            tmp.unlink(missing_ok=True)

    async def _open_download(self, url: str, what: str, task_id: str | None) -> httpx.Response:
        """GET with redirects followed by hand: each hop must be http(s), and a hop to another host
        must not lead into a private network (the URL came from a server; its redirects did not)."""
        origin = httpx.URL(url).host
        for _ in range(MAX_REDIRECTS + 1):
            response = await self._http.send(self._http.build_request("GET", url), stream=True, follow_redirects=False)
            if not response.is_redirect:
                return response
            await response.aclose()
            url = str(httpx.URL(url).join(response.headers.get("location", "")))
            target = httpx.URL(url)
            if target.scheme not in ("http", "https"):
                raise DownloadError(
                    f"Downloading {what} was redirected to a {target.scheme or 'non-web'} URL; refused.",
                    url=url,
                    task_id=task_id,
                )
            if target.host != origin and await _is_private_host(target.host):
                raise DownloadError(
                    f"Downloading {what} was redirected to a private address ({target.host}); refused.",
                    url=url,
                    task_id=task_id,
                )
        raise DownloadError(
            f"Downloading {what} was redirected more than {MAX_REDIRECTS} times; refused.", url=url, task_id=task_id
        )

    # -- all of it --------------------------------------------------------------------------

    async def stream(self, request: Request, output_dir: Path, *, webhook: str | None = None) -> AsyncIterator[Update]:
        """Validate, upload, submit, wait, download; one Update per step.

        The "submitted" update comes before the first poll: a consumer that records the task id
        there (the journal does) can always resume it."""
        request = request.validate()
        if isinstance(request, I2VRequest):
            yield Update("uploading", message="uploading the image(s)")
            request = await self._resolve_images(request)
        yield Update("submitting", message="submitting the task")
        task = await self.submit_payload(request.model, request.payload(), webhook=webhook)
        yield Update("submitted", task=task, message=f"task {task.id} created")
        async for update in self.follow(task.id, output_dir, webhook=bool(webhook), new_task=True):
            yield update

    async def follow(
        self,
        task_id: str,
        output_dir: Path,
        *,
        first_delay: float | None = None,
        webhook: bool = False,
        new_task: bool = False,
    ) -> AsyncIterator[Update]:
        """Wait for an existing task and download its clip to `output_dir/<task id>.mp4`."""
        task: Task | None = None
        async for update in self.watch(task_id, first_delay=first_delay, webhook=webhook, new_task=new_task):
            task = update.task or task
            yield update
        assert task is not None and task.video_url
        yield Update("downloading", task=task, message="downloading the clip")
        path = await self.download(task.video_url, Path(output_dir) / f"{task.id}.mp4", task_id=task.id)
        yield Update("done", task=task, path=path, message="done")

    async def generate(
        self,
        request: Request,
        output_dir: Path,
        *,
        on_task: Callable[[Task], Any] | None = None,
        on_update: Callable[[Update], Any] | None = None,
        webhook: str | None = None,
    ) -> Update:
        """The whole path; `on_task` gets the task the moment it exists (before the first poll)."""
        last = Update("submitting")
        async for update in self.stream(request, output_dir, webhook=webhook):
            if update.stage == "submitted" and update.task is not None and on_task is not None:
                result = on_task(update.task)
                if asyncio.iscoroutine(result):
                    await result
            if on_update is not None:
                on_update(update)
            last = update
        return last


class _TransientDownload(Exception):
    """A download failure worth one more try."""


@dataclass
class _LoopThread:
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self.loop.run_forever, name="kling-client", daemon=True)
        self.thread.start()

    def run(self, coro: Awaitable[T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()  # type: ignore[arg-type]

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        if self.thread is not None:
            self.thread.join()
        self.loop.close()


class KlingClient:
    """Blocking face for scripts: the async client on a private event-loop thread."""

    def __init__(self, api_key: str | None = None, **kwargs: Any) -> None:
        self._runner = _LoopThread()
        self._runner.start()

        async def make() -> AsyncKlingClient:
            return AsyncKlingClient(api_key, **kwargs)

        try:
            self._client = self._runner.run(make())
        except BaseException:
            self._runner.stop()
            raise

    def __repr__(self) -> str:
        return f"KlingClient(base_url={self._client.base_url!r}, api_key=<hidden>)"

    def __enter__(self) -> KlingClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._runner.run(self._client.aclose())
        self._runner.stop()

    def submit(self, request: Request) -> Task:
        return self._runner.run(self._client.submit(request))

    def get(self, task_id: str) -> Task:
        return self._runner.run(self._client.get(task_id))

    def wait(self, task_id: str) -> Task:
        return self._runner.run(self._client.wait(task_id))

    def upload(self, image: PreparedImage) -> str:
        return self._runner.run(self._client.upload(image))

    def download(self, url: str, dest: Path, *, task_id: str | None = None) -> Path:
        return self._runner.run(self._client.download(url, dest, task_id=task_id))

    def stream(self, request: Request, output_dir: Path) -> Iterator[Update]:
        updates = self._client.stream(request, output_dir)
        while True:
            try:
                yield self._runner.run(updates.__anext__())
            except StopAsyncIteration:
                return

    def generate(self, request: Request, output_dir: Path, **kwargs: Any) -> Update:
        return self._runner.run(self._client.generate(request, output_dir, **kwargs))
