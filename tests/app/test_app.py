"""The Space as its users reach it: `python app.py` launched for real on a free port, driven with
gradio_client through the two public API names. Twice: preview mode (no key) and live mode
against the simulator on loopback, which requires the key the app was given."""

from __future__ import annotations

import subprocess
import sys

import gradio_client
import httpx
import pytest
from gradio_client.exceptions import AppError, ValidationError

from tests.helpers.fakes import KEY
from tests.helpers.media import image_bytes, probe
from tests.helpers.paths import ROOT

pytestmark = pytest.mark.slow  # launches the app


def stream(job) -> list[str]:
    """Every status the endpoint streamed, in order, until it finished."""
    statuses = []
    for outputs in job:
        statuses.append(outputs[0])
    return statuses


def test_the_api_is_exactly_the_three_endpoints(preview_app):
    info = preview_app.client().view_api(print_info=False, return_format="dict")
    endpoints = info["named_endpoints"]
    assert set(endpoints) == {"/image_to_video", "/text_to_video", "/improve_prompt"}
    assert [p["parameter_name"] for p in endpoints["/improve_prompt"]["parameters"]] == ["prompt", "style", "image"]
    assert [p["parameter_name"] for p in endpoints["/image_to_video"]["parameters"]] == [
        "image",
        "prompt",
        "negative_prompt",
        "guidance_scale",
        "duration",
        "end_image",
    ]
    assert [p["parameter_name"] for p in endpoints["/text_to_video"]["parameters"]] == [
        "prompt",
        "negative_prompt",
        "aspect_ratio",
        "duration",
    ]
    assert info["unnamed_endpoints"] == {}


def test_preview_t2v_streams_stages_and_ends_with_a_clip(preview_app):
    job = preview_app.client().submit("a paper lantern rising at night", "", "9:16", 5, api_name="/text_to_video")
    statuses = stream(job)
    status, video, details = job.result()
    assert len(statuses) >= 4
    assert any("**created**" in s for s in statuses) and any("**processing**" in s for s in statuses)
    assert "**completed**" in status and "Done" in status and "not Kling output" in status
    info = probe(video)
    assert (info.codec, info.frames) == ("h264", 120) and info.width * 16 == info.height * 9
    assert "free (preview)" in details


def test_preview_i2v_from_an_example_photo(preview_app):
    job = preview_app.client().submit(
        gradio_client.handle_file(str(ROOT / "assets" / "coffee.png")),
        "camera slow orbit",
        "blur",
        0.5,
        5,
        None,
        api_name="/image_to_video",
    )
    stream(job)
    status, video, _ = job.result()
    info = probe(video)
    assert info.codec == "h264" and abs(info.width / info.height - 1.5) < 0.02
    assert any(p.suffix == ".mp4" for p in (preview_app.data_dir / "outputs").iterdir())


def test_live_both_endpoints_through_the_simulator(live_app):
    client = live_app.client()
    job = client.submit("a fox in the snow", "", "1:1", 5, api_name="/text_to_video")
    statuses = stream(job)
    status, video, details = job.result()
    assert any("**processing**" in s for s in statuses) and "**completed**" in status
    assert "$1.30" in details and "not Kling output" not in status
    info = probe(video)
    assert info.width == info.height and info.frames == 120

    job = client.submit(
        gradio_client.handle_file(str(ROOT / "assets" / "astronaut.png")),
        "push in",
        "",
        0.5,
        10,
        None,
        api_name="/image_to_video",
    )
    stream(job)
    _, video, _ = job.result()
    assert probe(video).frames == 240
    assert len(live_app.simulator.submits()) == 2


