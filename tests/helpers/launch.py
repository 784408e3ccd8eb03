"""`python app.py` and `python -m kling` launched for real, as subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from kling.preview.simulator import SimConfig, Simulator
from tests.helpers.fakes import KEY
from tests.helpers.paths import ROOT, SIM_CLIPS
from tests.helpers.sim import free_port, serve_in_thread


@dataclass
class LaunchedApp:
    url: str
    process: subprocess.Popen
    data_dir: Path
    simulator: Simulator | None = None

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the app's console (launch_app writes it beside the data folder): what an
        event that failed without a message to the page (Gradio hides unexpected errors) said."""
        log = self.data_dir.parent / "app.log"
        return log.read_text(errors="replace")[-chars:] if log.exists() else "(no app.log)"

    def client(self, **kwargs):
        import gradio_client

        return gradio_client.Client(self.url, verbose=False, **kwargs)


def launch_app(tmp: Path, env_extra: dict[str, str]) -> LaunchedApp:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WAVESPEED_", "KLING_", "GRADIO_"))}
    # Every test visitor comes from 127.0.0.1: generous limits unless a test sets its own.
    env.update(
        GRADIO_SERVER_PORT=str(port),
        GRADIO_SERVER_NAME="127.0.0.1",
        KLING_DATA_DIR=str(tmp / "data"),
        GRADIO_ANALYTICS_ENABLED="False",
        PYTHONUNBUFFERED="1",
        KLING_TASKS_PER_HOUR_PER_IP="1000",
        KLING_TASKS_PER_HOUR_PER_BROWSER="1000",
        KLING_IN_FLIGHT_PER_ADDRESS="1000",
        KLING_PREVIEWS_PER_HOUR_PER_IP="1000",
    )
    env.update(env_extra)
    log = (tmp / "app.log").open("w")
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app exited: {(tmp / 'app.log').read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return LaunchedApp(url, process, tmp / "data")
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    process.kill()
    raise RuntimeError("app did not answer within 90 s")


def stop(app: LaunchedApp) -> None:
    app.process.terminate()
    try:
        app.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        app.process.kill()


@contextmanager
def live_app_on_simulator(
    tmp: Path, config: SimConfig, env_extra: dict[str, str] | None = None
) -> Iterator[LaunchedApp]:
    """The simulator served on loopback with `config` (set api_key to require one), and the app
    launched against it in live mode with KEY; `app.simulator` is the simulator."""
    simulator = Simulator(config, clip_dir=SIM_CLIPS)
    port = free_port()
    server, thread = serve_in_thread(simulator.app, port)
    try:
        app = launch_app(
            tmp, {"WAVESPEED_API_KEY": KEY, "WAVESPEED_BASE_URL": f"http://127.0.0.1:{port}", **(env_extra or {})}
        )
        app.simulator = simulator
        try:
            yield app
        finally:
            stop(app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        simulator.close()


def cli(
    *args: str, key: str | None = KEY, base_url: str | None = None, cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess:
    """`python -m kling ARGS` in `cwd`, its data folder `cwd/data`, with `key` (None: preview mode)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WAVESPEED_", "KLING_"))}
    env.update(PYTHONPATH=str(ROOT), KLING_DATA_DIR=str(cwd / "data"))
    if key:
        env["WAVESPEED_API_KEY"] = key
    if base_url:
        env["WAVESPEED_BASE_URL"] = base_url
    return subprocess.run(
        [sys.executable, "-m", "kling", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
