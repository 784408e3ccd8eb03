"""Prompt help through the launched app and the command line, against the served simulator and its
fault switches: one optimizer request per call with `mode: "video"` and the chosen style, the start
image sent, a failed call refused in one sentence, the hourly limit counted, and in preview nothing
sent anywhere. The page's Use/Back buttons are in a real browser (tests/browser/test_prompt_help.py)."""

from __future__ import annotations

import sqlite3

import httpx
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from tests.helpers.fakes import KEY
from tests.helpers.launch import cli, launch_app, live_app_on_simulator, stop
from tests.helpers.media import image_bytes
from tests.helpers.sim import log_json, sim_config

pytestmark = pytest.mark.slow


def optimizer_bodies(entries: list) -> list[dict]:
    return [e["body"] for e in entries if e["method"] == "POST" and e["path"].endswith("/prompt-optimizer")]


def test_the_api_endpoint_calls_the_optimizer_once_per_call_under_its_own_hourly_limit(tmp_path):
    photo = tmp_path / "photo.png"
    photo.write_bytes(image_bytes(640, 360))
    env = {"KLING_PROMPT_HELP_PER_HOUR_PER_IP": "4"}
    with live_app_on_simulator(tmp_path, sim_config(api_key=KEY, queue_s=0.2, process_s=0.5), env) as app:
        client, sim = app.client(), app.simulator
        text = client.predict("a fox in the snow", "anime", None, api_name="/improve_prompt")
        assert text.startswith("[simulated] a fox in the snow.") and "Anime style" in text
        from_photo = client.predict("", "photographic", handle_file(str(photo)), api_name="/improve_prompt")
        assert "wide 640x360 photo" in from_photo and "35mm" in from_photo
        sim.faults.submit = ["402"]
        with pytest.raises(AppError, match="no credits left"):
            client.predict("a fox", "default", None, api_name="/improve_prompt")
        client.predict("a fox", "default", None, api_name="/improve_prompt")
        with pytest.raises(AppError, match="4 prompt suggestions per hour per address"):
            client.predict("a fox", "default", None, api_name="/improve_prompt")
        bodies = [r.body for r in sim.requests("POST", "prompt-optimizer")]
        journal = sqlite3.connect(app.data_dir / "jobs.sqlite3")
        calls = journal.execute("SELECT price_mills FROM prompt_calls ORDER BY id").fetchall()
    # Four requests, the 5th never sent; the simulator refused the 3rd before reading its body.
    assert len(bodies) == 4 and bodies[2] is None
    read = [body for body in bodies if body is not None]
    assert all(body["mode"] == "video" for body in read)
    assert [body["style"] for body in read] == ["anime", "photographic", "default"]
    assert "/media/" in bodies[1]["image"] and "text" not in bodies[1]
    assert [price for (price,) in calls] == [1, 1, 0, 1]  # the refused call costs nothing, still counts
    assert sim.submits() == []  # no clip was made


def test_preview_answers_simulated_and_free_and_sends_nothing_anywhere(tmp_path, served_simulator):
    app = launch_app(tmp_path, {"WAVESPEED_BASE_URL": served_simulator.url})
    try:
        text = app.client().predict("a lantern", "realistic", None, api_name="/improve_prompt")
    finally:
        stop(app)
    assert text.startswith("[simulated] a lantern.") and "Photorealistic" in text
    assert log_json(served_simulator.url) == []
    assert (
        not (app.data_dir / "jobs.sqlite3").exists()
        or not sqlite3.connect(app.data_dir / "jobs.sqlite3").execute("SELECT COUNT(*) FROM prompt_calls").fetchone()[0]
    )


def test_the_cli_prints_the_suggestion_and_exits_2_or_1(tmp_path, served_simulator):
    url = served_simulator.url
    done = cli("improve", "a red kite", "--style", "technical", base_url=url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("[simulated] a red kite.") and done.stdout.count("\n") == 1
    assert "costs $0.001" in done.stderr
    bodies = optimizer_bodies(log_json(url))
    assert bodies == [{"text": "a red kite", "style": "technical", "mode": "video", "enable_sync_mode": False}]

    bad = cli("improve", "a red kite", "--style", "noir", base_url=url, cwd=tmp_path)
    assert bad.returncode == 2 and "style" in bad.stderr and "Nothing was sent." in bad.stderr
    empty = cli("improve", "", base_url=url, cwd=tmp_path)
    assert empty.returncode == 2
    assert len(optimizer_bodies(log_json(url))) == 1

    httpx.post(f"{url}/_sim/faults", json={"submit": ["403"]})
    failed = cli("improve", "a red kite", base_url=url, cwd=tmp_path)
    assert failed.returncode == 1 and failed.stdout == "" and "403" in failed.stderr
    assert len(optimizer_bodies(log_json(url))) == 2
