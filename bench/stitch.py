"""Time stitching two 10 s 720p clips: joined without re-encoding, and re-encoded (letterboxed, or cross-faded).

Run from the repo root: `python -m bench.stitch` or `python bench/stitch.py` [--repeat N].
The clips are preview renders (kling/media/render.py, H.264 1280x720 / 720x1280, 24 fps). Prints the median
wall time of N runs, its ratio to the 20 s of clips, and the CPU time of the median run (wall time
depends on what else the machine is doing, CPU time much less so). Also times the last frame of a
10 s clip, the work behind "Continue from the last frame".
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `kling` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kling.media.render import render_t2v
from kling.media.video import StitchResult, last_frame, stitch


def measure(run: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """(median wall s, CPU s of that run, its result)."""
    runs = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = run()
        runs.append((time.perf_counter() - wall, time.process_time() - cpu, result))
    runs.sort(key=lambda r: r[0])
    return runs[len(runs) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median is shown)")
    repeat = parser.parse_args().repeat
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        one, two, tall = folder / "one.mp4", folder / "two.mp4", folder / "tall.mp4"
        render_t2v("A red fox trots through snow at dawn", "16:9", 10, one)
        render_t2v("The fox stops and looks back, camera slowly pushes in", "16:9", 10, two)
        render_t2v("A lighthouse at night, beam sweeping", "9:16", 10, tall)
        cases: list[tuple[str, list[Path], float]] = [
            ("without re-encoding", [one, two], 0.0),
            ("re-encoded, 16:9 + 9:16 letterboxed", [one, tall], 0.0),
            ("re-encoded, 0.5 s cross-fade", [one, two], 0.5),
        ]
        for label, clips, crossfade in cases:
            wall, cpu, result = measure(partial(stitch, clips, folder / "film.mp4", crossfade=crossfade), repeat)
            assert isinstance(result, StitchResult)
            print(
                f"stitch two 10 s 720p clips {label}: {wall:.2f} s = {wall / 20:.3f} x the clips' 20 s "
                f"({20 / wall:.0f}x real time), cpu {cpu:.2f} s; film {result.duration:.2f} s "
                f"{result.width}x{result.height}, reencoded={result.reencoded}",
                flush=True,
            )
        wall, cpu, _ = measure(partial(last_frame, one), repeat)
        print(f"last frame of a 10 s 720p clip: {wall:.2f} s, cpu {cpu:.2f} s", flush=True)


if __name__ == "__main__":
    main()
