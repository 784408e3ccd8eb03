"""Generations as background jobs, so a closed tab or "Stop waiting" never drops a paid task.

A `Run` drives one generation (or the resumption of one task) in its own asyncio task and keeps
its latest `RunState`. Whoever shows progress (a Gradio handler) watches the run; when the
watcher goes away the run carries on to the end and the clip still lands in the outputs folder.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from .backend import Backend
from .client import AsyncKlingClient, Request, Task, Update
from .credit import CreditWatch, credit_refusal
from .disk import DiskKeeper
from .errors import (
    DownloadError,
    InsufficientCreditsError,
    KlingError,
    NotFoundError,
    SubmitUncertainError,
    TaskFailedError,
    public_text,
)
from .guard import Reservation, SpendGuard
from .journal import UNKNOWN, Journal
from .params import I2VRequest, PreparedImage
from .strings import SAY_EN, Lang, say

# The stages a run's status line names, in kling/strings.py as "stage.<name>" (English and Chinese).
STAGES = frozenset(key.removeprefix("stage.") for key in SAY_EN if key.startswith("stage."))


@dataclass(frozen=True)
class RunState:
    """What a person watching the run needs; immutable, so a snapshot never changes under them."""

    model: str
    preview: bool
    price_cents: int
    started: float
    stage: str = "validating"
    task: Task | None = None
    message: str = ""
    path: Path | None = None
    error: KlingError | None = None
    polls: int = 0
    note: str = ""  # shown for the rest of the run, e.g. that the task was recovered

    @property
    def finished(self) -> bool:
        return self.stage in ("done", "error")

    @property
    def task_id(self) -> str | None:
        return self.task.id if self.task else (self.error.task_id if self.error else None)

    @property
    def status_words(self) -> str:
        return self.words()

    def words(self, lang: Lang = "en") -> str:
        """What the run is doing, in a few words ("Queued at WaveSpeed"); a status WaveSpeed does
        not document is named as it came ("status pending, not documented: still waiting")."""
        if self.stage == "polled" and self.task and self.task.status not in STAGES and self.message:
            return say(lang, "status.undocumented", status=self.task.status or "(empty)")
        key = self.task.status if self.stage == "polled" and self.task else self.stage
        if self.preview and key == "created":
            key = "created_preview"
        return say(lang, f"stage.{key}") if key in STAGES else key

    def elapsed(self, now: float | None = None) -> float:
        return (now if now is not None else time.monotonic()) - self.started


# Called when the task id exists (before the first poll) and at every later change.
Listener = Callable[[RunState], Awaitable[None] | None]


class Run:
    def __init__(self, state: RunState, updates: AsyncIterator[Update], listener: Listener | None) -> None:
        self.state = state
        self._watchers: set[asyncio.Queue[RunState]] = set()
        self._listener = listener
        self.job = asyncio.create_task(self._drive(updates))

    async def _drive(self, updates: AsyncIterator[Update]) -> None:
        try:
            async for update in updates:
                await self._set(
                    stage=update.stage,
                    task=update.task or self.state.task,
                    message=update.message,
                    path=update.path or self.state.path,
                    polls=self.state.polls + (update.stage == "polled"),
                    note=update.note or self.state.note,
                )
        except KlingError as exc:
            await self._set(stage="error", error=exc, message=str(exc))
        except Exception as exc:  # a bug must still end the run visibly, never hang the page
            await self._set(
                stage="error",
                error=KlingError(
                    f"Unexpected error: {type(exc).__name__}: {public_text(exc)}", task_id=self.state.task_id
                ),
                message=public_text(exc),
            )

    async def _set(self, **changes: Any) -> None:
        self.state = replace(self.state, **changes)
        for queue in self._watchers:
            queue.put_nowait(self.state)
        if self._listener is not None:
            result = self._listener(self.state)
            if asyncio.iscoroutine(result):
                await result

    async def watch(self, tick: float = 1.0) -> AsyncIterator[RunState]:
        """Every state in order, and the current one again after `tick` quiet seconds (so a clock
        can advance), until the run ends. Leaving early does not stop the run."""
        state = self.state
        if state.finished:
            yield state
            return
        queue: asyncio.Queue[RunState] = asyncio.Queue()
        self._watchers.add(queue)
        try:
            while True:
                try:
                    state = await asyncio.wait_for(queue.get(), tick)
                except asyncio.TimeoutError:
                    state = self.state
                yield state
                if state.finished:
                    return
        finally:
            self._watchers.discard(queue)


# How far before the submit the listing is searched: WaveSpeed's clock and ours differ a little.
LISTING_MARGIN_S = 30.0


class RunRecord:
    """What one run leaves behind: its journal row, its spend reservation, its registration so a
    later resume joins this wait. One method per event; `on_state` is the run's listener."""

    def __init__(
        self,
        runner: Runner,
        owner: str,
        key: str | None,
        params: dict[str, Any],
        *,
        ip: str = "",
        reservation: Reservation | None = None,
        continues: str | None = None,
        typed: bool = False,
    ) -> None:
        self.runner = runner
        self.owner, self.key, self.params, self.ip = owner, key, params, ip
        self.continues = continues  # the task whose last frame this one starts from
        self.reservation = reservation
        # A task id someone typed that the journal does not hold: it is journaled only once
        # WaveSpeed has answered it with a task, so unknown ids leave nothing behind.
        self.typed = typed
        self.resumed = False  # the run waits for a task made earlier, not for its own submit
        self.run: Run | None = None
        self.task_id: str | None = None
        self.status = ""

    def on_state(self, state: RunState) -> None:
        answered = not self.typed or state.stage == "polled"
        if state.task is not None and state.task.id != self.task_id and answered:
            self.submitted(state, state.task)
        if state.stage in ("done", "error"):
            self.finished(state)
        elif self.task_id is not None:
            self.status_changed(state)

    def submitted(self, state: RunState, task: Task) -> None:
        """The task exists (made, recovered, or resumed): journal it before the first poll, and
        from then on it counts against the spend guard through its row, not the reservation."""
        self.task_id = task.id
        runner, journal = self.runner, self.runner.journal
        if state.stage == "submitted" and self.run is not None:
            runner._runs.setdefault(task.id, self.run)  # a later resume joins this wait
        if journal is not None and self.typed and journal.get(task.id) is None:
            self._record_typed(journal, state, task)
        elif journal is not None and (state.stage == "submitted" or journal.get(task.id) is None):
            journal.record(
                task_id=task.id,
                model=task.model or state.model,
                mode="preview" if state.preview else "live",
                owner=self.owner,
                key=self.key,
                params=self.params,
                price_cents=state.price_cents,
                ip=self.ip,
                continues=self.continues,
            )
        self._release()

    def _record_typed(self, journal: Journal, state: RunState, task: Task) -> None:
        """A typed id WaveSpeed knows. One of this owner's own lost submits may have made it: then it
        is adopted with that submit's price, address and time; otherwise it is a task made outside
        this journal (the dashboard, another tool), recorded at no price."""
        model = task.model or state.model
        mine = [job for job in journal.claims(task.id) if job.owner == self.owner]
        if mine:
            journal.adopt(mine[0].id, task.id, model=model)
            return
        journal.record(
            task_id=task.id,
            model=model,
            mode="preview" if state.preview else "live",
            owner=self.owner,
            key=self.key,
            params=self.params,
            price_cents=0,
            ip=self.ip,
        )

    def status_changed(self, state: RunState) -> None:
        changes = journal_changes(state)
        if state.stage == "polled" and changes.get("status") == self.status:
            return  # no change worth a write
        self._write(changes)

    def finished(self, state: RunState) -> None:
        if self.task_id is not None:
            changes = journal_changes(state)
            if self.resumed and isinstance(state.error, NotFoundError) and state.error.http_status == 404:
                # WaveSpeed does not know a task made earlier: final, never resumed at start again.
                # (A 404 on our own fresh submit past the first minute leaves the row resumable once.)
                changes["status"] = UNKNOWN
            self._write(changes)
            if state.preview and state.stage == "done" and self.runner.journal is not None:
                # Preview clips are free to make again: the oldest go past their cap (never this one).
                self.runner.disk.preview_clips(self.runner.journal, keep=state.path)
            return
        if isinstance(state.error, SubmitUncertainError):
            self.lost(state, state.error)
            return
        if self.typed:
            return  # an id WaveSpeed did not answer with a task: its lookup keeps counting for an hour
        self._release()  # refused or failed before any task existed: nothing is owed

    def lost(self, state: RunState, error: SubmitUncertainError) -> None:
        """A task may exist and be billed, and nothing identified it. Journaled as a lost submit (its
        price, owner, address and candidates), it counts against every limit across restarts until
        the operator resolves it; without a journal the reservation stays, in this process."""
        journal = self.runner.journal
        if journal is None or state.preview:
            return
        journal.record_uncertain(
            model=error.model or state.model,
            owner=self.owner,
            key=self.key,
            params=self.params,
            price_cents=state.price_cents,
            ip=self.ip,
            candidates=error.candidates,
        )
        self._release()

    def _write(self, changes: dict[str, Any]) -> None:
        self.status = changes.get("status", self.status)
        if self.runner.journal is not None and self.task_id is not None:
            self.runner.journal.update(self.task_id, **changes)

    def _release(self) -> None:
        if self.runner.guard is not None and self.reservation is not None:
            self.runner.guard.release(self.reservation)
            self.reservation = None


