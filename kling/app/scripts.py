"""The page's scripts, read from kling/app/page.js (beside this module) when the page is built: one
script per section, with the page's words and a few values from the Python side filled in."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from kling.api.params import PROMPT_MAX_CHARS
from kling.strings import SCRIPT

SOURCE = Path(__file__).with_name("page.js")
TITLE = "Kling Studio"
MARK = "// == "


def sections(source: str) -> dict[str, str]:
    """Each "// == name" section of `source`, without the comment lines right under its name."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in source.splitlines():
        if line.startswith(MARK):
            current = found.setdefault(line.removeprefix(MARK).strip(), [])
        elif current is not None and (current or not line.startswith("//")):
            current.append(line)
    return {name: "\n".join(lines).strip() for name, lines in found.items()}


@cache
def scripts() -> dict[str, str]:
    """Every script of page.js, its values filled in (`camera_move` keeps __PHRASE__: see `camera_move`)."""
    raw = sections(SOURCE.read_text(encoding="utf-8"))
    words = raw.pop("words").replace("__SCRIPT__", json.dumps(SCRIPT))
    values = {"__PROMPT_MAX_CHARS__": str(PROMPT_MAX_CHARS), "__TITLE__": TITLE}
    filled = {}
    for name, body in raw.items():
        body = body.replace("__WORDS__", words.replace("\n", "\n  "))
        for placeholder, value in values.items():
            body = body.replace(placeholder, value)
        filled[name] = body
    return filled


def script(name: str) -> str:
    return scripts()[name]


def camera_move(phrase: str, moves: list[str]) -> str:
    """One camera move at a time: the chosen phrase replaces any of `moves` added before."""
    return script("camera_move").replace("__MOVES__", json.dumps(moves)).replace("__PHRASE__", json.dumps(phrase))


def together(*scripts: str) -> str:
    """One script that runs each of `scripts` (each takes no argument) in turn: one load event for
    the page's own scripts rather than one each, since every event adds to the page's opening."""
    return "() => {\n" + "".join(f"  ({body})();\n" for body in scripts) + "}"


def before(body: str) -> str:
    """`body` run by an event as its script, before its handler, with the event's inputs, which it
    passes on unchanged: a script that needs no event of its own (each event costs every first
    visit a little, docs/DESIGN.md "The first visit")."""
    return f"(...inputs) => {{ ({body})(...inputs); return inputs; }}"


def reveal(selector: str | None = None) -> str:
    """Scrolls the shown tab (or `selector` inside it) into view when it is off-screen."""
    return script("reveal").replace("__SELECTOR__", json.dumps(selector))


def style() -> str:
    """The page's CSS (kling/app/style.css); Gradio 6 takes it at launch()."""
    return Path(__file__).with_name("style.css").read_text(encoding="utf-8")
