"""Fairness: one address keeps 30 requests in flight; how long does another address's free preview take?

    python -m bench fairness        (or: python -m bench.fairness [--flood 30] [--repeat 2])

The launched app (`python app.py`) in preview mode, behind one trusted proxy
(`KLING_TRUSTED_PROXIES=1`), so `X-Forwarded-For` names two addresses. First the honest address
alone: a text-to-video and an image-to-video (a 1280x720 PNG), each timed from the call to the
answer naming its clip (not downloaded: what is measured is when the app answers; in this run
Gradio's file route answered 403 to gradio_client's download of a clip, not looked into here).
Then the flooding address keeps `--flood` requests in flight (half text-to-video, half
image-to-video with a WebP of a few bytes that declares 9400x9400 px, each a different file so
nothing is shared between them), every answer followed by the next request; while it does, the
honest address makes the same two calls again. Figures: each call's time alone and under the
flood and their ratio (target: at most 2), how the flooder's requests ended (served, refused at
once), and the app's peak memory (VmHWM).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from PIL import Image

from .common import clean_env, free_port, peak_rss_mb, start, verdict

FLOODER, HONEST = "203.0.113.7", "198.51.100.2"


def images(folder: Path, count: int) -> tuple[Path, list[Path]]:
    """The honest visitor's photo-sized PNG and `count` different 9400x9400 WebPs of a few bytes."""
    honest = folder / "honest.png"
    picture = Image.new("RGB", (1280, 720), (200, 120, 40))
    for x in range(0, 1280, 160):
        picture.paste((40, 80, 200), (x, 0, x + 80, 720))
    picture.save(honest)
    floods = []
    for n in range(count):
        buffer = io.BytesIO()
        Image.new("RGB", (9400, 9400), (n * 7 % 256, 20, 30)).save(buffer, "WEBP", lossless=True, method=0)
        path = folder / f"flood-{n}.webp"
        path.write_bytes(buffer.getvalue())
        floods.append(path)
    return honest, floods


def timed(client, *args, api_name: str) -> tuple[float, str]:
    """(seconds, "done" or why not): a refusal comes from the run (AppError) or from the queue's
    validator (the join's 400); the flooder's own join may also time out while its image is read."""
    import httpx
    from gradio_client.exceptions import AppError

    began = time.perf_counter()
    try:
        status, _, _ = client.predict(*args, api_name=api_name)
        result = "done" if "Done" in status else "other"
    except (AppError, httpx.HTTPStatusError) as exc:
        result = f"refused: {exc}"
    except httpx.HTTPError as exc:
        result = f"failed: {type(exc).__name__}"
    return time.perf_counter() - began, result


def honest_calls(client, photo: Path) -> tuple[float, float]:
    from gradio_client import handle_file

    t2v, ok1 = timed(client, "a kite over a beach", "", "16:9", 5, api_name="/text_to_video")
    i2v, ok2 = timed(client, handle_file(str(photo)), "push in", "", 0.5, 5, None, api_name="/image_to_video")
    if (ok1, ok2) != ("done", "done"):
        raise RuntimeError(f"the honest visitor was not served: {ok1}, {ok2}")
    return t2v, i2v


class Flood:
    """`size` threads, each keeping one request in flight from the flooding address."""

    def __init__(self, url: str, size: int, floods: list[Path]) -> None:
        import gradio_client

        self.client = gradio_client.Client(
            url, verbose=False, headers={"X-Forwarded-For": FLOODER}, download_files=False
        )
        self.floods = floods
        self.outcomes: Counter[str] = Counter()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._loop, args=(n,), daemon=True) for n in range(size)]

    def _loop(self, n: int) -> None:
        from gradio_client import handle_file

        while not self._stop.is_set():
            if n % 2:
                args = (handle_file(str(self.floods[n // 2 % len(self.floods)])), "flood", "", 0.5, 5, None)
                took, result = timed(self.client, *args, api_name="/image_to_video")
            else:
                took, result = timed(self.client, f"flood {n}", "", "16:9", 5, api_name="/text_to_video")
            if result.startswith("refused"):
                kind = "refused within 1 s" if took < 1.0 else "refused after 1 s"
            else:
                kind = "served" if result == "done" else result
            with self._lock:
                self.outcomes[kind] += 1
            if result != "done":
                time.sleep(0.2)  # the next request, as a script would send it

    def __enter__(self) -> Flood:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self.threads:
            thread.join(timeout=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flood", type=int, default=30, help="requests the flooding address keeps in flight")
    parser.add_argument("--repeat", type=int, default=2, help="honest calls alone and under the flood")
    args = parser.parse_args(argv)
    import gradio_client

    tmp = Path(tempfile.mkdtemp(prefix="kling-bench-fairness-"))
    photo, floods = images(tmp, max(1, args.flood // 2))
    port = free_port()
    env = clean_env(
        KLING_DATA_DIR=str(tmp / "data"),
        GRADIO_SERVER_NAME="127.0.0.1",
        GRADIO_SERVER_PORT=str(port),
        KLING_TRUSTED_PROXIES="1",
        KLING_PREVIEWS_PER_HOUR_PER_IP="100000",  # the in-flight bound is what is measured here
    )
    app = start(
        [sys.executable, str(Path(__file__).resolve().parent.parent / "app.py")], port, env, log=tmp / "app.log"
    )
    try:
        honest = gradio_client.Client(app.url, verbose=False, headers={"X-Forwarded-For": HONEST}, download_files=False)
        honest_calls(honest, photo)  # warm-up: first renders, imports, session state
        alone = [honest_calls(honest, photo) for _ in range(args.repeat)]
        with Flood(app.url, args.flood, floods) as flood:
            time.sleep(5)  # the flood under way
            flooded = [honest_calls(honest, photo) for _ in range(args.repeat)]
        peak = peak_rss_mb(app.process.pid)
    finally:
        app.stop()
    report(alone, flooded, flood.outcomes, peak, args.flood)
    return 0


def report(alone, flooded, outcomes: Counter[str], peak: float, size: int) -> None:
    for index, name in enumerate(("text-to-video", "image-to-video")):
        before = statistics.fmean(t[index] for t in alone)
        during = statistics.fmean(t[index] for t in flooded)
        ratio = during / before
        print(
            f"preview {name} from another address: alone {before:.1f} s, with {size} in flight from one "
            f"address {during:.1f} s, x{ratio:.2f} (target <= 2: {verdict(ratio <= 2)})",
            flush=True,
        )
    print(f"the flooder's requests: {dict(outcomes)}", flush=True)
    print(f"app peak memory (VmHWM): {peak:.0f} MB", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
