"""The poll loop: `Poller.once` asks for a task's status one time and says what the answer means;
`Poller.watch` asks again on `PollPolicy`'s schedule until the task ends.

Polls never come closer than WaveSpeed asks, honour `Retry-After`, ride out 429/5xx/time-outs and
unreadable answers (three in a row end the wait), stop at once on 401/403, and end at a total
deadline with the task id in the error. A webhook (`nap` wakes early) ends a wait's sleep at once.
A 404 just after a submit is ridden out for `new_task_grace` s (a new id may not be readable at
once). Only `completed`, `failed`, `cancelled`, `timeout` and `deleted` end a wait; any other
status, documented or not, means the task is still running (as WaveSpeed's SDK 2.x reads it).
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx

from kling.api.answers import effective_status, envelope_data, parse_retry_after
from kling.api.connection import Connection
from kling.api.models import DOCUMENTED, FINAL, PollPolicy, Task, Update, task_failed_message
from kling.errors import DeadlineExceededError, NotFoundError, ProtocolError, TaskFailedError

UNREADABLE_IN_A_ROW = 3


@dataclass(frozen=True)
class Answer:
    """What one status request said: a readable snapshot, or why to ask again (and when)."""

    task: Task | None = None
    retry: str = ""
    retry_after: float | None = None
    unreadable: ProtocolError | None = None


def _unknown_task(task_id: str) -> NotFoundError:
    error = NotFoundError(
        f"Unknown or expired task {task_id}: WaveSpeed does not know it (404; tasks are kept 7 days).",
        task_id=task_id,
    )
    error.http_status = 404
    return error


def finished(task: Task, scrub: Callable[[str], str]) -> bool:
    """True for a completed snapshot with an output, False while the task runs; TaskFailedError else."""
    if task.in_flight:
        return False
    if task.status == "completed" and task.outputs:
        return True
    if task.status == "completed":
        raise TaskFailedError(f"Task {task.id} completed without an output.", task_id=task.id, status=task.status)
    raise TaskFailedError(scrub(task_failed_message(task)), task_id=task.id, code=task.error_code, status=task.status)


@dataclass(frozen=True)
class Poller:
    conn: Connection
    policy: PollPolicy
    clock: Callable[[], float]
    rng: random.Random
    nap: Callable[[str, float], Awaitable[None]]

    async def once(self, task_id: str, *, in_grace: Callable[[], bool] = lambda: False) -> Answer:
        """One status request. Raises for an answer that ends the wait (404 outside `in_grace`,
        401/403 and other refusals); returns an Answer for everything worth asking again."""
        conn = self.conn
        try:
            response = await conn.http.get(conn.result_url(task_id), headers=conn.headers())
        except httpx.TransportError as exc:
            return Answer(retry=f"status check failed ({type(exc).__name__}); trying again")
        status = effective_status(response)
        if status in (429, 408) or status >= 500:
            retry_after = parse_retry_after(response.headers.get("retry-after"), self.policy.max_retry_after)
            when = f"in {retry_after:.0f} s" if retry_after is not None else "shortly"
            return Answer(retry=f"status check answered {status}; trying again {when}", retry_after=retry_after)
        if status == 404 and in_grace():
            return Answer(retry=f"task {task_id} is not readable yet (404); trying again")
        if status == 404:
            raise _unknown_task(task_id)
        if status != 200:
            raise conn.error(response, task_id=task_id, what="read the task")
        try:
            return Answer(task=Task.from_data(envelope_data(response)))
        except ProtocolError as exc:
            return Answer(unreadable=exc)

    async def watch(
        self, task_id: str, *, first_delay: float | None = None, webhook: bool = False, new_task: bool = False
    ) -> AsyncIterator[Update]:
        """Poll until the task ends. Yields "polled" and "retrying" updates; returns after a
        completed snapshot; raises TaskFailedError, DeadlineExceededError or a fatal HTTP error.

        `webhook`: a webhook was requested for this task, so polls are only the safety net.
        `new_task`: the task was created just now, so a 404 is ridden out for `new_task_grace` s."""
        started = self.clock()
        polls = bad_answers = 0
        retry_after: float | None = None

        def in_grace() -> bool:
            return new_task and self.clock() - started < self.policy.new_task_grace

        while True:
            delay = first_delay if polls == 0 and first_delay is not None else None
            await self.nap(task_id, self._next_delay(task_id, started, polls, delay, retry_after, webhook=webhook))
            polls += 1
            answer = await self.once(task_id, in_grace=in_grace)
            retry_after = answer.retry_after
            if answer.task is None:
                bad_answers += answer.unreadable is not None  # other failures neither count nor reset
                yield Update("retrying", message=self._retry_message(task_id, answer, bad_answers))
                continue
            bad_answers = 0
            yield Update("polled", task=answer.task, message=_undocumented_note(answer.task))
            if finished(answer.task, self.conn.scrub):
                return

    def _next_delay(
        self, task_id: str, started: float, polls: int, first: float | None, retry_after: float | None, *, webhook: bool
    ) -> float:
        """Seconds to sleep before the next poll; DeadlineExceededError once the deadline has come."""
        policy = self.policy
        now = self.clock()
        remaining = started + policy.deadline - now
        if remaining <= 0:
            raise DeadlineExceededError(
                f"Stopped waiting for task {task_id} after {policy.deadline / 60:.0f} min. It keeps running "
                f"at WaveSpeed and is billed; resume it with: python -m kling result {task_id}",
                task_id=task_id,
            )
        delay = first if first is not None else policy.delay(polls, self.rng, now - started, webhook=webhook)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return min(delay, remaining)

    @staticmethod
    def _retry_message(task_id: str, answer: Answer, bad_answers: int) -> str:
        """The "retrying" update's words; ProtocolError once too many answers in a row were unreadable."""
        if answer.unreadable is None:
            return answer.retry
        if bad_answers >= UNREADABLE_IN_A_ROW:
            raise ProtocolError(
                f"{answer.unreadable} (task {task_id}, {UNREADABLE_IN_A_ROW} times in a row)", task_id=task_id
            ) from None
        return f"unreadable status answer; trying again ({answer.unreadable})"


def _undocumented_note(task: Task) -> str:
    undocumented = task.status not in DOCUMENTED and task.status not in FINAL
    return f"status {task.status or '(empty)'}, not documented: still waiting" if undocumented else ""
