"""Share flood: one address loads one shared page from 40 clients at once; how long does another
address's page load take?

    python -m bench share_flood     (or: python -m bench.share_flood [--clients 40] [--repeat 10])

The launched app (`python app.py`) in preview mode, behind one trusted proxy
(`KLING_TRUSTED_PROXIES=1`), so `X-Forwarded-For` names two addresses; its data folder holds one
clip shared before it starts (`/clip/<id>`). First the honest address alone: `GET /` and
`GET /config`, `--repeat` times each, one after another. Then the flooding address keeps
`--clients` requests for `/clip/<id>` in flight (each answer followed by the next request), and
the honest address makes the same requests again. Figures: the median of each alone and under the
flood and their ratio (target: at most 2), and how the flooder's requests were answered (200, or
429 past the app's views per address per minute).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from fractions import Fraction
from pathlib import Path

import av
import httpx
import numpy as np

from .common import clean_env, free_port, start, verdict

FLOODER, HONEST = "203.0.113.7", "198.51.100.2"
OWNER, TASK = "cli", "bench-share-flood"


def shared_clip(data_dir: Path) -> str:
    """A 5 s 1280x720 clip recorded as a finished preview task and shared: the share's id."""
    from kling.config import Settings
    from kling.store.journal import Journal
    from kling.store.sharing import Sharing

    settings = Settings(data_dir=data_dir)
    clip = settings.outputs_dir / f"{TASK}.mp4"
    clip.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(clip), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=24, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        for i in range(120):
            picture = np.full((720, 1280, 3), (40 + i, 90, 160), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 24)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    journal = Journal(settings.journal_path)
    params = {"prompt": "a lantern over a flooded street", "duration": 5, "aspect_ratio": "16:9"}
    model = "kwaivgi/kling-v2.0-t2v-master"
    journal.record(task_id=TASK, model=model, mode="preview", owner=OWNER, key=None, params=params, price_cents=0)
    journal.update(TASK, status="completed", local_path=str(clip))
    return Sharing(settings.folder, journal).share_clip(OWNER, TASK).id


def timed_loads(url: str, repeat: int) -> dict[str, float]:
    """The honest address's `GET /` and `GET /config`: the median of `repeat` of each, in seconds."""
    times: dict[str, list[float]] = {"/": [], "/config": []}
    with httpx.Client(base_url=url, headers={"X-Forwarded-For": HONEST}, timeout=120) as http:
        for _ in range(repeat):
            for path, taken in times.items():
                began = time.perf_counter()
                http.get(path).raise_for_status()
                taken.append(time.perf_counter() - began)
    return {path: statistics.median(taken) for path, taken in times.items()}


async def one_client(host: str, port: int, request: bytes, stop: asyncio.Event, answers: Counter[int]) -> None:
    """One keep-alive connection asking again as soon as each answer has arrived. Plain asyncio
    streams rather than httpx: the flooder's own CPU must not be what slows the honest visitor on
    a 2-core machine (httpx's async client takes about 5 ms of CPU a request)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while not stop.is_set():
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
            await reader.readexactly(int(length.group(1)) if length else 0)
            answers[status] += 1
    except (OSError, asyncio.IncompleteReadError, ValueError):
        answers[0] += 1
    finally:
        writer.close()


async def flood(url: str, share_id: str, clients: int, stop: asyncio.Event, answers: Counter[int]) -> None:
    host, port = httpx.URL(url).host, httpx.URL(url).port or 80
    request = (f"GET /clip/{share_id} HTTP/1.1\r\nHost: {host}:{port}\r\nX-Forwarded-For: {FLOODER}\r\n\r\n").encode()
    while not stop.is_set():  # a connection the server closed is opened again
        await asyncio.gather(*(one_client(host, port, request, stop, answers) for _ in range(clients)))


async def flooded_loads(url: str, share_id: str, clients: int, repeat: int) -> tuple[dict[str, float], Counter[int]]:
    stop, answers = asyncio.Event(), Counter[int]()
    flooding = asyncio.create_task(flood(url, share_id, clients, stop, answers))
    await asyncio.sleep(2.0)  # the flood under way (and past its first minute's allowance) first
    try:
        loads = await asyncio.to_thread(timed_loads, url, repeat)
    finally:
        stop.set()
        await flooding
    return loads, answers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=40, help="the flooder's requests in flight (default 40)")
    parser.add_argument("--repeat", type=int, default=10, help="honest loads of each page (default 10)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kling-bench-share-") as tmp:
        share_id = shared_clip(Path(tmp) / "data")
        port = free_port()
        env = clean_env(
            KLING_DATA_DIR=str(Path(tmp) / "data"),
            KLING_TRUSTED_PROXIES="1",
            GRADIO_SERVER_PORT=str(port),
            GRADIO_SERVER_NAME="127.0.0.1",
        )
        app = start([sys.executable, "app.py"], port, env, log=Path(tmp) / "app.log")
        try:
            httpx.get(f"{app.url}/clip/{share_id}", timeout=60).raise_for_status()
            alone = timed_loads(app.url, args.repeat)
            flooded, answers = asyncio.run(flooded_loads(app.url, share_id, args.clients, args.repeat))
        finally:
            app.stop()
    print(f"another address's page loads, median of {args.repeat}, while {args.clients} clients load /clip/<id>:")
    for path in alone:
        ratio = flooded[path] / alone[path]
        print(
            f"  GET {path:8} alone {alone[path] * 1000:7.1f} ms, flooded {flooded[path] * 1000:7.1f} ms, "
            f"x{ratio:.2f} (target <= 2: {verdict(ratio <= 2)})",
            flush=True,
        )
    print(f"the flooder's answers by status: {dict(sorted(answers.items()))}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
