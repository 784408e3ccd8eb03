"""Fair shares of the server's own work: one visitor's flood must not become everyone's wait.

Three things the server does for a visitor cost it real CPU and memory: decoding an uploaded image
(a small WebP may declare 9400x9400 px and take seconds), a free preview's render, and a
generation's wait. Each is bounded per visitor (the browser or signed-in user: `Identity.owner`)
and per address (`Identity.address`), and the excess is refused at once, in one sentence
(`BusyRefused`), before it waits for anything or sends anything:

- `InFlight`: how many of one kind are under way at once (generations; decodes);
- `HourlyQuota`: free previews per hour per address (the spend guard counts only paid ones);
- `ImageReader`: an upload is decoded once per click, whoever asks (the refusal panel, the queue's
  validator and the run itself all ask): the outcome is kept for a short while by the file's path,
  size and modification time, and a caller asking while it is being decoded waits for that decode.
  Only the caller that decodes takes a decode share.

Decodes per address are bounded below the app's decode slots (`images.DECODE_SLOTS`), so one
address can never hold every slot: another visitor's image is read at once.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from kling.app.identity import Identity
from kling.config import Settings
from kling.errors import BusyRefused, ValidationError
from kling.media.images import ImageSource, PreparedImage, Preparer, is_url, prepare_image
from kling.strings import spend_text

HOUR = 3600.0
Keys = tuple[str, str]  # (owner key, address key) of one ticket


class InFlight:
    """Counts of one kind of work under way, per visitor and per address; `enter` refuses past a
    bound at once (BusyRefused with `reason`_visitor / `reason`_address), never waits."""

    def __init__(self, reason: str, *, per_visitor: int, per_address: int) -> None:
        self.reason = reason
        self.per_visitor = per_visitor
        self.per_address = per_address
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def enter(self, who: Identity) -> Keys:
        keys = (f"owner:{who.owner}", f"address:{who.address}")
        bounds = ((keys[0], self.per_visitor, "visitor"), (keys[1], self.per_address, "address"))
        with self._lock:
            for key, bound, whose in bounds:
                if self._counts.get(key, 0) >= bound:
                    reason = f"{self.reason}_{whose}"
                    raise BusyRefused(spend_text("en", reason, limit=bound), reason=reason, values=(("limit", bound),))
            for key in keys:
                self._counts[key] = self._counts.get(key, 0) + 1
        return keys

    def check(self, who: Identity) -> None:
        """BusyRefused now if `enter` would refuse, taking nothing (a queue's validator asks)."""
        self.leave(self.enter(who))

    def leave(self, keys: Keys) -> None:
        with self._lock:
            for key in keys:
                left = self._counts.get(key, 0) - 1
                if left > 0:
                    self._counts[key] = left
                else:
                    self._counts.pop(key, None)

    @contextmanager
    def hold(self, who: Identity) -> Iterator[None]:
        keys = self.enter(who)
        try:
            yield
        finally:
            self.leave(keys)

    def under_way(self, who: Identity) -> int:
        """How many this visitor's address has under way (the page's own figures and tests)."""
        with self._lock:
            return self._counts.get(f"address:{who.address}", 0)


class HourlyQuota:
    """At most `limit` per address in any hour, counted in this process (free previews cost the
    server CPU, not money: a restart forgets them, which is cheaper than journaling each)."""

    _PRUNE_EVERY = 1000

    def __init__(self, reason: str, limit: int, *, clock: Callable[[], float] = time.time) -> None:
        self.reason = reason
        self.limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        self._times: dict[str, deque[float]] = {}
        self._calls = 0

    def take(self, who: Identity) -> float:
        """One of the address's hour, or BusyRefused saying when the next frees up. Returns the
        moment taken, for `give_back` when the run was not started after all."""
        now = self._clock()
        with self._lock:
            self._prune(now)
            times = self._times.setdefault(who.address, deque())
            while times and times[0] <= now - HOUR:
                times.popleft()
            if len(times) >= self.limit:
                values: tuple[tuple[str, object], ...] = (("limit", self.limit), ("wait_s", times[0] + HOUR - now))
                raise BusyRefused(spend_text("en", self.reason, **dict(values)), reason=self.reason, values=values)
            times.append(now)
        return now

    def give_back(self, who: Identity, taken: float) -> None:
        with self._lock:
            times = self._times.get(who.address)
            if times is not None and taken in times:
                times.remove(taken)

    def _prune(self, now: float) -> None:
        """Addresses whose hour has passed are forgotten, so many addresses cannot grow the table."""
        self._calls += 1
        if self._calls % self._PRUNE_EVERY:
            return
        for address in [a for a, times in self._times.items() if not times or times[-1] <= now - HOUR]:
            del self._times[address]


@dataclass(frozen=True)
class _Read:
    """A decode's outcome: the prepared image (or URL), or what refused it (a ValidationError) or
    broke it (anything else: those waiting for the same read hear of it too)."""

    image: PreparedImage | str | None
    failure: BaseException | None
    at: float

    def outcome(self) -> PreparedImage | str:
        if isinstance(self.failure, ValidationError):
            raise ValidationError(self.failure.problems)  # a fresh one: each caller gets its own
        if self.failure is not None:
            raise self.failure
        assert self.image is not None  # noqa: S101 - one of the two is always set
        return self.image


class ImageReader:
    """Reads uploads once per click, within each visitor's share of the decodes. `decode` is
    prepare_image (tests wrap it to count decodes)."""

    def __init__(
        self,
        decodes: InFlight,
        decode: Preparer = prepare_image,
        *,
        keep_s: float = 120.0,
        keep_bytes: int = 64 << 20,
        clock: Callable[[], float] = time.monotonic,
        on_read: Callable[[str], None] | None = None,
    ) -> None:
        self.decodes = decodes
        self.decode = decode
        # Told each upload a click reads (UploadShelf.used): a file in use is not removed to make room.
        self.on_read = on_read
        self.keep_s = keep_s
        self.keep_bytes = keep_bytes
        self._clock = clock
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple, _Read] = OrderedDict()
        self._reading: dict[tuple, Future[_Read]] = {}

    def preparer(self, who: Identity) -> Preparer:
        """prepare_image for this visitor: I2VRequest.validate(prepare=...)."""
        return lambda source, field: self.prepare(source, field, who)

    def prepare(self, source: ImageSource, field: str, who: Identity) -> PreparedImage | str:
        if isinstance(source, PreparedImage) or (isinstance(source, str) and is_url(source.strip())):
            return source  # nothing to decode
        key = _file_key(source, field)
        if key is None:  # bytes, a data URI, a missing file: decoded (or refused) as they come
            with self.decodes.hold(who):
                return self.decode(source, field)
        if self.on_read is not None:
            self.on_read(key[0])
        mine, pending = self._claim(key, who)
        if not mine:
            return pending.result().outcome()
        read = _Read(None, RuntimeError("the image was not read"), self._clock())
        try:
            read = self._read(source, field)
        finally:  # whatever happened, those waiting hear of it and the decode share is given back
            with self._lock:
                self._reading.pop(key, None)
                if read.failure is None or isinstance(read.failure, ValidationError):
                    self._keep(key, read)
            pending.set_result(read)
        return read.outcome()

    def _claim(self, key: tuple, who: Identity) -> tuple[bool, Future[_Read]]:
        """(True, a new future) when this caller decodes; (False, the outcome's future) when the
        file was read a moment ago or is being read. BusyRefused past the visitor's share."""
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and self._clock() - kept.at < self.keep_s:
                done: Future[_Read] = Future()
                done.set_result(kept)
                return False, done
            if key in self._reading:
                return False, self._reading[key]
            keys = self.decodes.enter(who)
            pending: Future[_Read] = Future()
            pending.add_done_callback(lambda _: self.decodes.leave(keys))
            self._reading[key] = pending
            return True, pending

    def _read(self, source: ImageSource, field: str) -> _Read:
        try:
            return _Read(self.decode(source, field), None, self._clock())
        except Exception as exc:  # noqa: BLE001 - handed to every caller waiting for this read
            return _Read(None, exc, self._clock())

    def _keep(self, key: tuple, read: _Read) -> None:
        self._kept[key] = read
        self._kept.move_to_end(key)
        now = self._clock()
        for old in [k for k, r in self._kept.items() if now - r.at >= self.keep_s]:
            del self._kept[old]
        while self._kept and sum(_weight(r) for r in self._kept.values()) > self.keep_bytes:
            self._kept.popitem(last=False)


