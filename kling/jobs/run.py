"""One generation as it runs: its latest state (`RunState`) and the asyncio task that drives it (`Run`).

Whoever shows progress (a Gradio handler) watches the run; when the watcher goes away the run carries
on to the end, so a closed tab or "Stop waiting" never drops a paid task.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kling.api.models import Task, Update
from kling.errors import KlingError, public_text
from kling.strings import SAY_EN, Lang, say

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
