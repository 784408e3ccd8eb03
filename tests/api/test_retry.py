"""kling.api.retry: the one backoff rule, on a fake clock."""

from __future__ import annotations

import asyncio

import pytest

from kling.api.retry import Backoff, Retry, with_retries
from kling.errors import ServerError
from tests.helpers.fakes import FakeTime


def attempts_until(success_on: int | None, retry_after: float | None = None):
    calls = []

    async def attempt() -> str:
        calls.append(1)
        if success_on is not None and len(calls) >= success_on:
            return "ok"
        raise Retry(ServerError(f"failure {len(calls)}"), retry_after=retry_after)

    return attempt, calls


def test_delays_double_up_to_the_ceiling_and_the_last_error_is_raised():
    time_ = FakeTime()
    attempt, calls = attempts_until(None)
    with pytest.raises(ServerError, match="failure 5"):
        asyncio.run(with_retries(attempt, Backoff(attempts=5, ceiling=4.0), sleep=time_.sleep, clock=time_.clock))
    assert len(calls) == 5 and time_.sleeps == [1.0, 2.0, 4.0, 4.0]


def test_retry_after_wins_when_longer_but_is_capped():
    time_ = FakeTime()
    attempt, _ = attempts_until(3, retry_after=100.0)
    result = asyncio.run(with_retries(attempt, Backoff(max_retry_after=7.0), sleep=time_.sleep, clock=time_.clock))
    assert result == "ok" and time_.sleeps == [7.0, 7.0]


def test_the_time_budget_stops_retrying_before_the_attempts_run_out():
    time_ = FakeTime()
    attempt, calls = attempts_until(None)
    with pytest.raises(ServerError):
        asyncio.run(with_retries(attempt, Backoff(attempts=10, budget=5.0), sleep=time_.sleep, clock=time_.clock))
    assert time_.sleeps == [1.0, 2.0] and len(calls) == 3  # a 4 s pause would pass the 5 s budget


def test_an_error_that_is_not_a_retry_ends_at_once():
    time_ = FakeTime()

    async def attempt() -> str:
        raise ServerError("final")

    with pytest.raises(ServerError, match="final"):
        asyncio.run(with_retries(attempt, Backoff(), sleep=time_.sleep, clock=time_.clock))
    assert time_.sleeps == []
