"""The documentation as files: README stays a front page (short, starting with the two commands), the
rest lives in docs/, every relative link leads to a file that exists, and docs/CLI.md names every
command and flag the code accepts."""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

import pytest

from kling.cli.main import _parser
from tests.helpers.paths import ROOT

README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
RUN = "pip install -r requirements.txt && python app.py"
TEST = "pip install -r requirements-dev.txt && python -m pytest"
# Markdown links and images, `[text](target)` and `![alt](target)`; the target ends at a space or `)`.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def _body(text: str) -> str:
    """README without its YAML front matter (the Space's settings)."""
    assert text.startswith("---\n"), "README must open with the Space's YAML front matter"
    return text[text.index("\n---\n", 4) + len("\n---\n") :]


def _relative_links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.DOTALL)  # code blocks hold no links
    targets = (m.group(1) for m in LINK.finditer(text))
    return [t for t in targets if not re.match(r"^(https?:|mailto:|#)", t)]


def test_readme_is_a_front_page_of_at_most_200_lines():
    lines = README.read_text().splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; move detail into docs/"


def test_readme_starts_with_the_run_command_then_the_test_command():
    text = README.read_text()
    body = _body(text)
    assert "app_file: app.py" in text[: len(text) - len(body)]
    # Only the title may come before the two commands, each in its own bash block and each followed
    # by a one-line caption. What the caption says is prose, not checked here; the commands are run
    # as documented by tests/app/test_app.py and .ci/run.
    caption = r"[^\n`#][^\n]*\n"
    run, test = (rf"```bash\n{re.escape(command)}\n```\n\n{caption}" for command in (RUN, TEST))
    expected = rf"# Kling Studio\n\n{run}\n{test}"
    start = re.match(expected, body.lstrip("\n"))
    assert start, "README must start with the two commands, each with a one-line caption after it"


@pytest.mark.parametrize("name", ["USAGE", "CONFIGURATION", "SHOWCASE", "CLI", "SECURITY"])
def test_readme_links_each_guide_in_docs(name):
    assert f"docs/{name}.md" in _relative_links(README)


@pytest.mark.parametrize("path", [README, *DOCS], ids=lambda p: p.name)
def test_every_relative_link_leads_to_an_existing_file(path):
    links = _relative_links(path)
    missing = [t for t in links if not (path.parent / t.split("#", 1)[0]).exists()]
    assert not missing, f"{path.name} links to missing files: {missing}"


def test_the_link_check_sees_a_missing_file(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("[here](here.md) [gone](gone.md#part) ![img](pics/a.png) [web](https://x.y) [top](#top)\n")
    (tmp_path / "here.md").write_text("x")
    links = _relative_links(page)
    assert links == ["here.md", "gone.md#part", "pics/a.png"]
    assert [t for t in links if not (tmp_path / t.split("#", 1)[0]).exists()] == ["gone.md#part", "pics/a.png"]


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    [commands] = [a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(commands.choices)


def test_docs_cli_names_every_command_and_flag_of_python_m_kling():
    doc = (ROOT / "docs" / "CLI.md").read_text()
    commands = _subcommands()
    assert {"t2v", "i2v", "result", "history", "simulator", "showcase", "last-frame", "stitch"} <= set(commands)
    for name, sub in commands.items():
        [row] = [line for line in doc.splitlines() if line.startswith(f"| `{name}` |")]
        for action in sub._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help":
                    assert f"`{flag}" in row, f"docs/CLI.md's row for {name} does not name {flag}"


def test_docs_cli_names_every_flag_of_app_py():
    doc = (ROOT / "docs" / "CLI.md").read_text()
    calls = [n for n in ast.walk(ast.parse((ROOT / "app.py").read_text())) if isinstance(n, ast.Call)]
    flags = [
        arg.value
        for call in calls
        if isinstance(call.func, ast.Attribute) and call.func.attr == "add_argument"
        for arg in call.args
        if isinstance(arg, ast.Constant) and str(arg.value).startswith("--")
    ]
    assert flags == ["--host", "--port", "--share"]
    for flag in flags:
        assert f"| `{flag}" in doc


TRACKER_POINTER = re.compile(r"\b(?:issue|item)s? #?\d", re.IGNORECASE)


def test_no_comment_points_at_an_issue_tracker_instead_of_giving_the_reason():
    sources = [ROOT / "app.py", *(p for d in ("kling", "tests", "bench", "scripts") for p in (ROOT / d).rglob("*.py"))]
    hits = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sources
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if TRACKER_POINTER.search(line)
    ]
    assert not hits, f"say the reason instead of an issue or item number: {hits}"
