"""The app as a whole: the services it holds for its lifetime, the page built over them, and the
server (`launch`), with the webhook route, the start-up resume and the share-link check."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
import httpx
from starlette.middleware import Middleware
from starlette.routing import Route

from kling.api.backend import Backend
from kling.app.console import local_lines, mode_line
from kling.app.fairness import Fairness
from kling.app.gzip_page import GzipPage
from kling.app.handlers import Handlers
from kling.app.hf_user import HfUsers
from kling.app.identity import shelf_key, state_secret
from kling.app.page import build_page, theme
from kling.app.scripts import style
from kling.app.share_page import unfurl_note
from kling.app.share_routes import share_routes
from kling.app.share_tab import GALLERY_CSS
from kling.app.tabs.generate import Generation
from kling.app.upload_guard import UploadGuard, UploadLimits
from kling.config import Settings
from kling.jobs.guard import SpendGuard
from kling.jobs.runner import Runner
from kling.media.images import Preparer, prepare_image
from kling.store.clips import ClipShelf, gradio_cache
from kling.store.journal import Journal
from kling.store.sharing import Sharing
from kling.store.showcase import ShowcaseClip, load_showcase
from kling.store.uploads import UploadShelf
from kling.strings import i18n


@dataclass
class Studio:
    """Everything the app holds for its lifetime: configuration and the services built from it."""

    settings: Settings
    backend: Backend
    journal: Journal
    runner: Runner
    clips: ClipShelf
    secret: bytes = b""  # signs browser ids; from_env (or the first build) fills it in
    hf_users: HfUsers | None = None  # API/MCP callers' Hugging Face tokens, looked up on a Space only
    # Real clips of the examples (python -m kling showcase), read once at start-up; never an API call.
    showcase: dict[str, ShowcaseClip] = field(default_factory=dict)
    # What reads an uploaded image (params.prepare_image); tests wrap it to count and time decodes.
    decode: Preparer = prepare_image
    # What Gradio's upload route stored, under KLING_UPLOADS_MB; `upload_shelf()` makes it when first asked.
    uploads: UploadShelf | None = None

    @classmethod
    def from_env(cls, settings: Settings | None = None) -> Studio:
        settings = settings or Settings.from_env()
        backend = Backend(settings, webhooks=True)  # launch_kwargs() serves the route
        journal = Journal(settings.journal_path)
        runner = Runner(backend, journal, SpendGuard(settings, journal))
        secret = state_secret(settings.state_secret, settings.data_dir)
        clips = ClipShelf.in_gradio_cache(settings.clip_cache_bytes, key=shelf_key(secret))
        # Asking huggingface.co who a token is happens per request, never at start-up, and only on a
        # Space: elsewhere a local script may send its developer's own token without meaning to.
        hf_users = HfUsers(httpx.AsyncClient()) if settings.on_space else None
        return cls(settings, backend, journal, runner, clips, secret, hf_users, load_showcase(settings.showcase_dir))

    def build(self) -> gr.Blocks:
        return self.build_with_handlers()[0]

    def build_with_handlers(self) -> tuple[gr.Blocks, Handlers]:
        """The page and its handlers (tests call the handlers directly)."""
        if not self.secret:
            self.secret = state_secret(self.settings.state_secret, self.settings.data_dir)
        generation = Generation(
            self.settings,
            self.runner,
            self.clips,
            secret=self.secret,
            hf_users=self.hf_users,
            fairness=Fairness.from_settings(self.settings, self.decode, on_read=self.upload_shelf().used),
        )
        return build_page(self.settings, generation, self.journal, self.showcase)

    def launch_kwargs(self, *, share: bool | None = None) -> dict[str, Any]:
        """What `launch()` needs: theme and css (Gradio 6 takes them here), no run history, no file
        route into the data folder (the showcase's checked clips and posters are allowed), a start-up
        hook that resumes unfinished paid tasks, the webhook route when KLING_PUBLIC_URL is set, and
        the optional share link and MCP server."""
        runner = self.runner
        sharing = Sharing(self.settings.folder, self.journal)  # its start-up sweep: shared files with no share

        @asynccontextmanager
        async def resume_on_start(app: Any) -> AsyncIterator[None]:
            # Half-written files a killed process left, and whatever a cap lowered since the last run.
            removed = runner.disk.at_start(runner.journal) + sharing.sweep_orphans()
            if removed:
                print(f"Removed {len(removed)} file(s) from the data folder to keep it bounded.", flush=True)
            resumed = runner.resume_unfinished()
            if resumed:
                print(f"Resuming {len(resumed)} unfinished task(s) paid with this Space's key.", flush=True)
            if note := unfurl_note(self.settings):
                print(note, flush=True)
            yield

        return {
            "auth": list(self.settings.auth) or None,
            "theme": theme(),
            "i18n": i18n(),  # the page's fixed text in English and Chinese (kling/strings.py)
            "css": style() + GALLERY_CSS,  # kling/app/style.css, and the Shared tab's grid
            "run_history": False,
            "footer_links": ["api", "gradio"],
            "blocked_paths": [str(self.settings.data_dir.resolve()), str(Path(".env").resolve())],
            "allowed_paths": self.showcase_files(),
            "app_kwargs": {
                "lifespan": resume_on_start,
                "routes": self.webhook_routes() + self.share_routes(),
                "middleware": [
                    Middleware(GzipPage),  # the page's HTML and config, compressed
                    # Gradio's upload route: bytes and files per address, and the folder's cap.
                    Middleware(
                        UploadGuard,
                        limits=UploadLimits.from_settings(self.settings),
                        shelf=self.upload_shelf(),
                        settings=self.settings,
                    ),
                ],
            },
            # Gradio runs at most `max_threads` events at once whatever their concurrency_limit
            # (its queue has that many worker slots), async or not: 40 would make the 41st visitor
            # wait a whole generation. Handlers are async, so a slot costs a coroutine, not a thread.
            "max_threads": max(40, self.settings.concurrency),
            "state_session_capacity": self.settings.session_capacity,
            "share": self.settings.share if share is None else share,
            "mcp_server": self.settings.mcp,
            "max_file_size": self.settings.gradio_max_file_size,
        }

    def upload_shelf(self) -> UploadShelf:
        """Gradio's upload folder under its cap: one for the app, shared by the upload guard (what
        was stored) and the image fields (what a click read, so it is kept)."""
        if self.uploads is None:
            settings = self.settings
            self.uploads = UploadShelf(gradio_cache(), settings.uploads_bytes, keep_s=settings.upload_keep_s)
        return self.uploads

    def showcase_files(self) -> list[str]:
        """The files of the showcase folder the page may serve: each clip whose hash was checked at
        start-up, and its poster. Not the folder itself: nothing else in it is the page's to serve."""
        files = [clip.clip_path for clip in self.showcase.values()]
        files += [clip.poster_path for clip in self.showcase.values() if clip.poster_path is not None]
        return [str(path.resolve()) for path in files]

    def share_routes(self) -> list[Route]:
        """/clip/<id>: the clips visitors shared, served while they stay shared (kling.store.sharing)."""
        return share_routes(Sharing(self.settings.folder, self.journal), self.settings)

    def webhook_routes(self) -> list[Route]:
        """WaveSpeed's webhook route, served only where WaveSpeed can reach the app."""
        return self.backend.webhook_receiver.routes() if self.settings.public_url else []


