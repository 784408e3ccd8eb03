"""The History tab: a browser's own tasks, one to look at, use again or resume, and the stitch
panel's lists (`kling.app.tabs.films` makes the films). Its handlers, builder and wiring.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import gradio as gr

from kling.api.models import is_task_id
from kling.app.identity import Identity
from kling.app.refusals import refusal_markdown
from kling.app.share_tab import SharePlaces
from kling.app.tabs.common import (
    Session,
    Updates,
    filling,
    generation_queue,
    lang_of,
    private,
    private_with_notices,
    spend_refusal,
)
from kling.app.tabs.generate import Generation
from kling.app.views import (
    HISTORY_COLUMNS,
    clip_choice,
    clip_filename,
    film_choice,
    history_headers,
    history_rows,
    history_total,
    job_markdown,
    status_markdown,
    thumb_cell,
)
from kling.app.widgets import HistoryView, Parts, continue_from_last_frame, stitch_panel
from kling.errors import NotAVideoError, SpendRefused
from kling.media.thumbs import clip_thumb
from kling.store.clips import ClipShelf
from kling.store.disk import DiskKeeper
from kling.store.films import films_for, thumb_path
from kling.store.journal import Job, Journal
from kling.store.share_links import CLIP, FILM
from kling.strings import Lang, literal, say, text


class History:
    """The History tab: a browser sees only its own rows."""

    def __init__(self, generation: Generation, journal: Journal, parts: Parts) -> None:
        self.g = generation
        self.journal = journal
        self.parts = parts

    def _job(self, task_id: str, who: Identity) -> Job | None:
        job = self.journal.get(task_id) if task_id else None
        return job if job is not None and job.owner == who.owner else None

    async def list(
        self, session: Session | None, request: gr.Request | None = None, profile: gr.OAuthProfile | None = None
    ) -> Updates:
        """The table, and the stitch panel's clips and films (a pick that still exists stays picked)."""
        who, lang = await self.g.who(request, profile, session), lang_of(session)
        jobs = self.journal.for_owner(who.owner)
        running = {job.id for job in jobs if self.g.runner.is_running(job.id)}
        view, stitch = self.parts.history, self.parts.history.stitch
        clips = [clip_choice(job) for job in jobs if job.clip_saved]
        films = [film_choice(film) for film in films_for(self.g.settings.data_dir, who.owner)]
        # Decoding a frame stays off the event loop.
        thumbs = await asyncio.to_thread(thumb_urls, jobs, self.g.settings.data_dir, self.g.clips, self.g.runner.disk)
        rows = [[thumb_cell(url, lang), *row] for url, row in zip(thumbs, history_rows(jobs, running, lang))]
        return {
            view.info: history_total(jobs, lang),
            view.table: gr.Dataframe(value=rows, headers=table_headers(lang)),
            view.timer: gr.Timer(active=bool(running)),  # refreshes itself only while a task runs
            stitch.clips: gr.Dropdown(choices=clips),
            stitch.films: gr.Dropdown(choices=films),
        }

    async def select(
        self,
        session: Session | None,
        evt: gr.SelectData,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> Updates:
        view = self.parts.history
        row = evt.row_value or []
        job = self._job(str(row[-1]) if row else "", await self.g.who(request, profile, session))
        # The buttons that act on the selected row are enabled only while there is one.
        enabled = {button: gr.Button(interactive=job is not None) for button in selection_buttons(view)}
        if job is None:
            return {
                view.selected_id: "",
                view.video: None,
                view.job: say(lang_of(session), "history.select"),
                **enabled,
            }
        name = clip_filename(job.params.get("prompt", ""), job.id)
        clip = self.g.clips.servable(Path(job.local_path), name) if job.clip_saved else None
        return {view.selected_id: job.id, view.video: clip, view.job: job_markdown(job, lang_of(session)), **enabled}

    async def use_settings(
        self,
        task_id: str,
        session: Session | None,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> Updates:
        """Fill the form of the job's tab with its settings and switch to that tab."""
        job = self._job(task_id, await self.g.who(request, profile, session))
        if job is None:
            gr.Warning(say(lang_of(session), "history.select_first"), title=say(lang_of(session), "notice.title"))
            return {self.parts.tabs: gr.skip()}  # not {}: Gradio would take it for one output value
        return self.parts.fill(*self.settings_of(job))

    def settings_of(self, job: Job) -> tuple[str, dict[str, Any]]:
        """The job's tab ("i2v" or "t2v") and its settings as that tab's form takes them (also what
        a reloaded page fills in, kling.app.tabs.comeback)."""
        p = job.params
        if job.model.endswith("i2v-master"):
            return "i2v", {
                "image": self._input_copy(p.get("image")),
                "prompt": p.get("prompt", ""),
                "negative_prompt": p.get("negative_prompt", ""),
                "guidance_scale": p.get("guidance_scale", 0.5),
                "duration": p.get("duration", 5),
                "end_image": self._input_copy(p.get("end_image")),
            }
        return "t2v", {
            "prompt": p.get("prompt", ""),
            "negative_prompt": p.get("negative_prompt", ""),
            "aspect_ratio": p.get("aspect_ratio", "16:9"),
            "duration": p.get("duration", 5),
        }

    def _input_copy(self, recorded: str | None) -> str | None:
        """The journal's copy of an input image, as a file Gradio may serve: the copy itself is in
        the data folder, which Gradio's file routes refuse (the form would silently stay empty)."""
        if not recorded:
            return None
        copy = Path(recorded)
        if copy.is_file() and copy.parent == self.journal.inputs_dir:
            return self.g.clips.servable(copy)
        return recorded if "://" in recorded else None  # an http(s) URL sent as is; a copy since removed

    def _resume_refusal(self, task_id: str, who: Identity, lang: Lang) -> str | None:
        """Why this id may not be resumed by this visitor, or None."""
        if not task_id:
            return say(lang, "history.select_first")
        job = self.journal.get(task_id) if is_task_id(task_id) else None
        if not is_task_id(task_id) or (job is not None and job.lost_submit):  # a lost submit: our name, not WaveSpeed's
            return say(lang, "resume.not_an_id", text=literal(repr(task_id[:60])))
        if job is not None and job.owner != who.owner:
            return say(lang, "resume.not_yours")
        if job is not None and job.preview and job.unfinished:
            return say(lang, "resume.preview_gone")
        if job is None and any(claim.owner != who.owner for claim in self.journal.claims(task_id)):
            return say(lang, "resume.claimed")
        return None

    async def resume(
        self,
        task_id: str,
        session: Session | None,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> AsyncIterator[Updates]:
        task_id, lang = (task_id or "").strip(), lang_of(session)
        who, view = await self.g.who(request, profile, session), self.parts.history
        refused = self._resume_refusal(task_id, who, lang)
        run = None
        if refused is None:
            try:
                run = self.g.runner.resume_typed(
                    task_id, owner=who.owner, user_key=self.g.key(session, request), ip=who.address
                )
            except SpendRefused as exc:
                refused = spend_refusal(exc, lang)
        if run is None:  # said in the task's panel, as the generate tabs say theirs: no toast
            yield {view.job: refusal_markdown(refused or "", lang), view.video: gr.skip()}
            return
        async for state in run.watch(tick=1.0):
            yield {view.job: status_markdown(state, lang=lang), view.video: self.g.servable(state)}
        if state.error is not None:
            raise gr.Error(str(state.error), title=say(lang, "resume.failed_title"))


def build_history_tab(shares: SharePlaces) -> tuple[HistoryView, gr.Tab]:
    """Inside the page's gr.Tabs: the table, the selected task beside its clip, the stitch panel."""
    with gr.Tab(text("tab.history"), id="history") as tab:
        info = gr.Markdown(text("history.help"))
        table = gr.Dataframe(
            headers=table_headers(),
            datatype=TABLE_TYPES,
            column_widths=TABLE_WIDTHS,
            interactive=False,
            wrap=True,
            max_height=420,
            elem_classes=["kling-history"],
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=320):
                video = gr.Video(label=text("history.clip"), loop=True, buttons=["download"], interactive=False)
            with gr.Column(scale=1, min_width=320):
                job = gr.Markdown(text("history.select"))
                with gr.Row():
                    # Both need a selected row: enabled once there is one (wire_selection).
                    use_settings = gr.Button(text("history.use_settings"), size="sm", interactive=False)
                    resume_selected = gr.Button(text("history.resume"), size="sm", interactive=False)
                    refresh = gr.Button(text("history.refresh"), size="sm")
                continue_selected = continue_from_last_frame(visible=True, interactive=False)
                history_share = shares.under(CLIP, None, video, "history")
                resume_id = gr.Textbox(
                    label=text("history.resume_id"), placeholder=text("history.resume_id_placeholder")
                )
                resume_typed = gr.Button(text("history.resume_typed"), size="sm", interactive=False)
        selected_id = history_share.source = gr.State("")
        timer = gr.Timer(3.0, active=False)
        stitch = stitch_panel()
        shares.under(FILM, stitch.films, stitch.film, "film")
    buttons = (use_settings, resume_selected, refresh, resume_id, resume_typed)
    return HistoryView(info, table, video, job, *buttons, selected_id, timer, continue_selected, stitch), tab


def thumb_urls(jobs: list[Job], data_dir: Path, clips: ClipShelf, disk: DiskKeeper) -> list[str | None]:
    """Each row's thumbnail as the page may fetch it, None for a row without a saved clip. Made
    once under frames/ (kept under the frames' cap) and served like the clips: from a folder named
    by a digest keyed with the server's secret, never by task id, and listed only in its owner's
    table."""
    urls: list[str | None] = []
    made = False
    for job in jobs:
        url = None
        if job.clip_saved and Path(job.local_path).is_file():
            thumb = thumb_path(data_dir, job.id)
            try:
                made = clip_thumb(Path(job.local_path), thumb) or made
                url = "gradio_api/file=" + quote(clips.servable(thumb, "thumb.jpg"))
            except (NotAVideoError, OSError):
                url = None  # an unreadable clip, or its thumbnail trimmed meanwhile: the neutral box
        urls.append(url)
    if made:
        disk.frames()
    return urls


# Shares of the table's width (Gradio's "%" is of the visible table, whatever the window), so at
# 1280 px nothing is cut: the id fits whole, the prompt and the words wrap. On a phone style.css
# shows the thumbnail, the status and the prompt only (the selected row's panel says the rest).
TABLE_WIDTHS: list[str | int] = ["7.5%", "8.5%", "10%", "27%", "7%", "9%", "9.5%", "21%"]
# The thumbnail is HTML this server writes (views.thumb_cell); every other cell, the visitor's prompt
# among them, stays plain text.
TEXT: Literal["str"] = "str"
TABLE_TYPES: list[Literal["str", "html"]] = ["html", *[TEXT for _ in HISTORY_COLUMNS]]


def table_headers(lang: Lang = "en") -> list[str]:
    """The thumbnail's column first, then the task's (a selected row is read by its last cell, the id)."""
    return [say(lang, "history.clip_column"), *history_headers(lang)]


def wire_history(p: Parts, history: History, tab: gr.Tab, *, concurrency: int) -> None:
    """The list (on opening the tab, on Refresh, and every few seconds while a task runs), a row
    selected, its settings used again, a task resumed."""
    view = p.history
    listing = [view.info, view.table, view.timer, view.stitch.clips, view.stitch.films]
    view.timer.tick(history.list, p.session, listing, show_progress="hidden", **private())
    gr.on([tab.select, view.refresh.click], history.list, p.session, listing, **private())
    selected = [view.selected_id, view.video, view.job, *selection_buttons(view)]
    view.table.select(history.select, p.session, selected, **private())
    wire_selection(p)
    view.use_settings.click(
        history.use_settings, [view.selected_id, p.session], p.main_forms, **filling(p), **private_with_notices()
    )
    for button, source in ((view.resume_selected, view.selected_id), (view.resume_typed, view.resume_id)):
        button.click(
            history.resume,
            [source, p.session],
            [view.job, view.video],
            api_visibility="private",
            **generation_queue(concurrency),
        ).then(history.list, p.session, listing, **private())


def selection_buttons(view: HistoryView) -> list[gr.Button]:
    """The buttons that act on the selected row (History.select enables them)."""
    return [view.use_settings, view.resume_selected, view.continue_selected]


def wire_selection(p: Parts) -> None:
    """Buttons that need something to act on are enabled only while there is something: a typed
    id (Resume this id), two clips picked (Stitch); a selected row's are History.select's."""
    view = p.history
    view.resume_id.change(
        lambda typed: gr.Button(interactive=bool((typed or "").strip())), view.resume_id, view.resume_typed, **private()
    )
    view.stitch.clips.change(
        lambda picked: gr.Button(interactive=len(picked or []) >= 2), view.stitch.clips, view.stitch.go, **private()
    )
