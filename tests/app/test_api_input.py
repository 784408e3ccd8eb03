"""Hostile visitors against the launched app, through Gradio's HTTP API as a script would send it
(the JSON body written by hand, so a lone surrogate reaches the server as `\\ud800`): a clip's
served path that only the server can make, and text no request could carry refused before anything
is sent. The browser's side (History's "Use these settings", visitors' text shown as text) is in
tests/browser/test_visitor_text.py."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.fakes import KEY
from tests.helpers.launch import LaunchedApp, live_app_on_simulator
from tests.helpers.sim import sim_config

pytestmark = pytest.mark.slow  # launches the app


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Any:
    with live_app_on_simulator(
        tmp_path_factory.mktemp("smaller"), sim_config(api_key=KEY, queue_s=0.1, process_s=0.3)
    ) as launched:
        yield launched


def call(app: LaunchedApp, api_name: str, data: list[Any]) -> tuple[str, Any]:
    """One call through `/gradio_api/call/<api_name>`, the body encoded by hand (ASCII JSON, as any
    HTTP client may send it): ("complete", outputs), ("error", the message) or ("refused", the
    validators' answer)."""
    body = json.dumps({"data": data}).encode("ascii")
    started = httpx.post(
        f"{app.url}/gradio_api/call/{api_name}", content=body, headers={"content-type": "application/json"}, timeout=30
    )
    if started.status_code == 422:  # the page's validators refused it before it was queued
        return "refused", started.json()
    started.raise_for_status()
    event_id = started.json()["event_id"]
    event, last = "", None
    with httpx.stream("GET", f"{app.url}/gradio_api/call/{api_name}/{event_id}", timeout=60) as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                last = json.loads(line.removeprefix("data:").strip() or "null")
                if event in ("complete", "error"):
                    return event, last
    return event, last


def file_route(app: LaunchedApp, path: str | Path) -> httpx.Response:
    return httpx.get(f"{app.url}/gradio_api/file={path}", timeout=10)


# -- a clip's path only the server can make ----------------------------------------------------------


def test_a_clip_is_served_under_a_keyed_folder_and_not_at_the_path_its_task_id_gives(app):
    event, outputs = call(app, "text_to_video", ["a red kite over the dunes", "", "16:9", 5])
    assert event == "complete", outputs
    status, clip = outputs[0], outputs[1]
    task_id = status.split("Task `", 1)[1].split("`", 1)[0]
    served = Path(clip["path"])
    assert served.name.startswith("a-red-kite-over-the-dunes-") and served.suffix == ".mp4"  # the download's name
    assert file_route(app, served).status_code == 200  # the page's own link works

    shelf = next(folder for folder in served.parents if folder.name == "kling-clips")
    # Where a visitor who learned the task id would look: the clip under its id, or under the
    # readable name, directly in the shelf (where clips were served before).
    for guess in (shelf / f"{task_id}.mp4", shelf / served.name, shelf / task_id / f"{task_id}.mp4"):
        assert file_route(app, guess).status_code in (403, 404), guess
    folder = served.parent.name
    assert served.parent.parent == shelf and re.fullmatch(r"[0-9a-f]{32}", folder), served
    # The folder is not any plain digest of the task id or of the clip's file in the data folder.
    for material in (task_id, f"{task_id}.mp4", f"outputs/{task_id}.mp4"):
        for algorithm in ("md5", "sha1", "sha256"):
            assert hashlib.new(algorithm, material.encode()).hexdigest()[:32] != folder
    assert (app.data_dir / "outputs" / f"{task_id}.mp4").is_file()


# -- text no request can carry ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prompt, negative, field",
    [("a kite \ud800 over the sea", "", "prompt"), ("a kite over the sea", "blur \udfff", "negative_prompt")],
    ids=["prompt", "negative-prompt"],
)
def test_a_lone_surrogate_is_refused_before_anything_is_sent_and_the_app_keeps_answering(app, prompt, negative, field):
    before = len(app.simulator.log)
    event, message = call(app, "text_to_video", [prompt, negative, "16:9", 5])
    assert event == "refused", (event, message)  # by the validators, before it is queued
    refused = [check for check in message["detail"] if not check["is_valid"]]
    assert [check["parameter_name"] for check in refused] == [field]  # beside the field at fault
    text = json.dumps(message, ensure_ascii=False)
    assert "UnicodeEncodeError" not in text and "Unexpected error" not in text, text
    assert "is not valid text" in text and "U+D" in text, text  # names the character, in one sentence
    assert len(app.simulator.log) == before  # not one request reached the API

    event, outputs = call(app, "text_to_video", ["a kite over the sea", "", "16:9", 5])
    assert event == "complete" and outputs[1]["path"].endswith(".mp4"), outputs


# -- control characters and bidi overrides (they would reach the operator's terminal) ----------------


@pytest.mark.parametrize(
    "prompt, negative, field, code",
    [
        ("sunset\x1b[2K\x1b[1A\x1b]0;pwned\x07 over the sea", "", "prompt", "U+001B"),
        ("a kite over the sea", "blur\u202e the sky", "negative_prompt", "U+202E"),
    ],
    ids=["prompt-esc", "negative-prompt-bidi"],
)
def test_a_control_character_is_refused_before_anything_is_sent_and_the_app_keeps_answering(
    app, prompt, negative, field, code
):
    before = len(app.simulator.log)
    event, message = call(app, "text_to_video", [prompt, negative, "16:9", 5])
    assert event == "refused", (event, message)  # by the validators, before it is queued
    refused = [check for check in message["detail"] if not check["is_valid"]]
    assert [check["parameter_name"] for check in refused] == [field]  # beside the field at fault
    assert "is an invisible control character" in refused[0]["message"] and code in refused[0]["message"]
    assert len(app.simulator.log) == before  # not one request reached the API

    event, outputs = call(app, "text_to_video", ["a kite over the sea", "", "16:9", 5])
    assert event == "complete" and outputs[1]["path"].endswith(".mp4"), outputs
