"""A showcase: one real Kling clip per example, paid for once by the owner, free for every visitor.

The showcase folder (`KLING_SHOWCASE_DIR`) holds the clips, their poster frames and `manifest.json`;
this module reads it for the page (which never calls the API for it) and writes the manifest.
Making the clips is the paid command's job (kling.cli.showcase).

A showcase task's journal owner is `showcase:<settings digest>`, which is how a later run finds
the task made for exactly these settings.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kling.examples import Generable, settings_digest
from kling.store.journal import Job, Journal, key_fingerprint

log = logging.getLogger("kling.store.showcase")

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
OWNER_PREFIX = "showcase:"
OUTPUT_LIFETIME_S = 7 * 24 * 3600  # WaveSpeed keeps outputs 7 days: an older task cannot be fetched


@dataclass(frozen=True)
class ShowcaseClip:
    """One manifest entry. `root` is the showcase folder (not stored); file names are relative to it."""

    key: str
    settings: dict[str, Any]
    task_id: str
    model: str
    made: str  # ISO 8601, UTC: when the task was submitted
    clip: str  # file name of the MP4
    sha256: str
    poster: str | None = None  # file name of a JPEG of the first frame
    root: Path = field(default=Path("."), compare=False)

    @property
    def clip_path(self) -> Path:
        return self.root / self.clip

    @property
    def poster_path(self) -> Path | None:
        return self.root / self.poster if self.poster else None

    def to_json(self) -> dict[str, Any]:
        return {
            "settings": self.settings,
            "task_id": self.task_id,
            "model": self.model,
            "made": self.made,
            "clip": self.clip,
            "sha256": self.sha256,
            "poster": self.poster,
        }

    @classmethod
    def from_json(cls, key: str, data: Any, root: Path) -> ShowcaseClip:
        """Raises ValueError naming what is wrong with the entry."""
        if not isinstance(data, dict):
            raise ValueError("not an object")  # noqa: TRY004 (one error type for every bad entry)
        text = {name: data.get(name) for name in ("task_id", "model", "made", "clip", "sha256")}
        missing = [name for name, value in text.items() if not isinstance(value, str) or not value]
        if missing or not isinstance(data.get("settings"), dict):
            raise ValueError(f"missing or not text: {', '.join(missing or ['settings'])}")
        poster = data.get("poster")
        for name in (text["clip"], poster):
            if name is not None and not _plain_name(name):
                raise ValueError(f"{str(name)[:80]!r} is not a plain file name in the showcase folder")
        return cls(key=key, settings=data["settings"], poster=poster, root=root, **text)  # type: ignore[arg-type]


def _plain_name(name: object) -> bool:
    """A file directly in the folder: a manifest must not point anywhere else."""
    return isinstance(name, str) and bool(name) and Path(name).name == name and not name.startswith(".")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_showcase(directory: Path | str) -> dict[str, ShowcaseClip]:
    """The manifest's clips whose file is there with the recorded SHA-256. Never raises: a missing
    or unreadable manifest is one log line and no clips; each bad entry is one log line and skipped."""
    root = Path(directory)
    path = root / MANIFEST
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        log.info("No showcase at %s (no %s)", root, MANIFEST)
        return {}
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        log.warning("Ignored the showcase manifest %s: %s", path, exc)
        return {}
    entries = raw.get("clips") if isinstance(raw, dict) else None
    if not isinstance(entries, dict):
        log.warning('Ignored the showcase manifest %s: no "clips" object', path)
        return {}
    clips: dict[str, ShowcaseClip] = {}
    for key, data in entries.items():
        try:
            clip = ShowcaseClip.from_json(str(key), data, root)
        except ValueError as exc:
            log.warning("Ignored showcase entry %r: %s", key, exc)
            continue
        try:
            actual = sha256_file(clip.clip_path)
        except OSError:
            log.warning("Ignored showcase entry %r: its clip %s is missing", key, clip.clip_path)
            continue
        if actual != clip.sha256:
            log.warning("Ignored showcase entry %r: %s does not match its SHA-256 in the manifest", key, clip.clip_path)
            continue
        if clip.poster_path is not None and not clip.poster_path.is_file():
            clip = dataclasses.replace(clip, poster=None)
        clips[clip.key] = clip
    return clips


def plan(examples: Sequence[Generable], manifest: dict[str, ShowcaseClip]) -> list[Generable]:
    """The examples with no clip in the manifest, or whose settings changed since theirs was made."""
    return [
        example
        for example in examples
        if example.key not in manifest or manifest[example.key].settings != example.settings()
    ]


def clip_for(example: Generable, manifest: dict[str, ShowcaseClip]) -> ShowcaseClip | None:
    """The showcase clip of this example as it is now; None when there is none or it was made with
    other settings (an edited prompt must not be shown someone else's output)."""
    clip = manifest.get(example.key)
    return clip if clip is not None and clip.settings == example.settings() else None


def owner_tag(example: Generable) -> str:
    return OWNER_PREFIX + settings_digest(example.settings())


def reusable_task(journal: Journal, example: Generable, key: str | None, *, now: float | None = None) -> Job | None:
    """A task an earlier showcase run made for exactly this example's settings with this key, that
    still gives a clip: one whose clip is saved, else the newest still running (or done at WaveSpeed
    with its clip not fetched yet, within the 7 days WaveSpeed keeps it)."""
    now = time.time() if now is None else now
    fingerprint = key_fingerprint(key)
    jobs = [
        job
        for job in journal.for_owner(owner_tag(example))
        if job.mode == "live" and job.key_fingerprint == fingerprint
    ]
    saved = [job for job in jobs if job.status == "completed" and job.clip_saved]
    if saved:
        return saved[0]
    running = [job for job in jobs if job.unfinished and now - job.created < OUTPUT_LIFETIME_S]
    return running[0] if running else None


def _replace_atomically(path: Path, write: Callable[[Path], object]) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_manifest(directory: Path, clips: dict[str, ShowcaseClip]) -> Path:
    """DIR/manifest.json, replaced in one step: a reader sees the old manifest or the new one."""
    body = {"version": MANIFEST_VERSION, "clips": {key: clips[key].to_json() for key in sorted(clips)}}
    text = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    path = directory / MANIFEST
    _replace_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path
