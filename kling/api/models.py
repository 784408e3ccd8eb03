"""What the client hands out and takes in: a task's snapshot (`Task`), one step of a generation
(`Update`), how often to poll (`PollPolicy`), and the statuses and ids the API speaks in."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kling.api.params import I2VRequest, T2VRequest
from kling.errors import ProtocolError

# The statuses that end a wait (WaveSpeed's SDK 2.0.5 stops on exactly these); anything else runs.
FINAL = frozenset({"completed", "failed", "cancelled", "timeout", "deleted"})
DOCUMENTED = frozenset({"created", "processing", "completed", "failed"})
TASK_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
# Reasons for `data.code` on a failed task (docs/API.md, from WaveSpeed's docs).
FAILURE_REASONS = {
    1200: "blocked by content moderation",
    1400: "a required parameter was missing",
    1401: "a parameter was invalid",
    1402: "an image URL could not be fetched by WaveSpeed",
    1403: "generation failed",
    1405: "generation failed",
    5000: "WaveSpeed had an internal error",
    5003: "the model was unavailable",
    5004: "the task timed out at WaveSpeed",
}

Request = I2VRequest | T2VRequest


@dataclass(frozen=True)
class Task:
    """A snapshot of one prediction, read from the envelope's `data` object."""

    id: str
    model: str = ""
    status: str = "created"
    outputs: tuple[str, ...] = ()
    has_nsfw_contents: tuple[bool, ...] = ()
    error: str = ""
    error_code: int | None = None
    created_at: str = ""
    inference_ms: int | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Task:
        task_id = data.get("id")
        if not isinstance(task_id, str) or not task_id:
            raise ProtocolError("The API's answer has no task id in `data.id`.")
        timings = data.get("timings")
        timings = timings if isinstance(timings, Mapping) else {}
        inference = timings.get("inference")
        code = data.get("code")
        return cls(
            id=task_id,
            model=str(data.get("model") or ""),
            status=str(data.get("status") or ""),
            outputs=tuple(o for o in data.get("outputs") or () if isinstance(o, str)),
            has_nsfw_contents=tuple(bool(n) for n in data.get("has_nsfw_contents") or ()),
            error=str(data.get("error") or ""),
            error_code=code if isinstance(code, int) and not isinstance(code, bool) else None,
            created_at=str(data.get("created_at") or ""),
            inference_ms=inference if isinstance(inference, int) and not isinstance(inference, bool) else None,
        )

    @property
    def in_flight(self) -> bool:
        return self.status not in FINAL

    @property
    def video_url(self) -> str | None:
        return self.outputs[0] if self.outputs else None

    @property
    def nsfw(self) -> bool:
        return any(self.has_nsfw_contents)


@dataclass(frozen=True)
class Update:
    """One step of a generation, for progress displays.

    stage: "uploading", "submitting", "recovering", "submitted", "polled", "retrying", "downloading",
    "done". `note` is something to keep showing for the rest of the run (e.g. "recovered").
    """

    stage: str
    task: Task | None = None
    message: str = ""
    path: Path | None = None
    note: str = ""


@dataclass(frozen=True)
class PollPolicy:
    """How often to ask, shaped by what is known of Kling's latency (docs/API.md): 1.5 to 5 min
    for a 5 s clip, a tail past 10 min, and WaveSpeed asks for about 5 s between polls and backoff.

    * one look after `first` s: a refused input or an unreachable image fails within seconds;
    * then `early` s apart until `likely_from` s into the wait, while completion is unlikely;
    * `interval` s apart (WaveSpeed's floor) until `likely_until` s, where completions cluster;
      the mean delay between completion and knowing it is then about half of `interval`;
    * past `likely_until`, in proportion to the time already waited (the delay stays the same
      small share of the wait), up to `ceiling`.

    Jitter only lengthens a wait, so the floor holds. With a webhook expected, polling is only
    the safety net: at least `safety_net` s apart after the first look. `scaled(k)` multiplies
    every duration by k; benchmarks pair it with the simulator's `time_scale`.
    """

    first: float = 2.0
    early: float = 6.0
    likely_from: float = 20.0
    interval: float = 5.0
    likely_until: float = 360.0
    ceiling: float = 15.0
    jitter: float = 0.1
    safety_net: float = 60.0
    deadline: float = 20 * 60.0
    max_retry_after: float = 60.0
    new_task_grace: float = 60.0

    def delay(self, polls_done: int, rng: random.Random, elapsed: float = 0.0, *, webhook: bool = False) -> float:
        """Seconds to wait before the next poll, with `polls_done` polls made `elapsed` s into the wait."""
        if polls_done == 0:
            base = self.first
        elif elapsed < self.likely_from:
            base = self.early
        elif elapsed < self.likely_until:
            base = self.interval
        else:
            base = self.interval * elapsed / self.likely_until
        base = min(self.ceiling, base)
        if webhook and polls_done:
            base = max(base, self.safety_net)
        return base * (1 + self.jitter * rng.random())

    def scaled(self, factor: float) -> PollPolicy:
        """The same schedule on a clock running `factor` times as fast (0.1: ten times faster)."""
        durations = (
            "first",
            "early",
            "likely_from",
            "interval",
            "likely_until",
            "ceiling",
            "safety_net",
            "deadline",
            "max_retry_after",
            "new_task_grace",
        )
        return replace(self, **{name: getattr(self, name) * factor for name in durations})


def is_task_id(value: str) -> bool:
    """WaveSpeed ids are hex; anything else must not reach a URL path."""
    return bool(TASK_ID.fullmatch(value or ""))


def task_failed_message(task: Task) -> str:
    reason = FAILURE_REASONS.get(task.error_code or 0, "")
    if task.status != "failed":
        reason = f"it ended with status '{task.status}'"
    parts = [f"Task {task.id} failed"]
    if reason:
        parts.append(f": {reason}")
    if task.error_code is not None:
        parts.append(f" (code {task.error_code})")
    if task.error:
        parts.append(f". WaveSpeed says: {task.error}")
    return "".join(parts) + "."
