"""The owner's desk: `usage` figures from the journal, the daily budget without refunded tasks, the
live schema and price check against the simulator's catalog (as read, a duration removed, a field
renamed, 404, an unknown shape), a credit refusal that says the balance and where to top up, and
the Usage tab's handlers for an administrator and for anyone else. The subprocess and browser tests
are in tests/cli/test_usage_launched.py."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

import gradio as gr
import httpx
import pandas as pd
import pytest

from kling.api.client import AsyncKlingClient
from kling.api.credit import TOP_UP_URL
from kling.api.params import T2VRequest
from kling.api.schema_check import SchemaCheck, check
from kling.app.usage_tab import admin_name
from kling.config import Settings
from kling.errors import InsufficientCreditsError, SpendRefused
from kling.jobs.guard import SpendGuard
from kling.preview.simulator import Simulator
from kling.store.journal import Journal
from kling.store.usage import as_table, daily, failure_reasons, hourly, prompt_rows, usage_rows
from tests.helpers.fakes import KEY
from tests.helpers.paths import SIM_CLIPS
from tests.helpers.runner import finish, make_runner
from tests.helpers.sim import sim_config

NOON = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc).timestamp()
DAY = 86_400.0
T2V = "kwaivgi/kling-v2.0-t2v-master"


def row(journal: Journal, task_id: str, *, status: str, created: float, cents: int = 130, key: str = KEY, **more):
    journal.record(task_id=task_id, model=T2V, mode="live", owner="o", key=key, params={}, price_cents=cents)
    journal.update(task_id, status=status, created=created, **more)


# -- usage ---------------------------------------------------------------------------------------


def test_usage_per_utc_day_counts_failed_tasks_as_refunded_and_open_lost_submits_as_spent(tmp_path):
    journal = Journal(tmp_path / "jobs.sqlite3")
    row(journal, "done-yesterday", status="completed", created=NOON - DAY)
    row(journal, "done-today", status="completed", created=NOON, cents=260)
    row(journal, "failed-today", status="failed", created=NOON + 60, error_code=1200, error="moderation")
    row(journal, "pruned-today", status="completed", created=NOON + 120, pruned=NOON + 200)
    row(journal, "running-today", status="processing", created=NOON + 180)
    row(journal, "other-key", status="completed", created=NOON, key="someone else's key")
    row(journal, "preview", status="completed", created=NOON)
    journal.update("preview", mode="preview")
    open_lost = journal.record_uncertain(model=T2V, owner="o", key=KEY, params={}, price_cents=130)
    adopted = journal.record_uncertain(model=T2V, owner="o", key=KEY, params={}, price_cents=130)
    dismissed = journal.record_uncertain(model=T2V, owner="o", key=KEY, params={}, price_cents=130)
    for submit_id in (open_lost, adopted, dismissed):
        journal.update(submit_id, created=NOON + 240)
    journal.adopt(adopted, "adopted-task")  # its row keeps the submit's time and price
    journal.update("adopted-task", status="completed")
    journal.dismiss(dismissed)

    days = daily(usage_rows(journal, key=KEY, days=3, now=NOON + 3600), days=3, now=NOON + 3600)

    assert [d.day for d in days] == ["2026-11-19", "2026-11-20", "2026-11-21"]
    assert (days[0].tasks, days[0].spent_usd) == (0, 0.0)
    assert (days[1].tasks, days[1].completed, days[1].failed, days[1].spent_usd) == (1, 1, 0, 1.30)
    today = days[2]
    # done 2.60 + pruned 1.30 + running 1.30 + open lost 1.30 + adopted task 1.30; failed refunded
    assert (today.tasks, today.completed, today.failed, today.uncertain) == (6, 3, 1, 1)
    assert today.spent_usd == 7.80


def test_usage_counts_prompt_help_calls_apart_from_clips(tmp_path):
    """The optimizer's calls on the Space's key show per day beside the clips, never inside them."""
    journal = Journal(tmp_path / "jobs.sqlite3")
    row(journal, "done-today", status="completed", created=NOON)
    for when, mills in ((NOON - DAY, 1), (NOON + 10, 1), (NOON + 20, 1), (NOON + 30, 0)):
        journal.record_prompt_call(owner="o", ip="1.1.1.1", key=KEY, price_mills=mills, when=when)
    journal.record_prompt_call(owner="o", ip="1.1.1.1", key="someone else's key", price_mills=1, when=NOON)
    now = NOON + 3600
    days = daily(
        usage_rows(journal, key=KEY, days=2, now=now),
        days=2,
        now=now,
        prompt_calls=prompt_rows(journal, key=KEY, days=2, now=now),
    )
    assert [(d.tasks, d.spent_usd, d.prompt_calls, d.prompt_usd) for d in days] == [
        (0, 0.0, 1, 0.001),
        (1, 1.30, 3, 0.002),
    ]
    assert "4 / $0.003" in as_table(days).splitlines()[-1]


def test_tasks_per_hour_and_failure_reasons(tmp_path):
    journal = Journal(tmp_path / "jobs.sqlite3")
    row(journal, "a", status="completed", created=NOON - 2 * 3600 + 5)
    row(journal, "b", status="failed", created=NOON - 2 * 3600 + 10, error_code=1200, error="moderation")
    row(journal, "c", status="failed", created=NOON + 1, error_code=1200, error="moderation")
    row(journal, "d", status="failed", created=NOON + 2, error="The media URL could not be fetched.")
    jobs = usage_rows(journal, key=KEY, days=2, now=NOON + 10)
    slots = dict(hourly(jobs, hours=4, now=NOON + 10))
    assert slots == {"11-21 09:00": 0, "11-21 10:00": 2, "11-21 11:00": 0, "11-21 12:00": 2}
    assert failure_reasons(jobs) == [("1200: moderation", 2), ("The media URL could not be fetched.", 1)]


class Clock:
    def __init__(self, now: float = NOON) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_daily_budget_stops_counting_a_task_once_it_failed(tmp_path):
    clock = Clock()
    settings = Settings(api_key=KEY, data_dir=tmp_path, daily_budget_cents=260)
    guard = SpendGuard(settings, Journal(settings.journal_path), clock=clock)
    row(guard.journal, "ok", status="completed", created=NOON)
    row(guard.journal, "refused-later", status="processing", created=NOON)
    with pytest.raises(SpendRefused):
        guard.reserve(owner="a", ip="1.1.1.1", price_cents=130, own_key=False)
    guard.journal.update("refused-later", status="failed")  # WaveSpeed refunds it
    assert guard.budget_left_cents() == 130
    assert guard.reserve(owner="a", ip="1.1.1.1", price_cents=130, own_key=False) is not None
    lost = guard.journal.record_uncertain(model=T2V, owner="a", key=KEY, params={}, price_cents=130)
    guard.journal.update(lost, created=NOON)
    assert guard.budget_left_cents() == 0  # an open lost submit counts until it is resolved


# -- the live schema and price check ---------------------------------------------------------------


def sim_client(**faults: Any) -> tuple[AsyncKlingClient, Simulator]:
    simulator = Simulator(sim_config(api_key=KEY), clip_dir=SIM_CLIPS)
    simulator.faults.update(faults)
    client = AsyncKlingClient(KEY, base_url="http://sim.test", transport=httpx.ASGITransport(app=simulator.app))
    return client, simulator


def run_check(**faults: Any):
    client, simulator = sim_client(**faults)

    async def go():
        async with client:
            return await check(client, now=NOON)

    return asyncio.run(go()), simulator


def test_the_simulators_catalog_matches_what_the_page_enforces():
    report, simulator = run_check()
    assert report.checked and report.price_checked and report.differences == () and report.notes == ()
    assert [(r.method, r.path) for r in simulator.log] == [
        ("GET", "/api/v3/models"),
        ("POST", "/api/v3/model/price"),
        ("POST", "/api/v3/model/price"),
    ]
    assert not simulator.submits() and not simulator.tasks  # nothing made, nothing paid


def test_a_removed_duration_is_reported_for_both_models():
    report, _ = run_check(catalog="duration_removed")
    assert report.checked and not report.ok
    assert report.differences == (
        "kling-v2.0-i2v-master: durations are 5 s live, the page offers 5, 10 s",
        "kling-v2.0-t2v-master: durations are 5 s live, the page offers 5, 10 s",
    )


def test_a_renamed_field_is_reported_as_missing_and_unknown():
    report, _ = run_check(catalog="field_renamed")
    assert "kling-v2.0-t2v-master: the page sends `negative_prompt`, the live schema has no such field" in (
        report.differences
    )
    assert "kling-v2.0-i2v-master: the live schema has a field `negative_prompts` the page does not know" in (
        report.differences
    )
    assert len(report.differences) == 4


@pytest.mark.parametrize("fault", ["not_found", "unknown_shape"])
def test_a_404_or_an_unknown_shape_is_not_checked_and_breaks_nothing(fault):
    report, simulator = run_check(catalog=fault)
    assert not report.checked and not report.price_checked and report.differences == ()
    assert report.summary().startswith("not checked: ")
    if fault == "not_found":  # both quote paths tried, then given up
        assert [r.path for r in simulator.log][1:] == ["/api/v3/model/price", "/api/v3/model/pricing"]


def test_the_check_is_cached_and_logged_once(caplog):
    client, simulator = sim_client(catalog="duration_removed")
    clock = Clock()
    cached = SchemaCheck(clock=clock, cache_s=3600)

    async def twice():
        async with client:
            first = await cached.get(client)
            clock.now += 3599
            second = await cached.get(client)
            clock.now += 2
            third = await cached.get(client)
            return first, second, third

    with caplog.at_level(logging.INFO, logger="kling.api.schema_check"):
        first, second, third = asyncio.run(twice())
    assert first is second and third is not first
    assert len(simulator.requests("GET", "/api/v3/models")) == 2
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and all("2 difference(s)" in w for w in warnings)


# -- a refusal for credit --------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["insufficient_in_200", "402"])
def test_a_visitors_own_key_refused_for_credit_is_told_its_balance_and_where_to_top_up(tmp_path, fault):
    any_key = Simulator(sim_config(api_key=None, queue_s=0.05, process_s=0.2), clip_dir=SIM_CLIPS)
    runner, simulator = make_runner(tmp_path, simulator=any_key)
    simulator.faults.update({"submit": [fault], "balance": 0.5})

    async def go():
        state = await finish(runner.start(T2VRequest(prompt="a kite"), owner="v", user_key="visitor-key"))
        await runner.backend.aclose()
        return state

    state = asyncio.run(go())
    assert isinstance(state.error, InsufficientCreditsError)
    assert "your account's balance is $0.50" in state.message and TOP_UP_URL in state.message
    assert "No task was created" in state.message
    assert runner.credit.last is None  # not the Space's key: the owner's notice is untouched
    assert [r.path for r in simulator.log][-1] == "/api/v3/balance"


def test_the_spaces_key_refused_for_credit_tells_the_owner_not_the_visitor(tmp_path, caplog):
    runner, simulator = make_runner(tmp_path)
    simulator.faults.update({"submit": ["insufficient_in_200"], "balance": 0.25})

    async def go():
        state = await finish(runner.start(T2VRequest(prompt="a kite"), owner="v"))
        await runner.backend.aclose()
        return state

    with caplog.at_level(logging.WARNING, logger="kling.api.credit"):
        state = asyncio.run(go())
    assert isinstance(state.error, InsufficientCreditsError)
    assert "out of credit" in state.message and "$0.25" not in state.message and "own WaveSpeed key" in state.message
    assert runner.credit.last is not None and runner.credit.last.balance == 0.25
    (line,) = [r.getMessage() for r in caplog.records if r.name == "kling.api.credit"]
    assert "balance $0.25" in line and TOP_UP_URL in line
    assert runner.journal.all() == []  # refused: nothing journaled


# -- the Usage tab's handlers ----------------------------------------------------------------------


def profile(name: str) -> gr.OAuthProfile:
    return gr.OAuthProfile({"name": name, "preferred_username": name, "profile": "", "picture": ""})


def request(username: str | None = None) -> Any:
    return SimpleNamespace(
        client=SimpleNamespace(host="127.0.0.1"), headers={}, session_hash="s", query_params={}, username=username
    )


def test_administrators_are_the_named_hf_users_signed_in_or_the_named_kling_auth_users():
    on_space = Settings(admins=("alice",), space_id="o/s", hf_oauth=True)
    assert admin_name(on_space, request(), profile("alice")) == "alice"
    assert admin_name(on_space, request(), profile("bob")) is None
    assert admin_name(on_space, request("alice"), None) is None  # a login name is not a sign-in here
    assert admin_name(Settings(admins=("alice",)), request(), profile("alice")) is None  # no HF sign-in offered
    assert admin_name(Settings(space_id="o/s", hf_oauth=True), request(), profile("alice")) is None  # none named
    with_auth = Settings(admins=("owner",), auth=(("owner", "pw"), ("guest", "pw")))
    assert admin_name(with_auth, request("owner"), None) == "owner"
    assert admin_name(with_auth, request("guest"), None) is None
    assert admin_name(with_auth, request(None), profile("owner")) is None  # Gradio's login is who they are


def test_the_usage_tab_shows_an_administrator_the_figures_and_anyone_else_nothing(tmp_path):
    from kling.app.usage_tab import UsageDesk, build_usage_tab

    runner, simulator = make_runner(tmp_path)
    settings = Settings(
        api_key=KEY,
        base_url="http://sim.test",
        data_dir=tmp_path / "data",
        space_id="o/s",
        hf_oauth=True,
        admins=("alice",),
        daily_budget_cents=1000,
    )
    runner.guard = SpendGuard(settings, runner.journal)
    now = datetime.now(timezone.utc).timestamp()
    row(runner.journal, "paid-secret-task", status="completed", created=now - 60)
    row(runner.journal, "failed-task", status="failed", created=now - 30, error_code=1200, error="moderation")
    simulator.faults.update({"balance": 12.5, "catalog": "duration_removed"})
    with gr.Blocks(), gr.Tabs():
        panel = build_usage_tab()
    desk = UsageDesk(panel, settings, runner.journal, runner)

    async def go(who: Any, req: Any):
        return await desk.reveal(req, who), await desk.show({"lang": "en"}, req, who)

    shown = asyncio.run(go(profile("alice"), request()))
    assert shown[0][panel.tab].visible is True
    out = shown[1]
    summary = out[panel.summary]
    assert "**Today (UTC):** $1.30 spent of a $10.00 daily budget: **$8.70 left**." in summary
    assert "**Balance:** $12.50, 9 clips of 5 s." in summary
    assert "durations are 5 s live" in summary
    spend = out[panel.spend]
    assert isinstance(spend, pd.DataFrame) and set(spend["series"]) == {"spent", "daily budget"}
    assert out[panel.failures].values.tolist() == [["1200: moderation", 1]]
    assert out[panel.finish]["task"].tolist() == ["paid-sec"]
    requests_before = len(simulator.log)

    for who, req in ((profile("bob"), request()), (None, request()), (None, request("alice"))):
        revealed, hidden = asyncio.run(go(who, req))
        assert revealed[panel.tab].visible is False and hidden[panel.tab].visible is False
        assert hidden[panel.summary] == "" and all(hidden[p] is None for p in panel.outputs[2:])
    assert len(simulator.log) == requests_before  # no balance read, no schema check for them
    asyncio.run(runner.backend.aclose())
