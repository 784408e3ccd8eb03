"""What a first visitor reads and gets from the page, without a browser: the shared link both
ways, the price beside Generate, the busy state, refusals in the result panel, the brief."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import gradio as gr
import httpx
import pytest

from kling.api.client import AsyncKlingClient
from kling.api.params import T2VRequest
from kling.app.tabs.forms import compose_into
from kling.app.views import (
    busy_label,
    clip_filename,
    price_text,
    settings_from_query,
    share_link,
    status_markdown,
    task_id_in_status,
)
from kling.app.widgets import RunButtons
from kling.errors import AuthenticationError
from kling.jobs.run import RunState
from kling.strings import say
from tests.helpers.fakes import KEY
from tests.helpers.media import image_bytes
from tests.helpers.page import english, generation_over, page_handlers, signed_session
from tests.helpers.runner import finish, make_runner

PAGE = "https://someone-kling.hf.space/?__theme=dark"


def read(link: str) -> dict:
    return settings_from_query(dict(parse_qsl(urlsplit(link).query)))


@pytest.mark.parametrize(
    "tab, values",
    [
        ("i2v", {"prompt": "a cat & a dog? 100% 🐱", "negative_prompt": "blur", "guidance_scale": 0.8, "duration": 10}),
        ("i2v", {"prompt": "x", "negative_prompt": "", "guidance_scale": 0.05, "duration": 5}),
        ("t2v", {"prompt": "a kite #1", "negative_prompt": "text, logo", "aspect_ratio": "9:16", "duration": 10}),
        ("t2v", {"prompt": "waves", "negative_prompt": "", "aspect_ratio": "1:1", "duration": 5}),
    ],
)
def test_a_link_from_each_tab_round_trips_every_setting_it_carries(tab, values):
    link = share_link(PAGE, tab, values)
    assert link.startswith("https://someone-kling.hf.space/?tab=" + tab)  # the page's own query is not kept
    expected = {"tab": tab, **{k: v for k, v in values.items() if v != ""}}
    assert read(link) == expected


def test_an_i2v_link_carries_guidance_as_guidance_never_as_an_aspect_ratio():
    link = share_link(PAGE, "i2v", {"prompt": "p", "guidance_scale": 0.8, "duration": 5})
    query = dict(parse_qsl(urlsplit(link).query))
    assert query == {"tab": "i2v", "prompt": "p", "guidance_scale": "0.8", "duration": "5"}


def test_the_link_handler_names_settings_in_the_pages_order(tmp_path):
    runner, _ = make_runner(tmp_path)
    visitor = page_handlers(runner, tmp_path).visitor
    i2v = visitor.link("i2v", PAGE, "a fox", "blur", 0.3, 10)
    t2v = visitor.link("t2v", PAGE, "a fox", "", "16:9", 5)
    assert read(i2v) == {
        "tab": "i2v",
        "prompt": "a fox",
        "negative_prompt": "blur",
        "guidance_scale": 0.3,
        "duration": 10,
    }
    assert read(t2v) == {"tab": "t2v", "prompt": "a fox", "aspect_ratio": "16:9", "duration": 5}


@pytest.mark.parametrize("preview", [True, False])
def test_the_price_beside_generate_always_says_the_live_price_the_wait_and_where_a_key_comes_from(preview):
    five, ten = price_text(5, preview), price_text("10", preview)
    assert "$1.30" in five and "5 s" in five and "$2.60" in ten and "10 s" in ten
    for text in (five, ten):
        assert "minutes" in text and "https://wavespeed.ai/accesskey" in text
        assert ("Free preview" in text) is preview


def running(elapsed: float, *, preview: bool = True, price: int = 130, stage: str = "processing") -> RunState:
    return RunState(model="kwaivgi/kling-v2.0-t2v-master", preview=preview, price_cents=price, started=0.0, stage=stage)


def test_a_running_status_has_an_estimate_labelled_as_one_and_generate_counts_the_time():
    text = status_markdown(running(0), now=42.0)
    assert busy_label(text) == "Generating… 0:42"
    assert "Estimated progress" in text and "an estimate, not a measurement" in text
    assert "▰▰▰▰▰▰▰▰▰▱ 95%" in text  # 42 s of a ~6.5 s preview: nearly, never fully, done
    live = status_markdown(running(0, preview=False, price=260), now=36.0)
    assert "▰▱▱▱▱▱▱▱▱▱ 10%" in live and "about 6 min" in live  # 36 s of a typical 6 min for 10 s
    assert busy_label("### ✅ Done in 0:07") is None and busy_label("Ready.") is None
    assert busy_label("### ⛔ Not sent, nothing was charged.") is None


def test_generate_is_disabled_and_stop_shown_only_while_a_run_is_under_way(tmp_path):
    runner, _ = make_runner(tmp_path)
    generation = generation_over(runner, tmp_path)
    buttons = RunButtons(object(), object(), object())  # type: ignore[arg-type]  # only dict keys
    busy = generation.busy(buttons, "### ⏳ Generating · 1:05\n\nTask `abc`")
    assert busy[buttons.go].interactive is False and busy[buttons.go].value == "Generating… 1:05"
    assert busy[buttons.stop].visible is True
    idle = generation.busy(buttons, "### ⏹ Stopped waiting\n\nTask `abc` is running in the background")
    assert idle[buttons.go].interactive is True and english(idle[buttons.go].value) == "Generate"
    assert idle[buttons.stop].visible is False


def test_a_refusal_is_repeated_in_the_result_panel_and_clears_the_old_clip(tmp_path):
    runner, _ = make_runner(tmp_path)
    generation = generation_over(runner, tmp_path)
    status, clip, details = asyncio.run(generation.refusal_t2v("x" * 2501, "", "16:9", 5))
    assert "2500" in status and "Not sent" in status and clip is None and details == ""
    image = tmp_path / "tiny.png"
    image.write_bytes(image_bytes(200, 200))
    status, clip, _ = asyncio.run(generation.refusal_i2v(str(image), "a cat", "", 0.5, 5, None))
    assert "300" in status and clip is None
    # A prompt of 2500 characters counted as Python counts them (an emoji is one) is accepted.
    assert asyncio.run(generation.refusal_t2v("🐱" * 2500, "", "16:9", 5)) == (gr.skip(), gr.skip(), gr.skip())


def test_stop_waiting_says_the_task_runs_on_and_preview_does_not_talk_of_wavespeed(tmp_path):
    live_runner, _ = make_runner(tmp_path / "live")
    preview_runner, _ = make_runner(tmp_path / "preview", key=None)
    status = "### ⏳ Processing · 0:12\n\nTask `t1` · status **processing** · 3 status checks"
    live = generation_over(live_runner, tmp_path / "live").stop_waiting(status, {"key": ""})
    preview = generation_over(preview_runner, tmp_path / "preview").stop_waiting(status, {"key": ""})
    assert "running in the background" in live and "WaveSpeed" in live and "billed" in live
    assert "running in the background" in preview and "WaveSpeed" not in preview and "billed" not in preview


def test_the_brief_fills_only_an_empty_prompt():
    brief = ("the cat turns", "wind", "slow push-in", "")
    assert compose_into(*brief, "") == "The cat turns. Wind. Slow push-in."
    assert compose_into(*brief, "   ") == "The cat turns. Wind. Slow push-in."
    assert compose_into(*brief, "my own words") == gr.skip()


# -- keys that are checked ------------------------------------------------------------------------


def test_the_balance_is_one_get_with_the_key_and_a_401_is_an_authentication_error():
    seen = []

    def api(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path, request.headers["authorization"]))
        if request.headers["authorization"] != f"Bearer {KEY}":
            return httpx.Response(401, json={"code": 401, "message": "Unauthorized"})
        return httpx.Response(200, json={"code": 200, "message": "success", "data": {"balance": 12.5}})

    async def ask(key: str) -> float:
        async with httpx.AsyncClient(transport=httpx.MockTransport(api)) as http:
            return await AsyncKlingClient(key, base_url="https://api.test", http=http).balance()

    assert asyncio.run(ask(KEY)) == 12.5
    with pytest.raises(AuthenticationError):
        asyncio.run(ask("abc"))
    assert seen == [("GET", "/api/v3/balance", f"Bearer {KEY}"), ("GET", "/api/v3/balance", "Bearer abc")]


def test_the_balance_over_loopback_from_the_simulator(served_simulator):
    async def ask(key: str) -> float:
        async with AsyncKlingClient(key, base_url=served_simulator.url) as client:
            return await client.balance()

    assert asyncio.run(ask(KEY)) == 100.0
    with pytest.raises(AuthenticationError):
        asyncio.run(ask("abc"))


def test_a_saved_key_is_checked_shown_by_its_last_4_characters_and_a_refused_one_changes_nothing(tmp_path):
    runner, simulator = make_runner(tmp_path, key=None)  # a preview Space: the visitor's key decides
    simulator.config.api_key = KEY
    handlers = page_handlers(runner, tmp_path)
    visitor, parts = handlers.visitor, handlers.visitor.parts
    preview = {"key": ""}

    refused = asyncio.run(visitor.save_key("abc", preview, 5, 5))
    assert parts.key_store not in refused  # nothing stored in the browser
    assert refused[parts.session] == preview and "Preview" in refused[parts.banner]
    assert "refused that key (401)" in refused[parts.key.info] and "abc" not in refused[parts.key.info]

    saved = asyncio.run(visitor.save_key(f" {KEY} ", preview, 5, 5))
    assert saved[parts.key_store] == KEY and saved[parts.session]["key"] == KEY
    assert "own key" in saved[parts.banner]
    info = saved[parts.key.info]
    assert f"`{KEY[-4:]}`" in info and "$100.00" in info and KEY[:-4] not in info
    assert [r.path for r in simulator.log] == ["/api/v3/balance", "/api/v3/balance"]


# -- Stop waiting and History tell the truth -------------------------------------------------------


@pytest.mark.slow  # a second or more of real waiting or rendering: kept out of the fast loop
def test_after_stop_the_panel_and_history_follow_the_task_and_their_timers_run_only_meanwhile(tmp_path):
    runner, _ = make_runner(tmp_path)
    handlers = page_handlers(runner, tmp_path)
    generation, out, history = handlers.generation, handlers.visitor.parts.t2v.out, handlers.visitor.parts.history
    session, owner = signed_session(generation.secret)
    stranger_session, _ = signed_session(generation.secret)

    async def scenario():
        run = runner.start(T2VRequest(prompt="a kite over a beach"), owner=owner)
        async for state in run.watch(tick=0.05):
            if state.task_id:
                break  # the visitor stopped watching; the task runs on
        stopped = generation.stop_waiting(status_markdown(state), session)
        during = await generation.background(out, stopped, session), await handlers.history.list(session)
        stranger = await generation.background(out, stopped, stranger_session)
        await finish(run)
        await asyncio.sleep(0.05)  # the run's done callback
        after = await generation.background(out, stopped, session), await handlers.history.list(session)
        return state.task_id, during, stranger, after

    task_id, (panel, listing), stranger, (panel_after, listing_after) = asyncio.run(scenario())
    assert panel[out.timer].active is True and "running in the background" in panel[out.status]
    assert out.video not in panel  # nothing new yet
    status_column = listing[history.table].value["headers"].index(say("en", "history.status"))
    assert (
        listing[history.table].value["data"][0][status_column] == "running in the background"
        and listing[history.timer].active is True
    )
    assert stranger[out.timer].active is False and out.status not in stranger
    assert "Done in the background" in panel_after[out.status] and task_id in panel_after[out.status]
    assert panel_after[out.video] and panel_after[out.timer].active is False
    assert (
        listing_after[history.table].value["data"][0][status_column] == "clip saved"
        and listing_after[history.timer].active is False
    )


# -- downloads named from the prompt and task id ---------------------------------------------------


def test_a_downloaded_clip_is_named_from_its_prompt_and_task_id():
    assert clip_filename("A paper lantern, rising over the night harbour!", "3f2a9c1e77aa00bb11") == (
        "a-paper-lantern-rising-over-the-3f2a9c1e77aa.mp4"
    )
    assert clip_filename("", "t1") == "kling-clip-t1.mp4"
    assert clip_filename("../../etc/passwd 🐱", "../x") == "etc-passwd-x.mp4"  # never a path


@pytest.mark.slow  # a second or more of real waiting or rendering: kept out of the fast loop
def test_a_finished_run_serves_its_clip_under_that_name(tmp_path):
    runner, _ = make_runner(tmp_path)
    generation = page_handlers(runner, tmp_path).generation

    async def run():
        return [outputs async for outputs in generation.text_to_video("A kite over a beach", "", "16:9", 5)]

    last = asyncio.run(run())[-1]
    task_id = task_id_in_status(last.status)
    assert task_id and last.clip is not None and Path(last.clip).name == clip_filename("A kite over a beach", task_id)
    assert Path(last.clip).name.startswith("a-kite-over-a-beach-")
