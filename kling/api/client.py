"""A WaveSpeed client for Kling v2.0 master that never loses or duplicates a paid task.

`AsyncKlingClient` does the work over one pooled `httpx.AsyncClient`; `KlingClient` is a thin
blocking face over it for scripts. The rules (docs/DESIGN.md, "Rules"; the API in docs/API.md):

* A submit is sent once. It is sent again only when it provably never reached the server
  (a connect error) or the server refused it outright (429, or an HTTP 200 whose body `code` is
  429/5xx). A 5xx status, a time-out or an unreadable answer raises `SubmitUncertainError`: the
  task may exist and be billed; `find_tasks` (the predictions listing) is how a caller finds it.
* A body `code` other than 200 is an error even inside an HTTP 200 (`kling.api.answers` reads
  answers and their reasons).
* Polls follow `PollPolicy` (`kling.api.polling`); uploads switch to the ticket flow once the
  binary endpoint is gone (`kling.api.uploads`); downloads are atomic and guarded
  (`kling.api.downloads`). Uploads, refused submits and downloads share one retry rule
  (`kling.api.retry`).
* The key is sent only to the API base, never to the URLs of outputs, and never appears in a
  repr, a log line or an error message.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx

from kling.api import downloads, uploads
from kling.api.answers import (
    body_code,
    effective_status,
    envelope_data,
    error_text,
    iso_time,
    parse_retry_after,
    submit_refusal,
    task_id_in,
)
from kling.api.connection import Connection
from kling.api.models import PollPolicy, Request, Task, Update
from kling.api.params import I2VRequest
from kling.api.polling import Poller
from kling.api.retry import Backoff, Retry, with_retries
from kling.api.uploads import RetiredUploads
from kling.api.webhooks import Wakeups
from kling.config import api_key_from_env, base_url_from_env
from kling.errors import AuthenticationError, ProtocolError, ServerError, SubmitUncertainError
from kling.media.images import PreparedImage

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# Uploads, submits that provably created nothing, and downloads: one rule (kling.api.retry).
RETRY = Backoff()
T = TypeVar("T")


class AsyncKlingClient:
    """The WaveSpeed API for Kling v2.0 master.

    Cheap to make: many clients (one per key) can share one pooled `httpx.AsyncClient` via `http`,
    and what they learn of retired upload endpoints via `retired_uploads`.
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
        max_download_bytes: int = downloads.MAX_DOWNLOAD_BYTES,
        wakeups: Wakeups | None = None,
        retired_uploads: RetiredUploads | None = None,
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
        self._conn = Connection(self._http, self.base_url, self._key)
        self.poll_policy = poll
        self.retry_policy = retry
        self.upload_mode = upload
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self.max_download_bytes = max_download_bytes
        # Set by whoever receives webhooks (kling.api.backend): a valid one ends a poll's sleep at once.
        self.wakeups = wakeups
        # Held by the backend, so every client it makes knows once the binary endpoint is gone.
        self.retired_uploads = retired_uploads if retired_uploads is not None else RetiredUploads()

    def __repr__(self) -> str:
        return f"AsyncKlingClient(base_url={self.base_url!r}, api_key=<hidden>)"

    async def __aenter__(self) -> AsyncKlingClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def _retrying(self, attempt: Callable[[], Awaitable[T]]) -> T:
        return await with_retries(attempt, self.retry_policy, sleep=self._sleep, clock=self._clock)

    # -- images -----------------------------------------------------------------------------

    async def upload(self, image: PreparedImage) -> str:
        """A URL (or data URI) for an image that passed `prepare_image`. Uploads are free and
        create nothing billable, so transient failures are retried."""
        if self.upload_mode == "data_uri":
            return image.data_uri()
        return await uploads.upload(self._conn, image, retired=self.retired_uploads, retrying=self._retrying)

    async def _resolve_images(self, request: Request) -> Request:
        if not isinstance(request, I2VRequest):
            return request
        image, end_image = request.image, request.end_image
        if isinstance(image, PreparedImage):
            image = await self.upload(image)
        if isinstance(end_image, PreparedImage):
            end_image = await self.upload(end_image)
        return request.sent_as(image, end_image)

    # -- submit -----------------------------------------------------------------------------

    async def submit(self, request: Request, *, webhook: str | None = None) -> Task:
        """Validate (unless validated already), upload images, and create the task. One POST unless
        it provably failed."""
        request = await self._resolve_images(request.validate())
        return await self.submit_payload(request.model, request.payload(), webhook=webhook)

    async def submit_payload(self, model: str, payload: Mapping[str, Any], *, webhook: str | None = None) -> Task:
        """One POST; sent again only after a connect error or an outright refusal (429, or a body
        `code` of 429/5xx inside an HTTP 200). Raises SubmitRefusedError when no task was made and
        SubmitUncertainError when one may have been."""
        url = self._conn.url(model)
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
                response = await self._http.post(url, json=dict(payload), params=params, headers=self._conn.headers())
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # The request never left this machine: sending it again cannot duplicate a task.
                raise Retry(
                    ServerError(f"Could not reach {self.base_url} ({type(exc).__name__}); nothing was submitted.")
                ) from None
            except httpx.TransportError as exc:
                raise uncertain(f"The submit was sent but its answer was lost ({type(exc).__name__}).") from None
            status = response.status_code
            if status == 200 and body_code(response) is None:
                try:
                    return Task.from_data(envelope_data(response))
                except ProtocolError as exc:
                    raise uncertain(f"The submit was accepted but its answer could not be read ({exc}).") from None
            if status == 429 or (status == 200 and effective_status(response) in (429, 500, 502, 503, 504)):
                # Refused before any task was made: the same request may go again, later.
                raise Retry(
                    submit_refusal(response, scrub=self._conn.scrub),
                    retry_after=parse_retry_after(response.headers.get("retry-after"), 3600),
                )
            if status >= 500 or status == 408:
                raise uncertain(
                    f"WaveSpeed answered the submit with {status} ({self._conn.scrub(error_text(response))}).",
                    task_id_in(response),
                )
            raise submit_refusal(response, scrub=self._conn.scrub)

        return await self._retrying(attempt)

    async def find_tasks(self, model: str, *, created_after: float, page_size: int = 100) -> list[Task]:
        """Recent tasks of `model` made at or after `created_after` (Unix time), newest first, from
        WaveSpeed's predictions listing: how a submit whose answer was lost finds its task."""
        when = datetime.fromtimestamp(created_after, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        body = {"page": 1, "page_size": page_size, "model": model, "created_after": when}

        async def attempt() -> httpx.Response:
            # A read that creates nothing: safe to send again, and the answer matters most right
            # after a failed submit, when a pooled connection may have just been closed under us.
            try:
                response = await self._http.post(self._conn.url("predictions"), json=body, headers=self._conn.headers())
            except httpx.TransportError as exc:
                raise Retry(ServerError(f"Listing recent tasks did not go through ({type(exc).__name__}).")) from None
            if effective_status(response) != 200:
                raise self._conn.transient(response, "list recent tasks")
            return response

        data = envelope_data(await self._retrying(attempt))
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
            if task.model in ("", model) and iso_time(task.created_at, default=created_after) >= created_after:
                tasks.append(task)
        return tasks

    # -- reads ------------------------------------------------------------------------------

    async def _read(self, url: str, what: str, *, task_id: str | None = None) -> dict[str, Any]:
        """`data` of one GET to the API, no retries."""
        response = await self._http.get(url, headers=self._conn.headers())
        if effective_status(response) != 200:
            raise self._conn.error(response, task_id=task_id, what=what)
        return envelope_data(response)

    async def get(self, task_id: str) -> Task:
        """One status request, no retries."""
        return Task.from_data(await self._read(self._conn.result_url(task_id), "read the task", task_id=task_id))

    async def webhook_secret(self) -> str:
        """The account's webhook signing secret (`whsec_...`), for checking webhooks it sends."""
        secret = (await self._read(self._conn.url("webhook/secret"), "read the webhook secret")).get("secret")
        if not isinstance(secret, str) or not secret.strip():
            raise ProtocolError("The webhook secret answer has no `data.secret`.")
        return secret.strip()

    async def balance(self) -> float:
        """The account's balance in US dollars (`GET /api/v3/balance`): free, and the cheapest way
        to learn whether a key is accepted (401 raises AuthenticationError)."""
        balance = (await self._read(self._conn.url("balance"), "read the balance")).get("balance")
        if isinstance(balance, bool) or not isinstance(balance, (int, float)):
            raise ProtocolError("The balance answer has no numeric `data.balance`.")
        return float(balance)

    async def catalog_request(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> httpx.Response:
        """One read of WaveSpeed's catalog (its model listing, a price quote), the answer as it
        came: kling.api.schema_check reads it, tolerant of any shape. Makes no task, costs nothing."""
        return await self._http.request(method, f"{self.base_url}{path}", headers=self._conn.headers(), json=body)

    # -- poll -------------------------------------------------------------------------------

    def _poller(self) -> Poller:
        return Poller(self._conn, self.poll_policy, self._clock, self._rng, self._nap)

    def watch(
        self, task_id: str, *, first_delay: float | None = None, webhook: bool = False, new_task: bool = False
    ) -> AsyncIterator[Update]:
        """Poll until the task ends (`kling.api.polling.Poller.watch`). `webhook`: a webhook was
        requested, so a wake-up from `self.wakeups` makes the next poll happen at once."""
        return self._poller().watch(task_id, first_delay=first_delay, webhook=webhook, new_task=new_task)

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
        return await downloads.download(
            self._http, url, dest, task_id=task_id, max_bytes=self.max_download_bytes, retrying=self._retrying
        )

    # -- all of it --------------------------------------------------------------------------

    async def stream(self, request: Request, output_dir: Path, *, webhook: str | None = None) -> AsyncIterator[Update]:
        """Validate (unless validated already), upload, submit, wait, download; one Update per step.

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
