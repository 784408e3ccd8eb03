"""Generations as background jobs, so a closed tab or "Stop waiting" never drops a paid task.

A `Run` drives one generation (or the resumption of one task) in its own asyncio task and keeps
its latest `RunState`. Whoever shows progress (a Gradio handler) watches the run; when the
watcher goes away the run carries on to the end and the clip still lands in the outputs folder.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .backend import Backend
from .client import Request, Task, Update
from .errors import KlingError

STAGE_WORDS = {
    "validating": "Checking the input",
    "uploading": "Uploading the image",
    "submitting": "Submitting the task",
    "submitted": "Task created",
    "created": "Queued at WaveSpeed",
    "processing": "Generating",
    "completed": "Finished",
    "retrying": "Status check failed, retrying",
    "downloading": "Downloading the clip",
    "done": "Done",
    "error": "Failed",
}


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

    @property
    def finished(self) -> bool:
        return self.stage in ("done", "error")

    @property
    def task_id(self) -> str | None:
        return self.task.id if self.task else (self.error.task_id if self.error else None)

    @property
    def status_words(self) -> str:
        key = self.task.status if self.stage == "polled" and self.task else self.stage
        return STAGE_WORDS.get(key, key)

    def elapsed(self, now: float | None = None) -> float:
        return (now if now is not None else time.monotonic()) - self.started


# Called when the task id exists (before the first poll) and at every later change.
Listener = Callable[[RunState], Awaitable[None] | None]


class Run:
    def __init__(self, state: RunState, updates: AsyncIterator[Update], listener: Listener | None) -> None:
        self.state = state
        self._changed = asyncio.Event()
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
                )
        except KlingError as exc:
            await self._set(stage="error", error=exc, message=str(exc))
        except Exception as exc:  # a bug must still end the run visibly, never hang the page
            await self._set(stage="error", error=KlingError(f"Unexpected error: {type(exc).__name__}: {exc}",
                                                           task_id=self.state.task_id), message=str(exc))

    async def _set(self, **changes: Any) -> None:
        self.state = replace(self.state, **changes)
        self._changed.set()
        if self._listener is not None:
            result = self._listener(self.state)
            if asyncio.iscoroutine(result):
                await result

    async def watch(self, tick: float = 1.0) -> AsyncIterator[RunState]:
        """Every change, and at least one snapshot per `tick` seconds, until the run ends."""
        while True:
            try:
                await asyncio.wait_for(self._changed.wait(), tick)
            except asyncio.TimeoutError:
                pass
            self._changed.clear()
            yield self.state
            if self.state.finished:
                return


class Runner:
    """Starts runs and keeps them alive (a reference to each job) until they end."""

    def __init__(self, backend: Backend, *, listener: Listener | None = None) -> None:
        self.backend = backend
        self.listener = listener
        self._jobs: set[asyncio.Task[None]] = set()

    @property
    def outputs_dir(self) -> Path:
        return self.backend.settings.outputs_dir

    def start(self, request: Request, *, user_key: str | None = None, listener: Listener | None = None) -> Run:
        client = self.backend.client(user_key)
        state = RunState(model=request.model, preview=self.backend.is_preview(user_key),
                         price_cents=request.price_cents, started=time.monotonic())
        return self._keep(Run(state, client.stream(request, self.outputs_dir), listener or self.listener))

    def resume(self, task_id: str, *, model: str = "", price_cents: int = 0, user_key: str | None = None,
               listener: Listener | None = None) -> Run:
        client = self.backend.client(user_key)
        state = RunState(model=model, preview=self.backend.is_preview(user_key), price_cents=price_cents,
                         started=time.monotonic(), stage="submitted", task=Task(id=task_id, model=model))
        return self._keep(Run(state, client.follow(task_id, self.outputs_dir, first_delay=0), listener or self.listener))

    def _keep(self, run: Run) -> Run:
        self._jobs.add(run.job)
        run.job.add_done_callback(self._jobs.discard)
        return run

    @property
    def active(self) -> int:
        return len(self._jobs)

    async def drain(self) -> None:
        if self._jobs:
            await asyncio.gather(*self._jobs, return_exceptions=True)
