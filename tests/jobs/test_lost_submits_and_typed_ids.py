"""Money and other people's tasks: typed task ids leave nothing behind unless WaveSpeed answers them
with a task and count against the hourly limits; a lost submit names no one's task ids, is kept in
the journal at its price (every limit counts it across restarts) until the operator adopts a task
for it or dismisses it; a task WaveSpeed does not know is never resumed again."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from gradio_client.exceptions import AppError

from kling.api.params import T2VRequest
from kling.config import Settings
from kling.errors import SpendRefused
from kling.jobs.guard import SpendGuard
from kling.jobs.runner import Runner
from kling.preview.simulator import SimConfig, Simulator
from kling.store.journal import short_hash
from tests.helpers.fakes import KEY
from tests.helpers.launch import launch_app, stop
from tests.helpers.paths import SIM_CLIPS
from tests.helpers.runner import finish, make_runner
from tests.helpers.sim import free_port, serve_in_thread, sim_config

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


# -- through the launched app ------------------------------------------------------------------------


def resume_typed_event(url: str) -> tuple[int, int]:
    """The page's "Resume this id" click: (its event's id, its button's id), read from /config."""
    config = httpx.get(f"{url}/config", timeout=10).json()
    (button,) = [c["id"] for c in config["components"] if "history.resume_typed" in str(c["props"].get("value"))]
    (event,) = [d["id"] for d in config["dependencies"] if [button, "click"] in [list(t) for t in d["targets"]]]
    return event, button


def click_resume_typed(url: str, task_id: str) -> list[dict]:
    """What a browser sends when "Resume this id" is clicked (the raw queue protocol: the event is
    not a public API), and the message that ends it. No session: the caller is a fresh visitor."""
    event, button = resume_typed_event(url)
    session = uuid.uuid4().hex
    joined = httpx.post(
        f"{url}/gradio_api/queue/join",
        json={"data": [task_id, None], "fn_index": event, "trigger_id": button, "session_hash": session},
        timeout=10,
    )
    assert joined.status_code == 200, joined.text
    said: list[dict] = []
    with httpx.stream("GET", f"{url}/gradio_api/queue/data", params={"session_hash": session}, timeout=60) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") in {"process_generating", "process_completed"}:
                    said.append(message)
                if message.get("msg") == "process_completed":
                    return said
    raise AssertionError("the event never completed")


def error_of(said: list[dict]) -> str:
    """What the page was told: a failed task's error, or a refusal shown in the task's panel
    (a refusal is an answer, not an error: no red toast)."""
    if said[-1]["success"] is False:
        return str(said[-1]["output"].get("error"))
    words = json.dumps([message["output"].get("data") for message in said], ensure_ascii=False)
    assert "Not sent, nothing was charged" in words, words
    return words


def journal_rows(data_dir) -> list[tuple]:
    db = sqlite3.connect(f"file:{data_dir / 'jobs.sqlite3'}?mode=ro", uri=True)
    try:
        return db.execute("SELECT id, status, owner FROM tasks").fetchall()
    finally:
        db.close()


@contextmanager
def simulator_on_loopback(config: SimConfig) -> Iterator[tuple[Simulator, str]]:
    simulator = Simulator(config, clip_dir=SIM_CLIPS)
    port = free_port()
    server, thread = serve_in_thread(simulator.app, port)
    try:
        yield simulator, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        simulator.close()


@pytest.mark.slow
def test_planted_ids_through_the_page_cost_a_bounded_number_of_looks_and_nothing_at_the_next_start(tmp_path):
    with simulator_on_loopback(sim_config(api_key=KEY, queue_s=0.1, process_s=0.3)) as (sim, url):
        env = {"WAVESPEED_API_KEY": KEY, "WAVESPEED_BASE_URL": url, "KLING_TASKS_PER_HOUR_PER_IP": "4"}
        app = launch_app(tmp_path, env)
        planted = [uuid.uuid4().hex for _ in range(6)]
        try:
            errors = [error_of(click_resume_typed(app.url, task_id)) for task_id in planted]
        finally:
            stop(app)
        assert all("Unknown or expired task" in error for error in errors[:4]), errors
        assert all("lookups of task ids" in error and "Nothing was sent" in error for error in errors[4:]), errors
        assert len(result_gets(sim)) == 4 and journal_rows(app.data_dir) == []

        restarted = launch_app(tmp_path, env)  # the next start finds nothing to resume
        try:
            time.sleep(2)  # a resume at start polls at once (first delay 0): time enough for it to show
        finally:
            stop(restarted)
        assert len(result_gets(sim)) == 4
        assert "Resuming" not in (tmp_path / "app.log").read_text()


@pytest.mark.slow
def test_a_lost_submit_through_the_page_shows_no_ids_refuses_them_typed_and_keeps_its_budget_after_a_restart(
    tmp_path,
):
    with simulator_on_loopback(sim_config(api_key=KEY, queue_s=0.1, process_s=0.3)) as (sim, url):
        env = {"WAVESPEED_API_KEY": KEY, "WAVESPEED_BASE_URL": url, "KLING_DAILY_BUDGET_USD": "2.60"}
        app = launch_app(tmp_path, env)
        try:
            theirs = sim._create(T2V, {"prompt": "another visitor's"}, None).id
            before = set(sim.tasks) | {theirs}
            sim.faults.submit.append("500")
            with pytest.raises(AppError) as lost:
                app.client().predict("mine", "", "16:9", 5, api_name="/text_to_video")
            (mine,) = set(sim.tasks) - before
            refusals = [error_of(click_resume_typed(app.url, task_id)) for task_id in (theirs, mine)]
        finally:
            stop(app)
        words = str(lost.value)
        assert "2 new tasks" in words and "operator" in words and mine not in words and theirs not in words
        assert all("another visitor" in refusal for refusal in refusals), refusals
        assert not any(theirs in path or mine in path for path in result_gets(sim))  # neither was looked up
        assert [row[1] for row in journal_rows(app.data_dir)] == ["uncertain"]

        restarted = launch_app(tmp_path, env)  # $2.60 a day: the lost $1.30 still counts after a restart
        try:
            status, _, _ = restarted.client().predict("second", "", "16:9", 5, api_name="/text_to_video")
            with pytest.raises(AppError, match="daily budget"):
                restarted.client().predict("third", "", "16:9", 5, api_name="/text_to_video")
        finally:
            stop(restarted)
        assert "Done" in status and len(sim.submits()) == 2
