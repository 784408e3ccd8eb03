"""Task timing: the simulator's tasks, their schedule on its clock (queue, then processing, under
the concurrency cap) and the `data` object a poll, a listing or a webhook answers about each.

Status follows the clock: `created` for `queue_s`, then `processing` for `process_s` per 5 s of
clip, then the task's ending; every delay is multiplied by `time_scale`.
"""

from __future__ import annotations

import asyncio
import base64
import heapq
import random
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from kling.preview.models import API

FINAL_STATUSES = {"completed", "failed", "cancelled", "timeout", "deleted"}
FAILURE_TEXT = {
    1200: "The content was flagged by moderation.",
    1400: "A required parameter is missing.",
    1401: "A parameter is invalid.",
    1402: "The media URL could not be fetched.",
    1403: "Execution failed.",
    1405: "Execution failed.",
    5000: "Internal server error.",
    5003: "The service is unavailable.",
    5004: "The task timed out.",
}


class Timing(Protocol):
    """The delays a simulator's tasks follow (SimConfig has them; read live, so a test may change them)."""

    queue_s: float
    process_s: float
    time_scale: float
    max_concurrent: int | None
    run_jitter: float


@dataclass
class SimTask:
    id: str
    model: str
    params: dict[str, Any]
    submitted: float
    run_s: float
    fail_code: int | None
    final_status: str | None
    nsfw: bool
    stuck: bool
    base64_output: bool
    webhook: str | None
    render: Future[Path] | None = None
    # The render not started yet (render_on_submit=False): started by `clip_of` on first need.
    pending_render: Callable[[], Future[Path]] | None = None
    media_error: str = ""
    undocumented_status: str | None = None
    undocumented_share: float = 0.0
    text_output: str | None = None  # the prompt optimizer's answer: its outputs[0] is text, not a URL


def clip_of(task: SimTask) -> Future[Path] | None:
    """The task's render (None: it has no clip), started now if it was deferred."""
    if task.render is None and task.pending_render is not None:
        task.render, task.pending_render = task.pending_render(), None
    return task.render


