"""`python -m kling`: generate from the command line, resume a task, serve the simulator, and
resolve lost submits (the operator's view: `uncertain`, `adopt`, `dismiss`).

stdout carries exactly what a script needs: the task id the moment the task exists, then the
clip's path. Live status goes to stderr. Exit 0 done, 2 bad input (nothing sent), 1 anything else.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from kling.api.backend import Backend
from kling.api.models import is_task_id
from kling.api.params import ASPECT_RATIOS, DEFAULT_GUIDANCE, DURATIONS, I2VRequest, T2VRequest, format_price
from kling.cli import improve as cli_improve
from kling.cli.shares import command as shares_command
from kling.cli.shares import register as register_shares
from kling.cli.shares import sweep_orphans as sweep_shared
from kling.config import Settings
from kling.controls import escape_controls
from kling.errors import JournalError, KlingError, NotFoundError, Problem, SubmitUncertainError, ValidationError
from kling.jobs.run import RunState
from kling.jobs.runner import Runner
from kling.store.journal import Journal

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _common(sub: argparse.ArgumentParser) -> None:
    """The arguments both generation commands take."""
    sub.add_argument("--prompt", required=True, help="what happens and how the camera moves (max 2500 chars)")
    sub.add_argument("--negative-prompt", default="", help="what to avoid")
    sub.add_argument("--duration", default="5", help=f"seconds: {' or '.join(map(str, DURATIONS))}")
    sub.add_argument("--out", type=Path, help="also copy the clip here")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m kling", description="Kling v2.0 master videos via WaveSpeed.")
    commands = parser.add_subparsers(dest="command", required=True)

    t2v = commands.add_parser("t2v", help="text to video")
    _common(t2v)
    t2v.add_argument("--aspect-ratio", default="16:9", help=", ".join(ASPECT_RATIOS))

    i2v = commands.add_parser("i2v", help="image to video")
    i2v.add_argument("--image", required=True, help="start image: a file path or an http(s) URL")
    _common(i2v)
    i2v.add_argument("--end-image", help="end image: a file path or an http(s) URL")
    i2v.add_argument("--guidance-scale", default=str(DEFAULT_GUIDANCE), help="0.0 to 1.0 (default 0.5)")

    history = commands.add_parser("history", help="list the tasks in the journal, newest first")
    history.add_argument("--limit", type=int, default=50)

    result = commands.add_parser("result", help="fetch or resume a task submitted earlier")
    result.add_argument("task_id")
    result.add_argument("--out", type=Path, help="also copy the clip here")

    _operator_parsers(commands)

    showcase = commands.add_parser("showcase", help="make one real clip per example with the owner's key (paid, once)")
    showcase.add_argument("--dir", type=Path, help="where the clips and manifest.json go (default KLING_SHOWCASE_DIR)")
    showcase.add_argument("--yes", action="store_true", help="do not ask before spending")

    stitch = commands.add_parser("stitch", help="join clips (files or task ids) into one MP4; no API call")
    stitch.add_argument("clips", nargs="*", metavar="CLIP_OR_TASK_ID", help="two or more, in order")
    stitch.add_argument("--out", type=Path, required=True, help="the film to write, e.g. film.mp4")
    stitch.add_argument("--crossfade", default="0", metavar="SECONDS", help="each clip fades into the next (default 0)")

    last_frame = commands.add_parser("last-frame", help="save a clip's last frame as PNG, to continue from it")
    last_frame.add_argument("clip", metavar="CLIP_OR_TASK_ID")
    last_frame.add_argument("--out", type=Path, required=True, help="the PNG to write")

    register_shares(commands)
    commands.add_parser("doctor", help="check the key, balance, data folder, webhooks, limits and API schema")
    cli_improve.add_parser(commands)

    sim = commands.add_parser("simulator", help="serve the preview backend (WaveSpeed's API, simulated)")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8911)
    sim.add_argument("--time-scale", type=float, default=1.0, help="multiplies every simulated delay")
    sim.add_argument("--require-key", help="accept only this bearer key (default: any non-empty key)")
    return parser


def _operator_parsers(commands: argparse._SubParsersAction) -> None:
    """The Space operator's commands over the journal: lost submits, pruning, usage."""
    uncertain = commands.add_parser(
        "uncertain", help="list submits whose answer was lost and whose task is not known, with the candidate task ids"
    )
    uncertain.add_argument("--all", action="store_true", help="also those already adopted or dismissed")

    adopt = commands.add_parser("adopt", help="name the task a lost submit made: journaled for its owner, at its price")
    adopt.add_argument("submit_id", metavar="LOST_SUBMIT_ID", help="as `uncertain` lists it (lost-...)")
    adopt.add_argument("task_id", metavar="TASK_ID")

    dismiss = commands.add_parser("dismiss", help="a lost submit made no task: it stops counting against the limits")
    dismiss.add_argument("submit_id", metavar="LOST_SUBMIT_ID")

    prune = commands.add_parser("prune", help="remove paid clips older than DAYS (their journal rows stay)")
    prune.add_argument("--older-than", required=True, metavar="DAYS", help="days since the clip was saved")
    prune.add_argument("--dry-run", action="store_true", help="list what would be removed; remove nothing")

    usage = commands.add_parser("usage", help="what this Space's key spent, per UTC day, from the journal")
    usage.add_argument("--days", default="7", metavar="N", help="the last N days, today included (default 7)")
    usage.add_argument("--json", action="store_true", help="a JSON list of {day, tasks, completed, failed, spent_usd}")


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


