"""Which server a client talks to: WaveSpeed with a key, the in-process simulator without one.

Kept apart from `client.py` so the client never imports the simulator. One pooled
`httpx.AsyncClient` per mode is shared by every client made here (one per key, cheap),
and so is what they learn of a retired upload endpoint.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable

import httpx

from kling.api.client import DEFAULT_TIMEOUT, AsyncKlingClient
from kling.api.models import PollPolicy, is_task_id
from kling.api.uploads import RetiredUploads
from kling.api.webhooks import WEBHOOK_PATH, Wakeups, WebhookReceiver
from kling.config import Settings
from kling.preview.simulator import SimConfig, Simulator

log = logging.getLogger("kling.api.webhooks")

PREVIEW_BASE_URL = "http://preview.invalid"
PREVIEW_KEY = "preview"
# The simulator is local and free: poll it often so every stage shows.
PREVIEW_POLL = PollPolicy(first=0.5, ceiling=1.0, jitter=0.1, deadline=600)
# Live polling; a module constant so a harness (bench/apps.py) can scale it with the simulator.
LIVE_POLL = PollPolicy()
POOL = httpx.Limits(max_connections=100, max_keepalive_connections=20)


class Backend:
    def __init__(
        self,
        settings: Settings,
        *,
        simulator: Simulator | None = None,
        live_poll: PollPolicy | None = None,
        webhooks: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`webhooks`: this process serves WEBHOOK_PATH (the app does, the CLI does not), so a
        submit may ask for a webhook; a wait that expects one polls only as a safety net.
        `transport`, `sleep` and `clock` reach every live client (tests: a simulator in-process,
        a fake clock)."""
        self.settings = settings
        self.transport = transport
        self.sleep = sleep
        self.clock = clock
        self.webhooks = webhooks
        self.simulator = simulator
        self.live_poll = live_poll or LIVE_POLL
        self._live_http: httpx.AsyncClient | None = None
        self._preview_http: httpx.AsyncClient | None = None
        # Once a binary upload endpoint answers 404/405, every client made here uses the ticket
        # flow for it; another backend in the same process learns that for itself.
        self.retired_uploads = RetiredUploads()
        # Webhooks wake the live waits they belong to; the secret is read once, when first needed.
        self.wakeups = Wakeups()
        self.webhook_receiver = WebhookReceiver(
            self.wakeups,
            secret=settings.webhook_secret,
            fetch_secret=(lambda: self.client().webhook_secret()) if settings.api_key else None,
            is_task_id=is_task_id,
            clock=clock,
        )
        if webhooks and settings.public_url and not _https_or_loopback(settings.public_url):
            log.warning(
                "KLING_PUBLIC_URL %s is not https: WaveSpeed may not deliver webhooks to it (polling still works).",
                settings.public_url,
            )

    def is_preview(self, user_key: str | None = None) -> bool:
        return not (user_key or self.settings.api_key)

    def client(self, user_key: str | None = None) -> AsyncKlingClient:
        """A client for the visitor's own key if given, else the server's, else preview."""
        key = (user_key or "").strip() or self.settings.api_key
        if key:
            if self._live_http is None:
                self._live_http = httpx.AsyncClient(transport=self.transport, timeout=DEFAULT_TIMEOUT, limits=POOL)
            return AsyncKlingClient(
                key,
                base_url=self.settings.base_url,
                http=self._live_http,
                poll=self.live_poll,
                wakeups=self.wakeups,
                retired_uploads=self.retired_uploads,
                sleep=self.sleep,
                clock=self.clock,
            )
        if self._preview_http is None:
            if self.simulator is None:
                # A Space's preview runs for days: keep only a short request log.
                self.simulator = Simulator(SimConfig(log_limit=1000))
            transport = httpx.ASGITransport(app=self.simulator.app)
            self._preview_http = httpx.AsyncClient(transport=transport, timeout=DEFAULT_TIMEOUT)
        return AsyncKlingClient(
            PREVIEW_KEY,
            base_url=PREVIEW_BASE_URL,
            http=self._preview_http,
            poll=PREVIEW_POLL,
            retired_uploads=self.retired_uploads,
        )

    def webhook_url(self, user_key: str | None = None) -> str | None:
        """The webhook to ask for, or None. Only for tasks paid with the server's key: a webhook is
        signed with the paying account's secret, and a visitor's secret is not ours to fetch."""
        if self.webhooks and self.settings.public_url and self.settings.api_key and not (user_key or "").strip():
            return self.settings.public_url + WEBHOOK_PATH
        return None

    async def aclose(self) -> None:
        for http in (self._live_http, self._preview_http):
            if http is not None:
                await http.aclose()
        self._live_http = self._preview_http = None


def _https_or_loopback(url: str) -> bool:
    parsed = httpx.URL(url)
    if parsed.scheme == "https":
        return True
    if parsed.host == "localhost":
        return True
    try:
        return ipaddress.ip_address(parsed.host.strip("[]")).is_loopback
    except ValueError:
        return False
