"""Improve prompt in a real browser, on Image to Video, against the served simulator: one optimizer
request per click (mode video, the chosen style, the start image), the suggestion shown beside the
prompt and never put in it by itself, "Use this prompt" and "Back to mine", and a failed call that
says why and leaves the prompt as it was."""

from __future__ import annotations

import re

import pytest

from tests.helpers.browser import open_tab, prompt_box
from tests.helpers.fakes import KEY
from tests.helpers.launch import live_app_on_simulator
from tests.helpers.paths import ROOT
from tests.helpers.sim import sim_config

pytestmark = [pytest.mark.browser, pytest.mark.slow]

from playwright.sync_api import expect  # noqa: E402 (tests/helpers/browser.py skips the module first without it)


def test_improve_use_and_back_on_image_to_video(tmp_path, open_page):
    with live_app_on_simulator(tmp_path, sim_config(api_key=KEY, queue_s=0.2, process_s=0.5)) as app:
        page = open_page(app).page
        tab = open_tab(page, "Image to Video")
        tab.locator('input[type="file"]').first.set_input_files(ROOT / "assets" / "rocket.jpg")
        prompt = prompt_box(tab)
        prompt.fill("the rocket lifts off")
        tab.get_by_label("Style").first.click()
        page.get_by_role("option", name="Anime").click()
        tab.get_by_role("button", name="Improve prompt").click()
        suggestion = tab.get_by_label("Suggestion")
        expect(suggestion).to_have_value(
            re.compile(r"^\[simulated\] the rocket lifts off\. The scene from .*Anime style")
        )
        expect(prompt).to_have_value("the rocket lifts off")  # shown beside it, not put in it
        requests = app.simulator.requests("POST", "prompt-optimizer")
        assert len(requests) == 1
        body = requests[0].body
        assert body["mode"] == "video" and body["style"] == "anime" and "/media/" in body["image"]
        suggested = suggestion.input_value()

        tab.get_by_role("button", name="Use this prompt").click()
        expect(prompt).to_have_value(suggested)
        tab.get_by_role("button", name="Back to mine").click()
        expect(prompt).to_have_value("the rocket lifts off")
        expect(tab.get_by_role("button", name="Back to mine")).to_be_hidden()

        app.simulator.faults.submit = ["402"]
        tab.get_by_role("button", name="Improve prompt").click()
        expect(tab.get_by_text("No suggestion, and your prompt is unchanged")).to_be_visible()
        expect(prompt).to_have_value("the rocket lifts off")
        expect(tab.get_by_role("button", name="Use this prompt")).to_be_hidden()
        assert len(app.simulator.requests("POST", "prompt-optimizer")) == 2
        assert app.simulator.submits() == []
