"""Gradio's upload folder under a byte cap: what its upload route stored, oldest unused first.

Gradio keeps every upload for KLING_UPLOAD_MAX_AGE_S (its `delete_cache`) whatever the total, so
anyone could fill the disk within that time. The upload guard (kling/app/upload_guard.py) asks
`room_for` before a body is read and tells `stored` which files the route wrote; past the cap the
files that went longest without being stored or read go first.

What counts as referred to, and is never removed: a file stored or read (`used`: an image field's
decode, which every run does when it starts) less than `keep_s` ago. A run reads its upload once,
when it starts (decoded, then copied into the data folder's inputs/), so after that only the page's
next click on the same image needs the file; a visitor who comes back to it later than `keep_s`
after a flood may have to upload it again. Files Gradio wrote itself (cached outputs, examples)
and the clips the page shows (kling-clips/, capped on its own) are never counted or touched:
only paths the upload route answered with are.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class _Stored:
    size: int
    last_used: float


class UploadShelf:
    def __init__(
        self, folder: Path, cap_bytes: int, *, keep_s: float = 600.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.folder = Path(folder)
        self.cap_bytes = cap_bytes
        self.keep_s = keep_s
        self._clock = clock
        self._lock = threading.Lock()
        self._files: OrderedDict[str, _Stored] = OrderedDict()  # least recently used first
        self._total = 0
        self._pending = 0  # bytes of uploads let in and still being written: counted before they land

    def size(self) -> int:
        with self._lock:
            return self._total

    def stored(self, paths: Iterable[str]) -> None:
        """Files the upload route just wrote (their sizes as they are now)."""
        now = self._clock()
        with self._lock:
            for path in map(os.path.realpath, paths):
                with contextlib.suppress(OSError):
                    if self._inside(path):
                        size = os.stat(path).st_size
                        self._total += size - (self._files[path].size if path in self._files else 0)
                        self._files[path] = _Stored(size, now)
                        self._files.move_to_end(path)

    def used(self, path: str | os.PathLike[str]) -> None:
        """A run (or a check) just read this file: kept for `keep_s` from now."""
        real = os.path.realpath(path)
        with self._lock:
            stored = self._files.get(real)
            if stored is not None:
                stored.last_used = self._clock()
                self._files.move_to_end(real)

    def reserve(self, incoming: int) -> float:
        """Room for `incoming` bytes, made by removing the least recently used files no longer
        referred to, and held until `release`: 0.0 when held, else seconds until the oldest file
        may go (inf: never), holding nothing."""
        if incoming > self.cap_bytes:
            return float("inf")  # removing nothing for what can never fit
        with self._lock:
            needed = self._pending + incoming
            if self._total + needed > self.cap_bytes:
                self._forget_missing()  # only then: a stat per file kept
            now = self._clock()
            for path, stored in list(self._files.items()):
                if self._total + needed <= self.cap_bytes:
                    break
                if now - stored.last_used < self.keep_s:
                    return stored.last_used + self.keep_s - now
                _remove(path)
                del self._files[path]
                self._total -= stored.size
            if self._total + needed > self.cap_bytes:
                return float("inf")
            self._pending = needed
            return 0.0

    def release(self, incoming: int) -> None:
        """The upload `reserve` held room for has ended (what it stored is in `stored`)."""
        with self._lock:
            self._pending = max(0, self._pending - incoming)

    def _forget_missing(self) -> None:
        """Drops files Gradio removed meanwhile (its age limit) from the count."""
        for path in [path for path in self._files if not os.path.exists(path)]:
            self._total -= self._files.pop(path).size

    def _inside(self, path: str) -> bool:
        return Path(path).resolve().is_relative_to(self.folder.resolve())


def _remove(path: str) -> None:
    """The file, and its folder when that is left empty (Gradio makes one per upload's digest)."""
    Path(path).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        Path(path).parent.rmdir()
