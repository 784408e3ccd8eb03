"""Which server a client talks to: WaveSpeed with a key, the in-process simulator without one.

Kept apart from `client.py` so the client never imports the simulator. One pooled
`httpx.AsyncClient` per mode is shared by every client made here (one per key, cheap).
"""

from __future__ import annotations

import httpx

from .client import DEFAULT_TIMEOUT, AsyncKlingClient, PollPolicy
from .config import Settings
from .simulator import SimConfig, Simulator

PREVIEW_BASE_URL = "http://preview.invalid"
PREVIEW_KEY = "preview"
# The simulator is local and free: poll it often so every stage shows.
PREVIEW_POLL = PollPolicy(first=0.5, factor=1.0, ceiling=0.5, jitter=0.1, deadline=600)
POOL = httpx.Limits(max_connections=100, max_keepalive_connections=20)


class Backend:
    def __init__(self, settings: Settings, *, simulator: Simulator | None = None, live_poll: PollPolicy | None = None) -> None:
        self.settings = settings
        self.simulator = simulator
        self.live_poll = live_poll or PollPolicy()
        self._live_http: httpx.AsyncClient | None = None
        self._preview_http: httpx.AsyncClient | None = None

    def is_preview(self, user_key: str | None = None) -> bool:
        return not (user_key or self.settings.api_key)

    def client(self, user_key: str | None = None) -> AsyncKlingClient:
        """A client for the visitor's own key if given, else the server's, else preview."""
        key = (user_key or "").strip() or self.settings.api_key
        if key:
            if self._live_http is None:
                self._live_http = httpx.AsyncClient(timeout=DEFAULT_TIMEOUT, limits=POOL)
            return AsyncKlingClient(key, base_url=self.settings.base_url, http=self._live_http, poll=self.live_poll)
        if self._preview_http is None:
            if self.simulator is None:
                self.simulator = Simulator(SimConfig())
            transport = httpx.ASGITransport(app=self.simulator.app)
            self._preview_http = httpx.AsyncClient(transport=transport, timeout=DEFAULT_TIMEOUT)
        return AsyncKlingClient(PREVIEW_KEY, base_url=PREVIEW_BASE_URL, http=self._preview_http, poll=PREVIEW_POLL)

    async def aclose(self) -> None:
        for http in (self._live_http, self._preview_http):
            if http is not None:
                await http.aclose()
        self._live_http = self._preview_http = None