def _weight(read: _Read) -> int:
    return len(read.image.data) if isinstance(read.image, PreparedImage) else 1024


def _file_key(source: ImageSource, field: str) -> tuple | None:
    """What identifies one upload: its real path, size and modification time (a file changed in
    place is read again), with the field (a refusal names it)."""
    if not isinstance(source, (str, os.PathLike)) or (
        isinstance(source, str) and source.strip()[:5].lower() == "data:"
    ):
        return None
    try:
        path = os.path.realpath(source)
        stat = os.stat(path)
    except (OSError, ValueError):
        return None
    return (path, stat.st_size, stat.st_mtime_ns, field)


@dataclass
class Share:
    """What one generation took: a place among its visitor's runs (None: their own key, not
    counted) and one of its address's free previews this hour (None: not a preview)."""

    fairness: Fairness
    who: Identity
    run: Keys | None
    preview_at: float | None

    def give_back(self) -> None:
        """The generation did not start (refused, or it failed before its submit)."""
        if self.preview_at is not None:
            self.fairness.previews.give_back(self.who, self.preview_at)
        self.leave()

    def keep_until(self, job: asyncio.Future[Any]) -> None:
        """The generation started: its place is held until its run ends (not when its page stops
        watching: "Stop waiting" leaves the run, and its cost, going); the preview stays counted."""
        job.add_done_callback(lambda _: self.leave())

    def leave(self) -> None:
        run, self.run = self.run, None
        if run is not None:
            self.fairness.runs.leave(run)


@dataclass
class Fairness:
    """The page's shares, built from Settings once per app."""

    runs: InFlight
    previews: HourlyQuota
    images: ImageReader

    def take(self, who: Identity, *, counted: bool, preview: bool) -> Share:
        """A generation's share, or BusyRefused: first its place among the runs under way (a flood
        hears that), then a free preview of the address's hour."""
        run = self.runs.enter(who) if counted else None
        try:
            preview_at = self.previews.take(who) if preview else None
        except BusyRefused:
            if run is not None:
                self.runs.leave(run)
            raise
        return Share(self, who, run, preview_at)

    @classmethod
    def from_settings(
        cls, settings: Settings, decode: Preparer = prepare_image, on_read: Callable[[str], None] | None = None
    ) -> Fairness:
        decodes = InFlight("decodes", per_visitor=settings.decodes_in_flight, per_address=settings.decodes_in_flight)
        return cls(
            runs=InFlight(
                "runs", per_visitor=settings.in_flight_per_visitor, per_address=settings.in_flight_per_address
            ),
            previews=HourlyQuota("previews_hourly", settings.previews_per_hour_per_ip),
            images=ImageReader(decodes, decode, on_read=on_read),
        )
