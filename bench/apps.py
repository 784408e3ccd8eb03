"""The apps the concurrency benchmark launches, each as its own process.

    python -m bench.apps studio   [--poll-scale S]   # app.py itself, its live polling scaled by S
    python -m bench.apps defaults [--poll-scale S]   # the same handler in a plain gr.Blocks with
                                                     # Gradio's default queue (one event at a time)

Why a harness: the simulator runs the benchmark's tasks S times faster than real ones, so the
app's poll schedule must run S times faster too, or the figures would not transfer. That is done
here (`kling.api.backend.LIVE_POLL`), so the product has no benchmark switch; everything else comes
from the environment exactly as for `python app.py`.
"""

from __future__ import annotations

import argparse
import runpy
import sys

import kling.api.backend
from kling.api.models import PollPolicy

from .common import ROOT


def studio() -> None:
    sys.argv = [str(ROOT / "app.py")]
    runpy.run_path(str(ROOT / "app.py"), run_name="__main__")


def defaults() -> None:
    """Gradio's defaults around Kling Studio's own text-to-video handler: no concurrency settings,
    no queue call, no theme; `launch()` as a hello-world would call it."""
    import gradio as gr

    from kling.api.params import ASPECT_RATIOS, DURATIONS
    from kling.app.studio import Studio
    from kling.app.tabs.generate import Generation

    built = Studio.from_env()
    handlers = Generation(built.settings, built.runner, built.clips)
    with gr.Blocks() as demo:
        prompt, negative = gr.Textbox(label="prompt"), gr.Textbox(label="negative_prompt")
        aspect = gr.Radio(list(ASPECT_RATIOS), value=ASPECT_RATIOS[0], label="aspect_ratio")
        duration = gr.Radio(list(DURATIONS), value=DURATIONS[0], label="duration")
        outputs = [gr.Markdown(), gr.Video(), gr.Markdown(), gr.Textbox()]
        gr.Button("Generate").click(
            handlers.text_to_video, [prompt, negative, aspect, duration], outputs, api_name="text_to_video"
        )
    demo.launch()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app", choices=["studio", "defaults"])
    parser.add_argument("--poll-scale", type=float, default=1.0, help="run the live poll schedule this much faster")
    args = parser.parse_args(argv)
    kling.api.backend.LIVE_POLL = PollPolicy().scaled(args.poll_scale)
    {"studio": studio, "defaults": defaults}[args.app]()


if __name__ == "__main__":
    main()
