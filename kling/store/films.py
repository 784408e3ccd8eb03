"""The page's side of continue and stitch: where last frames and films are kept, and whose they are.

A film's owner is written in a small JSON sidecar beside it (`films/<name>.json` next to
`films/<name>.mp4`), so the films folder says by itself whose each film is; the journal stays a
record of paid tasks. The cutting itself is `kling.media.video`.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from PIL import Image

from kling.config import DataFolder
from kling.media.video import StitchResult, films_dir
from kling.store.disk import remove_film


def frames_dir(data_dir: Path) -> Path:
    """Where the last frames handed to "Continue from the last frame" live: $KLING_DATA_DIR/frames/."""
    return DataFolder(Path(data_dir)).frames


def frame_path(data_dir: Path, task_id: str) -> Path:
    return frames_dir(data_dir) / f"{task_id}.png"


def thumb_path(data_dir: Path, task_id: str) -> Path:
    """A saved clip's thumbnail for History, kept with the last frames (and under their cap)."""
    return frames_dir(data_dir) / f"{task_id}.thumb.jpg"


def pixel_digest(image: Path | str) -> str:
    """SHA-256 of an image's RGB pixels: the same picture whatever file it travelled in."""
    with Image.open(image) as opened:
        rgb = opened.convert("RGB")
        return hashlib.sha256(f"{rgb.size}".encode() + rgb.tobytes()).hexdigest()


@dataclass(frozen=True)
class Film:
    """A stitched film, as its sidecar describes it."""

    name: str  # file name under films_dir, e.g. film-20260101-120000-1a2b3c4d.mp4
    owner: str
    tasks: tuple[str, ...]  # the clips, in the order they play
    crossfade: float
    duration: float
    width: int
    height: int
    preview: bool  # made from at least one simulated clip
    created: float

    def path(self, data_dir: Path) -> Path:
        return films_dir(data_dir) / self.name


def record_film(
    result: StitchResult, *, owner: str, tasks: list[str], crossfade: float, preview: bool, created: float | None = None
) -> Film:
    """Write the film's sidecar beside it; the film now belongs to `owner`."""
    film = Film(
        name=result.path.name,
        owner=owner,
        tasks=tuple(tasks),
        crossfade=crossfade,
        duration=result.duration,
        width=result.width,
        height=result.height,
        preview=preview,
        created=time.time() if created is None else created,
    )
    sidecar = result.path.with_suffix(".json")
    partial = sidecar.with_name(sidecar.name + ".part")
    partial.write_text(json.dumps(asdict(film)))
    partial.replace(sidecar)
    return film


def films_for(data_dir: Path, owner: str) -> list[Film]:
    """The owner's films whose file is still there, newest first."""
    if not owner:
        return []
    found = []
    for sidecar in films_dir(data_dir).glob("*.json"):
        try:
            raw = json.loads(sidecar.read_text())
            film = Film(**{**raw, "tasks": tuple(raw["tasks"])})
        except (OSError, ValueError, TypeError, KeyError):
            continue  # a damaged or foreign sidecar hides its film; it never breaks the list
        if film.owner == owner and film.name == sidecar.with_suffix(".mp4").name and film.path(data_dir).is_file():
            found.append(film)
    return sorted(found, key=lambda film: film.created, reverse=True)


def owned_film(data_dir: Path, owner: str, name: str) -> Film | None:
    """The owner's film called `name` (a name from the page, never a path), or None."""
    return next((film for film in films_for(data_dir, owner) if film.name == name), None)


def oldest_films_past(data_dir: Path, owner: str, keep: int) -> list[Film]:
    """The owner's films beyond the newest `keep`, removed (each with its sidecar): what went."""
    going = films_for(data_dir, owner)[keep:]
    for film in going:
        remove_film(film.path(data_dir))
    return going