# Our validator refuses with the field at fault (ValidationError), a file that is not an image too (the
# image field never decodes: the validator reads it); Gradio itself refuses (HTTP 400) a value outside
# a Radio's choices or a Slider's range.
@pytest.mark.parametrize(
    "endpoint, args, refusal",
    [
        ("/text_to_video", ("x" * 2600, "", "16:9", 5), ValidationError),
        ("/text_to_video", ("", "", "16:9", 5), ValidationError),
        ("/text_to_video", ("ok", "", "4:3", 5), httpx.HTTPStatusError),
        ("/text_to_video", ("ok", "", "16:9", 7), httpx.HTTPStatusError),
        ("/image_to_video", ("tiny", "ok", "", 0.5, 5, None), ValidationError),
        ("/image_to_video", ("wide", "ok", "", 0.5, 5, None), ValidationError),
        ("/image_to_video", ("coffee", "ok", "", 1.5, 5, None), httpx.HTTPStatusError),
        ("/image_to_video", ("text", "ok", "", 0.5, 5, None), ValidationError),
    ],
    ids=["long-prompt", "blank-prompt", "aspect", "duration", "tiny-image", "wide-image", "guidance", "text-as-image"],
)
def test_invalid_input_is_refused_and_nothing_is_sent(live_app, tmp_path, endpoint, args, refusal):
    files = {
        "tiny": image_bytes(200, 200),
        "wide": image_bytes(1300, 400),
        "text": b"I am not a picture",
    }
    if endpoint == "/image_to_video":
        name = args[0]
        path = ROOT / "assets" / "coffee.png" if name == "coffee" else tmp_path / f"{name}.png"
        if name in files:
            path.write_bytes(files[name])
        args = (gradio_client.handle_file(str(path)), *args[1:])
    before = len(live_app.simulator.log)
    with pytest.raises(refusal) as caught:
        live_app.client().predict(*args, api_name=endpoint)
    if refusal is httpx.HTTPStatusError:
        assert caught.value.response.status_code == 400
    assert "Traceback" not in str(caught.value)
    assert len(live_app.simulator.log) == before  # not one request reached the API


def test_a_failed_task_is_one_clear_error(live_app):
    live_app.simulator.faults.fail_code = 1200
    try:
        with pytest.raises(AppError, match="moderation"):
            live_app.client().predict("x", "", "16:9", 5, api_name="/text_to_video")
    finally:
        live_app.simulator.faults.fail_code = None


def test_the_page_never_carries_the_server_key(live_app):
    page = httpx.get(live_app.url).text
    config = httpx.get(f"{live_app.url}/config").text
    api = httpx.get(f"{live_app.url}/gradio_api/info").text
    assert "Live (WaveSpeed API)" in config
    for text in (page, config, api):
        assert KEY not in text


def docs_python() -> str:
    """The "Calling it from Python" example of docs/CLI.md (README links to it), as written."""
    text = (ROOT / "docs" / "CLI.md").read_text()
    section = text[text.index("## Calling it from Python") :]
    start = section.index("```python\n") + len("```python\n")
    return section[start : section.index("\n```\n", start)]


@pytest.mark.parametrize("refused", [False, True], ids=["good input", "refused input"])
def test_the_documented_python_example_ends_and_reports(preview_app, tmp_path, refused):
    """Run as written against the launched app; with over-long prompts it must end too (a script
    iterating a refused job used to hang forever), saying what was refused."""
    code = docs_python().replace("http://127.0.0.1:7860", preview_app.url)
    if refused:
        for prompt in ("A paper lantern rising into the night sky, camera slowly pushes in", "camera slow orbit"):
            assert prompt in code
            code = code.replace(f'"{prompt}"', '"' + "x" * 2600 + '"')
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if not line.startswith("Loaded as API")]
    if refused:
        out = done.stdout
        assert out.index("Refused: ") < out.index("Not made: ") and ".mp4" not in out
        assert out.count("prompt: 2600 characters; the limit is 2500") == 2
    else:
        assert lines[0].endswith(".mp4") and probe(lines[0]).codec == "h264"
        assert any("Done" in line for line in lines[1:]) and lines[-1].endswith(".mp4")


def test_a_script_on_a_chinese_machine_still_reads_english(preview_app):
    """Scripts parse what the API says: a gradio_client whose requests carry a Chinese
    Accept-Language gets the English refusal, as every API caller does: a script must not
    break on the language of the machine it runs on."""
    client = preview_app.client(headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    with pytest.raises(ValidationError) as refused:
        client.predict("猫" * 2501, "", "16:9", 5, api_name="/text_to_video")
    assert "2501 characters; the limit is 2500" in str(refused.value)
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in str(refused.value).replace("猫", ""))
