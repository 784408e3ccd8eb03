"""Generations as background jobs, so a closed tab or "Stop waiting" never drops a paid task.

A `Run` drives one generation (or the resumption of one task) in its own asyncio task and keeps
its latest `RunState`. Whoever shows progress (a Gradio handler) watches the run; when the
watcher goes away the run carries on to the end and the clip still lands in the outputs folder.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from kling.api.backend import Backend
from kling.api.client import AsyncKlingClient
from kling.api.credit import CreditWatch, credit_refusal
from kling.api.models import Request, Task, Update
from kling.api.params import I2VRequest
from kling.errors import InsufficientCreditsError, KlingError, SubmitUncertainError
from kling.jobs.guard import SpendGuard
from kling.jobs.record import RunRecord, journal_params, stored_path
from kling.jobs.run import Run, RunState
from kling.store.disk import DiskKeeper
from kling.store.journal import Journal

# How far before the submit the listing is searched: WaveSpeed's clock and ours differ a little.
LISTING_MARGIN_S = 30.0


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
        """Raises ValidationError or SpendRefused before anything is sent. The request is checked
        here unless `validate()` made it; the client and `payload()` then take it as it is.
        `continues`: the task this one continues from, for its journal row."""
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
            self.disk.inputs(keep=stored_path(params.get("image")))
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

    def run_of(self, task_id: str) -> Run | None:
        """The run this process is still waiting for the task with, to watch it again (a reloaded page)."""
        found = self._runs.get(task_id)
        return found or next((run for run in self._live if run.state.task_id == task_id), None)

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
