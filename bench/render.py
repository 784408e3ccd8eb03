"""Time the preview simulator: I2V and T2V at 5 s and 10 s (target: under 2 s per 5 s of clip).

Run from the repo root: `python -m bench.render` or `python bench/render.py` [--repeat N].
Prints the median wall time of N runs (and the best), and the CPU time of the median run: wall time
depends on what else the machine is doing, CPU time much less so.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

if __package__ in (None, ""):  # run as a script: make `kling` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kling.media.render import RenderInfo, render_i2v, render_t2v


def photo_like(width: int, height: int, seed: int) -> bytes:
    """A gradient with shapes and grain: texture costs the encoder what a real photo would."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x / width * 255, y / height * 255, (x + y) / (width + height) * 255], axis=-1)
    image = Image.fromarray(np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8))
    pen = ImageDraw.Draw(image)
    for _ in range(40):
        x0, y0 = rng.integers(0, width), rng.integers(0, height)
        size = rng.integers(20, width // 5)
        pen.ellipse((x0, y0, x0 + size, y0 + size), fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def measure(
    render: Callable[[int, Path], RenderInfo], seconds: int, repeat: int, folder: Path
) -> tuple[float, float, float, RenderInfo]:
    runs = []
    for n in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        info = render(seconds, folder / f"clip{n}.mp4")
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    wall, cpu = sorted(runs)[len(runs) // 2]
    return wall, min(runs)[0], cpu, info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median is shown)")
    repeat = parser.parse_args().repeat
    start, end = photo_like(1920, 1080, 1), photo_like(1080, 1080, 2)
    cases: list[tuple[str, int, Callable[[int, Path], RenderInfo]]] = [
        ("i2v", 5, lambda d, out: render_i2v(start, end, "slow push in", d, out)),
        ("i2v", 10, lambda d, out: render_i2v(start, end, "slow push in", d, out)),
        ("t2v", 5, lambda d, out: render_t2v("A red fox trots through snow at dawn", "16:9", d, out)),
        ("t2v", 10, lambda d, out: render_t2v("A red fox trots through snow at dawn", "16:9", d, out)),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for kind, seconds, render in cases:
            wall, best, cpu, info = measure(render, seconds, repeat, Path(tmp))
            print(
                f"render {kind} {seconds}s: {wall:.2f} s ({wall / seconds:.2f} s per clip second) "
                f"{info.width}x{info.height}, best {best:.2f} s, cpu {cpu:.2f} s",
                flush=True,
            )


if __name__ == "__main__":
    main()
