"""The API's names for a run's inputs and outputs, and the MCP switch the "Use via API" page names.

The page's labels are gr.I18n texts: Gradio's API info copied them as objects, and "Use via API"
printed `provided in the "[object Object]" Image component`. Its MCP tab tells a visitor to set
GRADIO_MCP_SERVER, while the docs named KLING_MCP=1 (which needed gradio[mcp], not in
requirements.txt): both work now, with gradio[mcp] installed by requirements.txt."""

from __future__ import annotations

import gradio as gr
import httpx
import pytest

from kling.app.api_labels import name_api_inputs_in_english, plain_label
from kling.config import Settings
from kling.strings import text
from tests.helpers.paths import ROOT


def test_a_page_label_becomes_its_english_text_and_plain_text_stays():
    assert plain_label(text("form.start_image")) == "Start image"
    assert plain_label({"key": "form.end_image", "_type": "translation_metadata"}) == "End image (optional)"
    assert plain_label("status") == "status" and plain_label(None) is None


def test_the_api_info_names_an_i18n_labelled_image_input_in_english():
    with gr.Blocks() as demo:
        image = gr.Image(label=text("form.start_image"), type="filepath")
        out = gr.Textbox(label=text("form.prompt"))
        gr.Button("go").click(lambda path: path, image, out, api_name="run")
    before = demo.get_api_info()["named_endpoints"]["/run"]["parameters"][0]["label"]
    assert not isinstance(before, str)  # what Gradio gives on its own: the object the page showed
    name_api_inputs_in_english(demo)
    endpoint = demo.get_api_info()["named_endpoints"]["/run"]
    assert [p["label"] for p in endpoint["parameters"]] == ["Start image"]
    assert [r["label"] for r in endpoint["returns"]] == ["Prompt"]


@pytest.mark.parametrize("environ", [{"KLING_MCP": "1"}, {"GRADIO_MCP_SERVER": "True"}])
def test_the_mcp_server_is_on_with_our_switch_or_the_one_the_api_page_names(environ):
    assert Settings.from_env(environ).mcp
    assert not Settings.from_env({}).mcp


def test_requirements_install_what_the_mcp_switch_needs():
    runtime = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    gradio_line = next(line for line in runtime.splitlines() if line.startswith("gradio"))
    assert "mcp" in gradio_line.split(">=")[0], gradio_line


@pytest.mark.slow
def test_the_launched_apps_api_info_names_every_input_of_both_runs(preview_app):
    info = httpx.get(f"{preview_app.url}/gradio_api/info", timeout=30).json()["named_endpoints"]
    labels = {name: [p["label"] for p in info[name]["parameters"]] for name in ("/image_to_video", "/text_to_video")}
    assert labels == {
        "/image_to_video": [
            "Start image",
            "Prompt",
            "Negative prompt",
            "Guidance scale",
            "Duration (seconds)",
            "End image (optional)",
        ],
        "/text_to_video": ["Prompt", "Negative prompt", "Aspect ratio", "Duration (seconds)"],
    }
    assert [r["label"] for r in info["/image_to_video"]["returns"]] == ["status", "clip", "details"]
