"""`python -m kling`: generate from the command line, resume a task, serve the simulator.

stdout carries exactly what a script needs: the task id the moment the task exists, then the
clip's path. Live status goes to stderr. Exit 0 done, 2 bad input (nothing sent), 1 anything else.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import sys
from pathlib import Path

from .backend import Backend
from .client import AsyncKlingClient, Update
from .config import Settings
from .errors import KlingError, Problem, ValidationError
from .params import ASPECT_RATIOS, DEFAULT_GUIDANCE, DURATIONS, I2VRequest, T2VRequest, format_price

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
TASK_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m kling", description="Kling v2.0 master videos via WaveSpeed.")
    commands = parser.add_subparsers(dest="command", required=True)

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--prompt", required=True, help="what happens and how the camera moves (max 2500 chars)")
        sub.add_argument("--negative-prompt", default="", help="what to avoid")
        sub.add_argument("--duration", default="5", help=f"seconds: {' or '.join(map(str, DURATIONS))}")
        sub.add_argument("--out", type=Path, help="also copy the clip here")

    t2v = commands.add_parser("t2v", help="text to video")
    common(t2v)
    t2v.add_argument("--aspect-ratio", default="16:9", help=", ".join(ASPECT_RATIOS))

    i2v = commands.add_parser("i2v", help="image to video")
    i2v.add_argument("--image", required=True, help="start image: a file path or an http(s) URL")
    common(i2v)
    i2v.add_argument("--end-image", help="end image: a file path or an http(s) URL")
    i2v.add_argument("--guidance-scale", default=str(DEFAULT_GUIDANCE), help="0.0 to 1.0 (default 0.5)")

    result = commands.add_parser("result", help="fetch or resume a task submitted earlier")
    result.add_argument("task_id")
    result.add_argument("--out", type=Path, help="also copy the clip here")

    sim = commands.add_parser("simulator", help="serve the preview backend (WaveSpeed's API, simulated)")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8911)
    sim.add_argument("--time-scale", type=float, default=1.0, help="multiplies every simulated delay")
    sim.add_argument("--require-key", help="accept only this bearer key (default: any non-empty key)")
    return parser


def _number(raw: str, field: str, cast: type) -> int | float:
    try:
        return cast(raw)
    except ValueError:
        raise ValidationError([Problem(field, f"{raw!r} is not a number")]) from None


def _request(args: argparse.Namespace) -> I2VRequest | T2VRequest:
    if args.command == "t2v":
        return T2VRequest(
            prompt=args.prompt,
            negative_prompt=args.negative_prompt,
            aspect_ratio=args.aspect_ratio,
            duration=args.duration,  # validate() accepts "5"/"10" and reports anything else
        )
    return I2VRequest(
        image=args.image,
        prompt=args.prompt,
        negative_prompt=args.negative_prompt,
        guidance_scale=_number(args.guidance_scale, "guidance_scale", float),
        duration=args.duration,
        end_image=args.end_image,
    )


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _show(update: Update) -> None:
    """One stderr line per step; the task id and the path also go to stdout."""
    task = update.task
    if update.stage == "submitted" and task:
        print(task.id, flush=True)
        _say(f"task {task.id} created; waiting (Ctrl-C stops waiting, not the task)")
    elif update.stage == "polled" and task:
        _say(f"status: {task.status}")
    elif update.stage in ("retrying", "uploading", "submitting", "downloading"):
        _say(update.message)


async def _run(client: AsyncKlingClient, args: argparse.Namespace, settings: Settings) -> Path:
    if args.command == "result":
        updates = client.follow(args.task_id, settings.outputs_dir, first_delay=0)
    else:
        updates = client.stream(args.request, settings.outputs_dir)
    task_id = None
    try:
        async for update in updates:
            _show(update)
            task_id = update.task.id if update.task else task_id
            if update.stage == "done" and update.path:
                return update.path
    except asyncio.CancelledError:
        if task_id:
            _say(f"Stopped waiting. Task {task_id} keeps running and is billed; resume: python -m kling result {task_id}")
        raise
    raise KlingError("The generation ended without a clip.", task_id=task_id)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "simulator":
        from .simulator import SimConfig, serve

        print(f"WaveSpeed preview simulator on http://{args.host}:{args.port}", flush=True)
        serve(args.host, args.port, SimConfig(api_key=args.require_key, time_scale=args.time_scale))
        return EXIT_OK

    try:
        settings = Settings.from_env()
        if args.command == "result":
            if not TASK_ID.match(args.task_id):
                raise ValidationError([Problem("task_id", f"{args.task_id[:80]!r} is not a task id")])
        else:
            args.request = _request(args).validate()
    except (ValidationError, ValueError) as exc:
        for line in getattr(exc, "problems", None) or [exc]:
            _say(f"error: {line}")
        _say("Nothing was sent.")
        return EXIT_BAD_INPUT

    backend = Backend(settings)
    if backend.is_preview():
        _say("Preview mode (no WAVESPEED_API_KEY): the clip is simulated locally. It is not Kling output.")
    elif args.command != "result":
        _say(f"Live: this {args.request.duration} s clip costs {format_price(args.request.price_cents)}.")

    async def run() -> Path:
        try:
            return await _run(backend.client(), args, settings)
        finally:
            await backend.aclose()

    try:
        path = asyncio.run(run())
    except KeyboardInterrupt:
        return EXIT_FAILED
    except KlingError as exc:
        _say(f"error: {exc}")
        return EXIT_FAILED
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, args.out)
        path = args.out
    print(path, flush=True)
    return EXIT_OK
