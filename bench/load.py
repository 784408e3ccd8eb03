"""Load: 200 simultaneous visitors against preview mode, twice. No error, no lost task, and the
app's memory flat from one round to the next. Prints one line per figure.

Visitors arrive spread over `--ramp` seconds (all 200 are in the system at once: a preview clip
takes ~7 s plus the queue). With --ramp 0 they all open the page in the same instant; each page
load costs Gradio ~40 ms of CPU to build /config for this page, so 200 at once queue for ~9 s on
2 cores and gradio_client's 20 s request timeout starts to bite (see BENCHMARKS.md).

    python -m bench.load [--visitors 200] [--rounds 2] [--ramp 20]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from tests.helpers.launch import launch_app, stop


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process, in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def visit_round(app, arrivals: list[float], latencies: list[float], n: int) -> str | None:
    return visit(app, n, arrivals[n], latencies)


def visit(app, n: int, delay: float, latencies: list[float]) -> str | None:
    """One visitor: arrives after `delay`, opens its own gradio_client session, makes one preview
    clip. None when all went well."""
    time.sleep(delay)
    started = time.monotonic()
    try:
        client = app.client()
        status, video, _ = client.predict(f"load test clip {n % 4}", "", "16:9", 5, api_name="/text_to_video")
        if "Done" not in status or not video or not Path(video).stat().st_size:
            return f"visitor {n}: {status[:80]}"
        latencies.append(time.monotonic() - started)
    except Exception as exc:  # noqa: BLE001 - counted and printed
        return f"visitor {n}: {type(exc).__name__}: {exc}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--visitors", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--ramp", type=float, default=20.0, help="seconds over which the visitors arrive")
    parser.add_argument(
        "--session-capacity",
        type=int,
        default=None,
        help="KLING_SESSION_CAPACITY for the app (default: the app's own, 2000)",
    )
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="kling-load-"))
    env = {"KLING_CONCURRENCY": "64"}
    if args.session_capacity:
        env["KLING_SESSION_CAPACITY"] = str(args.session_capacity)
    app = launch_app(tmp, env)
    try:
        time.sleep(2)
        rss_start, _ = rss_mb(app.process.pid)
        print(f"load: app RSS at start {rss_start:.0f} MB")
        after: list[float] = []
        for round_ in range(1, args.rounds + 1):
            started = time.monotonic()
            latencies: list[float] = []
            arrivals = [args.ramp * n / args.visitors for n in range(args.visitors)]
            with ThreadPoolExecutor(max_workers=args.visitors) as pool:
                errors = [
                    e for e in pool.map(partial(visit_round, app, arrivals, latencies), range(args.visitors)) if e
                ]
            wall = time.monotonic() - started
            latencies.sort()
            if latencies:
                print(
                    f"load round {round_}: page open to clip p50 {latencies[len(latencies) // 2]:.1f} s, "
                    f"p95 {latencies[int(len(latencies) * 0.95)]:.1f} s, max {latencies[-1]:.1f} s"
                )
            time.sleep(3)  # let background downloads and journal writes settle
            rss, peak = rss_mb(app.process.pid)
            after.append(rss)
            print(
                f"load round {round_}: {args.visitors} visitors, {len(errors)} errors, {wall:.0f} s wall, "
                f"app RSS {rss:.0f} MB (peak {peak:.0f} MB)"
            )
            for error in errors[:5]:
                print(f"  {error}")
        db = sqlite3.connect(app.data_dir / "jobs.sqlite3")
        rows, saved = db.execute("SELECT COUNT(*), SUM(local_path != '') FROM tasks").fetchone()
        expected = args.visitors * args.rounds
        print(
            f"load: {rows} tasks submitted of {expected} visitors, {saved} of them with their clip saved "
            f"({rows - (saved or 0)} lost); {expected - rows} visitors gave up before submitting"
        )
        if len(after) > 1:
            print(f"load: memory growth from round 1 to round {len(after)}: {after[-1] - after[0]:+.0f} MB")
        return 0 if rows == expected == saved else 1
    finally:
        stop(app)


if __name__ == "__main__":
    sys.exit(main())
