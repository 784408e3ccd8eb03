"""Work before the submit: the heaviest valid input, from the handler's start to the POST.

    python -m bench.submit [--repeat 5]

The input is a 4000x3000 photo-like JPEG over 10 MB, so it must be re-encoded before it may be
sent. Kling Studio's own image-to-video handler runs in live mode against the simulator
in-process (no network: what is timed is our work), from the call to the moment the submit
arrives in the simulator's log. The Gradio validator that runs before the handler checks the same
image; its time is shown too, since a visitor waits for both.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from kling.api.backend import Backend
from kling.api.models import PollPolicy
from kling.app.tabs.generate import Generation
from kling.config import Settings
from kling.jobs.runner import Runner
from kling.media.images import IMAGE_MAX_BYTES
from kling.preview.simulator import SimConfig, Simulator
from kling.store.clips import ClipShelf
from kling.store.journal import Journal

from .common import KEY, verdict


def heavy_photo(path: Path) -> int:
    """A 4000x3000 gradient with grain, as JPEG quality 98: about 14 MB, so it needs re-encoding."""
    rng = np.random.default_rng(4000)
    y, x = np.mgrid[0:3000, 0:4000].astype(np.float32)
    base = np.stack([x / 4000 * 255, y / 3000 * 255, (x + y) / 7000 * 255], axis=-1)
    pixels = np.clip(base + rng.normal(0, 40, base.shape), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=98)
    path.write_bytes(buffer.getvalue())
    return len(buffer.getvalue())


async def once(image: Path, data_dir: Path) -> tuple[float, float]:
    """(validator seconds, handler start -> POST seconds)."""
    simulator = Simulator(SimConfig(api_key=KEY, queue_s=0.05, process_s=0.2))
    settings = Settings(api_key=KEY, base_url="http://sim.bench", data_dir=data_dir)
    backend = Backend(
        settings,
        live_poll=PollPolicy(first=0.05, ceiling=0.1, jitter=0),
        transport=httpx.ASGITransport(app=simulator.app),
    )
    journal = Journal(settings.journal_path)
    handlers = Generation(settings, Runner(backend, journal), ClipShelf(data_dir / "clips"))
    args = (str(image), "slow push-in", "", 0.5, 5, None)
    session = {"owner": "bench", "key": ""}

    started = time.perf_counter()
    checks = await handlers.check_i2v(*args, session)
    validator = time.perf_counter() - started
    assert all(check.get("is_valid", True) for check in checks), checks

    started_wall = time.time()
    outputs = handlers.image_to_video(*args, session)
    async for _ in outputs:
        if simulator.submits():
            break
    await outputs.aclose()
    submit = simulator.submits()[0]
    await handlers.runner.drain()
    await backend.aclose()
    simulator.close()
    return validator, submit.time - started_wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        image = Path(tmp) / "photo-4000x3000.jpg"
        size = heavy_photo(image)
        assert size > IMAGE_MAX_BYTES
        runs = [asyncio.run(once(image, Path(tmp) / f"data{n}")) for n in range(args.repeat)]
    validator = statistics.median(r[0] for r in runs)
    handler = statistics.median(r[1] for r in runs)
    print(
        f"submit: 4000x3000 JPEG of {size / 2**20:.1f} MB (re-encoded to fit 10 MB), handler start -> POST "
        f"{handler:.2f} s median of {args.repeat} (target <= 0.5 s: {verdict(handler <= 0.5)}); the validator "
        f"before it {validator:.2f} s; click -> POST {validator + handler:.2f} s",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
