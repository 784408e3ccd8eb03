"""Every fault switch of the simulator, through the runner the app uses: what the person is told,
whether the task is kept in the journal, and proof that nothing was submitted twice.
docs/RELIABILITY.md is this file as a table."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from kling.client import PollPolicy
from kling.params import T2VRequest
from kling.simulator import Faults, SimConfig, Simulator

from .conftest import KEY, FakeTime, finish, make_runner

# switch -> (changes, expected stage, words in the message, journal row status or None, submits, tasks made)
SUBMIT = {
    "401": ("refused", "API key was refused", None, 1, 0),
    "402": ("refused", "no credits left", None, 1, 0),
    "403": ("refused", "may be suspended", None, 1, 0),
    "429": ("done", "", "completed", 2, 1),
    "503": ("done", "", "completed", 2, 1),
    "500_before_create": ("refused", "may have been created", None, 1, 0),
    "500": ("refused", "may have been created", None, 1, 1),
    "502": ("refused", "may have been created", None, 1, 1),
    "504": ("refused", "may have been created", None, 1, 1),
    "drop": ("refused", "may have been created", None, 1, 1),
}
# In-process there are no sockets, so the "timeout" switch only delays: test_loopback.py covers it
# over real HTTP (test_a_lost_submit_answer_is_never_resubmitted, test_polls_ride_out_flaky_answers).
POLL = ["429", "500", "502", "503", "504", "drop", "null_data", "not_json"]
FAIL_CODES = {
    1200: "moderation",
    1400: "missing",
    1401: "invalid",
    1402: "could not be fetched",
    1403: "generation failed",
    1405: "generation failed",
    5000: "internal error",
    5003: "unavailable",
    5004: "timed out",
}


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[Simulator, FakeTime]]:
    """One simulator for the module, on a fake clock (Retry-After, backoffs and polls cost no real
    time): every test asks for the same clip, so it is rendered once."""
    clock = FakeTime()
    simulator = Simulator(SimConfig(api_key=KEY, queue_s=0.05, process_s=0.2), clock=clock.clock)
    yield simulator, clock
    simulator.close()


@pytest.fixture
def sim_clock(shared) -> tuple[Simulator, FakeTime]:
    """The shared simulator with no fault switched on."""
    simulator, clock = shared
    simulator.faults = Faults()
    return simulator, clock


@dataclass
class Seen:
    """What reached the simulator during one run."""

    submits: int
    tasks: int


def run_one(tmp_path, sim_clock, setup, *, deadline: float = 30):
    simulator, clock = sim_clock
    poll = PollPolicy(first=0.05, ceiling=0.1, jitter=0.0, deadline=deadline)
    runner, sim = make_runner(tmp_path, fake_time=clock, poll=poll, simulator=simulator)
    submits, tasks = len(sim.submits()), len(sim.tasks)
    setup(sim)

    async def go():
        state = await finish(runner.start(T2VRequest(prompt="fault"), owner="me"))
        await runner.backend.aclose()
        return state

    state = asyncio.run(go())
    jobs = runner.journal.all()
    return state, jobs, Seen(len(sim.submits()) - submits, len(sim.tasks) - tasks)


@pytest.mark.parametrize("fault", sorted(SUBMIT))
def test_submit_faults(tmp_path, sim_clock, fault):
    stage, words, row, submits, tasks = SUBMIT[fault]
    state, jobs, seen = run_one(tmp_path, sim_clock, lambda sim: sim.faults.submit.append(fault))
    assert (state.stage if state.stage == "done" else "refused") == stage
    assert words in state.message
    assert [job.status for job in jobs] == ([row] if row else [])
    assert (seen.submits, seen.tasks) == (submits, tasks)


@pytest.mark.parametrize("fault", POLL)
def test_poll_faults_are_ridden_out(tmp_path, sim_clock, fault):
    state, jobs, seen = run_one(tmp_path, sim_clock, lambda sim: sim.faults.poll.extend([fault, fault]))
    assert state.stage == "done" and jobs[0].clip_saved
    assert seen.submits == 1


def test_an_unknown_task_on_poll_keeps_the_row_for_a_resume(tmp_path, sim_clock):
    state, jobs, seen = run_one(tmp_path, sim_clock, lambda sim: sim.faults.poll.append("404"))
    assert state.stage == "error" and "Not found" in state.message and state.task_id in state.message
    assert jobs[0].status == "created" and jobs[0].unfinished
    assert seen.submits == 1


@pytest.mark.parametrize("code", sorted(FAIL_CODES))
def test_failed_tasks(tmp_path, sim_clock, code):
    state, jobs, seen = run_one(tmp_path, sim_clock, lambda sim: setattr(sim.faults, "fail_code", code))
    assert state.stage == "error" and FAIL_CODES[code] in state.message and str(code) in state.message
    assert (jobs[0].status, jobs[0].error_code) == ("failed", code) and not jobs[0].unfinished
    assert seen.submits == 1


def test_an_odd_final_status_ends_the_wait(tmp_path, sim_clock):
    state, jobs, _ = run_one(tmp_path, sim_clock, lambda sim: setattr(sim.faults, "final_status", "cancelled"))
    assert state.stage == "error" and "cancelled" in state.message
    assert jobs[0].status == "cancelled"


def test_nsfw_flagged_outputs_are_kept_and_flagged(tmp_path, sim_clock):
    state, jobs, _ = run_one(tmp_path, sim_clock, lambda sim: setattr(sim.faults, "nsfw", True))
    assert state.stage == "done" and state.task.nsfw and jobs[0].nsfw


def test_a_stuck_task_hits_the_deadline_and_stays_resumable(tmp_path, sim_clock):
    state, jobs, seen = run_one(tmp_path, sim_clock, lambda sim: setattr(sim.faults, "stuck", True), deadline=1.0)
    assert state.stage == "error" and "Stopped waiting" in state.message and state.task_id in state.message
    assert jobs[0].status == "processing" and jobs[0].unfinished
    assert seen.submits == 1


def test_an_expired_output_keeps_the_url_for_a_resume(tmp_path, sim_clock):
    state, jobs, _ = run_one(tmp_path, sim_clock, lambda sim: setattr(sim.faults, "expire_outputs", True))
    assert state.stage == "error" and "expired" in state.message
    assert jobs[0].output_url and jobs[0].unfinished


@pytest.mark.slow  # renders several clips, or waits out real Retry-After seconds
def test_the_concurrency_cap_queues_tasks_in_created(tmp_path):
    runner, sim = make_runner(tmp_path, max_concurrent=1)

    async def go():
        runs = [runner.start(T2VRequest(prompt=f"p{i}"), owner="me") for i in range(3)]
        states = await asyncio.gather(*(finish(run) for run in runs))
        await runner.backend.aclose()
        return states

    states = asyncio.run(go())
    assert all(state.stage == "done" for state in states)
    assert len(sim.submits()) == 3
