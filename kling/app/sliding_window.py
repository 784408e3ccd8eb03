"""A sliding-window counter: at most `limit` units (requests, or bytes) per key in any `window_s`
seconds. Pure: the clock is injected and nothing is read or written outside the object.

`take_all` takes from several windows together or from none, so an upload refused by its
address's bytes does not use up its count, and one refused by the visitor's count does not use up
the address's bytes.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# One lock for every window: `take_all` checks and takes across windows in one step. Each step is
# a few dictionary operations, so sharing it costs nothing measurable.
_LOCK = threading.Lock()


class SlidingWindow:
    def __init__(
        self, limit: int, window_s: float, *, clock: Callable[[], float] = time.monotonic, prune_every: int = 1000
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._prune_every = prune_every
        self._calls = 0
        self._entries: dict[str, deque[tuple[float, int]]] = {}
        self._totals: dict[str, int] = {}

    def wait(self, key: str, amount: int = 1) -> float:
        """Seconds until `amount` more fits under the limit: 0.0 now, inf never (more than the limit)."""
        with _LOCK:
            return self._wait(key, amount, self._clock())

    def take(self, key: str, amount: int = 1) -> float:
        """Counts `amount` now if it fits (0.0), else counts nothing and says how long until it would."""
        return take_all([(self, key, amount)]).wait_s

    def give_back(self, key: str) -> None:
        """The latest take of `key` did no work after all: it does not count."""
        with _LOCK:
            entries = self._entries.get(key)
            if entries:
                self._totals[key] -= entries.pop()[1]

    def used(self, key: str) -> int:
        with _LOCK:
            self._expire(key, self._clock())
            return self._totals.get(key, 0)

    def _wait(self, key: str, amount: int, now: float) -> float:
        if amount > self.limit:
            return math.inf
        self._expire(key, now)
        over = self._totals.get(key, 0) + amount - self.limit
        for at, counted in self._entries.get(key, ()):  # oldest first: when enough has slid out
            if over <= 0:
                break
            over -= counted
            if over <= 0:
                return at + self.window_s - now
        return 0.0

    def _add(self, key: str, amount: int, now: float) -> None:
        self._entries.setdefault(key, deque()).append((now, amount))
        self._totals[key] = self._totals.get(key, 0) + amount
        self._calls += 1
        if self._calls % self._prune_every == 0:
            self._prune(now)

    def _expire(self, key: str, now: float) -> None:
        entries = self._entries.get(key)
        while entries and entries[0][0] <= now - self.window_s:
            self._totals[key] -= entries.popleft()[1]
        if entries is not None and not entries:
            del self._entries[key], self._totals[key]

    def _prune(self, now: float) -> None:
        """Keys whose window has passed are forgotten, so many addresses cannot grow the table."""
        for key in list(self._entries):
            self._expire(key, now)


@dataclass(frozen=True)
class Taken:
    """What `take_all` did: `refused_by` is the index of the first window that refused (None: all
    taken), `wait_s` how long until it would fit (0.0 when taken)."""

    refused_by: int | None = None
    wait_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.refused_by is None


def take_all(takes: Sequence[tuple[SlidingWindow, str, int]]) -> Taken:
    """Counts each (window, key, amount) now, or none of them if any one would go past its limit."""
    with _LOCK:
        nows = [window._clock() for window, _, _ in takes]
        for index, ((window, key, amount), now) in enumerate(zip(takes, nows)):
            wait = window._wait(key, amount, now)
            if wait > 0:
                return Taken(index, wait)
        for (window, key, amount), now in zip(takes, nows):
            window._add(key, amount, now)
    return Taken()
