"""The data folder stays bounded: what may be removed, when, and what never is.

Preview clips, films, last frames and input copies are each kept under a cap in bytes
(Settings.disk_caps); past it the oldest go first. Each cap is enforced when something of its kind
is written and once at start, when leftover `*.part` files (a write cut short by `kill -9`) are
removed too. Paid clips are never removed automatically: `python -m kling prune` removes those the
operator names by age, and their journal rows stay, marked as pruned.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kling.config import DataFolder, DiskCaps
from kling.store.journal import Job, Journal

DAY_S = 86400


@dataclass(frozen=True)
class Entry:
    path: Path
    size: int
    when: float  # the file's modification time: the order in which entries go


def _entries(folder: Path, pattern: str) -> list[Entry]:
    found = []
    for path in folder.glob(pattern):
        with contextlib.suppress(OSError):  # gone meanwhile
            stat = path.stat()
            if path.is_file():
                found.append(Entry(path, stat.st_size, stat.st_mtime))
    return found


def folder_bytes(folder: Path) -> int:
    """Every file's size under `folder`, recursively."""
    return sum(entry.size for entry in _entries(Path(folder), "**/*"))


def oldest_past(entries: Iterable[Entry], cap: int, keep: frozenset[Path] = frozenset()) -> list[Entry]:
    """The oldest entries to remove so the rest fit in `cap` bytes (never one in `keep`)."""
    ordered = sorted(entries, key=lambda entry: entry.when)
    total = sum(entry.size for entry in ordered)
    going = []
    for entry in ordered:
        if total <= cap:
            break
        if entry.path in keep:
            continue
        going.append(entry)
        total -= entry.size
    return going


def remove_partials(root: Path) -> list[Path]:
    """Every `*.part` file under the data folder: a write that never finished. At start only."""
    removed = []
    for path in Path(root).rglob("*.part"):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return removed


class DiskKeeper:
    """Keeps the removable parts of one data folder under their caps. Thread-safe: handlers call it
    from worker threads."""

    def __init__(self, folder: DataFolder, caps: DiskCaps) -> None:
        self.folder = folder
        self.caps = caps
        self._lock = threading.Lock()

    def at_start(self, journal: Journal | None) -> list[Path]:
        """Leftover partial files, then every cap: what was removed."""
        removed = remove_partials(self.folder.root)
        if journal is not None:
            removed += self.preview_clips(journal)
        return removed + self.films() + self.frames() + self.inputs()

    def preview_clips(self, journal: Journal, keep: Path | None = None) -> list[Path]:
        """Preview clips past their cap, oldest first; their journal rows are marked pruned."""
        with self._lock:
            jobs: dict[Path, Job] = {Path(job.local_path): job for job in journal.saved_clips(mode="preview")}
            entries = []
            for path, job in jobs.items():
                with contextlib.suppress(OSError):
                    entries.append(Entry(path, path.stat().st_size, job.updated))
            going = oldest_past(entries, self.caps.preview_clips, frozenset({keep} if keep else ()))
            for entry in going:
                entry.path.unlink(missing_ok=True)
                journal.mark_pruned(jobs[entry.path].id)
            return [entry.path for entry in going]

    def films(self, keep: Path | None = None) -> list[Path]:
        """Films past their cap, oldest first, each with its sidecar."""
        with self._lock:
            going = oldest_past(
                _entries(self.folder.films, "*.mp4"), self.caps.films, frozenset({keep} if keep else ())
            )
            for entry in going:
                remove_film(entry.path)
            return [entry.path for entry in going]

    def frames(self, keep: Path | None = None) -> list[Path]:
        """Last frames (`<task>.png`) and History's thumbnails (`<task>.thumb.jpg`), under one cap."""
        return self._trim(self.folder.frames, "*.*", self.caps.frames, keep)

    def inputs(self, keep: Path | None = None) -> list[Path]:
        return self._trim(self.folder.inputs, "*", self.caps.inputs, keep)

    def _trim(self, folder: Path, pattern: str, cap: int, keep: Path | None) -> list[Path]:
        with self._lock:
            entries = [entry for entry in _entries(folder, pattern) if not entry.path.name.endswith(".part")]
            going = oldest_past(entries, cap, frozenset({keep} if keep else ()))
            for entry in going:
                entry.path.unlink(missing_ok=True)
            return [entry.path for entry in going]


def remove_film(path: Path) -> None:
    """A film and its owner sidecar."""
    Path(path).unlink(missing_ok=True)
    Path(path).with_suffix(".json").unlink(missing_ok=True)


@dataclass(frozen=True)
class Pruned:
    job: Job
    size: int


def prune_paid_clips(
    journal: Journal, older_than_days: float, *, dry_run: bool, now: float | None = None
) -> list[Pruned]:
    """Paid clips finished more than `older_than_days` ago: removed (unless `dry_run`), each row
    kept and marked pruned so it is never fetched or resumed again."""
    cutoff = (time.time() if now is None else now) - older_than_days * DAY_S
    found = []
    for job in journal.saved_clips(mode="live", before=cutoff):
        path = Path(job.local_path)
        try:
            size = path.stat().st_size
        except OSError:
            size = 0
        found.append(Pruned(job, size))
        if not dry_run:
            path.unlink(missing_ok=True)
            journal.mark_pruned(job.id)
    return found
