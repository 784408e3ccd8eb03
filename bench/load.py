"""Load: 200 simultaneous visitors against preview mode, twice. No error, no lost task, and the
app's memory flat from one round to the next. Prints one line per figure.

    python -m bench.load [--visitors 200] [--rounds 2]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.conftest import launch_app, stop


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process, in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def visit(app, n: int) -> str | None:
    """One visitor: its own gradio_client session, one preview clip. None when all went well."""
    try:
        client = app.client()
        status, video, _ = client.predict(f"load test clip {n % 4}", "", "16:9", 5, api_name="/text_to_video")
        if "Done" not in status or not video or not Path(video).stat().st_size:
            return f"visitor {n}: {status[:80]}"
    except Exception as exc:  # noqa: BLE001 - counted and printed
        return f"visitor {n}: {type(exc).__name__}: {exc}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--visitors", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="kling-load-"))
    app = launch_app(tmp, {"KLING_CONCURRENCY": "64"})
    try:
        time.sleep(2)
        rss_start, _ = rss_mb(app.process.pid)
        print(f"load: app RSS at start {rss_start:.0f} MB")
        after: list[float] = []
        for round_ in range(1, args.rounds + 1):
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=args.visitors) as pool:
                errors = [e for e in pool.map(lambda n: visit(app, n), range(args.visitors)) if e]
            wall = time.monotonic() - started
            time.sleep(3)  # let background downloads and journal writes settle
            rss, peak = rss_mb(app.process.pid)
            after.append(rss)
            print(f"load round {round_}: {args.visitors} visitors, {len(errors)} errors, {wall:.0f} s wall, "
                  f"app RSS {rss:.0f} MB (peak {peak:.0f} MB)")
            for error in errors[:5]:
                print(f"  {error}")
        db = sqlite3.connect(app.data_dir / "jobs.sqlite3")
        rows, saved = db.execute("SELECT COUNT(*), SUM(local_path != '') FROM tasks").fetchone()
        expected = args.visitors * args.rounds
        print(f"load: {rows} tasks in the journal of {expected} asked, {saved} clips saved, "
              f"{expected - (saved or 0)} lost")
        if len(after) > 1:
            print(f"load: memory growth from round 1 to round {len(after)}: {after[-1] - after[0]:+.0f} MB")
        return 0 if rows == expected == saved else 1
    finally:
        stop(app)


if __name__ == "__main__":
    sys.exit(main())
