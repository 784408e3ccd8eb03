"""Prompt help: WaveSpeed's prompt optimizer in the simulator, the client's one call, the spend
guard's limits and budget in mills, and the page's handlers (a suggestion never overwrites a prompt)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import gradio as gr
import pytest

from kling.api.optimizer import PromptRequest, fit_prompt, improve_prompt
from kling.api.params import PROMPT_MAX_CHARS
from kling.config import Settings
from kling.errors import SpendRefused, ValidationError
from kling.jobs.guard import SpendGuard
from kling.preview.simulator import Simulator
from kling.store.journal import Journal
from tests.helpers.fakes import KEY
from tests.helpers.media import image_bytes
from tests.helpers.page import page_handlers, signed_session
from tests.helpers.paths import SIM_CLIPS
from tests.helpers.runner import make_runner
from tests.helpers.sim import AUTH, Clock, call, sim_config

OPTIMIZER = "/api/v3/wavespeed-ai/prompt-optimizer"
NOON = datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc).timestamp()


def optimizer_posts(simulator: Simulator) -> list:
    return simulator.requests("POST", "prompt-optimizer")


@pytest.fixture
def sim_clock() -> Clock:
    return Clock()


@pytest.fixture
def own_sim(sim_clock):
    simulator = Simulator(sim_config(api_key=KEY, queue_s=1.0, process_s=4.0), clock=sim_clock, clip_dir=SIM_CLIPS)
    yield simulator
    simulator.close()


# -- the simulator's own reading --------------------------------------------------------------------


def test_the_simulator_answers_the_optimizer_asynchronously_with_text_in_outputs(own_sim, sim_clock):
    sim, clock = own_sim, sim_clock
    created = call(sim, "POST", OPTIMIZER, json={"text": "a cat", "style": "anime", "mode": "video"}, headers=AUTH)
    data = created.json()["data"]
    assert created.status_code == 200 and data["status"] == "created" and data["outputs"] == []
    clock.now += 10
    done = call(sim, "GET", f"/api/v3/predictions/{data['id']}/result", headers=AUTH).json()["data"]
    assert done["status"] == "completed" and done["model"] == "wavespeed-ai/prompt-optimizer"
    text = done["outputs"][0]
    assert text.startswith("[simulated] a cat.") and "Anime style" in text and "camera movement" in text
    again = call(sim, "POST", OPTIMIZER, json={"text": "a cat", "style": "anime", "mode": "video"}, headers=AUTH)
    clock.now += 10
    second = call(sim, "GET", f"/api/v3/predictions/{again.json()['data']['id']}/result", headers=AUTH)
    assert second.json()["data"]["outputs"][0] == text  # deterministic


@pytest.mark.parametrize(
    "body, reason",
    [
        ({"style": "default"}, "text or image is required"),
        ({"text": "x", "style": "noir"}, "style must be one of"),
        ({"text": "x", "mode": "film"}, "mode must be one of"),
        ({"text": "x", "prompt": "y"}, "unknown parameter prompt"),
    ],
)
def test_the_simulator_refuses_what_the_model_page_does_not_allow(own_sim, body, reason):
    sim = own_sim
    answer = call(sim, "POST", OPTIMIZER, json=body, headers=AUTH)
    assert answer.status_code == 400 and reason in answer.json()["message"]
    assert sim.tasks == {}


# -- the client ---------------------------------------------------------------------------------------


def test_one_call_sends_text_style_and_video_mode_once_and_returns_the_text(tmp_path):
    runner, sim = make_runner(tmp_path)
    suggestion = asyncio.run(improve_prompt(runner.backend.client(), PromptRequest("a fox", "photographic")))
    posts = optimizer_posts(sim)
    assert len(posts) == 1
    assert posts[0].body == {"text": "a fox", "style": "photographic", "mode": "video", "enable_sync_mode": False}
    assert suggestion.fitted.startswith("[simulated] a fox.") and "35mm" in suggestion.fitted and not suggestion.cut


def test_an_image_alone_is_uploaded_and_sent_and_described(tmp_path):
    runner, sim = make_runner(tmp_path)
    photo = tmp_path / "photo.png"
    photo.write_bytes(image_bytes(640, 360, color=(50, 90, 200)))
    suggestion = asyncio.run(improve_prompt(runner.backend.client(), PromptRequest("", "default", str(photo))))
    (post,) = optimizer_posts(sim)
    assert "text" not in post.body and "/media/" in post.body["image"]
    assert "wide 640x360 photo, mostly" in suggestion.text


@pytest.mark.parametrize(
    "request_, field",
    [
        (PromptRequest("", "default"), "prompt"),
        (PromptRequest("x", "noir"), "style"),
        (PromptRequest("x" * (PROMPT_MAX_CHARS + 1)), "prompt"),
        (PromptRequest("x", image=image_bytes(100, 100)), "image"),
    ],
)
def test_a_bad_request_is_refused_before_anything_is_sent(tmp_path, request_, field):
    runner, sim = make_runner(tmp_path)
    with pytest.raises(ValidationError) as refused:
        asyncio.run(improve_prompt(runner.backend.client(), request_))
    assert refused.value.problems[0].field == field
    assert list(sim.log) == []


def test_a_long_suggestion_is_cut_at_a_sentence_end():
    text = "One. " * 600  # 3000 characters
    fitted = fit_prompt(text.strip())
    assert len(fitted) <= PROMPT_MAX_CHARS and fitted.endswith("One.") and len(fitted) > PROMPT_MAX_CHARS - 10
    assert fit_prompt("short.") == "short."


# -- money and limits ---------------------------------------------------------------------------------


class NoonClock:
    def __init__(self) -> None:
        self.now = NOON

    def __call__(self) -> float:
        return self.now


def guard_for(tmp_path, clock: NoonClock, **limits) -> SpendGuard:
    settings = Settings(api_key=KEY, data_dir=tmp_path, **limits)
    return SpendGuard(settings, Journal(settings.journal_path), clock=clock)


def admit(guard: SpendGuard, owner: str = "a", ip: str = "1.1.1.1") -> int | None:
    return guard.admit_prompt_call(owner=owner, ip=ip, own_key=False, price_mills=1, price="$0.001")


def test_prompt_calls_have_their_own_hourly_limits_per_browser_and_address(tmp_path):
    clock = NoonClock()
    guard = guard_for(tmp_path, clock, prompt_help_per_hour_per_browser=2, prompt_help_per_hour_per_ip=3)
    admit(guard), admit(guard)
    with pytest.raises(SpendRefused, match="2 prompt suggestions per hour per browser") as caught:
        admit(guard)
    assert caught.value.reason == "prompt_browser"
    admit(guard, owner="b")
    with pytest.raises(SpendRefused, match="3 prompt suggestions per hour per address"):
        admit(guard, owner="c")
    assert guard.reserve(owner="a", ip="1.1.1.1", price_cents=130, own_key=False) is not None  # clips apart
    clock.now += 3601
    assert admit(guard) is not None
    assert guard.admit_prompt_call(owner="a", ip="1.1.1.1", own_key=True, price_mills=1, price="$0.001") is None


def test_the_daily_budget_counts_each_call_at_a_tenth_of_a_cent(tmp_path):
    clock = NoonClock()
    guard = guard_for(tmp_path, clock, daily_budget_cents=131, prompt_help_per_hour_per_browser=100)
    for _ in range(10):
        admit(guard)  # $0.01 in all
    assert guard.budget_left_cents() == 130
    refused_call = admit(guard)
    guard.settle_prompt_call(refused_call, charged=False)  # refused by WaveSpeed: costs nothing
    assert guard.budget_left_cents() == 130
    assert guard.reserve(owner="a", ip="1.1.1.1", price_cents=130, own_key=False) is not None
    with pytest.raises(SpendRefused, match="not enough for a \\$0.001 suggestion"):
        admit(guard)  # $1.30 in flight + $0.01 spent: a tenth of a cent more passes the $1.31
    assert guard.journal.prompt_usage(key=KEY, since=0) == (11, 10, NOON)


def test_prompt_calls_count_against_a_clip_in_the_budget(tmp_path):
    clock = NoonClock()
    guard = guard_for(tmp_path, clock, daily_budget_cents=130, prompt_help_per_hour_per_browser=100)
    admit(guard)
    with pytest.raises(SpendRefused, match="has \\$1.29 left, not enough for this \\$1.30 clip"):
        guard.reserve(owner="a", ip="1.1.1.1", price_cents=130, own_key=False)


# -- the page's handlers ------------------------------------------------------------------------------


def helper_for(tmp_path, **config):
    runner, sim = make_runner(tmp_path, **config)
    handlers = page_handlers(runner, tmp_path)
    return handlers.prompt_help, handlers, sim


def test_improve_shows_a_suggestion_beside_the_prompt_and_never_writes_the_prompt(tmp_path):
    helper, handlers, sim = helper_for(tmp_path)
    session, _ = signed_session(handlers.generation.secret)
    updates = asyncio.run(helper.improve_t2v("a kite", "technical", session))
    panel = helper.t2v
    assert panel.prompt not in updates and handlers.visitor.parts.t2v.text.prompt is panel.prompt
    assert updates[panel.suggestion]["value"].startswith("[simulated] a kite.")
    assert updates[panel.use]["visible"] and "technical style" in updates[panel.note]
    (post,) = optimizer_posts(sim)
    assert post.body["mode"] == "video" and post.body["style"] == "technical"


def test_a_failed_call_says_why_and_leaves_the_prompt(tmp_path):
    helper, handlers, sim = helper_for(tmp_path)
    sim.faults.submit = ["402"]
    session, _ = signed_session(handlers.generation.secret)
    updates = asyncio.run(helper.improve_t2v("a kite", "default", session))
    assert helper.t2v.prompt not in updates and not updates[helper.t2v.use]["visible"]
    note = updates[helper.t2v.note]
    assert note.startswith("No suggestion, and your prompt is unchanged: The WaveSpeed account has no credits")
    assert handlers.generation.runner.journal.prompt_usage(key=KEY, since=0)[1] == 0  # refused: not charged


def test_use_replaces_the_prompt_and_back_restores_the_visitors_words(tmp_path):
    helper, _, _ = helper_for(tmp_path)
    panel, session = helper.t2v, {"lang": "en"}
    used = helper.use(panel, "better words.", "my words", None, session)
    assert used[panel.prompt] == "better words." and used[panel.mine] == "my words" and used[panel.back]["visible"]
    again = helper.use(panel, "better words.", "better words.", "my words", session)
    assert again[panel.mine] == "my words"  # a second Use keeps the visitor's own words
    back = helper.back(panel, "my words", session)
    assert back[panel.prompt] == "my words" and back[panel.mine] is None and not back[panel.back]["visible"]


def test_write_variants_fills_each_slot_in_its_own_style_and_runs_nothing(tmp_path):
    helper, handlers, sim = helper_for(tmp_path)
    lab, writer = helper.lab, helper.writer
    session, _ = signed_session(handlers.generation.secret)
    values = {writer.idea: "a lighthouse", writer.session: session, lab.count: 3, lab.mode: "Text to Video"}
    values[lab.image] = None
    updates = asyncio.run(helper.write_variants(values))
    styles = [post.body["style"] for post in optimizer_posts(sim)]
    assert styles == ["photographic", "artistic", "realistic"] and sim.submits() == []
    labels = [updates[slot.prompt]["label"] for slot in lab.slots[:3]]
    assert labels == [
        "Variant A: prompt (photographic)",
        "Variant B: prompt (artistic)",
        "Variant C: prompt (realistic)",
    ]
    assert "35mm" in updates[lab.slots[0].prompt]["value"] and lab.slots[3].prompt not in updates


def test_the_api_refuses_in_one_error_and_answers_text(tmp_path):
    helper, _, sim = helper_for(tmp_path)
    assert asyncio.run(helper.improve_prompt("a boat", "anime")).startswith("[simulated] a boat.")
    with pytest.raises(gr.Error, match="style"):
        asyncio.run(helper.improve_prompt("a boat", "noir"))
    assert len(optimizer_posts(sim)) == 1