def _progress_line(state: RunState) -> str:
    if state.stage == "polled" and state.task:
        return state.message or f"status: {state.task.status}"  # the message names an undocumented status
    if state.stage == "submitted" and state.task_id:
        return f"task {state.task_id} created; waiting (Ctrl-C stops waiting, not the task)"
    return state.message if state.stage not in ("done", "error") else ""


async def _run(runner: Runner, args: argparse.Namespace, seen: dict[str, str]) -> Path:
    if args.command == "result":
        run = runner.resume(args.task_id, owner="cli")
    else:
        run = runner.start(args.request, owner="cli")
    last = ""
    async for state in run.watch(tick=5.0):
        if state.task_id and "task_id" not in seen and args.command != "result":
            seen["task_id"] = state.task_id
            print(state.task_id, flush=True)
        if state.note and state.note != seen.get("note"):
            seen["note"] = state.note
            _say(state.note)
        line = _progress_line(state)
        if line and line != last:
            _say(line)
            last = line
    if state.error is not None:
        raise state.error
    assert state.path is not None
    return state.path


def _history(journal: Journal, limit: int) -> int:
    jobs = journal.all(limit)
    if not jobs:
        _say(f"No tasks in {journal.path} yet.")
    for job in jobs:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(job.created))
        price = "free" if job.preview else format_price(job.price_cents)
        where = job.local_path if job.clip_saved else (job.error or "no clip saved")
        if job.pruned is not None:
            where = f"clip pruned {time.strftime('%Y-%m-%d', time.localtime(job.pruned))}"
        line = f"{when}  {job.id}  {job.mode:7}  {job.model.split('/')[-1]:24}  {job.status:10}  {price:6}  {where}"
        print(escape_controls(line))  # a row's error is WaveSpeed's text; rows may predate the prompt checks
    return EXIT_OK


def _prune(journal: Journal, older_than: str, *, dry_run: bool) -> int:
    """Paid clips are never removed automatically: the operator removes old ones here. stdout: one
    line per clip (task id, then path); stderr: the total."""
    from kling.store.disk import prune_paid_clips

    try:
        days = float(older_than)
        if not days >= 0:
            raise ValueError
    except ValueError:
        _say(f"error: --older-than must be a number of days (0 or more), got {older_than[:20]!r}")
        return EXIT_BAD_INPUT
    pruned = prune_paid_clips(journal, days, dry_run=dry_run)
    for each in pruned:
        print(escape_controls(f"{each.job.id}  {each.job.local_path}"), flush=True)
    megabytes = sum(each.size for each in pruned) / 1e6
    verb = "Would remove" if dry_run else "Removed"
    _say(f"{verb} {len(pruned)} paid clip(s) saved more than {days:g} days ago ({megabytes:.1f} MB).")
    if pruned and not dry_run:
        _say("Their journal rows stay, marked as pruned: History says the clip was removed.")
    return EXIT_OK


