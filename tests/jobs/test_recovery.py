"""A paid task survives a hard kill of the app: real subprocesses, `kill -9`, a restart, and the
simulator's log as the proof that nothing was submitted twice."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time

import httpx
import pytest

from tests.helpers.fakes import KEY
from tests.helpers.launch import launch_app, stop
from tests.helpers.media import probe
from tests.helpers.sim import simulator_process

pytestmark = pytest.mark.slow


@pytest.fixture
def simulator():
    """The simulator in its own process, so it outlives the app we kill."""
    with simulator_process("--require-key", KEY, "--time-scale", "4") as url:
        yield url


def journal_row(data_dir, task_id):
    db = sqlite3.connect(f"file:{data_dir / 'jobs.sqlite3'}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT status, local_path FROM tasks WHERE id = ?", (task_id,)).fetchone()
    finally:
        db.close()
    return row


def test_a_task_survives_kill_9_and_completes_after_restart(simulator, tmp_path):
    env = {"WAVESPEED_API_KEY": KEY, "WAVESPEED_BASE_URL": simulator}
    app = launch_app(tmp_path, env)
    job = app.client().submit("a lighthouse in a storm", "", "16:9", 5, api_name="/text_to_video")
    task_id = None
    deadline = time.monotonic() + 60
    while task_id is None and time.monotonic() < deadline:
        for update in job:
            if "Task `" in update[0]:
                task_id = update[0].split("Task `", 1)[1].split("`", 1)[0]
                break
    assert task_id, "the status never showed a task id"
    assert journal_row(app.data_dir, task_id)[0] in ("created", "processing")  # in the journal before the end

    os.kill(app.process.pid, signal.SIGKILL)
    app.process.wait(timeout=10)
    status_at_kill = json.loads(httpx.get(f"{simulator}/_sim/log").text)
    assert not any(e["path"] == f"/outputs/{task_id}.mp4" for e in status_at_kill)  # it really was mid-task

    restarted = launch_app(tmp_path, env)  # same data dir: it must find the task and finish it
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            status, local_path = journal_row(restarted.data_dir, task_id)
            if local_path:
                break
            time.sleep(0.5)
        assert status == "completed" and local_path.endswith(f"{task_id}.mp4")
        assert probe(local_path).frames == 120
    finally:
        stop(restarted)

    log = json.loads(httpx.get(f"{simulator}/_sim/log").text)
    submits = [e for e in log if e["method"] == "POST" and "/kwaivgi/" in e["path"]]
    assert len(submits) == 1
