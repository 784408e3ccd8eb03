"""Sharing on the page: "Share" and "Stop sharing" under each of the visitor's clips (both generate
tabs, the Lab's variants, History's selected clip, the films), the link with a copy button, the
"Shared" tab's gallery (loaded when the tab is opened, so the first page load does not grow), and a
shared link's start image filling the Image to Video form.

The page sends a task id or a film's name, never a path or an owner: the owner is derived on the
server for each click (kling.app.visitor), and kling.store.sharing checks it owns what it shares.
Sharing calls no API and costs nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import gradio as gr

from kling.app.opening import Opening
from kling.app.share_page import SHARED_QUERY, clip_url, gallery_html, public_base
from kling.app.sliding_window import SlidingWindow
from kling.app.tabs.common import Session, Updates, lang_of, private, private_with_notices
from kling.app.tabs.generate import Generation
from kling.app.views import task_id_in_status
from kling.errors import ShareRefused
from kling.store.journal import Journal
from kling.store.share_links import CLIP, Share
from kling.store.sharing import Sharing
from kling.strings import minutes_text, say, text

GALLERY_SIZE = 48
HOUR_S = 3600.0
# The page's own address, the links' base when no public URL is configured (kept in a hidden box).
PAGE_BASE_JS = "() => window.location.origin + window.location.pathname"
GALLERY_CSS = """
.kling-shared-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:12px}
.kling-shared-card{margin:0}.kling-shared-card video{width:100%;aspect-ratio:16/9;background:#000;border-radius:6px}
.kling-shared-card figcaption{font-size:.85rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
"""


@dataclass
class ShareBox:
    share: gr.Button
    stop: gr.Button
    link: gr.Textbox


def share_box() -> ShareBox:
    """Share / Stop sharing and the link, under one clip; hidden until there is a clip."""
    with gr.Row():
        share = gr.Button(text("share.button"), size="sm", visible=False, elem_classes="kling-share")
        stop = gr.Button(text("share.stop"), size="sm", visible=False, variant="stop", elem_classes="kling-unshare")
    link = gr.Textbox(
        label=text("share.link"), buttons=["copy"], interactive=False, visible=False, elem_classes="kling-share-link"
    )
    return ShareBox(share, stop, link)


@dataclass
class GalleryView:
    tab: gr.Tab
    grid: gr.HTML
    refresh: gr.Button


def gallery_tab(enabled: bool) -> GalleryView | None:
    """The "Shared" tab (KLING_GALLERY=0: none); empty until opened."""
    if not enabled:
        return None
    with gr.Tab(text("tab.shared"), id="shared") as tab:
        gr.Markdown(text("share.gallery_help"))
        refresh = gr.Button(text("share.gallery_load"), size="sm")
        grid = gr.HTML("", elem_id="kling-shared-gallery")
    return GalleryView(tab, grid, refresh)


class ShareHandlers:
    def __init__(self, generation: Generation, sharing: Sharing) -> None:
        self.g = generation
        self.sharing = sharing
        # Each share writes a poster and a copy of the clip: counted per visitor (the username when
        # signed in, else the address: a new browser id is free to make).
        self.shares = SlidingWindow(generation.settings.shares_per_hour_per_visitor, HOUR_S)

    def _link(self, share: Share, page_url: str) -> str:
        return clip_url(public_base(self.g.settings, page_url or ""), share.id)

    @staticmethod
    def _origin(page_url: str, request: gr.Request | None) -> str:
        """The page's address as the browser has it, else the one this request was sent to."""
        if page_url or request is None:
            return page_url or ""
        headers: Any = getattr(request, "headers", None) or {}
        scheme = headers.get("x-forwarded-proto") or "http"
        return f"{scheme}://{headers.get('host', 'localhost')}" if headers.get("host") else ""

    @staticmethod
    def _subject(kind: str, source: Any) -> str:
        raw = str(source or "").strip()
        return (task_id_in_status(raw) or raw) if kind == CLIP else raw

    def _shown(self, box: ShareBox, share: Share | None, page_url: str, has_clip: bool = True) -> Updates:
        shared = share is not None
        return {
            box.share: gr.Button(visible=has_clip and not shared),
            box.stop: gr.Button(visible=shared),
            box.link: gr.Textbox(value=self._link(share, page_url) if share else "", visible=shared),
        }

    async def share(
        self,
        box: ShareBox,
        kind: str,
        page_url: str,
        source: Any,
        session: Session | None,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> Updates:
        who, lang = await self.g.who(request, profile, session), lang_of(session)
        subject = self._subject(kind, source)
        if not subject:
            gr.Warning(say(lang, "share.none"), title=say(lang, "share.title"))
            return {box.share: gr.skip()}
        wait = self.shares.take(who.visitor)
        if wait:
            limit, left = self.g.settings.shares_per_hour_per_visitor, minutes_text(wait, lang)
            gr.Warning(say(lang, "share.too_many", limit=limit, wait=left), title=say(lang, "share.title"))
            return {box.share: gr.skip()}
        act = self.sharing.share_clip if kind == CLIP else self.sharing.share_film
        try:
            share = await asyncio.to_thread(act, who.owner, subject)
        except ShareRefused as exc:
            self.shares.give_back(who.visitor)  # refused before any work: it does not count
            gr.Warning(say(lang, f"share.{exc.reason}"), title=say(lang, "share.title"))
            return {box.share: gr.skip()}
        gr.Info(say(lang, "share.shared"), title=say(lang, "share.title"))
        return self._shown(box, share, self._origin(page_url, request))

    async def stop(
        self,
        box: ShareBox,
        kind: str,
        source: Any,
        session: Session | None,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> Updates:
        owner, lang = (await self.g.who(request, profile, session)).owner, lang_of(session)
        share = self.sharing.share_of(kind, self._subject(kind, source))
        if share is None:
            gr.Warning(say(lang, "share.not_shared"), title=say(lang, "share.title"))
        elif share.owner != owner or not self.sharing.unshare(share.id, owner=owner):
            gr.Warning(say(lang, "share.not_yours"), title=say(lang, "share.title"))
            return {box.share: gr.skip()}
        else:
            gr.Info(say(lang, "share.stopped"), title=say(lang, "share.title"))
        return self._shown(box, None, "")

    async def state(
        self,
        box: ShareBox,
        kind: str,
        page_url: str,
        source: Any,
        session: Session | None,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> Updates:
        """Whether the clip now shown is the visitor's own and shared: the buttons and the link to match."""
        owner = (await self.g.who(request, profile, session)).owner
        subject = self._subject(kind, source)
        share = self.sharing.share_of(kind, subject) if subject else None
        mine = share is not None and share.owner == owner
        return self._shown(box, share if mine else None, self._origin(page_url, request), has_clip=bool(subject))

    async def gallery(self, session: Session | None) -> str:
        shares = await asyncio.to_thread(self.sharing.store.newest, GALLERY_SIZE)
        clips = [clip for clip in await asyncio.to_thread(lambda: [self.sharing.served(s.id) for s in shares]) if clip]
        return gallery_html(clips, public_base(self.g.settings), lang_of(session))

    def start_image(self, request: gr.Request | None = None) -> Any:
        """The start image of the share a "Try these settings" link names, while it is shared."""
        share_id = dict(request.query_params).get(SHARED_QUERY, "") if request is not None else ""
        clip = self.sharing.served(share_id) if share_id else None
        if clip is None or clip.image is None:
            return gr.skip()
        return self.g.clips.servable(clip.image)


@dataclass
class ShareSpot:
    """One place a clip is shown: its share box, what names its clip, and the video it sits under."""

    box: ShareBox
    kind: str  # CLIP (a status line, a Lab task id or History's selection) or FILM (a film's name)
    source: Any
    video: Any
    name: str  # the events' names: share_<name>, unshare_<name>, shared_<name>


class SpotHandlers:
    """ShareHandlers for one share box: what Gradio calls, with the request and profile it injects."""

    def __init__(self, handlers: ShareHandlers, box: ShareBox, kind: str) -> None:
        self.h, self.box, self.kind = handlers, box, kind

    async def share(
        self,
        page_url: str,
        source: Any,
        session: Session | None,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> Updates:
        return await self.h.share(self.box, self.kind, page_url, source, session, request, profile)

    async def stop(
        self,
        source: Any,
        session: Session | None,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> Updates:
        return await self.h.stop(self.box, self.kind, source, session, request, profile)

    async def state(
        self,
        page_url: str,
        source: Any,
        session: Session | None,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> Updates:
        return await self.h.state(self.box, self.kind, page_url, source, session, request, profile)


class SharePlaces:
    """Where the page shows a clip of the visitor's own: each gets a share box under it."""

    def __init__(self) -> None:
        self.spots: list[ShareSpot] = []

    def under(self, kind: str, source: Any, video: Any, name: str) -> ShareSpot:
        """A share box here, for the clip `source` names (set `.source` later if it comes after)."""
        spot = ShareSpot(share_box(), kind, source, video, name)
        self.spots.append(spot)
        return spot


def wire_sharing(
    demo: gr.Blocks,
    generation: Generation,
    journal: Journal,
    places: SharePlaces,
    session: gr.State,
    gallery: GalleryView | None,
    start_image: Any,
    opening: Opening,
) -> None:
    handlers = ShareHandlers(generation, Sharing(generation.settings.folder, journal))
    page_url = gr.Textbox(visible=False)
    demo.load(None, None, page_url, js=PAGE_BASE_JS)
    for spot in places.spots:
        box, outputs = spot.box, [spot.box.share, spot.box.stop, spot.box.link]
        inputs = [page_url, spot.source, session]
        bound = SpotHandlers(handlers, box, spot.kind)  # methods, not partials: Gradio reads their gr.Request
        # Their refusals and confirmations are toasts: queued, or Gradio would drop them.
        box.share.click(bound.share, inputs, outputs, api_name=f"share_{spot.name}", **private_with_notices())
        box.stop.click(
            bound.stop, [spot.source, session], outputs, api_name=f"unshare_{spot.name}", **private_with_notices()
        )
        spot.video.change(bound.state, inputs, outputs, api_name=f"shared_{spot.name}", **private())
    if gallery is not None:
        opened = [gallery.tab.select, gallery.refresh.click]
        gr.on(opened, handlers.gallery, session, gallery.grid, api_name="gallery", **private())

    async def shared_start_image(session: Session, request: gr.Request | None, profile: Any) -> Updates:
        return {start_image: handlers.start_image(request)}

    opening.add([start_image], shared_start_image)  # in the page's opening answer
