"""What `python app.py` says on its console at start: its mode and why, first; and how to get a
public link with this app's own `--share`, never Gradio's advice to set share=True in launch()."""

from __future__ import annotations

import time

import pytest

from kling.app.console import local_lines, mode_line
from kling.config import Settings
from tests.helpers.fakes import KEY
from tests.helpers.launch import LaunchedApp


def settings(**env: str) -> Settings:
    return Settings.from_env({"KLING_DATA_DIR": "/tmp/unused", **env}, dotenv=False)


def test_the_mode_line_names_the_mode_and_the_reason():
    preview = mode_line(settings())
    assert "PREVIEW mode" in preview and "WAVESPEED_API_KEY is not set" in preview
    live = mode_line(settings(WAVESPEED_API_KEY=KEY))
    assert "LIVE mode" in live and "WAVESPEED_API_KEY is set" in live and KEY not in live


def test_the_public_link_hint_names_this_apps_flag_and_is_not_said_on_a_space():
    here = local_lines("http://127.0.0.1:7860/", settings())
    assert "* Running on local URL:  http://127.0.0.1:7860/" in here
    assert "python app.py --share" in here and "share=True" not in here
    on_space = local_lines("http://0.0.0.0:7860/", settings(SPACE_HOST="me-kling.hf.space"))
    assert "--share" not in on_space


def console(app: LaunchedApp) -> str:
    """The app's console so far, once its local-address line is there (printed after start-up)."""
    log = app.data_dir.parent / "app.log"
    for _ in range(200):
        if "Running on local URL" in (text := log.read_text()):
            return text
        time.sleep(0.05)
    return log.read_text()


@pytest.mark.slow  # launches the app
def test_a_preview_app_says_so_first_and_points_to_share_not_launch(preview_app):
    text = console(preview_app)
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines[0].startswith("Kling Studio runs in PREVIEW mode: WAVESPEED_API_KEY is not set"), text
    assert "python app.py --share" in text
    assert "share=True" not in text  # Gradio's hint, which README's --share contradicts


@pytest.mark.slow  # launches the app and a simulator
def test_a_live_app_says_it_is_live(live_app):
    text = console(live_app)
    assert "Kling Studio runs in LIVE mode" in text and "PREVIEW mode" not in text
    assert KEY not in text
