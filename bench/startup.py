"""Start-up: `python app.py` to the first 200 on `/`, as a ratio to a bare `gr.Blocks`
hello-world started the same way (`python hello.py`), alternating, in the same run.

    python -m bench.startup [--repeat 5]

Both run as fresh processes with the same environment (preview mode, an empty data folder) and
are polled every 20 ms. Also shown: what importing `kling.app.studio` adds to importing gradio, and
whether PyAV (the preview renderer) is imported at start-up.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from .common import ROOT, clean_env, free_port, start, verdict

HELLO = """import gradio as gr

with gr.Blocks() as demo:
    gr.Markdown("Hello, world")

demo.launch()
"""


def time_start(script: Path, data_dir: Path) -> float:
    port = free_port()
    env = clean_env(GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port), KLING_DATA_DIR=str(data_dir))
    launched = start([sys.executable, str(script)], port, env)
    launched.stop()
    return launched.seconds


def import_seconds(module: str) -> float:
    """Wall time of `python -c "import <module>"`, interpreter start excluded."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    return float(
        subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=clean_env(), capture_output=True, text=True, check=True
        ).stdout
    )


def import_cost(repeat: int) -> tuple[float, float, float]:
    """Medians of importing gradio and kling.app.studio, and of what kling.app.studio adds, from `repeat`
    alternating pairs: on a loaded machine the pair's difference is steadier than either time."""
    pairs = [(import_seconds("gradio"), import_seconds("kling.app.studio")) for _ in range(repeat)]
    return (
        statistics.median(g for g, _ in pairs),
        statistics.median(k for _, k in pairs),
        statistics.median(k - g for g, k in pairs),
    )


def av_at_start() -> bool:
    code = "import sys, kling.app.studio; kling.app.studio.Studio.from_env().build(); print('av' in sys.modules)"
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=clean_env(KLING_DATA_DIR=tmp),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    return out.strip().endswith("True")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    app, hello = [], []
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "hello.py"  # in a folder of its own: nothing else on its sys.path[0]
        script.write_text(HELLO)
        for n in range(args.repeat):  # alternating, so drift in the machine's load hits both alike
            hello.append(time_start(script, Path(tmp) / f"h{n}"))
            app.append(time_start(ROOT / "app.py", Path(tmp) / f"a{n}"))
    ratio = statistics.median(app) / statistics.median(hello)
    print(
        f"startup: python app.py -> first 200 on / {statistics.median(app):.2f} s, hello-world "
        f"{statistics.median(hello):.2f} s (medians of {args.repeat}): ratio {ratio:.2f} "
        f"(target <= 1.3: {verdict(ratio <= 1.3)})",
        flush=True,
    )
    gradio_s, studio_s, added_s = import_cost(args.repeat)
    print(
        f"startup: import gradio {gradio_s:.2f} s, import kling.app.studio {studio_s:.2f} s (+{added_s:.2f} s, median "
        f"of {args.repeat} alternating pairs); "
        f"PyAV imported at start-up: {'yes' if av_at_start() else 'no (deferred to the first preview clip)'}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