def _lost_submits(journal: Journal, args: argparse.Namespace) -> int:
    """`uncertain`, `adopt`, `dismiss`: the journal only, no API call. Bad ids exit 2."""
    if args.command == "uncertain":
        lost = journal.lost_submits(open_only=not args.all)
        if not lost:
            _say("No lost submits to resolve." if not args.all else "No lost submits.")
        for job in lost:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(job.created))
            seen = ", ".join(job.candidates) or "none"
            line = (
                f"{when}  {job.id}  {job.status:9}  {job.model.split('/')[-1]:24}  {format_price(job.price_cents):6}"
                f"  owner {job.owner[:16]}  address {job.ip_hash or '-'}  candidates: {seen}"
            )
            print(escape_controls(line))
        return EXIT_OK
    try:
        if args.command == "dismiss":
            journal.dismiss(args.submit_id)
            _say(f"{args.submit_id} dismissed: it no longer counts against this Space's limits.")
            return EXIT_OK
        if not is_task_id(args.task_id):
            raise JournalError(f"{args.task_id[:80]!r} is not a task id")
        submit = {job.id: job for job in journal.lost_submits()}.get(args.submit_id)
        job = journal.adopt(args.submit_id, args.task_id)
    except JournalError as exc:
        _say(f"error: {exc}")
        return EXIT_BAD_INPUT
    if submit is not None and args.task_id not in submit.candidates:
        _say(f"note: {args.task_id} was not among the candidates WaveSpeed's listing showed for it.")
    _say(
        f"Task {job.id} adopted for {job.owner[:16]} at {format_price(job.price_cents)}. The app resumes it at its "
        f"next start and its owner can resume it from History; to fetch it now: python -m kling result {job.id}"
    )
    print(job.id, flush=True)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return COMMANDS[args.command](args)


def _simulator(args: argparse.Namespace) -> int:
    from kling.preview.simulator import SimConfig, serve

    print(f"WaveSpeed preview simulator on http://{args.host}:{args.port}", flush=True)
    serve(args.host, args.port, SimConfig(api_key=args.require_key, time_scale=args.time_scale))
    return EXIT_OK


def _showcase(args: argparse.Namespace) -> int:
    from kling.cli.showcase import command

    try:
        settings = Settings.from_env()
    except ValueError as exc:
        _say(f"error: {exc}")
        return EXIT_BAD_INPUT
    return command(args.dir, yes=args.yes, settings=settings)


def _checked(args: argparse.Namespace) -> Settings | None:
    """The settings, with the task id or the request checked (kept on `args.request`); None, having
    said why, when either is bad."""
    try:
        settings = Settings.from_env()
        if args.command == "result":
            if not is_task_id(args.task_id):
                raise ValidationError([Problem("task_id", f"{args.task_id[:80]!r} is not a task id")])
        elif args.command in ("t2v", "i2v"):
            args.request = _request(args).validate()
    except (ValidationError, ValueError) as exc:
        for line in getattr(exc, "problems", None) or [exc]:
            _say(f"error: {line}")
        _say("Nothing was sent.")
        return None
    return settings


def _journal_command(args: argparse.Namespace) -> int:
    """`history`, `prune` and the lost submits' commands: the journal only, no API call."""
    settings = _checked(args)
    if settings is None:
        return EXIT_BAD_INPUT
    journal = Journal(settings.journal_path)
    if args.command == "history":
        return _history(journal, args.limit)
    if args.command == "prune":
        pruned = _prune(journal, args.older_than, dry_run=args.dry_run)
        if pruned == EXIT_OK:
            sweep_shared(settings, dry_run=args.dry_run)
        return pruned
    return _lost_submits(journal, args)


def _generate(args: argparse.Namespace) -> int:
    """`t2v`, `i2v` and `result`: follow one task to its clip."""
    settings = _checked(args)
    if settings is None:
        return EXIT_BAD_INPUT
    journal = Journal(settings.journal_path)
    backend = Backend(settings)
    if backend.is_preview():
        _say("Preview mode (no WAVESPEED_API_KEY): the clip is simulated locally. It is not Kling output.")
    elif args.command != "result":
        _say(f"Live: this {args.request.duration} s clip costs {format_price(args.request.price_cents)}.")
    path = _follow(backend, journal, args)
    if path is None:
        return EXIT_FAILED
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, args.out)
        path = args.out
    print(path, flush=True)
    return EXIT_OK