def launch(
    demo: gr.Blocks, studio: Studio, *, host: str | None = None, port: int | None = None, share: bool | None = None
) -> None:
    """`python app.py`: serve the page; `--host`/`--port` override Gradio's own variables."""
    trust_no_forwarded_for_in_uvicorn()
    kwargs = studio.launch_kwargs(share=share)
    reason = share_unavailable(studio.settings) if kwargs["share"] else None
    if host:
        kwargs["server_name"] = host
    if port:
        kwargs["server_port"] = port
    print(mode_line(studio.settings), flush=True)
    if not kwargs["share"]:
        # Quiet: Gradio would advise setting share=True in launch(); say how this app takes it.
        demo.launch(**{**kwargs, "quiet": True, "prevent_thread_lock": True})
        print(local_lines(demo.local_url, studio.settings), flush=True)
        demo.block_thread()
        return
    if not reason:
        demo.launch(**kwargs)
        return
    # Gradio would print a page of download instructions, then advise share=True: one line instead.
    demo.launch(**{**kwargs, "share": False, "quiet": True, "prevent_thread_lock": True})
    print(
        f"* Running on local URL:  {demo.local_url}\nNo public share link: {reason}. Serving locally only.", flush=True
    )
    demo.block_thread()


def trust_no_forwarded_for_in_uvicorn() -> None:
    """uvicorn replaces the socket's peer with an X-Forwarded-For entry whenever the connection comes
    from 127.0.0.1, and Gradio's MCP server calls the app over loopback with the caller's own headers:
    an MCP caller could then pick its address. kling.app.identity reads the header itself (trusting only
    the Space's proxy or KLING_TRUSTED_PROXIES), so uvicorn is told to trust no one."""
    os.environ["FORWARDED_ALLOW_IPS"] = ""


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
