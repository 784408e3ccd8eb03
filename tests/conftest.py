"""Shared fixtures (a scripted fake API, the simulator served on loopback, launched apps) and the
session's hooks. What the fixtures are made of, and what tests import, is in tests/helpers/."""

from __future__ import annotations

import gc
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from kling.preview.simulator import SimConfig, Simulator
from tests.helpers import media, page, runner  # noqa: F401 (their imports, before gc.freeze below)
from tests.helpers.fakes import KEY, FakeAPI, FakeTime
from tests.helpers.launch import LaunchedApp, launch_app, live_app_on_simulator, stop
from tests.helpers.paths import SIM_CLIPS
from tests.helpers.sim import Served, free_port, serve_in_thread, sim_config

# The modules imported above (gradio, PyAV, httpx...) stay for the whole session: frozen, the
# garbage collector stops walking their objects at every full collection (about 5 s of the fast loop).
gc.freeze()


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (pyproject.toml): a worker per core and one more, at most four. The slow tests spend
    most of their time waiting (a simulated task's stages, a browser's timers): on 2 cores, two
    workers kept about one core busy; every worker launches its own apps and browser, hence the cap."""
    return max(1, min(len(os.sched_getaffinity(0)) + 1, 4))


# What a test costs a worker, roughly, by its marks: a browser test drives Chromium against a launched
# app, a slow one launches, renders or waits; the rest take milliseconds.
TEST_WEIGHTS = {"browser": 8.0, "slow": 4.0}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker, the heaviest test files first (pyproject.toml's `--no-loadscope-reorder`
    keeps this order): a worker that draws a heavy file late would otherwise run it alone while the
    others sit idle. Tests keep their order within a file; `-n 0` keeps the plain order."""
    if not hasattr(config, "workerinput"):
        return
    weights: dict[Path, float] = {}
    for item in items:
        marks = {mark.name for mark in item.iter_markers()}
        cost = max((TEST_WEIGHTS[name] for name in marks & TEST_WEIGHTS.keys()), default=0.05)
        weights[item.path] = weights.get(item.path, 0.0) + cost
    items.sort(key=lambda item: -weights[item.path])


@pytest.fixture(scope="session", autouse=True)
def _shared_simulator_clips() -> Iterator[None]:
    yield
    shutil.rmtree(SIM_CLIPS, ignore_errors=True)


@pytest.fixture
def fake_api() -> FakeAPI:
    return FakeAPI()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def served_simulator() -> Iterator[Served]:
    """The simulator on a real loopback port, fast clock, requiring KEY."""
    simulator = Simulator(sim_config(api_key=KEY, queue_s=0.1, process_s=0.3, time_scale=1.0), clip_dir=SIM_CLIPS)
    port = free_port()
    server, thread = serve_in_thread(simulator.app, port)
    try:
        yield Served(simulator, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        simulator.close()


@pytest.fixture(scope="module")
def preview_app(tmp_path_factory) -> Iterator[LaunchedApp]:
    """`python app.py` with no key, once per test module."""
    app = launch_app(tmp_path_factory.mktemp("preview"), {})
    yield app
    stop(app)


@pytest.fixture(scope="module")
def live_app(tmp_path_factory) -> Iterator[LaunchedApp]:
    """`python app.py` in live mode against the simulator (which requires KEY), once per test module."""
    with live_app_on_simulator(
        tmp_path_factory.mktemp("live"), SimConfig(api_key=KEY, queue_s=1.0, process_s=2.5)
    ) as app:
        yield app
