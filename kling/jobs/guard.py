"""The spend guard: the Space's own key is a wallet on the open internet.

Limits apply only to generations paid with the server's key: tasks per hour per browser and per
address, and a daily budget in dollars across everyone. They are counted from the journal (so a
restart resets nothing; lost submits have rows too) plus the reservations of submits still in
flight (so fifty simultaneous clicks cannot all slip past a limit before any row exists). A task id
typed to be resumed is looked up with the server's key too: each lookup of an id the journal does
not hold counts against the same hourly limits for an hour, unless WaveSpeed answers with a task
(its row counts from then on). A visitor's own key is never limited.

Calls to WaveSpeed's prompt optimizer ($0.001, a tenth of a cent) have hourly limits of their own
and count in the same daily budget. They are journaled apart from clips, in mills (tenths of a
cent), and the budget is compared in mills, so a thousand calls are $1.00, not $10.00 or nothing.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from kling.api.params import format_price
from kling.config import Settings
from kling.errors import SpendRefused
from kling.store.journal import Journal, short_hash
from kling.strings import spend_text

HOUR = 3600.0


@dataclass(frozen=True)
class Reservation:
    id: str
    owner: str
    ip_hash: str
    price_cents: int
    created: float
    expires: float | None = None  # a typed id's lookup counts for an hour; a generation's until released


class SpendGuard:
    def __init__(self, settings: Settings, journal: Journal, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.journal = journal
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: dict[str, Reservation] = {}

    def _day_start(self, now: float) -> float:
        today = datetime.fromtimestamp(now, timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        return today.timestamp()

    def budget_left_cents(self) -> int | None:
        budget = self.settings.daily_budget_cents
        if budget is None or not self.settings.api_key:
            return None
        with self._lock:
            spent_mills = self._spent_mills(self._day_start(self._clock()), list(self._pending.values()))
        return max(0, (budget * 10 - spent_mills) // 10)

    def _spent_mills(self, day_start: float, pending: list[Reservation]) -> int:
        """Today's spend on the server's key in mills: clips, submits in flight, prompt calls."""
        key = self.settings.api_key
        _, cents, _ = self.journal.usage(key=key, since=day_start)
        _, mills, _ = self.journal.prompt_usage(key=key, since=day_start)
        return (cents + sum(r.price_cents for r in pending)) * 10 + mills

    def reserve(
        self, *, owner: str, ip: str, price_cents: int, own_key: bool, lookup: bool = False
    ) -> Reservation | None:
        """A slot for one generation (or, with `lookup`, one typed task id's lookup, free but a
        request on the key), or SpendRefused saying which limit and when it resets.
        None when no limit applies (the visitor pays, or it is a free preview)."""
        settings = self.settings
        if own_key:
            return None
        if settings.require_user_key:
            raise SpendRefused(spend_text("en", "own_key_required"), reason="own_key_required")
        if not settings.api_key:
            return None  # preview: free
        now = self._clock()
        ip_hash = short_hash(ip)
        with self._lock:
            self._pending = {k: r for k, r in self._pending.items() if r.expires is None or r.expires > now}
            self._check(owner=owner, ip=ip, ip_hash=ip_hash, price_cents=price_cents, now=now, lookup=lookup)
            expires = now + HOUR if lookup else None
            reservation = Reservation(uuid.uuid4().hex, owner, ip_hash, price_cents, now, expires)
            self._pending[reservation.id] = reservation
        return reservation

    def release(self, reservation: Reservation | None) -> None:
        """Called once the task is in the journal (it counts from there) or the submit was refused.
        Not called when a submit's outcome stays unknown (no task found for it): that reservation
        keeps counting, in this process, so uncertain submits cannot push a budget open."""
        if reservation is not None:
            with self._lock:
                self._pending.pop(reservation.id, None)

    def _check(self, *, owner: str, ip: str, ip_hash: str, price_cents: int, now: float, lookup: bool) -> None:
        settings, key = self.settings, self.settings.api_key
        pending = list(self._pending.values())
        hour_ago = now - HOUR
        limits = (
            ("browser", settings.tasks_per_hour_per_browser, {"owner": owner}, lambda r: r.owner == owner),
            ("address", settings.tasks_per_hour_per_ip, {"ip": ip}, lambda r: r.ip_hash == ip_hash),
        )
        for who, limit, where, mine in limits:
            count, _, oldest = self.journal.usage(key=key, since=hour_ago, **where)
            count += sum(1 for r in pending if mine(r))
            if count >= limit:
                wait = (oldest + HOUR - now) if oldest else HOUR
                values: tuple[tuple[str, object], ...] = (("limit", limit), ("wait_s", wait))
                reason = f"{'lookup' if lookup else 'hourly'}_{who}"
                raise SpendRefused(spend_text("en", reason, **dict(values)), reason=reason, values=values)
        if not lookup:
            self._check_budget(price_cents * 10, format_price(price_cents), now, pending)

    def _check_budget(self, price_mills: int, price: str, now: float, pending: list[Reservation]) -> None:
        budget = self.settings.daily_budget_cents
        if budget is None:
            return
        day_start = self._day_start(now)
        spent_mills = self._spent_mills(day_start, pending)
        if spent_mills + price_mills > budget * 10:
            values = (
                ("budget", format_price(budget)),
                ("left", format_price(max(0, budget * 10 - spent_mills) // 10)),
                ("price", price),
                ("wait_s", day_start + 24 * HOUR - now),
            )
            reason = "budget" if price_mills >= 10 else "prompt_budget"
            raise SpendRefused(spend_text("en", reason, **dict(values)), reason=reason, values=values)

    # -- the prompt optimizer ---------------------------------------------------------------------

    def admit_prompt_call(self, *, owner: str, ip: str, own_key: bool, price_mills: int, price: str) -> int | None:
        """Journal one prompt optimizer call on the server's key before it is sent (its id, to settle
        it), or SpendRefused when its hourly limits or the daily budget say no. None when no limit
        applies (the visitor's own key, or a free preview)."""
        settings = self.settings
        if own_key:
            return None
        if settings.require_user_key:
            raise SpendRefused(spend_text("en", "own_key_required"), reason="own_key_required")
        if not settings.api_key:
            return None
        now = self._clock()
        limits = (
            ("browser", settings.prompt_help_per_hour_per_browser, {"owner": owner}),
            ("address", settings.prompt_help_per_hour_per_ip, {"ip": ip}),
        )
        with self._lock:
            for who, limit, where in limits:
                count, _, oldest = self.journal.prompt_usage(key=settings.api_key, since=now - HOUR, **where)
                if count >= limit:
                    wait = (oldest or now) + HOUR - now
                    values: tuple[tuple[str, object], ...] = (("limit", limit), ("wait_s", wait))
                    reason = f"prompt_{who}"
                    raise SpendRefused(spend_text("en", reason, **dict(values)), reason=reason, values=values)
            self._check_budget(price_mills, price, now, list(self._pending.values()))
            return self.journal.record_prompt_call(
                owner=owner, ip=ip, key=settings.api_key, price_mills=price_mills, when=now
            )

    def settle_prompt_call(self, call_id: int | None, *, charged: bool) -> None:
        """A call WaveSpeed refused made no task and costs nothing; it still counts as a request."""
        if call_id is not None and not charged:
            self.journal.settle_prompt_call(call_id, price_mills=0)
