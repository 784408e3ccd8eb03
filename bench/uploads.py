"""Uploads: one address floods Gradio's upload route; how many bytes does it keep?

    python -m bench uploads        (or: python -m bench.uploads [--posts 10] [--mb 19])

The launched app (`python app.py`) in preview mode with the default limits, behind one trusted
proxy (`KLING_TRUSTED_PROXIES=1`) so `X-Forwarded-For` names the flooding address, and Gradio's
upload folder in a fresh temp folder (`GRADIO_TEMP_DIR`). The flooder sends `--posts` POSTs of
`--mb` MB each to `/gradio_api/upload` (no session, no login), one after another, each a
different file; then another address uploads one small file. Figures: the answers' status codes,
the bytes the flooder's files take in the upload folder (what it keeps), the wall time of the
flood, and whether the other address was served.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

from .common import clean_env, free_port, start

FLOODER, HONEST = "203.0.113.7", "198.51.100.2"
MB = 1 << 20


def kept_bytes(folder: Path, prefix: str) -> tuple[int, int]:
    """(files, bytes) under the upload folder whose names start with `prefix`."""
    files = [p for p in folder.rglob(f"{prefix}*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def post(http: httpx.Client, content: bytes, name: str, address: str) -> int:
    files = {"files": (name, content, "application/octet-stream")}
    return http.post("/gradio_api/upload", files=files, headers={"X-Forwarded-For": address}).status_code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10)
    parser.add_argument("--mb", type=int, default=19)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kling-bench-uploads-") as tmp:
        folder = Path(tmp) / "gradio"
        port = free_port()
        env = clean_env(
            GRADIO_SERVER_PORT=str(port),
            KLING_DATA_DIR=f"{tmp}/data",
            KLING_TRUSTED_PROXIES="1",
            GRADIO_TEMP_DIR=str(folder),
        )
        app = start([sys.executable, "app.py"], port, env, log=Path(tmp) / "app.log")
        try:
            with httpx.Client(base_url=app.url, timeout=300) as http:
                began = time.perf_counter()
                codes = [post(http, bytes([n]) * (args.mb * MB), f"flood-{n}.bin", FLOODER) for n in range(args.posts)]
                wall = time.perf_counter() - began
                honest = post(http, b"h" * 100_000, "honest.bin", HONEST)
            files, kept = kept_bytes(folder, "flood-")  # before the stop: a clean stop deletes uploads
        finally:
            app.process.terminate()
            app.process.wait(timeout=30)
        sent = args.posts * args.mb * MB
        answers = ", ".join(f"{code} x{count}" for code, count in sorted(Counter(codes).items()))
        print(
            f"uploads: {args.posts} POSTs of {args.mb} MB from one address ({sent / MB:.0f} MB sent) in {wall:.1f} s: "
            f"answers {answers}; kept {files} files, {kept / MB:.1f} MB ({kept / sent:.0%} of what was sent; "
            f"default window 100 MB per 10 min); another address meanwhile: {honest}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
