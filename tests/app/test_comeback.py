"""A reload brings the visitor's task back: which task (the newest running, else the newest that
ended within 15 minutes, only the visitor's own), and what the page's load handler writes for it,
without a browser. The browser's view of it is tests/browser/test_reload.py."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import pytest

from kling.api.params import I2VRequest, T2VRequest
from kling.app.tabs.comeback import RECENT_S, chosen
from kling.store.journal import Job
from tests.helpers.media import image_bytes
from tests.helpers.page import page_handlers, signed_session
from tests.helpers.runner import a_job, finish, make_runner

NOW = 1_800_000_000.0


def job(task_id: str, *, created: float, updated: float | None = None) -> Job:
    return a_job(task_id, created=created, updated=created if updated is None else updated)


def test_a_running_task_comes_back_before_a_newer_one_that_ended():
    old_running = job("running", created=NOW - 3600)
    ended = job("ended", created=NOW - 60, updated=NOW - 30)
    assert chosen([ended, old_running], lambda task_id: task_id == "running", NOW) is old_running


def test_the_newest_of_several_running_tasks_comes_back():
    first, second = job("first", created=NOW - 300), job("second", created=NOW - 100)
    assert chosen([first, second], lambda task_id: True, NOW) is second


def test_of_the_ended_tasks_the_newest_within_15_minutes_comes_back_and_older_ones_never():
    recent = job("recent", created=NOW - 200, updated=NOW - 100)
    newer = job("newer", created=NOW - 150, updated=NOW - 120)
    old = job("old", created=NOW - RECENT_S - 400, updated=NOW - RECENT_S - 1)
    assert chosen([recent, newer, old], lambda task_id: False, NOW) is newer
    assert chosen([old], lambda task_id: False, NOW) is None
    # Started long ago but ended moments ago (a long live run): it comes back; the end must be recent.
    assert chosen([job("long", created=NOW - RECENT_S - 10, updated=NOW - 10)], lambda task_id: False, NOW)


def stuck_runner(tmp_path):
    runner, simulator = make_runner(tmp_path)
    simulator.faults.stuck = True  # a task that stays in processing for the whole test
    return runner, simulator, page_handlers(runner, tmp_path)


async def running_task(runner, request, owner):
    run = runner.start(request, owner=owner)
    async for state in run.watch(tick=0.05):
        if state.task_id and state.polls:
            return run, state.task_id  # the browser went away here; the run goes on
    raise AssertionError("the run ended before it had a task")


def test_a_reload_mid_run_selects_its_tab_fills_its_form_and_streams_its_status_without_a_new_submit(tmp_path):
    runner, simulator, handlers = stuck_runner(tmp_path)
    parts, comeback = handlers.visitor.parts, handlers.comeback
    session, owner = signed_session(handlers.generation.secret)
    request = T2VRequest(prompt="A kite over a beach at dusk.", aspect_ratio="9:16", duration=10)

    async def scenario():
        run, task_id = await running_task(runner, request, owner)
        submits = len(simulator.submits())
        back = await comeback.at_opening(session)
        tick = await handlers.generation.background(
            parts.t2v.out, back[parts.t2v.out.status], session, following=back[parts.t2v.out.following]
        )
        return task_id, submits, back, tick

    task_id, submits, back, tick = asyncio.run(scenario())
    out = parts.t2v.out
    assert back[parts.tabs].selected == "t2v"
    assert back[parts.t2v.text.prompt] == "A kite over a beach at dusk."
    assert back[parts.t2v.aspect_ratio] == "9:16" and back[parts.t2v.duration] == 10
    assert back[out.status].startswith("### ⏳ Generating") and f"Task `{task_id}`" in back[out.status]
    assert "Back after a reload" in back[out.status] and task_id in back[out.details]
    assert back[out.following] == task_id and back[out.timer].active is True
    assert parts.i2v.out.status not in back  # the other tab's panel is left as it is
    # The timer's next tick streams the run's own status again; it does not say "Stopped waiting".
    assert tick[out.status].startswith("### ⏳") and tick[out.timer].active is True and tick[out.following] == task_id
    assert len(simulator.submits()) == submits == 1  # a reload sent nothing


def test_after_stop_waiting_on_a_reloaded_page_the_timer_says_it_runs_in_the_background(tmp_path):
    runner, _, handlers = stuck_runner(tmp_path)
    out, generation = handlers.visitor.parts.t2v.out, handlers.generation
    session, owner = signed_session(generation.secret)

    async def scenario():
        _, task_id = await running_task(runner, T2VRequest(prompt="rain on a window"), owner)
        back = await handlers.comeback.at_opening(session)
        assert back[out.following] and back[out.timer].active is True  # streamed again after the reload
        stopped = generation.stopped(out, back[out.status], session)
        # One answer: the words, the timer still following the task, and the reload's stream let go.
        assert stopped[out.timer].active is True and stopped[out.following] == ""
        tick = await generation.background(out, stopped[out.status], session, following=stopped[out.following])
        return tick

    tick = asyncio.run(scenario())
    assert "running in the background" in tick[out.status] and tick[out.timer].active is True


def test_stop_waiting_before_a_task_exists_leaves_the_timer_off(tmp_path):
    _, _, handlers = stuck_runner(tmp_path)
    out, generation = handlers.visitor.parts.i2v.out, handlers.generation
    stopped = generation.stopped(out, "### ⏳ Submitting · 0:01", {"key": ""})
    assert "No task had been created" in stopped[out.status]
    assert stopped[out.timer].active is False and stopped[out.following] == ""


def test_an_image_to_video_task_comes_back_into_image_to_video_with_its_start_image(tmp_path):
    runner, _, handlers = stuck_runner(tmp_path)
    parts = handlers.visitor.parts
    session, owner = signed_session(handlers.generation.secret)
    request = I2VRequest(image=image_bytes(640, 480), prompt="slow push-in", guidance_scale=0.7)

    async def scenario():
        await running_task(runner, request, owner)
        return await handlers.comeback.at_opening(session)

    back = asyncio.run(scenario())
    assert back[parts.tabs].selected == "i2v"
    assert back[parts.i2v.text.prompt] == "slow push-in" and back[parts.i2v.guidance] == 0.7
    assert back[parts.i2v.image] and str(back[parts.i2v.image]).endswith((".png", ".jpg"))
    assert back[parts.i2v.out.status].startswith("### ⏳") and parts.t2v.out.status not in back


@pytest.mark.parametrize("who", ["stranger", "forged"])
def test_another_visitors_task_or_a_forged_browser_id_brings_nothing_back(tmp_path, who):
    runner, _, handlers = stuck_runner(tmp_path)
    _, owner = signed_session(handlers.generation.secret)
    stranger, _ = signed_session(handlers.generation.secret)
    # A browser id this server did not sign (here: the owner's id itself, as a client could send it).
    forged = {"token": owner, "key": ""}

    async def scenario():
        await running_task(runner, T2VRequest(prompt="a secret prompt"), owner)
        return await handlers.comeback.at_opening(stranger if who == "stranger" else forged)

    back = asyncio.run(scenario())
    assert back == {}


def test_a_shared_link_in_the_address_decides_the_form_and_nothing_comes_back(tmp_path):
    runner, _, handlers = stuck_runner(tmp_path)
    session, owner = signed_session(handlers.generation.secret)
    link = SimpleNamespace(query_params={"tab": "t2v", "prompt": "from a link"}, headers={})

    async def scenario():
        await running_task(runner, T2VRequest(prompt="mine"), owner)
        return await handlers.comeback.at_opening(session, link)  # type: ignore[arg-type]  # what it reads of a request

    assert asyncio.run(scenario()) == {}


def test_a_task_that_ended_more_than_15_minutes_ago_does_not_come_back(tmp_path):
    runner, _ = make_runner(tmp_path)
    handlers = page_handlers(runner, tmp_path)
    session, owner = signed_session(handlers.generation.secret)
    runner.journal.record(
        task_id="t-old", model="kwaivgi/kling-v2.0-t2v-master", mode="live", owner=owner, key=None,
        params={"prompt": "yesterday"}, price_cents=130, status="failed",
    )  # fmt: skip
    handlers.comeback.clock = lambda: time.time() + RECENT_S + 5
    assert asyncio.run(handlers.comeback.at_opening(session)) == {}
    handlers.comeback.clock = time.time
    assert handlers.visitor.parts.t2v.out.status in asyncio.run(handlers.comeback.at_opening(session))


def test_a_failed_task_comes_back_with_its_failure_and_the_refund(tmp_path):
    runner, simulator = make_runner(tmp_path)
    simulator.faults.fail_code = 1200
    handlers = page_handlers(runner, tmp_path)
    out = handlers.visitor.parts.t2v.out
    session, owner = signed_session(handlers.generation.secret)

    async def scenario():
        state = await finish(runner.start(T2VRequest(prompt="a storm"), owner=owner))
        await asyncio.sleep(0.05)  # the run's done callback
        comeback = handlers.comeback
        english, chinese = await comeback.at_opening(session), await comeback.at_opening({**session, "lang": "zh"})
        return state.task_id, english, chinese

    task_id, back, zh = asyncio.run(scenario())
    status = back[out.status]
    assert status.startswith("### ❌ Failed after") and f"Task `{task_id}` · status **failed**" in status
    assert "WaveSpeed refunds a failed task: the $1.30 comes back" in status
    assert back[out.video] is None and back[out.timer].active is False and back[out.following] == ""
    assert zh[out.status].startswith("### ❌ 用时") and "WaveSpeed 会退还失败任务的费用" in zh[out.status]
    assert "页面重新加载后恢复" in zh[out.status] and "状态 **失败**" in zh[out.status]
    assert len(simulator.submits()) == 1


@pytest.mark.slow  # its clip is rendered and downloaded: a second or more
def test_a_task_followed_after_a_reload_shows_its_clip_when_it_ends_and_a_later_reload_shows_it_too(tmp_path):
    runner, simulator = make_runner(tmp_path)
    handlers = page_handlers(runner, tmp_path)
    out, generation = handlers.visitor.parts.t2v.out, handlers.generation
    session, owner = signed_session(generation.secret)

    async def scenario():
        run = runner.start(T2VRequest(prompt="A paper boat on a pond."), owner=owner)
        async for state in run.watch(tick=0.05):
            if state.task_id:
                break
        back = await handlers.comeback.at_opening(session)  # reloaded while it runs
        await finish(run)
        await asyncio.sleep(0.05)  # the run's done callback
        tick = await generation.background(out, back[out.status], session, following=back[out.following])
        return back, tick, await handlers.comeback.at_opening(session)

    back, tick, later = asyncio.run(scenario())
    assert back[out.following] and back[out.timer].active is True
    for done in (tick, later):
        assert done[out.status].startswith("### ✅ Done in") and "its clip is saved" in done[out.status]
        assert str(done[out.video]).endswith(".mp4") and done[out.timer].active is False
        assert done[out.following] == ""
    assert len(simulator.submits()) == 1


def test_the_pages_opening_answer_brings_the_task_back_in_the_same_request(tmp_path):
    """The reload's task comes with the opening answer (`Visitor.arrive`), not in a request of its own."""
    runner, simulator, handlers = stuck_runner(tmp_path)
    parts = handlers.visitor.parts
    session, owner = signed_session(handlers.generation.secret)
    opening = SimpleNamespace(client=SimpleNamespace(host="127.0.0.1"), headers={}, session_hash="s", query_params={})

    async def scenario():
        _, task_id = await running_task(runner, T2VRequest(prompt="gulls over a pier"), owner)
        return task_id, await handlers.visitor.arrive(session["token"], "", 5, 5, opening)

    task_id, opened = asyncio.run(scenario())
    assert opened[parts.owner_store] == session["token"]  # the same visitor, restored
    assert opened[parts.tabs].selected == "t2v" and opened[parts.t2v.out.following] == task_id
    assert opened[parts.t2v.text.prompt] == "gulls over a pier"
    assert len(simulator.submits()) == 1
