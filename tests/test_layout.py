"""The package's layout rules, read from the code's own imports: the subpackages show the architecture
and their dependencies point one way (docs/DESIGN.md draws them)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KLING = ROOT / "kling"
WORD_TABLES = {"kling/strings.py"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, *, top_level_only: bool = False, source: str | None = None) -> set[str]:
    """Every module `path` imports, absolute and relative alike, resolved to dotted names."""
    tree = ast.parse(path.read_text() if source is None else source)
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def package_modules() -> dict[str, Path]:
    return {module_name(path): path for path in KLING.rglob("*.py")}


def kling_imports(path: Path, source: str | None = None) -> set[str]:
    modules = package_modules()
    return {name for name in imports_of(path, source=source) if name in modules}


def in_package(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


# What each room may never import (docs/DESIGN.md): the simulator stays an independent reading of
# the API; nothing below the page knows it; the command line sits on top.
NEVER = {
    "kling.preview": ("kling.api", "kling.store", "kling.jobs", "kling.app", "kling.cli"),
    "kling.media": ("kling.api", "kling.preview", "kling.store", "kling.jobs", "kling.app", "kling.cli"),
    "kling.api": ("kling.store", "kling.jobs", "kling.app", "kling.cli"),
    "kling.store": ("kling.jobs", "kling.app", "kling.cli"),
    "kling.jobs": ("kling.app", "kling.cli"),
    "kling.app": ("kling.cli",),
    "kling.config": (
        "kling.api",
        "kling.store",
        "kling.media",
        "kling.preview",
        "kling.jobs",
        "kling.app",
        "kling.cli",
    ),
    "kling.files": ("kling.api", "kling.store", "kling.media", "kling.preview", "kling.jobs", "kling.app", "kling.cli"),
    "kling.errors": (
        "kling.api",
        "kling.store",
        "kling.media",
        "kling.preview",
        "kling.jobs",
        "kling.app",
        "kling.cli",
    ),
    "kling.strings": ("kling.store", "kling.media", "kling.preview", "kling.jobs", "kling.app", "kling.cli"),
}


@pytest.mark.parametrize("lower, upper", [(lower, upper) for lower, uppers in NEVER.items() for upper in uppers])
def test_a_lower_room_never_imports_a_higher_one(lower, upper):
    offenders = {
        f"{name} imports {target}"
        for name, path in package_modules().items()
        if in_package(name, lower)
        for target in kling_imports(path)
        if in_package(target, upper)
    }
    assert offenders == set()


def test_the_rule_reader_sees_an_upward_import():
    """The rule test above can fail: a store module's relative and absolute imports of the page are found."""
    probe = KLING / "store" / "probe.py"
    found = kling_imports(probe, source="from ..app import studio\nfrom kling.app.views import clock\n")
    assert {"kling.app.studio", "kling.app.views"} <= found


def test_the_command_line_never_imports_gradio():
    """Everything the command line imports at module level, followed through the package, stays clear of gradio."""
    modules = package_modules()
    seen: set[str] = set()
    todo = ["kling.cli"] + [name for name in modules if in_package(name, "kling.cli")]
    outside: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in modules:
            continue
        seen.add(name)
        for target in imports_of(modules[name], top_level_only=True):
            if target in modules:
                todo.append(target)
            else:
                outside.add(target.split(".")[0])
        for parent in _parents(name):
            todo.append(parent)
    assert "kling.cli.main" in seen
    assert "gradio" not in outside and "gradio_client" not in outside


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def test_every_subpackage_says_what_it_is_and_what_it_may_import():
    for init in KLING.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert len(doc) > 80, f"{init} needs a docstring: what the package is and what it may import"
        assert "import" in doc, f"{init}'s docstring should say what the package may import"


def test_no_module_over_500_lines_and_no_function_over_60():
    long_modules = {
        str(path.relative_to(ROOT)): n
        for path in KLING.rglob("*.py")
        if (n := len(path.read_text().splitlines())) > 500 and str(path.relative_to(ROOT)) not in WORD_TABLES
    }
    long_functions = {
        f"{path.relative_to(ROOT)}:{node.name}": node.end_lineno - node.lineno + 1
        for path in KLING.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > 60
    }
    assert long_modules == {} and long_functions == {}
