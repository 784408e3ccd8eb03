"""The Usage tab: what the Space's key spent, for the Space's administrators only.

Administrators are the usernames in KLING_ADMINS: matched against the username a visitor logged in
with where KLING_AUTH is used (Gradio's own login), else against the Hugging Face username of a
visitor signed in with Hugging Face (on a Space with OAuth). The tab is built hidden; the page's load
shows it to an administrator. Every event checks again on the server, from what Gradio injects (the
signed-in profile, the logged-in username), never from anything the browser sends: anyone else
gets the tab hidden and no figure.

Opening the tab reads the balance (free), and the live schema check (kling.api.schema_check, cached).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import gradio as gr
import pandas as pd  # type: ignore[import-untyped]

from kling.api.credit import TOP_UP_URL, read_balance
from kling.api.params import format_price, price_cents
from kling.api.schema_check import SchemaCheck
from kling.app.opening import Opening
from kling.app.tabs.common import private, progress_on
from kling.config import Settings
from kling.jobs.runner import Runner
from kling.store import usage
from kling.store.journal import Journal
from kling.strings import Lang, say, text

DAYS = 14
HOURS = 48
FAILURE_DAYS = 30


@dataclass(frozen=True)
class UsagePanel:
    tab: gr.Tab
    summary: gr.Markdown
    spend: gr.LinePlot
    hourly: gr.BarPlot
    failures: gr.BarPlot
    finish: gr.BarPlot
    refresh: gr.Button

    @property
    def outputs(self) -> list[Any]:
        return [self.tab, self.summary, self.spend, self.hourly, self.failures, self.finish]


def build_usage_tab() -> UsagePanel:
    """Inside the page's gr.Tabs: the tab, hidden, with nothing in it until an administrator opens it."""
    with gr.Tab(text("tab.usage"), id="usage", visible=False) as tab:
        gr.Markdown(text("usage.help"))
        summary = gr.Markdown("")
        refresh = gr.Button(text("usage.refresh"), size="sm")
        with gr.Row():
            spend = gr.LinePlot(None, x="day", y="usd", color="series", label=text("usage.plot.spend"))
            hourly = gr.BarPlot(None, x="hour", y="tasks", label=text("usage.plot.hourly"))
        with gr.Row():
            failures = gr.BarPlot(None, x="reason", y="tasks", label=text("usage.plot.failures"))
            finish = gr.BarPlot(None, x="task", y="minutes", label=text("usage.plot.finish"))
    return UsagePanel(tab, summary, spend, hourly, failures, finish, refresh)


def admin_name(settings: Settings, request: gr.Request | None, profile: gr.OAuthProfile | None) -> str | None:
    """The administrator making this request, or None. Only names Gradio vouches for count."""
    if not settings.admins:
        return None
    if settings.auth:
        name = getattr(request, "username", None) if request is not None else None
    else:
        name = getattr(profile, "username", None) if (profile is not None and settings.sign_in) else None
    return name if isinstance(name, str) and name in settings.admins else None


def _frames(
    jobs: list[Any], settings: Settings, now: float, calls: list[tuple[float, int]] | None = None
) -> dict[str, pd.DataFrame]:
    days = usage.daily(jobs, days=DAYS, now=now, prompt_calls=calls or [])
    rows = [{"day": d.day, "usd": d.spent_usd, "series": "spent"} for d in days]
    rows += [{"day": d.day, "usd": d.prompt_usd, "series": "prompt help"} for d in days if d.prompt_calls]
    if settings.daily_budget_cents is not None:
        rows += [{"day": d.day, "usd": settings.daily_budget_cents / 100, "series": "daily budget"} for d in days]
    recent = [job for job in jobs if job.created >= now - FAILURE_DAYS * usage.DAY]
    return {
        "spend": pd.DataFrame(rows),
        "hourly": pd.DataFrame(usage.hourly(jobs, hours=HOURS, now=now), columns=["hour", "tasks"]),
        "failures": pd.DataFrame(usage.failure_reasons(recent), columns=["reason", "tasks"]),
        "finish": pd.DataFrame(
            [(task[:8], minutes) for task, minutes in usage.finish_minutes(jobs)[-50:]], columns=["task", "minutes"]
        ),
    }


