"""Checking a visitor's own key with WaveSpeed, and what the page says of it.

A saved key WaveSpeed could not be asked about (offline, its balance endpoint out of reach):
kept, but never shown as live. The banner and the key panel say it is unchecked, and stay so
until the next save or reload rewrites them, rather than a notice that vanishes in seconds.

`KeyChecks`: how often anyone may make the Space ask WaveSpeed about a key."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kling.app.identity import Identity
from kling.app.sliding_window import SlidingWindow, take_all
from kling.strings import Lang, say, spend_text


def unchecked_key(parts: Any, key: str, lang: Lang) -> dict[Any, str]:
    """The banner's and the key panel's words for a saved key not yet checked."""
    return {
        parts.banner: say(lang, "banner.own_key_unchecked"),
        parts.key.info: say(lang, "key.saved_unchecked", last4=key[-4:]),
    }


@dataclass(frozen=True)
class Checked:
    """What WaveSpeed said of a key: accepted (with its balance then) or refused."""

    accepted: bool
    balance: float | None = None


class KeyChecks:
    """Asking WaveSpeed about a visitor's own key (its balance) answers differently for a valid key
    and an invalid one, so unbounded it is a free key checker on the Space's address. Each visitor
    and each address may ask `per_minute` times a minute; an answer is kept for `keep_s` by the key's
    fingerprint (a SHA-256 prefix, never the key), so checking the same key again asks nothing. A
    kept balance may be up to `keep_s` old."""

    def __init__(
        self,
        per_minute: int,
        *,
        keep_s: float = 600.0,
        remember: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = SlidingWindow(per_minute, 60.0, clock=clock)
        self.keep_s = keep_s
        self._remember = remember
        self._clock = clock
        self._answers: OrderedDict[str, tuple[Checked, float]] = OrderedDict()  # fingerprint -> (answer, when)

    def known(self, key: str) -> Checked | None:
        """The answer WaveSpeed gave for this key less than `keep_s` ago, if any."""
        kept = self._answers.get(fingerprint(key))
        return kept[0] if kept is not None and self._clock() - kept[1] < self.keep_s else None

    def take(self, who: Identity) -> float:
        """One check for this visitor and address: 0.0 taken, else seconds until one frees up."""
        return take_all([(self.window, f"visitor:{who.visitor}", 1), (self.window, f"address:{who.address}", 1)]).wait_s

    def remember(self, key: str, answer: Checked) -> None:
        digest = fingerprint(key)
        self._answers[digest] = (answer, self._clock())
        self._answers.move_to_end(digest)
        while len(self._answers) > self._remember:
            self._answers.popitem(last=False)

    def refusal(self, lang: Lang, wait_s: float) -> str:
        return spend_text(lang, "key_checks", limit=self.window.limit, wait_s=wait_s)


def fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
