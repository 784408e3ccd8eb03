"""The page's handlers without a browser: built over a runner, a browser's signed session, and the
English a browser is shown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gradio.i18n import I18nData

from kling.app.handlers import Handlers
from kling.app.identity import new_browser_token, owner_for, state_secret
from kling.app.studio import Studio
from kling.app.tabs.generate import Generation
from kling.jobs.runner import Runner
from kling.store.clips import ClipShelf
from kling.strings import PAGE_EN


def english(value: Any) -> Any:
    """What the page shows an English browser: a fixed text's English (kling/strings.py), else the
    value. A fixed text reaches Gradio as an I18nData, or as its marked string in an update."""
    if isinstance(value, I18nData):
        return PAGE_EN[value.key]
    if isinstance(value, str) and value.startswith("__i18n__"):
        return PAGE_EN[json.loads(value.removeprefix("__i18n__"))["key"]]
    return value


def page_handlers(runner: Runner, tmp_path: Path, *, secret: bytes = b"") -> Handlers:
    """The page built over `runner`, and its handlers (bound to the page's components). `secret`:
    the key browser ids are signed with (default: the data folder's own)."""
    settings = runner.backend.settings
    studio = Studio(settings, runner.backend, runner.journal, runner, ClipShelf(tmp_path / "clips"), secret)
    return studio.build_with_handlers()[1]


def generation_over(runner: Runner, tmp_path: Path) -> Generation:
    """The generate tabs' handlers over `runner` without building the page (about a second and a
    half each): for the handlers that return values, not updates keyed by the page's components."""
    settings = runner.backend.settings
    secret = state_secret(settings.state_secret, settings.data_dir)
    return Generation(settings, runner, ClipShelf(tmp_path / "clips"), secret=secret)


def signed_session(secret: bytes, key: str = "") -> tuple[dict[str, str], str]:
    """A browser's session as the page's restore handler leaves it (its id signed with `secret`, the
    page's `generation.secret`), and the journal owner it proves."""
    token = new_browser_token(secret)
    return {"token": token, "key": key}, owner_for(username=None, browser_token=token, secret=secret)
