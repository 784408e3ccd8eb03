"""A submit refused for credit (a 402, also inside an HTTP 200, or a refusal saying "insufficient"):
the balance, read at once (free), and where to top up, said to whoever can act on it.

With a visitor's own key, the visitor: their balance and WaveSpeed's top-up page. With the Space's
key, the owner: one log line, and the notice the Usage tab shows; the visitor is told the Space is
out of credit and may use their own key, never the Space's balance.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from kling.api.client import AsyncKlingClient
from kling.api.params import format_price
from kling.errors import InsufficientCreditsError, KlingError

log = logging.getLogger("kling.api.credit")

TOP_UP_URL = "https://wavespeed.ai"  # WaveSpeed's site: its account pages take top-ups


@dataclass(frozen=True)
class CreditNotice:
    """The last time the Space's key was refused for credit, and the balance then (None: unread)."""

    at: float
    balance: float | None
    price_cents: int


class CreditWatch:
    """What the Usage tab reads: the last credit refusal of the Space's key."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.last: CreditNotice | None = None

    def record(self, balance: float | None, price_cents: int) -> CreditNotice:
        notice = CreditNotice(self._clock(), balance, price_cents)
        with self._lock:
            self.last = notice
        return notice


async def read_balance(client: AsyncKlingClient) -> float | None:
    try:
        return await client.balance()
    except (KlingError, httpx.HTTPError):
        return None


def _balance_words(balance: float | None) -> str:
    return f"${balance:,.2f}" if balance is not None else "unknown (the balance could not be read)"


async def credit_refusal(
    client: AsyncKlingClient, error: InsufficientCreditsError, *, own_key: bool, price_cents: int, watch: CreditWatch
) -> InsufficientCreditsError:
    """The error to show instead of `error`: with the balance and where to top up, for its reader."""
    balance = await read_balance(client)
    price = format_price(price_cents)
    if own_key:
        message = (
            f"WaveSpeed refused the submit for credit: your account's balance is {_balance_words(balance)} and this "
            f"clip costs {price}. Top up at {TOP_UP_URL}, then try again. No task was created; nothing was charged."
        )
    else:
        watch.record(balance, price_cents)
        log.warning(
            "The Space's WaveSpeed key was refused for credit: balance %s, a clip costs %s. Top up at %s.",
            _balance_words(balance),
            price,
            TOP_UP_URL,
        )
        message = (
            "WaveSpeed refused the submit: this Space's WaveSpeed account is out of credit, and its owner has been "
            "told. Try again later, or use your own WaveSpeed key. No task was created; nothing was charged."
        )
    refused = InsufficientCreditsError(message)
    refused.http_status = error.http_status
    return refused
