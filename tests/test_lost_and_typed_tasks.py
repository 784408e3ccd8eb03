"""Money and other people's tasks: typed task ids leave nothing behind unless WaveSpeed answers them
with a task and count against the hourly limits; a lost submit names no one's task ids, is kept in
the journal at its price (every limit counts it across restarts) until the operator adopts a task
for it or dismisses it; a task WaveSpeed does not know is never resumed again."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from kling.config import Settings
from kling.errors import SpendRefused
from kling.guard import SpendGuard
from kling.journal import short_hash
from kling.params import T2VRequest
from kling.runner import Runner

from .conftest import KEY, finish, make_runner

T2V = "kwaivgi/kling-v2.0-t2v-master"


def guarded(tmp_path, **limits) -> tuple[Runner, object]:
    runner, sim = make_runner(tmp_path)
    runner.listing_pause = 0.0  # the second look at the listing needs no real wait here
    runner.guard = SpendGuard(Settings(api_key=KEY, data_dir=tmp_path / "data", **limits), runner.journal)
    return runner, sim


def result_gets(sim) -> list[str]:
    return [r.path for r in sim.log if r.method == "GET" and r.path.endswith("/result")]


# -- planted tasks ---------------------------------------------------------------------------------


def test_typed_unknown_ids_leave_no_row_and_count_against_the_hourly_limits(tmp_path):
    runner, sim = guarded(tmp_path, tasks_per_hour_per_browser=3, tasks_per_hour_per_ip=100)
    planted = [uuid.uuid4().hex for _ in range(4)]

    async def go():
        states = [await finish(runner.resume_typed(i, owner="mallory", ip="6.6.6.6")) for i in planted[:3]]
        with pytest.raises(SpendRefused) as refused:
            runner.resume_typed(planted[3], owner="mallory", ip="6.6.6.6")
        with pytest.raises(SpendRefused):  # the same hourly allowance as generations
            runner.start(T2VRequest(prompt="x"), owner="mallory", ip="6.6.6.6")
        honest = runner.guard.reserve(owner="ann", ip="1.1.1.1", price_cents=130, own_key=False)
        await runner.backend.aclose()
        return states, refused.value, honest

    states, refused, honest = asyncio.run(go())
    assert honest is not None  # another browser on another address is not held back
    assert all(state.stage == "error" and "Unknown or expired task" in state.message for state in states)
    assert refused.reason == "lookup_browser" and "Nothing was sent" in str(refused)
    assert result_gets(sim).count(f"/api/v3/predictions/{planted[3]}/result") == 0
    assert len([p for p in result_gets(sim) if any(i in p for i in planted)]) == 3  # one look each
    assert runner.journal.all() == []  # no planted row
    assert runner.resume_unfinished() == []


def test_the_per_address_limit_counts_lookups_from_every_browser(tmp_path):
    runner, _ = guarded(tmp_path, tasks_per_hour_per_browser=100, tasks_per_hour_per_ip=2)

    async def go():
        for n in range(2):
            await finish(runner.resume_typed(uuid.uuid4().hex, owner=f"fresh-{n}", ip="6.6.6.6"))
        with pytest.raises(SpendRefused) as refused:
            runner.resume_typed(uuid.uuid4().hex, owner="fresh-3", ip="6.6.6.6")
        await runner.backend.aclose()
        return refused.value

    assert asyncio.run(go()).reason == "lookup_address"


def test_an_unreadable_answer_to_a_typed_id_records_nothing(tmp_path):
    runner, sim = guarded(tmp_path)
    sim.faults.poll.extend(["not_json"] * 3)

    async def go():
        state = await finish(runner.resume_typed(uuid.uuid4().hex, owner="m", ip="6.6.6.6"))
        await runner.backend.aclose()
        return state

    state = asyncio.run(go())
    assert state.stage == "error" and "3 times in a row" in state.message
    assert runner.journal.all() == []


@pytest.mark.slow  # renders the clip
def test_a_typed_id_wavespeed_knows_is_journaled_once_answered_at_no_price(tmp_path):
    runner, sim = guarded(tmp_path)
    made_elsewhere = sim._create(T2V, {"prompt": "from the dashboard"}, None)

    async def go():
        state = await finish(runner.resume_typed(made_elsewhere.id, owner="bob", ip="2.2.2.2"))
        await runner.backend.aclose()
        return state

    assert asyncio.run(go()).stage == "done"
    job = runner.journal.get(made_elsewhere.id)
    assert job is not None and job.owner == "bob" and job.price_cents == 0 and job.clip_saved
    assert job.ip_hash == short_hash("2.2.2.2") and runner.guard._pending == {}  # its row counts now


def test_a_journaled_task_wavespeed_does_not_know_is_final_and_never_resumed_again(tmp_path):
    runner, sim = make_runner(tmp_path)
    gone = "0" * 32
    runner.journal.record(task_id=gone, model=T2V, mode="live", owner="o", key=KEY, params={}, price_cents=130)
    runner.journal.update(gone, created=time.time() - 3600)  # well past the first minute

    async def go():
        first = [await finish(run) for run in runner.resume_unfinished()]
        again = runner.resume_unfinished()
        await runner.backend.aclose()
        return first, again

    first, again = asyncio.run(go())
    assert [state.stage for state in first] == ["error"] and again == []
    assert runner.journal.get(gone).status == "unknown"
    assert len(result_gets(sim)) == 1


# -- lost submits ----------------------------------------------------------------------------------


def lose_a_submit(runner: Runner, sim, *, others: int, owner="ann", ip="1.1.1.1"):
    """A submit answered 500 after its task was made, while `others` tasks of the same model were made
    by other clients of the key a moment before: the listing cannot tell which one is ours."""
    theirs = [sim._create(T2V, {"prompt": f"someone else's {n}"}, None).id for n in range(others)]
    before = set(sim.tasks)
    sim.faults.submit.append("500")

    async def go():
        state = await finish(runner.start(T2VRequest(prompt="mine"), owner=owner, ip=ip))
        await runner.backend.aclose()
        return state

    state = asyncio.run(go())
    (mine,) = set(sim.tasks) - before
    return state, mine, theirs


def test_an_ambiguous_recovery_names_the_count_and_no_ids_and_is_journaled(tmp_path):
    runner, sim = guarded(tmp_path)
    state, mine, theirs = lose_a_submit(runner, sim, others=1)
    assert state.stage == "error" and "2 new tasks" in state.message and "operator" in state.message
    assert mine not in state.message and theirs[0] not in state.message
    (lost,) = runner.journal.lost_submits()
    assert lost.status == "uncertain" and lost.owner == "ann" and lost.ip_hash == short_hash("1.1.1.1")
    assert lost.price_cents == 130 and sorted(lost.candidates) == sorted([mine, *theirs])
    assert runner.guard._pending == {}  # the row holds the reservation now
    assert runner.journal.all() == [] and runner.resume_unfinished() == []  # not a task to resume


def test_lost_submits_count_against_every_limit_across_a_restart_until_resolved(tmp_path):
    """Three lost submits at $1.30 under a $3.90 budget: after a restart (a new guard over the same
    journal) the budget is still spent and the browser's hourly count still holds them."""
    runner, sim = guarded(tmp_path, daily_budget_cents=390, tasks_per_hour_per_browser=3)
    sim.faults.submit.extend(["500_before_create"] * 3)

    async def go():
        states = [await finish(runner.start(T2VRequest(prompt="x"), owner="ann", ip="1.1.1.1")) for _ in range(3)]
        await runner.backend.aclose()
        return states

    assert [state.stage for state in asyncio.run(go())] == ["error"] * 3
    restarted = SpendGuard(runner.guard.settings, runner.journal)
    assert restarted.budget_left_cents() == 0
    with pytest.raises(SpendRefused) as refused:
        restarted.reserve(owner="ann", ip="1.1.1.1", price_cents=130, own_key=False)
    assert refused.value.reason == "hourly_browser"
    with pytest.raises(SpendRefused, match="daily budget"):
        restarted.reserve(owner="bob", ip="2.2.2.2", price_cents=130, own_key=False)

    first, second, _ = runner.journal.lost_submits()
    runner.journal.dismiss(first.id)  # the operator found no task for it
    assert restarted.budget_left_cents() == 130
    adopted = runner.journal.adopt(second.id, "f" * 32, model=T2V)  # the operator found its task
    assert (adopted.owner, adopted.ip_hash, adopted.price_cents) == ("ann", short_hash("1.1.1.1"), 130)
    assert adopted.created == second.created and adopted.unfinished
    assert restarted.budget_left_cents() == 130  # counted once: the task's row, not the submit's too
    assert [job.status for job in runner.journal.lost_submits(open_only=False)] == ["dismissed", "adopted", "uncertain"]