class Runner:
    """Starts runs, keeps them alive until they end, records each in the journal, and never runs
    two waits for the same task."""

    def __init__(self, backend: Backend, journal: Journal | None = None, guard: SpendGuard | None = None) -> None:
        self.backend = backend
        self.journal = journal
        self.guard = guard
        settings = backend.settings
        self.disk = DiskKeeper(settings.folder, settings.disk_caps)  # keeps the data folder bounded
        self._runs: dict[str, Run] = {}
        self._live: set[Run] = set()  # every run not finished yet, started or resumed
        self._jobs: set[asyncio.Task[None]] = set()
        self._claimed: set[str] = set()  # tasks adopted after a lost submit answer
        self.credit = CreditWatch()  # the last credit refusal of the server's key (the Usage tab)
        self._submitting: Counter[str] = Counter()  # submits per model still waiting for their answer
        # How often, and how far apart, the listing is read before "no task found" is concluded.
        self.listing_looks = 2
        self.listing_pause = 2.0

    @property
    def outputs_dir(self) -> Path:
        return self.backend.settings.outputs_dir

    def _key(self, user_key: str | None) -> str | None:
        return (user_key or "").strip() or self.backend.settings.api_key

    def start(
        self,
        request: Request,
        *,
        owner: str = "",
        user_key: str | None = None,
        ip: str = "",
        continues: str | None = None,
    ) -> Run:
        """Raises ValidationError or SpendRefused before anything is sent; a request validated
        already passes as is. `continues`: the task this one continues from, for its journal row."""
        request = request.validate()
        own_key = bool((user_key or "").strip())
        reservation = (
            self.guard.reserve(owner=owner, ip=ip, price_cents=request.price_cents, own_key=own_key)
            if self.guard
            else None
        )
        client = self.backend.client(user_key)
        state = RunState(
            model=request.model,
            preview=self.backend.is_preview(user_key),
            price_cents=request.price_cents,
            started=time.monotonic(),
        )
        params = journal_params(request, self.journal)
        if isinstance(request, I2VRequest) and self.journal is not None:
            self.disk.inputs(keep=_stored(params.get("image")))
        record = RunRecord(
            self, owner, self._key(user_key), params, ip=ip, reservation=reservation, continues=continues
        )
        webhook = self.backend.webhook_url(user_key)  # None unless KLING_PUBLIC_URL is set
        record.run = Run(state, self._generate(client, request, webhook, own_key=own_key), record.on_state)
        return self._keep(record.run)

    async def _generate(
        self, client: AsyncKlingClient, request: Request, webhook: str | None, *, own_key: bool = False
    ) -> AsyncIterator[Update]:
        """The client's whole path; when the submit's answer is lost, the task is looked for in
        WaveSpeed's predictions listing and adopted if exactly one new candidate is there."""
        self._submitting[request.model] += 1
        submitting = True
        try:
            async for update in client.stream(request, self.outputs_dir, webhook=webhook):
                if submitting and update.stage == "submitted":
                    submitting = False
                    self._submitting[request.model] -= 1
                yield update
            return
        except SubmitUncertainError as exc:
            lost = exc
        except InsufficientCreditsError as exc:
            raise await credit_refusal(
                client, exc, own_key=own_key, price_cents=request.price_cents, watch=self.credit
            ) from None
        finally:
            if submitting:
                self._submitting[request.model] -= 1
        if lost.task_id:
            task, how = Task(id=lost.task_id, model=lost.model), "named in the submit's error answer"
        else:
            yield Update("recovering", message="The submit's answer was lost; looking for the task at WaveSpeed")
            task = await self._find_lost(client, lost)
            how = "found in WaveSpeed's list of recent tasks"
        self._claimed.add(task.id)
        note = f"Recovered task {task.id}: the submit's answer was lost, the task was {how}. It was not sent again."
        yield Update("submitted", task=task, message=note, note=note)
        async for update in client.follow(task.id, self.outputs_dir, webhook=bool(webhook), new_task=True):
            yield update

    async def _find_lost(self, client: AsyncKlingClient, lost: SubmitUncertainError) -> Task:
        """The one task the lost submit made, or SubmitUncertainError listing what was seen."""
        since = (lost.sent_at or time.time()) - LISTING_MARGIN_S
        new: list[Task] = []
        for look in range(self.listing_looks):
            if look:
                await self.backend.sleep(self.listing_pause)  # a new task may take a moment to be listed
            # Another submit of this model still waiting for its answer here could be mistaken for
            # ours: wait (30 s at most) until its task is known. A real sleep: the other submit runs
            # in this event loop and needs it to move on.
            for _ in range(300):
                if not self._submitting[lost.model]:
                    break
                await asyncio.sleep(0.1)
            try:
                found = await client.find_tasks(lost.model, created_after=since)
            except (KlingError, httpx.HTTPError) as exc:
                reason = str(exc) or type(exc).__name__  # some httpx errors carry no text
                raise SubmitUncertainError(
                    f"{lost} Looking for it in WaveSpeed's list of recent tasks failed ({reason}); check your "
                    "WaveSpeed dashboard before you retry.",
                    model=lost.model,
                    sent_at=lost.sent_at,
                ) from None
            new = [task for task in found if not self._known(task.id)]
            if len(new) == 1:
                return new[0]
            if new:
                break  # several: looking again cannot make fewer
        ids = tuple(task.id for task in new)
        # The ids stay on the error (the operator's command line lists them) and out of its words:
        # with the Space's key they may be another visitor's tasks.
        seen = (
            f"WaveSpeed's list of recent tasks shows {len(ids)} new tasks of this model, and which one is this "
            "submit's is unknown"
            if ids
            else "WaveSpeed's list of recent tasks shows no new task of this model yet"
        )
        raise SubmitUncertainError(
            f"{lost} {seen}. Its price stays counted against this Space's limits until the Space's operator "
            "resolves it (python -m kling uncertain); check before you retry.",
            model=lost.model,
            sent_at=lost.sent_at,
            candidates=ids,
        )

    def is_running(self, task_id: str) -> bool:
        """Whether this process is still waiting for the task (a visitor may have stopped watching)."""
        return task_id in self._runs or any(run.state.task_id == task_id for run in self._live)

    def _known(self, task_id: str) -> bool:
        """A task this process or the journal already accounts for: not the lost submit's."""
        return task_id in self._claimed or task_id in self._runs or bool(self.journal and self.journal.get(task_id))

    def resume(self, task_id: str, *, owner: str = "", user_key: str | None = None) -> Run:
        """Wait for a task made earlier (by the app, the CLI, or seen in WaveSpeed's dashboard)."""
        if task_id in self._runs:
            return self._runs[task_id]
        job = self.journal.get(task_id) if self.journal else None
        record = RunRecord(self, job.owner if job else owner, self._key(user_key), job.params if job else {})
        if job is None:
            return self._follow(task_id, record, user_key)
        return self._follow(task_id, record, user_key, model=job.model, price=job.price_cents, created=job.created)

    def resume_typed(self, task_id: str, *, owner: str, user_key: str | None = None, ip: str = "") -> Run:
        """A task id a visitor typed. One the journal holds is resumed as it is (the caller checked
        whose it is); any other is looked up with a slot of the spend guard (SpendRefused when the
        hourly limits are used up) and journaled only if WaveSpeed answers it with a task."""
        if task_id in self._runs or (self.journal is not None and self.journal.get(task_id) is not None):
            return self.resume(task_id, owner=owner, user_key=user_key)
        own_key = bool((user_key or "").strip())
        guard = self.guard
        lookup = guard.reserve(owner=owner, ip=ip, price_cents=0, own_key=own_key, lookup=True) if guard else None
        record = RunRecord(self, owner, self._key(user_key), {}, ip=ip, reservation=lookup, typed=True)
        return self._follow(task_id, record, user_key)

    def _follow(
        self,
        task_id: str,
        record: RunRecord,
        user_key: str | None,
        *,
        model: str = "",
        price: int = 0,
        created: float | None = None,
    ) -> Run:
        state = RunState(
            model=model,
            preview=self.backend.is_preview(user_key),
            price_cents=price,
            started=time.monotonic(),
            stage="submitted",
            task=Task(id=task_id, model=model),
        )
        client = self.backend.client(user_key)
        # A task journaled moments ago (the app stopped right after its submit) may not be readable
        # yet: its 404s are ridden out for the rest of the first minute, as they would have been.
        new_task = created is not None and time.time() - created < client.poll_policy.new_task_grace
        record.resumed = True
        updates = client.follow(task_id, self.outputs_dir, first_delay=0, new_task=new_task)
        run = self._keep(Run(state, updates, record.on_state))
        self._runs[task_id] = run
        return run

    def resume_unfinished(self, *, owner: str | None = None, user_key: str | None = None) -> list[Run]:
        """Every live task this key paid for whose clip is not saved yet: on start-up with the
        server's key; when a browser comes back, with that browser's own key."""
        if self.journal is None or self.backend.is_preview(user_key):
            return []
        key = self._key(user_key)
        jobs = self.journal.unfinished(key=key, owner=owner)
        return [self.resume(job.id, owner=job.owner, user_key=user_key) for job in jobs]

    def _keep(self, run: Run) -> Run:
        self._jobs.add(run.job)
        self._live.add(run)

        def done(job: asyncio.Task[None]) -> None:
            self._jobs.discard(job)
            self._live.discard(run)
            if run.state.task_id and self._runs.get(run.state.task_id) is run:
                del self._runs[run.state.task_id]

        run.job.add_done_callback(done)
        return run

    async def drain(self) -> None:
        if self._jobs:
            await asyncio.gather(*self._jobs, return_exceptions=True)


