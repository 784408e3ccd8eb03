"""A reload: the visitor's task comes back. As the page opens (`Visitor.arrive`, once the restore
handler checked the signed browser id, or the signed-in user), their newest task that this server
is still waiting for, or else that ended moments ago, returns to its tab: the form with its
settings, and its status streaming again through the result panel's timer (`Generation.follow`),
or its clip, or how it ended. Nothing is sent: a reload only reads the journal and watches a run
already under way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import gradio as gr

from kling.app.link_note import link_tab
from kling.app.tabs.common import Session, Updates, lang_of
from kling.app.tabs.generate import Generation
from kling.app.tabs.history import History
from kling.app.widgets import Parts
from kling.store.journal import Job

# How long after it ended a task still comes back on a reload: long enough for a visitor who
# reloaded, or closed the tab, while waiting (a live clip takes minutes), to find it there; short
# enough that someone returning later finds a fresh page and their older clips in History.
RECENT_S = 15 * 60
# The visitor's newest rows are enough to find the one to bring back: a running task is among them.
LOOK_AT = 20


def chosen(jobs: Sequence[Job], running: Callable[[str], bool], now: float) -> Job | None:
    """The task a reload brings back: the newest one still running, else the newest one that
    ended within RECENT_S, else none. `jobs` are one visitor's own (the caller chose them by owner)."""
    under_way = [job for job in jobs if running(job.id)]
    if under_way:
        return max(under_way, key=lambda job: job.created)
    recent = [job for job in jobs if now - job.updated <= RECENT_S]
    return max(recent, key=lambda job: job.created, default=None)


class Comeback:
    """On page load, after the visitor is known: their running or just-ended task, back in its tab."""

    def __init__(
        self, generation: Generation, history: History, parts: Parts, clock: Callable[[], float] = time.time
    ) -> None:
        self.g = generation
        self.history = history
        self.parts = parts
        self.clock = clock

    async def at_opening(
        self, session: Session | None, request: gr.Request | None = None, profile: gr.OAuthProfile | None = None
    ) -> Updates:
        """Its part of the page's opening answer (kling.app.opening): the task's tab selected, its
        form filled and its result panel following it; nothing for a visitor with no such task, or
        when the address is a shared link (the link decides the form, and the task stays in History)."""
        return await self.found(session, request, profile) or {}

    async def found(
        self, session: Session | None, request: gr.Request | None = None, profile: gr.OAuthProfile | None = None
    ) -> Updates | None:
        """`back`'s updates, or None when nothing comes back (the page's opening merges them into its own)."""
        journal = self.g.runner.journal
        if journal is None or (request is not None and link_tab(dict(request.query_params))):
            return None
        who = await self.g.who(request, profile, session)  # never an owner the browser sent
        job = chosen(journal.for_owner(who.owner, limit=LOOK_AT), self.g.runner.is_running, self.clock())
        if job is None:
            return None
        tab, settings = self.history.settings_of(job)
        out = self.parts.i2v.out if tab == "i2v" else self.parts.t2v.out
        return {**self.parts.fill(tab, settings), **self.g.follow(out, job, lang_of(session))}


def comeback_outputs(p: Parts) -> list[gr.components.Component]:
    """What `Comeback.at_opening` may write: the tabs, both forms, and both result panels."""
    panels = [(out.status, out.video, out.details, out.timer, out.following) for out in (p.i2v.out, p.t2v.out)]
    return [*p.main_forms, *(component for panel in panels for component in panel)]
