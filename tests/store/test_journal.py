"""The journal: the row exists before the first poll, survives concurrency, keeps failed downloads
resumable, shows each browser only its own rows, and never holds a key."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import gradio as gr
import httpx
import pytest

from kling.api.params import I2VRequest, T2VRequest
from kling.store.journal import Journal, key_fingerprint
from tests.helpers.fakes import KEY
from tests.helpers.media import image_bytes, probe
from tests.helpers.page import page_handlers, signed_session
from tests.helpers.runner import finish, make_runner


def test_the_row_is_written_before_the_first_poll(tmp_path):
    runner, sim = make_runner(tmp_path)
    polls_at_record: list[int] = []
    original = runner.journal.record

    def record(**kwargs):
        polls_at_record.append(len(sim.requests("GET", "/predictions/")))
        original(**kwargs)

    runner.journal.record = record

    async def go():
        state = await finish(runner.start(T2VRequest(prompt="a kite"), owner="browser-a"))
        await runner.backend.aclose()
        return state

    state = asyncio.run(go())
    assert polls_at_record == [0]
    job = runner.journal.get(state.task_id)
    assert (job.status, job.owner, job.mode, job.price_cents) == ("completed", "browser-a", "live", 130)
    assert Path(job.local_path) == tmp_path / "data" / "outputs" / f"{job.id}.mp4"
    assert probe(job.local_path).codec == "h264"
    assert job.params == {"prompt": "a kite", "negative_prompt": "", "duration": 5, "aspect_ratio": "16:9"}
    assert job.inference_ms is not None and job.output_url.endswith(f"{job.id}.mp4")


@pytest.mark.slow  # a second or more of real waiting or rendering: kept out of the fast loop
def test_fifty_concurrent_tasks_lose_no_row(tmp_path):
    runner, sim = make_runner(tmp_path)

    async def go():
        runs = [runner.start(T2VRequest(prompt="same prompt"), owner=f"b{i % 5}") for i in range(50)]
        states = await asyncio.gather(*(finish(run) for run in runs))
        await runner.backend.aclose()
        return states

    states = asyncio.run(go())
    assert all(state.stage == "done" for state in states), [s.message for s in states if s.stage != "done"]
    jobs = runner.journal.all(limit=100)
    assert len(jobs) == 50 == len({job.id for job in jobs})
    assert all(job.status == "completed" and job.clip_saved for job in jobs)
    assert len(sim.submits()) == 50


def test_two_connections_writing_at_once_never_lock(tmp_path):
    path = tmp_path / "jobs.sqlite3"
    journals = [Journal(path), Journal(path)]
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        journal = journals[n % 2]
        try:
            for i in range(40):
                task_id = f"t{n}-{i}"
                journal.record(
                    task_id=task_id, model="m", mode="live", owner=f"o{n}", key=None, params={}, price_cents=130
                )
                journal.update(task_id, status="processing")
                journal.update(task_id, status="completed")
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(journals[0].all(limit=1000)) == 320


def test_a_failed_download_keeps_the_url_and_can_be_resumed(tmp_path):
    runner, sim = make_runner(tmp_path)
    sim.faults.expire_outputs = True

    async def go():
        first = await finish(runner.start(T2VRequest(prompt="x"), owner="me"))
        job = runner.journal.get(first.task_id)
        assert job.status == "completed" and job.output_url and not job.clip_saved and job.unfinished
        assert "expired" in job.error
        assert [j.id for j in runner.journal.unfinished(key=KEY)] == [job.id]
        sim.faults.expire_outputs = False
        second = await finish(runner.resume(job.id, owner="me"))
        await runner.backend.aclose()
        return job.id, second

    task_id, second = asyncio.run(go())
    assert second.stage == "done"
    assert runner.journal.get(task_id).clip_saved
    assert len(sim.submits()) == 1
    assert runner.journal.unfinished(key=KEY) == []


def test_a_failed_task_is_recorded_with_its_code(tmp_path):
    runner, sim = make_runner(tmp_path)
    sim.faults.fail_code = 1200

    async def go():
        state = await finish(runner.start(T2VRequest(prompt="x"), owner="me"))
        await runner.backend.aclose()
        return state

    state = asyncio.run(go())
    job = runner.journal.get(state.task_id)
    assert (job.status, job.error_code) == ("failed", 1200) and "moderation" in job.error
    assert not job.unfinished


def test_resuming_a_task_twice_waits_once(tmp_path):
    runner, sim = make_runner(tmp_path)

    async def go():
        run = runner.start(T2VRequest(prompt="x"), owner="me")
        async for state in run.watch(tick=0.1):
            if state.task_id:
                break
        again = runner.resume(state.task_id, owner="me")
        assert again is run
        await finish(run)
        await runner.backend.aclose()

    asyncio.run(go())
    assert len(sim.submits()) == 1


def test_unfinished_is_per_key_and_live_only(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    journal.record(task_id="a", model="m", mode="live", owner="o", key="key-a", params={}, price_cents=130)
    journal.record(task_id="b", model="m", mode="live", owner="o", key="key-b", params={}, price_cents=130)
    journal.record(task_id="p", model="m", mode="preview", owner="o", key=None, params={}, price_cents=0)
    journal.record(task_id="done", model="m", mode="live", owner="o", key="key-a", params={}, price_cents=130)
    journal.update("done", status="failed")
    assert [job.id for job in journal.unfinished(key="key-a")] == ["a"]
    assert [job.id for job in journal.unfinished(key="key-b")] == ["b"]
    assert journal.unfinished(key="key-a", owner="someone-else") == []


def test_each_browser_sees_only_its_own_rows(tmp_path):
    runner, sim = make_runner(tmp_path)
    history = page_handlers(runner, tmp_path).history
    (mine, me), (_, them) = signed_session(history.g.secret), signed_session(history.g.secret)
    runner.journal.record(
        task_id="mine",
        model="kwaivgi/kling-v2.0-t2v-master",
        mode="live",
        owner=me,
        key=KEY,
        params={"prompt": "my kite"},
        price_cents=130,
    )
    runner.journal.record(
        task_id="theirs",
        model="kwaivgi/kling-v2.0-t2v-master",
        mode="live",
        owner=them,
        key=KEY,
        params={"prompt": "their secret"},
        price_cents=260,
    )
    listing = asyncio.run(history.list(mine))
    total, rows = listing[history.parts.history.info], listing[history.parts.history.table].value["data"]
    assert [row[-1] for row in rows] == ["mine"] and "$1.30" in total and "their secret" not in str(rows)
    nothing = {history.parts.tabs: gr.skip()}
    assert asyncio.run(history.use_settings("theirs", mine)) == nothing  # nothing filled
    filled = asyncio.run(history.use_settings("mine", mine))
    assert filled[history.parts.t2v.text.prompt] == "my kite" and history.parts.i2v.text.prompt not in filled

    async def resume_theirs():
        return [update async for update in history.resume("theirs", mine)]

    (refused,) = asyncio.run(resume_theirs())  # said in the task's panel, not raised as a red toast
    assert (
        refused[history.parts.history.job]
        == "### ⛔ Not sent, nothing was charged. That task belongs to another browser."
    )
    assert list(sim.log) == []


@pytest.mark.slow  # a second or more of real waiting or rendering: kept out of the fast loop
def test_the_journal_never_holds_the_key(tmp_path):
    runner, sim = make_runner(tmp_path)

    async def go():
        request = I2VRequest(
            image=image_bytes(640, 480), prompt="orbit", end_image=image_bytes(640, 480, color=(0, 0, 0))
        )
        await finish(runner.start(request, owner="me"))
        sim.faults.fail_code = 1401
        await finish(runner.start(T2VRequest(prompt="fails"), owner="me"))
        await runner.backend.aclose()

    asyncio.run(go())
    runner.journal.close()
    data_dir = tmp_path / "data"
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    assert any(p.name == "jobs.sqlite3" for p in files) and any(p.parent.name == "inputs" for p in files)
    for path in files:
        assert KEY.encode() not in path.read_bytes(), path
    rows = sqlite3.connect(data_dir / "jobs.sqlite3").execute("SELECT key_fingerprint FROM tasks").fetchall()
    assert {row[0] for row in rows} == {key_fingerprint(KEY)}


def test_a_lost_submit_answer_that_names_the_task_is_adopted_not_resent(tmp_path):
    from tests.helpers.fakes import FakeAPI, envelope

    api = FakeAPI()
    api.submits.append(httpx.Response(502, json=envelope("created", task_id="named-task")))
    api.polls.append(httpx.Response(200, json=envelope("completed", task_id="named-task")))
    runner, _ = make_runner(tmp_path, transport=httpx.MockTransport(api))

    async def go():
        state = await finish(runner.start(T2VRequest(prompt="x"), owner="me"))
        await runner.backend.aclose()
        return state

    state = asyncio.run(go())
    assert state.stage == "done" and state.task_id == "named-task"
    assert "Recovered task named-task" in state.note and "not sent again" in state.note
    job = runner.journal.get("named-task")
    assert job is not None and job.owner == "me" and job.clip_saved
    assert api.posts == 1 and api.count("POST", "/predictions") == 0  # its id was known: no listing needed


def test_a_task_last_seen_in_an_undocumented_status_is_resumable(tmp_path):
    journal = Journal(tmp_path / "jobs.sqlite3")
    for task_id, status in (("t-pending", "pending"), ("t-failed", "failed"), ("t-cancelled", "cancelled")):
        journal.record(task_id=task_id, model="m", mode="live", owner="o", key=KEY, params={}, price_cents=130)
        journal.update(task_id, status=status)
    assert [job.id for job in journal.unfinished(key=KEY)] == ["t-pending"]


def test_history_offers_a_resume_for_an_undocumented_status(tmp_path):
    from kling.app.views import job_status

    journal = Journal(tmp_path / "jobs.sqlite3")
    journal.record(task_id="t-pending", model="m", mode="live", owner="o", key=KEY, params={}, price_cents=130)
    journal.update("t-pending", status="pending")
    assert job_status(journal.get("t-pending")) == "pending: resume"
