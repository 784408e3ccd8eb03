"""The API's faults, as WaveSpeed's own clients meet them, through the launched page, driven with
gradio_client: the same outcome and the same words as the command line (tests/api/test_loopback.py),
against the simulator's fault switches."""

from __future__ import annotations

import gradio_client
import pytest
from gradio_client.exceptions import AppError

from kling.preview.simulator import SimConfig
from tests.helpers.fakes import KEY
from tests.helpers.launch import live_app_on_simulator
from tests.helpers.media import probe
from tests.helpers.paths import ROOT

pytestmark = pytest.mark.slow

T2V = "/text_to_video"
I2V = "/image_to_video"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    # Slow enough that the live poll schedule (first look at 2 s) sees the first half of a run.
    config = SimConfig(api_key=KEY, queue_s=0.5, process_s=4.0)
    with live_app_on_simulator(tmp_path_factory.mktemp("faults"), config) as launched:
        yield launched


@pytest.fixture(autouse=True)
def clean_faults(app):
    yield
    faults = app.simulator.faults
    faults.update({"submit": [], "undocumented_status": None, "error_shape": "message", "binary_upload_status": None})


def statuses(job) -> list[str]:
    return [outputs[0] for outputs in job]


def test_live_undocumented_status_is_shown_and_waited_through(app):
    app.simulator.faults.update({"undocumented_status": "pending", "undocumented_share": 0.8})
    job = app.client().submit("a lantern", "", "16:9", 5, api_name=T2V)
    seen = statuses(job)
    status, video, _ = job.result()
    assert any("status pending, not documented: still waiting" in s for s in seen)
    assert "Done" in status and "**completed**" in status and probe(video).frames == 120


def test_live_refusal_inside_a_200_says_no_task_was_created_and_polls_nothing(app):
    sim = app.simulator
    before = len(sim.log)
    sim.faults.submit.append("refused_in_200")
    with pytest.raises(AppError, match="rejected by the safety filter") as caught:
        app.client().predict("a lantern", "", "16:9", 5, api_name=T2V)
    assert "No task was created" in str(caught.value) and "may have been created" not in str(caught.value)
    assert [(r.method, r.path) for r in list(sim.log)[before:]] == [("POST", "/api/v3/kwaivgi/kling-v2.0-t2v-master")]


def test_live_gateway_502_after_the_task_exists_is_recovered_from_the_listing(app):
    sim = app.simulator
    submits_before, tasks_before = len(sim.submits()), set(sim.tasks)
    sim.faults.submit.append("502")
    status, video, _ = app.client().predict("a lantern", "", "16:9", 5, api_name=T2V)
    (task_id,) = set(sim.tasks) - tasks_before
    assert f"Recovered task {task_id}" in status and "not sent again" in status
    assert "Done" in status and probe(video).frames == 120
    assert len(sim.submits()) == submits_before + 1


def test_live_reason_from_data_error_reaches_the_page(app):
    app.simulator.faults.update({"submit": ["image_unfetchable"], "error_shape": "data_error"})
    with pytest.raises(AppError, match="Failed to fetch image from url") as caught:
        app.client().predict(
            gradio_client.handle_file(str(ROOT / "assets" / "coffee.png")), "push in", "", 0.5, 5, None, api_name=I2V
        )
    assert "Bad Request" not in str(caught.value)


def test_live_i2v_with_a_retired_binary_upload(app):
    # Last in this module: the switch to the ticket flow lasts for the app's process.
    sim = app.simulator
    sim.faults.binary_upload_status = 405
    status, video, _ = app.client().predict(
        gradio_client.handle_file(str(ROOT / "assets" / "coffee.png")), "push in", "", 0.5, 5, None, api_name=I2V
    )
    assert "Done" in status and probe(video).frames == 120
    uploads = [(r.path, r.status) for r in sim.log if "/media/" in r.path and r.method == "POST"]
    assert ("/api/v3/media/upload/binary", 405) in uploads and uploads[-1] == ("/api/v3/media/uploads", 200)
