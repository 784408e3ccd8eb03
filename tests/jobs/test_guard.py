"""The spend guard on the Space's own key: per-browser, per-address and daily-budget limits counted
from the journal, a required visitor key, and optional login. Every refusal sends nothing."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone

import httpx
import pytest
from gradio_client.exceptions import AppError, AuthenticationError

from kling.api.params import T2VRequest
from kling.config import Settings
from kling.errors import SpendRefused
from kling.jobs.guard import SpendGuard
from kling.store.journal import Journal
from tests.helpers.fakes import KEY
from tests.helpers.launch import live_app_on_simulator
from tests.helpers.runner import finish, make_runner

NOON = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc).timestamp()


class Clock:
    def __init__(self, now: float = NOON) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def guard_for(tmp_path, clock: Clock, **limits) -> SpendGuard:
    settings = Settings(api_key=KEY, data_dir=tmp_path, **limits)
    return SpendGuard(settings, Journal(settings.journal_path), clock=clock)


def spend(guard: SpendGuard, clock: Clock, *, owner="a", ip="1.1.1.1", cents=130, n=1) -> None:
    """What a generation does: reserve, then the row lands in the journal, then release."""
    for _ in range(n):
        reservation = guard.reserve(owner=owner, ip=ip, price_cents=cents, own_key=False)
        task_id = f"t{time.monotonic_ns()}"
        guard.journal.record(
            task_id=task_id, model="m", mode="live", owner=owner, key=KEY, params={}, price_cents=cents, ip=ip
        )
        guard.journal.update(task_id, created=clock.now)  # made at the fake clock's "now"
        guard.release(reservation)


def test_tasks_per_hour_per_browser(tmp_path):
    clock = Clock()
    guard = guard_for(tmp_path, clock, tasks_per_hour_per_browser=3)
    spend(guard, clock, n=3)
    clock.now += 600
    with pytest.raises(SpendRefused, match="3 clips per hour per browser") as caught:
        guard.reserve(owner="a", ip="1.1.1.1", price_cents=130, own_key=False)
    assert "50 min" in str(caught.value) and "Nothing was sent" in str(caught.value)
    assert guard.reserve(owner="b", ip="2.2.2.2", price_cents=130, own_key=False) is not None  # others are fine
    clock.now += 3000
    assert guard.reserve(owner="a", ip="1.1.1.1", price_cents=130, own_key=False) is not None  # an hour later


def test_tasks_per_hour_per_address_across_browsers(tmp_path):
    clock = Clock()
    guard = guard_for(tmp_path, clock, tasks_per_hour_per_ip=2)
    spend(guard, clock, owner="a", ip="9.9.9.9")
    spend(guard, clock, owner="b", ip="9.9.9.9")
    with pytest.raises(SpendRefused, match="per address"):
        guard.reserve(owner="c", ip="9.9.9.9", price_cents=130, own_key=False)


def test_the_daily_budget_is_shared_and_resets_at_midnight_utc(tmp_path):
    clock = Clock()
    guard = guard_for(tmp_path, clock, daily_budget_cents=390)
    spend(guard, clock, owner="a", ip="1.1.1.1")
    spend(guard, clock, owner="b", ip="2.2.2.2")
    assert guard.budget_left_cents() == 130
    with pytest.raises(SpendRefused, match=r"\$3.90 has \$1.30 left, not enough for this \$2.60 clip") as caught:
        guard.reserve(owner="c", ip="3.3.3.3", price_cents=260, own_key=False)
    assert "midnight UTC (in 12 h 0 min)" in str(caught.value)
    spend(guard, clock, owner="c", ip="3.3.3.3")
    assert guard.budget_left_cents() == 0
    clock.now = NOON + 12 * 3600 + 1
    assert guard.budget_left_cents() == 390


def test_reservations_in_flight_count_before_any_row_exists(tmp_path):
    clock = Clock()
    guard = guard_for(tmp_path, clock, tasks_per_hour_per_browser=2, daily_budget_cents=10_000)
    first = guard.reserve(owner="a", ip="1.1.1.1", price_cents=130, own_key=False)
    guard.reserve(owner="a", ip="1.1.1.1", price_cents=130, own_key=False)
    with pytest.raises(SpendRefused):
        guard.reserve(owner="a", ip="1.1.1.1", price_cents=130, own_key=False)
    assert guard.budget_left_cents() == 10_000 - 260
    guard.release(first)  # e.g. the submit failed: the slot comes back
    assert guard.reserve(owner="a", ip="1.1.1.1", price_cents=130, own_key=False) is not None


def test_a_restart_resets_nothing(tmp_path):
    clock = Clock()
    spend(guard_for(tmp_path, clock, tasks_per_hour_per_browser=1), clock)
    with pytest.raises(SpendRefused):
        guard_for(tmp_path, clock, tasks_per_hour_per_browser=1).reserve(
            owner="a", ip="x", price_cents=130, own_key=False
        )


def test_a_visitors_own_key_is_never_limited(tmp_path):
    clock = Clock()
    guard = guard_for(tmp_path, clock, tasks_per_hour_per_browser=1, daily_budget_cents=0, require_user_key=True)
    for _ in range(5):
        assert guard.reserve(owner="a", ip="1.1.1.1", price_cents=260, own_key=True) is None


def test_require_user_key(tmp_path):
    guard = guard_for(tmp_path, Clock(), require_user_key=True)
    with pytest.raises(SpendRefused, match="bring their own WaveSpeed key"):
        guard.reserve(owner="a", ip="1.1.1.1", price_cents=130, own_key=False)


def test_preview_is_never_limited(tmp_path):
    settings = Settings(api_key=None, data_dir=tmp_path, tasks_per_hour_per_browser=1, daily_budget_cents=0)
    guard = SpendGuard(settings, Journal(settings.journal_path))
    assert guard.reserve(owner="a", ip="1", price_cents=130, own_key=False) is None


def test_a_refusal_sends_no_request_and_a_finished_run_frees_its_reservation(tmp_path):
    runner, sim = make_runner(tmp_path)
    settings = Settings(api_key=KEY, data_dir=tmp_path / "data", tasks_per_hour_per_browser=2, daily_budget_cents=1000)
    runner.guard = SpendGuard(settings, runner.journal)

    async def go():
        for _ in range(2):
            assert (await finish(runner.start(T2VRequest(prompt="x"), owner="a", ip="1.1.1.1"))).stage == "done"
        assert runner.guard.budget_left_cents() == 1000 - 2 * 130  # counted once each, from the journal
        before = len(sim.log)
        with pytest.raises(SpendRefused):
            runner.start(T2VRequest(prompt="x"), owner="a", ip="1.1.1.1")
        assert len(sim.log) == before
        mine = runner.start(T2VRequest(prompt="x"), owner="b", ip="2.2.2.2", user_key="visitor-key")
        await finish(mine)
        await runner.backend.aclose()

    asyncio.run(go())


@pytest.mark.slow  # several seconds: kept out of the fast loop
def test_uncertain_submits_keep_their_budget_until_resolved(tmp_path):
    """Six submits answered 500 with no task to be found: each keeps its price counted (a journaled
    lost submit), so the daily budget stops the fourth instead of failing open; a refusal (no task)
    gives its slot back, and a lost answer whose task the listing finds is counted from its journal row."""
    runner, sim = make_runner(tmp_path)
    settings = Settings(api_key=KEY, data_dir=tmp_path / "data", daily_budget_cents=390)
    runner.guard = SpendGuard(settings, runner.journal)

    async def go():
        outcomes = []
        for _ in range(6):
            sim.faults.submit.append("500_before_create")
            try:
                outcomes.append((await finish(runner.start(T2VRequest(prompt="x"), owner="a", ip="1"))).stage)
            except SpendRefused:
                outcomes.append("refused by the guard")
        return outcomes

    assert asyncio.run(go()) == ["error"] * 3 + ["refused by the guard"] * 3
    assert runner.journal.all() == [] and len(sim.submits()) == 3
    # Each is a journaled lost submit now (not a task, and not a reservation held in memory only).
    assert len(runner.journal.lost_submits()) == 3 and runner.guard._pending == {}
    assert runner.guard.budget_left_cents() == 0

    runner2, sim2 = make_runner(tmp_path / "two")
    runner2.guard = SpendGuard(
        Settings(api_key=KEY, data_dir=tmp_path / "two" / "data", daily_budget_cents=390), runner2.journal
    )

    async def resolved():
        sim2.faults.submit.extend(["refused_in_200", "502"])
        refused = await finish(runner2.start(T2VRequest(prompt="x"), owner="a", ip="1"))
        recovered = await finish(runner2.start(T2VRequest(prompt="x"), owner="a", ip="1"))
        await runner2.backend.aclose()
        return refused, recovered

    refused, recovered = asyncio.run(resolved())
    assert refused.stage == "error" and recovered.stage == "done" and "Recovered" in recovered.note
    assert runner2.guard._pending == {}  # released: one refused outright, one now a journal row
    assert [job.id for job in runner2.journal.all()] == [recovered.task_id]
    assert runner2.guard.budget_left_cents() == 390 - 130


@pytest.fixture(scope="module")
def guarded_app(tmp_path_factory):
    from kling.preview.simulator import SimConfig

    config = SimConfig(api_key=KEY, queue_s=0.2, process_s=0.5)
    env = {"KLING_DAILY_BUDGET_USD": "1.30", "KLING_AUTH": "ann:correct-horse"}
    with live_app_on_simulator(tmp_path_factory.mktemp("guarded"), config, env) as app:
        yield app


@pytest.mark.slow
def test_the_launched_app_enforces_login_and_the_budget(guarded_app):
    with pytest.raises(AuthenticationError, match="Please login"):
        guarded_app.client().view_api(print_info=False)  # no login, no API
    assert httpx.get(f"{guarded_app.url}/config").status_code == 401  # Gradio's login_check: no page config either
    client = guarded_app.client(auth=("ann", "correct-horse"))
    status, _, _ = client.predict("first", "", "16:9", 5, api_name="/text_to_video")
    assert "Done" in status
    with pytest.raises(AppError, match="daily budget"):
        client.predict("second", "", "16:9", 5, api_name="/text_to_video")
    assert len(guarded_app.simulator.submits()) == 1