def created_at() -> str:
    """Now as WaveSpeed writes `created_at`: ISO 8601, UTC, milliseconds, Z."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: Any) -> float | None:
    if value in (None, ""):
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


class TaskBoard:
    """Every task of one simulated account, and when each one runs."""

    def __init__(self, timing: Timing, clock: Callable[[], float], seed: int) -> None:
        self.tasks: dict[str, SimTask] = {}
        self.timing = timing
        self.clock = clock
        self._rng = random.Random(seed)
        self._schedule_cache: tuple[int, dict[str, tuple[float, float]]] = (-1, {})

    def scaled(self, seconds: float) -> float:
        return seconds * self.timing.time_scale

    def run_seconds(self, duration: int) -> float:
        """How long a new task of `duration` seconds of clip processes, jitter included."""
        jitter = self.timing.run_jitter
        factor = 1 + jitter * (2 * self._rng.random() - 1) if jitter else 1.0
        return self.scaled(self.timing.process_s * duration / 5) * factor

    def add(self, task: SimTask) -> None:
        self.tasks[task.id] = task

    def finish_time(self, task_id: str) -> float:
        """When the task leaves `processing`, on the simulator's clock (inf for a stuck task)."""
        return self._schedule()[task_id][1]

    def _schedule(self) -> dict[str, tuple[float, float]]:
        # Tasks are only ever added, and each one's timing is fixed when it is made: the schedule
        # changes only when a task is added, so it is computed once per task, not once per poll.
        if self._schedule_cache[0] != len(self.tasks):
            self._schedule_cache = (len(self.tasks), self._compute_schedule())
        return self._schedule_cache[1]

    def _compute_schedule(self) -> dict[str, tuple[float, float]]:
        """(start, end) of every task on the clock, honouring the concurrency cap in submit order."""
        cap = self.timing.max_concurrent
        free_at: list[float] = []
        times: dict[str, tuple[float, float]] = {}
        for task in sorted(self.tasks.values(), key=lambda t: t.submitted):
            start = task.submitted + self.scaled(self.timing.queue_s)
            if cap is not None and len(free_at) >= cap:
                start = max(start, heapq.heappop(free_at))
            end = float("inf") if task.stuck else start + task.run_s
            if cap is not None:
                heapq.heappush(free_at, end)
            times[task.id] = (start, end)
        return times

    def status(self, task: SimTask) -> str:
        start, end = self._schedule()[task.id]
        now = self.clock()
        if task.media_error:
            return "failed"
        if task.undocumented_status and now < task.submitted + task.undocumented_share * (end - task.submitted):
            return task.undocumented_status
        if now < start:
            return "created"
        if now < end:
            return "processing"
        if task.fail_code is not None:
            return "failed"
        return task.final_status or "completed"

    def data(self, task: SimTask, base_url: str, status: str | None = None) -> dict[str, Any]:
        status = status or self.status(task)
        data: dict[str, Any] = {
            "id": task.id,
            "model": task.model,
            "outputs": [],
            "urls": {"get": f"{base_url}{API}/predictions/{task.id}/result"},
            "has_nsfw_contents": [],
            "status": status,
            "created_at": task.params["_created_at"],
            "error": "",
            "timings": {"inference": 0},
        }
        if status == "completed":
            data["outputs"] = [task.text_output or f"{base_url}/outputs/{task.id}.mp4"]
            data["has_nsfw_contents"] = [task.nsfw]
            data["timings"] = {"inference": int(task.run_s * 1000 / max(self.timing.time_scale, 1e-9))}
        elif status == "failed":
            # status() says "failed" only for a media error or a fail_code, so 1402 stands for the first.
            code = task.fail_code if task.fail_code is not None and not task.media_error else 1402
            data["error"] = task.media_error or FAILURE_TEXT.get(code, "Execution failed.")
            data["code"] = code
        elif status in FINAL_STATUSES:
            data["error"] = f"The task was {status}."
        return data

    def listed(self, filters: dict[str, Any], after: float | None, before: float | None) -> list[SimTask]:
        """The tasks a listing shows, newest first: filtered by `model`, `status` and creation time."""
        found = []
        for task in sorted(self.tasks.values(), key=lambda t: t.params["_created_at"], reverse=True):
            created = parse_time(task.params["_created_at"]) or 0.0
            if filters.get("model") and task.model != filters["model"]:
                continue
            if filters.get("status") and self.status(task) != filters["status"]:
                continue
            if (after is not None and created < after) or (before is not None and created > before):
                continue
            found.append(task)
        return found

    async def final_data(self, task: SimTask, base_url: str, status: str) -> dict[str, Any]:
        """The task's `data`, with the clip itself in `outputs` when the submit asked for base64."""
        data = self.data(task, base_url, status)
        clip = clip_of(task) if status == "completed" and task.base64_output else None
        if clip is not None:
            path = await asyncio.wrap_future(clip)
            data["outputs"] = [base64.b64encode(path.read_bytes()).decode()]
        return data

    async def wait_final(self, task: SimTask, base_url: str, timeout_s: float) -> dict[str, Any]:
        """Sync mode: the final `data` if the task ends within `timeout_s` (scaled), else its
        current `data` with code 5004 (the task keeps running)."""
        deadline = self.clock() + self.scaled(timeout_s)
        while self.clock() < deadline:
            status = self.status(task)
            if status in FINAL_STATUSES:
                return await self.final_data(task, base_url, status)
            await asyncio.sleep(min(0.05, max(0.0, deadline - self.clock())))
        data = self.data(task, base_url)
        data.update(code=5004, error="Sync mode timed out after 90 seconds; the task is still running.")
        return data

    async def ended(self, task: SimTask) -> str:
        """Wait for the task to end and return its final status."""
        while (status := self.status(task)) not in FINAL_STATUSES:
            # Sleep to the finish (re-checked every 50 ms in case the schedule moves), so whoever
            # waits hears of the end when the task ends.
            await asyncio.sleep(min(0.05, max(0.0, self.finish_time(task.id) - self.clock())))
        return status
