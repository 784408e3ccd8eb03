"""Visitors' own text on the page: as text, never as markup (kling.app.views.literal, toast_text). The
browser's side is tests/browser/test_visitor_text.py."""

from __future__ import annotations

import html
import re

from kling.app.views import job_markdown
from kling.strings import literal, toast_text
from tests.helpers.runner import a_job

HOSTILE = "A kite ![t](http://attacker.test/x.png) <img src=//attacker.test/t.png> **loud** $x$ [a](b)"


def decoded(markdown: str) -> str:
    """What a browser shows for character references (every one `literal` writes is numeric)."""
    return html.unescape(markdown)


def test_literal_leaves_no_markup_and_decodes_to_the_text_typed():
    shown = literal(HOSTILE)
    assert not re.search(r"[!\[\]()<>*$/:]", shown), shown
    assert decoded(shown) == HOSTILE


def test_literal_makes_one_line_so_no_indent_becomes_a_code_block():
    assert decoded(literal("first\n\n        # not a heading\n---")) == "first # not a heading ---"


def test_a_history_rows_prompt_and_negative_prompt_are_literal():
    params = {"prompt": HOSTILE, "negative_prompt": "<b>blur</b>", "duration": 5}
    job = a_job("t1", mode="preview", owner="web:x", params=params, price_cents=0)
    text = job_markdown(job)
    assert "![t]" not in text and "<img" not in text and "<b>" not in text and "**loud**" not in text
    assert HOSTILE in decoded(text) and "<b>blur</b>" in decoded(text)


def test_toast_text_escapes_html_only():
    assert toast_text("'<img src=//h/t.png>' & co") == "'&lt;img src=//h/t.png&gt;' &amp; co"
