"""`python -m kling showcase`: the showcase's paid making. Each example (kling.examples) is generated
once with the owner's key, and its clip, poster frame and manifest entry written to the showcase
folder the page reads (kling.store.showcase). Generation goes through the Runner, so each task is
in the journal before its first poll: an interrupted run is resumed from the journal by the next
one (same settings, same key) instead of being paid for again.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kling.api.backend import Backend
from kling.api.params import format_price
from kling.config import DataFolder, Settings
from kling.errors import KlingError, ShowcaseNeedsKeyError, SubmitUncertainError
from kling.examples import Generable, showcase_examples
from kling.files import replacing
from kling.jobs.run import Run, RunState
from kling.jobs.runner import Runner
from kling.store.journal import Journal
from kling.store.showcase import (
    MANIFEST,
    ShowcaseClip,
    load_showcase,
    owner_tag,
    plan,
    reusable_task,
    sha256_file,
    write_manifest,
)
from kling.store.stamps import stamp_clip

log = logging.getLogger("kling.cli.showcase")

POSTER_WIDTH = 320
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2

Say = Callable[[str], None]


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class ShowcaseResult:
    made: list[ShowcaseClip] = field(default_factory=list)
    failed: list[tuple[str, KlingError]] = field(default_factory=list)


def save_poster(clip: Path, poster: Path, width: int = POSTER_WIDTH) -> None:
    """The clip's first frame as a small JPEG, for the page's example thumbnails. Raises ValueError
    when the clip has no frame to show."""
    import av  # PyAV: imported only when a showcase is made

    try:
        with av.open(str(clip)) as container:
            image = next(container.decode(video=0)).to_image()
    except (av.FFmpegError, StopIteration) as exc:
        raise ValueError(f"no frame could be read from {clip.name}: {exc}") from None
    height = max(1, round(image.height * width / image.width))
    image = image.convert("RGB").resize((width, height))
    with replacing(poster) as tmp:
        image.save(tmp, format="JPEG", quality=85)


class _Pending:
    """Submits whose answer has not arrived yet, in a small file beside the journal. One left over
    from an earlier run means that submit may have made (and billed) a task nobody knows the id of:
    the next run says so instead of resubmitting silently."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, Any]) -> None:
        with replacing(self.path) as tmp:
            tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")

    def add(self, example: Generable) -> None:
        self._write({**self.read(), owner_tag(example): {"key": example.key, "since": _iso(time.time())}})

    def remove(self, example: Generable) -> None:
        data = self.read()
        if data.pop(owner_tag(example), None) is not None:
            self._write(data)


def pending_submits(journal: Journal, examples: Sequence[Generable]) -> list[tuple[Generable, str]]:
    """(example, since) for each example whose last submit was cut off before its task id was known."""
    pending = _Pending(DataFolder(journal.path.parent).showcase_pending).read()
    return [
        (example, pending[owner_tag(example)].get("since", "?"))
        for example in examples
        if owner_tag(example) in pending
    ]


async def _wait(run: Run, say: Say, label: str, on_task: Callable[[], None] = lambda: None) -> RunState:
    """Follow a run to its end, saying each change once; `on_task` runs when its task id is journaled."""
    last = ""
    state: RunState | None = None
    told = False
    async for state in run.watch(tick=30.0):
        if state.task_id and not told:
            told = True
            on_task()  # the journal's listener ran before any watcher saw this state
        if state.stage == "submitted" and state.task_id:
            line = f"task {state.task_id} created; waiting"
        elif state.stage == "polled" and state.task:
            line = f"status: {state.task.status}"
        else:
            line = "" if state.stage in ("done", "error") else state.status_words
        if line and line != last:
            say(f"{label} {line}")
            last = line
    assert state is not None
    return state


async def make_one(example: Generable, directory: Path, runner: Runner, *, say: Say, label: str = "") -> ShowcaseClip:
    """Generate (or resume, or reuse) the clip of one example and save it and its poster in DIR."""
    journal = runner.journal
    assert journal is not None, "a showcase needs the journal: it is what makes a rerun free"
    key = runner.backend.settings.api_key
    tag = owner_tag(example)
    job = reusable_task(journal, example, key)
    if job is not None and job.clip_saved:
        say(f"{label} reusing the clip of task {job.id} (already paid)")
        source = Path(job.local_path)
        task_id = job.id
    else:
        pending = _Pending(DataFolder(journal.path.parent).showcase_pending)
        if job is not None:
            say(f"{label} resuming task {job.id} (already paid)")
            state = await _wait(runner.resume(job.id, owner=tag), say, label)
        else:
            say(f"{label} submitting ({format_price(example.price_cents)})")
            pending.add(example)
            try:
                run = runner.start(example.request(), owner=tag)
            except KlingError:
                pending.remove(example)  # refused before sending (e.g. the photo fails a check)
                raise
            state = await _wait(run, say, label, lambda: pending.remove(example))
            if state.task_id is None and not isinstance(state.error, SubmitUncertainError):
                pending.remove(example)  # refused outright: no task was made
        if state.error is not None:
            raise state.error
        assert state.path is not None and state.task_id is not None
        source, task_id = state.path, state.task_id
    recorded = journal.get(task_id)
    directory.mkdir(parents=True, exist_ok=True)
    clip_name, poster_name = f"{example.key}.mp4", f"{example.key}.jpg"
    with replacing(directory / clip_name) as tmp:
        shutil.copyfile(source, tmp)
    if recorded is not None:  # the recipe goes in before the SHA-256 below is taken of the file
        stamp_clip(recorded, directory / clip_name)
    poster: str | None = poster_name
    try:
        save_poster(directory / clip_name, directory / poster_name)
    except (OSError, ValueError) as exc:  # a clip without a poster is still a clip
        log.warning("No poster for %s: %s", example.key, exc)
        poster = None
    return ShowcaseClip(
        key=example.key,
        settings=example.settings(),
        task_id=task_id,
        model=recorded.model if recorded and recorded.model else example.model,
        made=_iso(recorded.created if recorded else time.time()),
        clip=clip_name,
        sha256=sha256_file(directory / clip_name),
        poster=poster,
        root=directory,
    )