class UsageDesk:
    """The tab's two events: `reveal` (the page's load) and `show` (opening the tab, Refresh)."""

    def __init__(
        self,
        panel: UsagePanel,
        settings: Settings,
        journal: Journal,
        runner: Runner,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.panel = panel
        self.settings = settings
        self.journal = journal
        self.runner = runner
        self.schema = SchemaCheck(clock=clock)
        self._clock = clock

    def _hidden(self) -> dict[Any, Any]:
        panel = self.panel
        return {panel.tab: gr.Tab(visible=False), panel.summary: "", **dict.fromkeys(panel.outputs[2:])}

    async def reveal(self, request: gr.Request | None = None, profile: gr.OAuthProfile | None = None) -> dict[Any, Any]:
        return {self.panel.tab: gr.Tab(visible=admin_name(self.settings, request, profile) is not None)}

    async def show(
        self,
        session: dict[str, str] | None,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> dict[Any, Any]:
        panel = self.panel
        if admin_name(self.settings, request, profile) is None:
            return self._hidden()
        lang: Lang = (session or {}).get("lang") or "en"
        now = self._clock()
        key = self.settings.api_key
        jobs = usage.usage_rows(self.journal, key=key, days=max(DAYS, FAILURE_DAYS), now=now) if key else []
        calls = usage.prompt_rows(self.journal, key=key, days=DAYS, now=now) if key else []
        frames = _frames(jobs, self.settings, now, calls)
        lines = await self._lines(lang, jobs, now)
        return {
            panel.tab: gr.Tab(visible=True),
            panel.summary: "\n\n".join(lines),
            panel.spend: frames["spend"],
            panel.hourly: frames["hourly"],
            panel.failures: frames["failures"],
            panel.finish: frames["finish"],
        }

    async def _lines(self, lang: Lang, jobs: list[Any], now: float) -> list[str]:
        settings = self.settings
        if not settings.api_key:
            return [say(lang, "usage.preview")]
        today = usage.daily(jobs, days=1, now=now)[0]
        spent = format_price(round(today.spent_usd * 100))
        left = self.runner.guard.budget_left_cents() if self.runner.guard else None
        budget = settings.daily_budget_cents
        if budget is None or left is None:
            lines = [say(lang, "usage.today_no_budget", spent=spent)]
        else:
            lines = [say(lang, "usage.today", spent=spent, budget=format_price(budget), left=format_price(left))]
        client = self.runner.backend.client()
        balance = await read_balance(client)
        if balance is None:
            lines.append(say(lang, "usage.balance_unread", reason="WaveSpeed's balance endpoint did not answer"))
        else:
            clips = int(round(balance * 100)) // price_cents(5)
            key = "usage.balance" if clips >= 1 else "usage.balance_low"
            lines.append(say(lang, key, balance=f"${balance:,.2f}", clips=clips, url=TOP_UP_URL))
        notice = self.runner.credit.last
        if notice is not None:
            when = datetime.fromtimestamp(notice.at, timezone.utc).strftime("%Y-%m-%d %H:%M")
            then = f"${notice.balance:,.2f}" if notice.balance is not None else "?"
            lines.append(say(lang, "usage.credit", when=when, balance=then, url=TOP_UP_URL))
        report = await self.schema.get(client)
        lines.append(say(lang, "usage.schema", summary=report.summary()))
        return lines


def wire_usage(panel: UsagePanel, runner: Runner, journal: Journal, session: gr.State, opening: Opening) -> UsageDesk:
    """The page's opening answer reveals the tab to an administrator; opening it or Refresh fills it."""
    desk = UsageDesk(panel, runner.backend.settings, journal, runner)
    opening.add([panel.tab], lambda session, request, profile: desk.reveal(request, profile))
    shown = progress_on(panel.summary)  # not the tab it may hide
    gr.on([panel.tab.select, panel.refresh.click], desk.show, session, panel.outputs, **shown, **private())
    return desk
