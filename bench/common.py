"""What the benchmarks share: the machine, processes they start and stop, memory, and summaries.

Benchmarks start everything they measure themselves (the simulator, the app) on free loopback
ports, and stop it again. Nothing here is imported by `kling` or collected by pytest.
"""

from __future__ import annotations

import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-bench-0123456789abcdef"
T2V_MODEL = "kwaivgi/kling-v2.0-t2v-master"
PROMPT = "A paper lantern rising into the night sky, camera slowly pushes in"


def machine() -> str:
    """One line: cores, RAM, CPU, Python, gradio."""
    import gradio

    meminfo = Path("/proc/meminfo").read_text().split()
    ram_gb = int(meminfo[meminfo.index("MemTotal:") + 1]) / 2**20
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    return (
        f"{os.cpu_count()} cores ({cpu}), {ram_gb:.0f} GB RAM, Python {platform.python_version()}, "
        f"gradio {gradio.__version__}, {platform.system()} {platform.release()}"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any WaveSpeed/Kling/Gradio setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WAVESPEED_", "KLING_", "GRADIO_"))}
    env.update(GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT))
    env.update(extra)
    return env


@dataclass
class Started:
    process: subprocess.Popen
    url: str
    seconds: float  # from spawn to the first 200 on `ready_path`

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(
    cmd: Sequence[str],
    port: int,
    env: dict[str, str],
    *,
    ready_path: str = "/",
    log: Path | None = None,
    timeout: float = 120.0,
) -> Started:
    """Spawn `cmd` and wait (polling every 20 ms) for `GET ready_path` to answer 200."""
    url = f"http://127.0.0.1:{port}"
    out = log.open("w") if log else subprocess.DEVNULL
    began = time.perf_counter()
    process = subprocess.Popen(list(cmd), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    with httpx.Client(timeout=2) as http:
        while time.perf_counter() - began < timeout:
            if process.poll() is not None:
                tail = log.read_text()[-2000:] if log else ""
                raise RuntimeError(f"{' '.join(cmd)} exited with {process.returncode}\n{tail}")
            try:
                if http.get(url + ready_path).status_code == 200:
                    return Started(process, url, time.perf_counter() - began)
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
    process.kill()
    raise RuntimeError(f"{' '.join(cmd)} did not answer on {url}{ready_path} within {timeout:.0f} s")


def start_simulator(*, queue_s: float, process_s: float, time_scale: float, run_jitter: float = 0.0) -> Started:
    """The simulator in its own process (bench/sim.py), requiring KEY."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "bench.sim",
        "--port",
        str(port),
        "--queue-s",
        str(queue_s),
        "--process-s",
        str(process_s),
        "--time-scale",
        str(time_scale),
        "--run-jitter",
        str(run_jitter),
        "--require-key",
        KEY,
    ]
    # Its log is the one GET route that answers 200 without a key.
    return start(cmd, port, clean_env(), ready_path="/_sim/log", timeout=60)


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for pid {pid}")


def mean_max(values: Sequence[float]) -> tuple[float, float]:
    return statistics.fmean(values), max(values)


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"
