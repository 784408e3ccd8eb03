"""`python -m bench`: every benchmark, one after another, each in its own process (so one's
memory, threads and caches do not colour the next), printing every figure as it comes.

    python -m bench [--only polling,startup]
    python -m bench page startup       # the same, by name

Each is also runnable alone: `python -m bench.<name> --help`. Benchmarks are not tests: pytest
collects only tests/.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from .common import ROOT, machine

# (module, arguments): ordered cheapest first, so a short run still shows most figures.
BENCHMARKS: list[tuple[str, list[str]]] = [
    ("submit", []),
    ("startup", []),
    ("polling", []),
    ("render", ["--repeat", "1"]),
    ("stitch", ["--repeat", "1"]),
    ("page", ["--repeat", "5"]),
    ("concurrency", []),
    ("fairness", []),
    ("share_flood", []),
    ("uploads", []),
    ("load", ["--visitors", "100", "--rounds", "2"]),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--only", help="comma-separated names, e.g. polling,startup")
    args = parser.parse_args(argv)
    names = [*args.names, *(args.only.split(",") if args.only else [])]
    chosen = [b for b in BENCHMARKS if not names or b[0] in names]
    print(f"machine: {machine()}", flush=True)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    started, failed = time.monotonic(), []
    for name, extra in chosen:
        began = time.monotonic()
        code = subprocess.call([sys.executable, "-m", f"bench.{name}", *extra], cwd=ROOT)
        print(f"({name}: {time.monotonic() - began:.0f} s{'' if code == 0 else f', exit {code}'})", flush=True)
        if code:
            failed.append(name)
    print(
        f"bench: {len(chosen)} benchmarks in {time.monotonic() - started:.0f} s; load average after: "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}" + (f"; failed: {', '.join(failed)}" if failed else ""),
        flush=True,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
