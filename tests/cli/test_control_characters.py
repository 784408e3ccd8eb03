"""Control characters and bidirectional overrides: refused in prompts before anything is sent
(kling.api.params), and escaped in everything the command line prints from the journal and the
shares (kling.controls), so rows written before the rule cannot drive the operator's terminal.
The launched app's side is in tests/app/test_api_input.py."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kling.api.params import I2VRequest, T2VRequest
from kling.app.views import problem_text
from kling.controls import control_at, escape_controls
from kling.errors import ValidationError
from tests.helpers.fakes import KEY
from tests.helpers.launch import cli

# Erases the line, moves up, retitles the window (OSC 0 ... BEL); then a C1 CSI and a right-to-left override.
HOSTILE = "sunset\x1b[2K\x1b[1A\x1b]0;pwned\x07 over\x9b2J the\u202esea"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")  # what no output may hold


def refused(request: I2VRequest | T2VRequest) -> list:
    with pytest.raises(ValidationError) as info:
        request.validate()
    return info.value.problems


# -- refused before anything is sent ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "character", ["\x1b", "\x07", "\x00", "\r", "\x7f", "\x85", "\x9b", "\u202e", "\u202a", "\u2066", "\u2069"]
)
@pytest.mark.parametrize("field", ["prompt", "negative_prompt"])
def test_a_control_character_is_refused_naming_the_field_and_the_character(field, character):
    text = f"a kite{character} over the sea"
    values = {"prompt": "a kite", field: text}
    for request in (T2VRequest(**values), I2VRequest(image="https://example.com/a.png", **values)):
        (problem,) = refused(request)
        assert problem.field == field and problem.code == "control"
        assert f"character 7 (U+{ord(character):04X}) is an invisible control character" in problem.message


def test_the_escape_sequence_of_the_issue_is_refused_in_english_and_chinese():
    (problem,) = refused(T2VRequest(prompt=HOSTILE))
    english, chinese = problem_text(problem, "en", page=True), problem_text(problem, "zh", page=True)
    assert english == "prompt: character 7 (U+001B) is an invisible control character; remove it and try again"
    assert chinese.startswith("提示词：") and "U+001B" in chinese and "控制字符" in chinese


@pytest.mark.parametrize(
    "text",
    [
        "line one\nline two",
        "a\tb",
        "windows\r\nline end",
        "مرحبا\u200f!",
        "שלום\u200e.",
        "سلام\u061c",
        "雪山 🏔️ at dawn",
    ],
    ids=["newline", "tab", "crlf", "rlm", "lrm", "alm", "cjk-emoji"],
)
def test_newlines_tabs_and_bidi_marks_are_text(text):
    request = T2VRequest(prompt=text, negative_prompt=text).validate()
    assert request.prompt == text.replace("\r\n", "\n")  # a Windows line end is sent as a newline
    assert control_at(request.prompt) is None


# -- escaped in what the command line prints -----------------------------------------------------------


def test_escape_controls_writes_each_control_as_its_escape():
    assert escape_controls(HOSTILE) == "sunset\\x1b[2K\\x1b[1A\\x1b]0;pwned\\x07 over\\x9b2J the\\u202esea"
    assert escape_controls("a\tb\nc\x7fd\u2066e") == "a\\x09b\\x0ac\\x7fd\\u2066e"  # one line, one row
    assert escape_controls("雪山 🏔️ مرحبا\u200f C:\\clips") == "雪山 🏔️ مرحبا\u200f C:\\clips"  # text stays as it is


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, exclude_characters="\\"), max_size=40))
def test_escaped_text_holds_no_control_and_loses_no_other_character(text):
    escaped = escape_controls(text)
    assert not RAW.search(escaped) and "\n" not in escaped and "\t" not in escaped
    unescaped = re.sub(r"\\x([0-9a-f]{2})|\\u([0-9a-f]{4})", lambda found: chr(int(found[1] or found[2], 16)), escaped)
    assert unescaped == text  # (no backslash drawn: a literal "\\x41" in the text would read as an escape)


@pytest.mark.slow  # runs `python -m kling` five times
def test_the_cli_prints_stored_escape_sequences_escaped(tmp_path):
    from kling.config import DataFolder
    from kling.store.journal import Journal
    from kling.store.share_links import ShareStore

    # A data folder whose own path holds an escape sequence: doctor and history print it.
    cwd = tmp_path / "clips\x1b]0;pwned\x07"
    cwd.mkdir()
    folder = DataFolder(cwd / "data")
    journal = Journal(folder.journal)
    params = {"prompt": HOSTILE, "negative_prompt": HOSTILE}
    model = "kwaivgi/kling-v2.0-t2v-master"
    journal.record(task_id="task-a", model=model, mode="live", owner="web-a", key=KEY, params=params, price_cents=130)
    journal.update("task-a", status="failed", error=f"WaveSpeed said: {HOSTILE}")
    journal.record_uncertain(
        model=model, owner="web-\u202eb", key=KEY, params=params, price_cents=130, candidates=(HOSTILE,)
    )
    journal.close()
    ShareStore(folder.shares).add(owner="web-a", kind="clip", subject="task-a", title=HOSTILE, now=time.time())

    printed = {command: cli(command, cwd=cwd) for command in ("shared", "history", "uncertain", "usage", "doctor")}
    for command, done in printed.items():
        assert "Traceback" not in done.stderr, (command, done.stderr)
        assert done.stdout and not RAW.search(done.stdout), (command, done.stdout)
    for command in ("shared", "history", "uncertain"):  # each prints the stored text, escaped
        assert "sunset\\x1b[2K\\x1b[1A\\x1b]0;pwned\\x07 over\\x9b2J the\\u202esea" in printed[command].stdout, command
    assert "clips\\x1b]0;pwned\\x07" in printed["doctor"].stdout
    assert "web-\\u202eb" in printed["uncertain"].stdout
