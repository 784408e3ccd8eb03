"""The simulator in its own process, with the task length a benchmark needs.

`python -m kling simulator` serves the default lengths; benchmarks need others (a task of T s is
`--queue-s` + `--process-s` for a 5 s clip, times `--time-scale`), so they start this instead:

    python -m bench.sim --port 8911 --queue-s 12 --process-s 108 --time-scale 0.1 --require-key KEY
"""

from __future__ import annotations

import argparse

from kling.preview.simulator import SimConfig, serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8911)
    parser.add_argument("--queue-s", type=float, default=1.5, help="seconds in `created` (before scaling)")
    parser.add_argument("--process-s", type=float, default=5.0, help="seconds in `processing` per 5 s of clip")
    parser.add_argument("--time-scale", type=float, default=1.0, help="multiplies every simulated delay")
    parser.add_argument("--run-jitter", type=float, default=0.0, help="+- fraction of processing time per task")
    parser.add_argument("--require-key", help="accept only this bearer key")
    args = parser.parse_args(argv)
    config = SimConfig(
        api_key=args.require_key,
        queue_s=args.queue_s,
        process_s=args.process_s,
        time_scale=args.time_scale,
        run_jitter=args.run_jitter,
    )
    serve(args.host, args.port, config)


if __name__ == "__main__":
    main()