@pytest.mark.slow  # renders the clip
def test_a_recovery_with_one_candidate_is_journaled_at_its_price_and_address(tmp_path):
    runner, sim = guarded(tmp_path)
    state, mine, _ = lose_a_submit(runner, sim, others=0, owner="ann", ip="1.1.1.1")
    assert state.stage == "done" and f"Recovered task {mine}" in state.note
    job = runner.journal.get(mine)
    assert (job.owner, job.price_cents, job.ip_hash) == ("ann", 130, short_hash("1.1.1.1"))


@pytest.mark.slow  # renders the clip
def test_the_owner_typing_a_candidate_of_their_own_lost_submit_adopts_it_at_its_price(tmp_path):
    runner, sim = guarded(tmp_path)
    _, mine, _ = lose_a_submit(runner, sim, others=1, owner="ann", ip="1.1.1.1")
    (lost,) = runner.journal.lost_submits()

    async def go():
        state = await finish(runner.resume_typed(mine, owner="ann", ip="1.1.1.1"))
        await runner.backend.aclose()
        return state

    assert asyncio.run(go()).stage == "done"
    job = runner.journal.get(mine)
    assert (job.owner, job.price_cents, job.ip_hash, job.created) == ("ann", 130, short_hash("1.1.1.1"), lost.created)
    assert runner.journal.lost_submits() == [] and runner.journal.get(lost.id).status == "adopted"
