"""One retry rule for the requests that are safe to repeat: uploads, refused submits, downloads.

Each attempt either returns, raises a final error, or raises `Retry` with the error to report if
the attempts run out (and the server's `Retry-After`, if it sent one). Between attempts the
delay doubles from `base` up to `ceiling`; a `Retry-After` wins when longer, up to
`max_retry_after`. Attempts also stop once `budget` seconds have passed on the injected clock.
Clock and sleep are injected so tests run on a fake clock and count every pause.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from kling.errors import KlingError

T = TypeVar("T")


class Retry(Exception):
    """Raised by an attempt that may be repeated; `error` is what the caller sees if none is left."""

    def __init__(self, error: KlingError, *, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


@dataclass(frozen=True)
class Backoff:
    attempts: int = 4
    base: float = 1.0
    ceiling: float = 30.0
    max_retry_after: float = 30.0
    budget: float = 120.0

    def delay(self, failures: int, retry_after: float | None = None) -> float:
        """Seconds to wait after the `failures`-th failed attempt (1 for the first)."""
        delay = min(self.ceiling, self.base * 2 ** (failures - 1))
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_retry_after))
        return delay


async def with_retries(
    attempt: Callable[[], Awaitable[T]],
    policy: Backoff,
    *,
    sleep: Callable[[float], Awaitable[None]],
    clock: Callable[[], float],
) -> T:
    """`attempt()` until it returns or raises anything but `Retry`, at most `policy.attempts` times."""
    started = clock()
    failures = 0
    while True:
        try:
            return await attempt()
        except Retry as retry:
            failures += 1
            delay = policy.delay(failures, retry.retry_after)
            if failures >= policy.attempts or clock() - started + delay > policy.budget:
                raise retry.error from None
            await sleep(delay)
