"""The app as a whole: the services it holds for its lifetime, the page built over them, and the
server (`launch`), with the webhook route, the start-up resume and the share-link check."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import httpx
from starlette.routing import Route

from .backend import Backend
from .clips import ClipShelf
from .config import Settings
from .guard import SpendGuard
from .handlers import Generation, Handlers
from .journal import Journal
from .page import CSS, build_page, theme
from .runner import Runner


@dataclass
class Studio:
    """Everything the app holds for its lifetime: configuration and the services built from it."""

    settings: Settings
    backend: Backend
    journal: Journal
    runner: Runner
    clips: ClipShelf

    @classmethod
    def from_env(cls, settings: Settings | None = None) -> Studio:
        settings = settings or Settings.from_env()
        backend = Backend(settings, webhooks=True)  # launch_kwargs() serves the route
        journal = Journal(settings.journal_path)
        runner = Runner(backend, journal, SpendGuard(settings, journal))
        return cls(settings, backend, journal, runner, ClipShelf.in_gradio_cache(settings.clip_cache_bytes))

    def build(self) -> gr.Blocks:
        return self.build_with_handlers()[0]

    def build_with_handlers(self) -> tuple[gr.Blocks, Handlers]:
        """The page and its handlers (tests call the handlers directly)."""
        return build_page(self.settings, Generation(self.settings, self.runner, self.clips), self.journal)

    def launch_kwargs(self, *, share: bool | None = None) -> dict[str, Any]:
        """What `launch()` needs: theme and css (Gradio 6 takes them here), no run history, no file
        route into the data folder, a start-up hook that resumes unfinished paid tasks, the webhook
        route when KLING_PUBLIC_URL is set, and the optional share link and MCP server."""
        runner = self.runner

        @asynccontextmanager
        async def resume_on_start(app: Any) -> AsyncIterator[None]:
            resumed = runner.resume_unfinished()
            if resumed:
                print(f"Resuming {len(resumed)} unfinished task(s) paid with this Space's key.", flush=True)
            yield

        return {
            "auth": list(self.settings.auth) or None,
            "theme": theme(),
            "css": CSS,
            "run_history": False,
            "footer_links": ["api", "gradio"],
            "blocked_paths": [str(self.settings.data_dir.resolve()), str(Path(".env").resolve())],
            "app_kwargs": {"lifespan": resume_on_start, "routes": self.webhook_routes()},
            # Gradio runs at most `max_threads` events at once whatever their concurrency_limit
            # (its queue has that many worker slots), async or not: 40 would make the 41st visitor
            # wait a whole generation. Handlers are async, so a slot costs a coroutine, not a thread.
            "max_threads": max(40, self.settings.concurrency),
            "state_session_capacity": self.settings.session_capacity,
            "share": self.settings.share if share is None else share,
            "mcp_server": self.settings.mcp,
        }

    def webhook_routes(self) -> list[Route]:
        """WaveSpeed's webhook route, served only where WaveSpeed can reach the app."""
        return self.backend.webhook_receiver.routes() if self.settings.public_url else []


def launch(
    demo: gr.Blocks, studio: Studio, *, host: str | None = None, port: int | None = None, share: bool | None = None
) -> None:
    """`python app.py`: serve the page; `--host`/`--port` override Gradio's own variables."""
    kwargs = studio.launch_kwargs(share=share)
    reason = share_unavailable(studio.settings) if kwargs["share"] else None
    if host:
        kwargs["server_name"] = host
    if port:
        kwargs["server_port"] = port
    if not reason:
        demo.launch(**kwargs)
        return
    # Gradio would print a page of download instructions, then advise share=True: one line instead.
    demo.launch(**{**kwargs, "share": False, "quiet": True, "prevent_thread_lock": True})
    print(
        f"* Running on local URL:  {demo.local_url}\nNo public share link: {reason}. Serving locally only.", flush=True
    )
    demo.block_thread()


def share_unavailable(settings: Settings, timeout: float = 5.0) -> str | None:
    """Why Gradio cannot make a share link here, in a few words; None when it can try. Asked only
    when a link was requested: Gradio's own failure is a page of download instructions."""
    from gradio import networking

    if settings.share_server_address:
        return None
    try:
        httpx.get(networking.GRADIO_API_SERVER, timeout=timeout).raise_for_status()
    except httpx.HTTPError as exc:
        return f"Gradio's share service is out of reach ({type(exc).__name__}; no internet here?)"
    return None