async def make_showcase(
    examples: Sequence[Generable], directory: Path | str, runner: Runner, *, say: Say = lambda line: None
) -> ShowcaseResult:
    """Make each example's clip, one at a time, and rewrite the manifest after each.

    One at a time on purpose: the only moment a kill can cost a second payment is between
    WaveSpeed making a task and its id reaching the journal, so at most one submit is ever open."""
    if runner.backend.is_preview():
        raise ShowcaseNeedsKeyError(
            "A showcase needs the owner's WAVESPEED_API_KEY: a showcase of simulated clips would be a lie."
        )
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    clips = load_showcase(directory)
    result = ShowcaseResult()
    for number, example in enumerate(examples, 1):
        label = f"[{number}/{len(examples)}] {example.key}:"
        try:
            clip = await make_one(example, directory, runner, say=say, label=label)
        except KlingError as exc:
            say(f"{label} failed: {exc}")
            result.failed.append((example.key, exc))
            continue
        clips[clip.key] = clip
        write_manifest(directory, clips)
        result.made.append(clip)
        say(f"{label} saved {clip.clip_path}")
    return result


# -- the command -----------------------------------------------------------------------------------


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _ask(question: str) -> str:
    """One line from stdin; no stdin or end of input is an empty answer (= no)."""
    print(question, end="", file=sys.stderr, flush=True)
    stdin = sys.stdin
    answer = stdin.readline() if stdin is not None else ""
    if stdin is None or not answer.endswith("\n") or not stdin.isatty():
        print(file=sys.stderr, flush=True)  # a terminal echoed the newline; a pipe did not
    return answer


def command(
    directory: Path | None, *, yes: bool, settings: Settings, say: Say = _stderr, ask: Callable[[str], str] = _ask
) -> int:
    """`python -m kling showcase`: list what is missing and its price, ask, make it, exit 0 when done."""
    import asyncio

    if settings.preview:
        say("error: a showcase needs the owner's WAVESPEED_API_KEY (simulated clips would be a lie); nothing was sent.")
        return EXIT_BAD_INPUT
    directory = Path(directory) if directory is not None else settings.showcase_dir
    examples = showcase_examples()
    todo = plan(examples, load_showcase(directory))
    if not todo:
        say(f"The showcase in {directory} is complete: {len(examples)} clips. Nothing to make.")
        print(directory / MANIFEST, flush=True)
        return EXIT_OK
    journal = Journal(settings.journal_path)
    jobs = {example.key: reusable_task(journal, example, settings.api_key) for example in todo}
    total = sum(example.price_cents for example in todo if jobs[example.key] is None)
    say(f"Showcase in {directory}: {len(todo)} of {len(examples)} examples to make, each once:")
    for example in todo:
        job = jobs[example.key]
        cost = format_price(example.price_cents) if job is None else f"free (task {job.id}, already paid)"
        say(f"  {example.key:20} {example.model.split('/')[-1]:24} {example.duration} s  {cost}")
    for example, since in pending_submits(journal, todo):
        if jobs[example.key] is None:
            say(
                f"warning: the last submit of {example.key} ({since}) was cut off before its answer came; "
                "WaveSpeed may have made and billed that task: check your WaveSpeed dashboard."
            )
    say(f"Total: {format_price(total)}, charged to the account of WAVESPEED_API_KEY.")
    if total and not yes:
        answer = ask(f"Spend {format_price(total)}? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            say("Nothing was sent.")
            return EXIT_FAILED
    backend = Backend(settings)

    async def run() -> ShowcaseResult:
        try:
            return await make_showcase(todo, directory, Runner(backend, journal), say=say)
        finally:
            await backend.aclose()

    try:
        result = asyncio.run(run())
    except KeyboardInterrupt:
        say("Stopped. Submitted tasks keep running; run the command again to resume them without paying twice.")
        return EXIT_FAILED
    if result.failed:
        say(
            f"{len(result.failed)} example(s) failed: {', '.join(key for key, _ in result.failed)}. Run again to retry."
        )
        return EXIT_FAILED
    say(f"Done: {len(result.made)} clip(s) saved; manifest {directory / MANIFEST}")
    print(directory / MANIFEST, flush=True)
    return EXIT_OK
