"""WaveSpeed's task statuses (created, processing, completed, failed) as the page names them in
its language: in English its own words, which its docs and support use; in another language the
translation. A status it does not document is shown as it came."""

from __future__ import annotations

from kling.strings import SAY_EN, Lang, say


def task_status_word(status: str, lang: Lang = "en") -> str:
    key = f"task_status.{status}"
    return say(lang, key) if key in SAY_EN else status
