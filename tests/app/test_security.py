"""A public Space nobody can abuse: no file route into the data folder or around it, and no key
(the Space's or a visitor's) in anything the app serves, logs or writes."""

from __future__ import annotations

import json

import httpx
import pytest
from gradio_client.exceptions import AppError

from kling.preview.simulator import SimConfig
from tests.helpers.fakes import KEY
from tests.helpers.launch import live_app_on_simulator
from tests.helpers.paths import ROOT

VISITOR_KEY = "sk-visitor-3141592653589793"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with live_app_on_simulator(
        tmp_path_factory.mktemp("secure"), SimConfig(api_key=KEY, queue_s=0.2, process_s=0.6)
    ) as launched:
        yield launched


def first_task(app) -> str:
    status, video, _ = app.client().predict("a kite", "", "16:9", 5, api_name="/text_to_video")
    return status.split("Task `", 1)[1].split("`", 1)[0]


@pytest.mark.slow
def test_no_file_route_reaches_the_data_folder_or_beyond(app):
    task_id = first_task(app)
    data = app.data_dir.resolve()
    assert (data / "jobs.sqlite3").exists() and (data / "outputs" / f"{task_id}.mp4").exists()
    targets = [
        str(data / "jobs.sqlite3"),
        str(data / "outputs" / f"{task_id}.mp4"),
        "data/jobs.sqlite3",
        str(ROOT / "app.py"),
        str(ROOT / ".env.example"),
        "/etc/passwd",
        "../../../../etc/passwd",
        "..%2F..%2F..%2Fetc%2Fpasswd",
        f"/tmp/kling-clips/{task_id}.mp4",
    ]
    for target in targets:
        for route in ("/gradio_api/file=", "/file="):
            response = httpx.get(f"{app.url}{route}{target}")
            assert response.status_code in (400, 403, 404), (route, target, response.status_code)


@pytest.mark.slow
def test_no_key_in_anything_served_logged_or_written(app):
    """A whole session with a known server key and a known (wrong) visitor key: a success, a failed
    task, an authentication error; then every response, the log and the data folder are scanned."""
    seen: list[str] = []
    for path in ("/", "/config", "/gradio_api/info", "/gradio_api/openapi.json", "/gradio_api/startup-events"):
        seen.append(httpx.get(f"{app.url}{path}").text)

    client = app.client()
    job = client.submit("a lantern", "", "9:16", 5, api_name="/text_to_video")
    seen.extend(json.dumps(update, default=str) for update in job)
    seen.append(json.dumps(job.result(), default=str))

    app.simulator.faults.fail_code = 1401
    try:
        with pytest.raises(AppError) as failed:
            client.predict("fails", "", "16:9", 5, api_name="/text_to_video")
        seen.append(str(failed.value))
    finally:
        app.simulator.faults.fail_code = None

    visitor = app.client(headers={"X-WaveSpeed-Key": VISITOR_KEY})
    with pytest.raises(AppError, match="401") as refused:
        visitor.predict("mine", "", "16:9", 5, api_name="/text_to_video")
    seen.append(str(refused.value))

    seen.append((app.data_dir.parent / "app.log").read_text())
    blobs = [p.read_bytes() for p in app.data_dir.rglob("*") if p.is_file()]
    assert any(b"SQLite format" in blob[:16] for blob in blobs)
    for secret in (KEY, VISITOR_KEY):
        assert not any(secret in text for text in seen), secret
        assert not any(secret.encode() in blob for blob in blobs), secret
    # The simulator saw both keys (that is where they go) but its log keeps neither.
    assert not any(
        secret in json.dumps([e.__dict__ for e in app.simulator.log], default=str) for secret in (KEY, VISITOR_KEY)
    )


def test_gradios_per_session_memory_is_bounded(tmp_path):
    """Gradio keeps every session's copy of the page config until pushed out by newer ones; its
    own default of 10 000 sessions would be gigabytes for this page."""
    from kling.app.studio import Studio
    from kling.config import Settings

    assert Studio.from_env(Settings(data_dir=tmp_path)).launch_kwargs()["state_session_capacity"] == 2000
    settings = Settings.from_env({"KLING_SESSION_CAPACITY": "300", "KLING_DATA_DIR": str(tmp_path)})
    assert Studio.from_env(settings).launch_kwargs()["state_session_capacity"] == 300
