"""WaveSpeed webhooks, all of it: the route, the signature check, and the wake-up a webhook
gives a waiting poll.

`verify()` is pure (no I/O, the clock passed in) so every rule in docs/API.md has a unit test:
HMAC-SHA256 hex over "{webhook-id}.{webhook-timestamp}.{raw body}", keyed by the secret without
its `whsec_` prefix, sent as `webhook-signature: v3,<hex>`; anything older than 300 s is refused.

`Wakeups` lets a valid webhook end a poll's sleep at once, so the client does its final poll and
download immediately; polling stays on, slowly, because WaveSpeed does not promise delivery.

`WebhookReceiver` ties them together for the app: it checks a webhook with the account's secret
(given, or fetched once with the Space's key) and wakes the wait its task id belongs to; `routes()`
is the POST route Gradio's server mounts.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from kling.errors import KlingError, WebhookError

log = logging.getLogger("kling.api.webhooks")

WEBHOOK_PATH = "/webhooks/wavespeed"
MAX_AGE_S = 300.0
SCHEME = "v3"
# After a failed read of the webhook secret, webhooks are refused without asking again for this
# long: otherwise every forged post would make one request to WaveSpeed.
SECRET_RETRY_S = 300.0


class MalformedWebhook(WebhookError):
    """Headers that no sender could have signed: missing, or a timestamp that is not one.
    Found without the secret, so such a post costs no request for it (answered 400)."""


def signature(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    key = secret.strip().removeprefix("whsec_").encode()
    return hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def check_headers(headers: Mapping[str, str], *, now: float, max_age: float = MAX_AGE_S) -> tuple[str, str, str]:
    """(webhook-id, webhook-timestamp, webhook-signature) if present and fresh, checked without the
    secret: MalformedWebhook when they cannot be valid, WebhookError when too old or too new."""
    message_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not (message_id and timestamp and signatures):
        raise MalformedWebhook("missing webhook-id, webhook-timestamp or webhook-signature header")
    # At most 12 digits: a 400-digit number parses as an int but overflows the float subtraction.
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise MalformedWebhook("webhook-timestamp is not a whole number of seconds")
    sent = int(timestamp)
    # Both directions: an old message may be a replay, a future one a forged clock.
    if abs(now - sent) > max_age:
        raise WebhookError(f"webhook-timestamp is {now - sent:+.0f} s from now (limit {max_age:.0f} s)")
    return message_id, timestamp, signatures


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: float, max_age: float = MAX_AGE_S
) -> dict[str, Any]:
    """The webhook's payload (WaveSpeed's flat `data` object) if it is authentic and fresh; else
    WebhookError. `headers` must be looked up case-insensitively (Starlette's and httpx's are)."""
    message_id, timestamp, signatures = check_headers(headers, now=now, max_age=max_age)
    expected = signature(secret, message_id, timestamp, body)
    # The header may carry several space-separated "scheme,hex" pairs (a secret being rotated).
    offered = [part[len(SCHEME) + 1 :] for part in signatures.split() if part.startswith(SCHEME + ",")]
    offered = [sig for sig in offered if sig.isascii()]  # compare_digest raises on other text
    if not any(hmac.compare_digest(expected, sig) for sig in offered):
        raise WebhookError("the signature does not match")
    try:
        payload = json.loads(body)
    except ValueError:
        raise WebhookError("the body is not JSON") from None
    if not isinstance(payload, dict):
        raise WebhookError("the body is not a JSON object")
    return payload


class WebhookSecret:
    """The account's webhook secret: the configured one, or read with `fetch` when first needed
    (never at start-up: that would be an API call). Read once; a failed read is not repeated for
    `retry_after` seconds, whatever arrives meanwhile. `errors`: what a failed read raises."""

    def __init__(
        self,
        secret: str | None,
        fetch: Callable[[], Awaitable[str]] | None,
        *,
        errors: tuple[type[BaseException], ...],
        clock: Callable[[], float] = time.monotonic,
        retry_after: float = SECRET_RETRY_S,
    ) -> None:
        self._secret = secret
        self._fetch = fetch
        self._errors = errors
        self._clock = clock
        self._retry_after = retry_after
        self._failed_at: float | None = None
        self._lock = asyncio.Lock()

    def _due(self) -> bool:
        return self._failed_at is None or self._clock() - self._failed_at >= self._retry_after

    async def get(self) -> str | None:
        if self._secret is None and self._fetch is not None and self._due():
            async with self._lock:
                if self._secret is None and self._due():
                    try:
                        self._secret = await self._fetch()
                    except self._errors as exc:
                        self._failed_at = self._clock()
                        log.warning("Could not read the webhook secret: %s", type(exc).__name__)
        return self._secret


class Wakeups:
    """One flag per task id: `wake(id)` ends the current or next `sleep(id, ...)` for that task.

    A wake that comes before anyone sleeps is kept (a webhook can beat the first poll), but only
    for the most recent `remember` ids, so webhooks for tasks nobody waits on cannot pile up.
    Safe to call `wake` from another thread than the one whose loop sleeps.
    """

    def __init__(self, remember: int = 1024) -> None:
        self._events: OrderedDict[str, tuple[asyncio.Event, asyncio.AbstractEventLoop | None]] = OrderedDict()
        self._remember = remember
        self._lock = threading.Lock()  # `wake` may come from another thread

    def _event(
        self, task_id: str, loop: asyncio.AbstractEventLoop | None
    ) -> tuple[asyncio.Event, asyncio.AbstractEventLoop | None]:
        """The flag for `task_id` and the loop that sleeps on it; `loop` claims it for that loop."""
        with self._lock:
            event, owner = self._events.get(task_id, (None, None))
            if event is None or (loop is not None and owner not in (None, loop)):
                event, owner = asyncio.Event(), loop
            self._events[task_id] = (event, owner or loop)
            self._events.move_to_end(task_id)
            while len(self._events) > self._remember:
                self._events.popitem(last=False)
            return event, owner or loop

    def wake(self, task_id: str) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        event, owner = self._event(task_id, None)
        if owner is not None and owner is not running:
            owner.call_soon_threadsafe(event.set)
        else:
            event.set()

    def woken(self, task_id: str) -> bool:
        entry = self._events.get(task_id)
        return entry is not None and entry[0].is_set()

    async def sleep(
        self, task_id: str, seconds: float, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    ) -> bool:
        """Sleep `seconds` (with `sleep`, so tests can use a fake clock) or until woken.
        True when woken; the wake is consumed."""
        event, _ = self._event(task_id, asyncio.get_running_loop())
        if not event.is_set():
            napping = asyncio.ensure_future(sleep(seconds))
            waking = asyncio.ensure_future(event.wait())
            try:
                await asyncio.wait({napping, waking}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for job in (napping, waking):
                    job.cancel()
        woken = event.is_set()
        event.clear()
        return woken


class WebhookReceiver:
    """Checks WaveSpeed's webhooks and wakes the wait each one belongs to."""

    def __init__(
        self,
        wakeups: Wakeups,
        *,
        secret: str | None,
        fetch_secret: Callable[[], Awaitable[str]] | None = None,
        is_task_id: Callable[[str], bool] = bool,
        clock: Callable[[], float] = time.monotonic,
        remember: int = 4096,
    ) -> None:
        """`secret`: the account's webhook secret if configured; else `fetch_secret` reads it
        once, when the first well-formed webhook arrives (never at start-up: that would be an API
        call), and a failed read is not repeated for a while. `is_task_id`: the client's id check
        (the client imports this module, not the reverse). `remember`: deliveries kept to spot repeats."""
        self.wakeups = wakeups
        self._is_task_id = is_task_id
        self._secret = WebhookSecret(secret, fetch_secret, errors=(KlingError, httpx.HTTPError), clock=clock)
        # Deliveries already acted on (WaveSpeed retries a delivery; a repeat changes nothing).
        self._delivered: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._remember = remember

    async def secret(self) -> str | None:
        return await self._secret.get()

    async def receive(self, headers: Mapping[str, str], body: bytes, *, now: float | None = None) -> tuple[int, str]:
        """Check a webhook and wake the wait for its task. (HTTP status, short reason) for the route.
        A bad, old or unverifiable one is refused and logged, never acted on."""
        message_id = headers.get("webhook-id", "")[:64]
        received = time.time() if now is None else now
        try:  # what can be refused without the secret is, so it costs no request for it
            check_headers(headers, now=received)
        except MalformedWebhook as exc:
            log.warning("Refused webhook %r: %s", message_id, exc)
            return 400, "malformed webhook"
        except WebhookError as exc:
            log.warning("Refused webhook %r: %s", message_id, exc)
            return 401, "invalid webhook"
        secret = await self.secret()
        if secret is None:
            log.warning(
                "Ignored webhook %s: no webhook secret (set KLING_WEBHOOK_SECRET or WAVESPEED_API_KEY)", message_id
            )
            return 503, "webhook secret unavailable"
        try:
            payload = verify(secret, headers, body, now=received)
        except WebhookError as exc:
            log.warning("Refused webhook %s: %s", message_id, exc)
            return 401, "invalid webhook"
        task_id = payload.get("id")
        if not isinstance(task_id, str) or not self._is_task_id(task_id):
            log.warning("Ignored webhook %s: no task id in its body", message_id)
            return 400, "no task id"
        # The same delivery again (same id, or the same task and status): acknowledged, not acted on.
        keys = [("id", message_id), ("task", f"{task_id}:{payload.get('status', '')}")]
        if any(key in self._delivered for key in keys):
            return 200, "duplicate"
        for key in keys:
            self._delivered[key] = None
        while len(self._delivered) > self._remember:
            self._delivered.popitem(last=False)
        # Only a wake-up: the waiting client polls once more and trusts that answer, not this body
        # (nor its `input` echo of the request, which is ignored).
        self.wakeups.wake(task_id)
        return 200, "ok"

    def routes(self) -> list[Route]:
        """WaveSpeed's webhook as a plain route on Gradio's own FastAPI app (`app_kwargs["routes"]`
        are registered before Gradio's, so `python app.py` stays the entry point). Outside Gradio's
        login: WaveSpeed cannot log in; the signature is the authentication."""

        async def webhook(request: Request) -> PlainTextResponse:
            status, text = await self.receive(request.headers, await request.body())
            return PlainTextResponse(text, status_code=status)

        return [Route(WEBHOOK_PATH, webhook, methods=["POST"])]