def journal_changes(state: RunState) -> dict[str, Any]:
    """The journal columns a run state sets."""
    task = state.task
    changes: dict[str, Any] = {}
    if task is not None and task.status:
        changes.update(
            status=task.status,
            output_url=task.video_url or "",
            nsfw=int(task.nsfw),
            inference_ms=task.inference_ms,
            error_code=task.error_code,
            error=task.error,
        )
    if state.stage == "done" and state.path is not None:
        changes.update(status="completed", local_path=str(state.path), error="")
    elif state.stage == "error" and state.error is not None:
        error = state.error
        changes["error"] = str(error)
        if isinstance(error, TaskFailedError):
            changes.update(status=error.status, error_code=error.code)
        elif isinstance(error, DownloadError):
            changes.update(status="completed", output_url=error.url)  # done, clip not saved: resumable
    return changes


def _stored(value: Any) -> Path | None:
    return Path(value) if isinstance(value, str) and value and not value.startswith(("http://", "https://")) else None


def journal_params(request: Request, journal: Journal | None) -> dict[str, Any]:
    """The settings of a request, without a key; images as a stored copy or their URL."""
    params: dict[str, Any] = {
        "prompt": request.prompt,
        "negative_prompt": request.negative_prompt,
        "duration": request.duration,
    }
    if isinstance(request, I2VRequest):
        params["guidance_scale"] = request.guidance_scale
        for name in ("image", "end_image"):
            value = getattr(request, name)
            if isinstance(value, PreparedImage):
                params[name] = str(journal.store_image(value)) if journal else ""
            elif value:
                params[name] = str(value)
    else:
        params["aspect_ratio"] = request.aspect_ratio
    return params