def _follow(backend: Backend, journal: Journal, args: argparse.Namespace) -> Path | None:
    """The clip's path, or None when the run was stopped or failed (having said why)."""
    seen: dict[str, str] = {"task_id": args.task_id} if args.command == "result" else {}

    async def run() -> Path:
        try:
            return await _run(Runner(backend, journal), args, seen)
        finally:
            await backend.aclose()

    try:
        return asyncio.run(run())
    except KeyboardInterrupt:
        if "task_id" in seen:
            _say(
                f"Stopped waiting. Task {seen['task_id']} keeps running and may be billed; "
                f"resume: python -m kling result {seen['task_id']}"
            )
    except KlingError as exc:
        _say(f"error: {exc}")
        if isinstance(exc, SubmitUncertainError) and exc.candidates:
            _say(f"candidates: {', '.join(exc.candidates)} (adopt one: python -m kling adopt LOST_SUBMIT_ID TASK_ID)")
        if backend.is_preview() and isinstance(exc, NotFoundError):
            _say("Preview tasks live only inside the process that made them.")
    return None


def _clip_path(ref: str, settings: Settings) -> Path:
    """A file is taken as it is; otherwise a task id is looked up in the journal for its saved clip."""
    from kling.errors import ClipNotFoundError

    path = Path(ref)
    if path.exists() or not is_task_id(ref):
        return path  # kling.media.video says what is wrong with it, if anything
    journal_path = settings.journal_path
    job = None
    if journal_path.exists():  # looking up must not create a journal
        journal = Journal(journal_path)
        try:
            job = journal.get(ref)
        finally:
            journal.close()
    if job is None:
        raise ClipNotFoundError(f"{ref} is neither a file nor a task in the journal ({journal_path})")
    if not job.clip_saved:
        raise ClipNotFoundError(f"task {ref} has no saved clip (status {job.status})", task_id=ref)
    return Path(job.local_path)


def _film(args: argparse.Namespace) -> int:
    """`stitch` and `last-frame`: local work on saved clips, no API call. Bad input exits 2, one line."""
    import av

    from kling.errors import FilmError
    from kling.media import video as film

    try:
        settings = Settings.from_env()
        if args.command == "last-frame":
            path = film.save_last_frame(_clip_path(args.clip, settings), args.out)
        else:
            crossfade = float(_number(args.crossfade, "--crossfade", float))
            clips = [_clip_path(ref, settings) for ref in args.clips]
            result = film.stitch(clips, args.out, crossfade=crossfade)
            how = "re-encoded" if result.reencoded else "joined without re-encoding"
            _say(f"{len(clips)} clips {how}: {result.duration:.2f} s, {result.width}x{result.height} {result.codec}")
            path = result.path
    except (FilmError, ValidationError) as exc:
        _say(f"error: {exc}")
        return EXIT_BAD_INPUT
    except (OSError, av.FFmpegError) as exc:  # e.g. the disk is full: not the input's fault
        _say(f"error: {exc}")
        return EXIT_FAILED
    except ValueError as exc:  # a bad setting in the environment
        _say(f"error: {exc}")
        return EXIT_BAD_INPUT
    print(path, flush=True)
    return EXIT_OK


def _desk(args: argparse.Namespace) -> int:
    """`usage` and `doctor`: the owner's view; nothing that costs money."""
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        _say(f"error: {exc}")
        return EXIT_BAD_INPUT
    if args.command == "usage":
        from kling.cli.usage import command as usage

        return usage(
            args.days,
            as_json_output=args.json,
            key=settings.api_key,
            journal_path=settings.journal_path,
            now=time.time(),
        )
    from kling.cli.doctor import command as doctor

    return doctor(settings)


# Each subcommand's function: it takes the parsed arguments and returns the exit code.
COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "t2v": _generate,
    "i2v": _generate,
    "result": _generate,
    "history": _journal_command,
    "prune": _journal_command,
    "uncertain": _journal_command,
    "adopt": _journal_command,
    "dismiss": _journal_command,
    "showcase": _showcase,
    "stitch": _film,
    "last-frame": _film,
    "simulator": _simulator,
    "usage": _desk,
    "doctor": _desk,
    "improve": cli_improve.command,
    "shared": shares_command,
    "unshare": shares_command,
}
