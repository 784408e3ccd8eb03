"""The rules of sharing, and what a shared link serves.

Only the owner shares or stops sharing (the owner is the one the server derived for the request,
never one a client sent); a clip WaveSpeed flagged as NSFW is never shared; nothing is sent to any
API. A share resolves to exactly three files: a copy of the clip (or film) made when it was shared,
whose recipe names no task id (a link names nothing but itself; the owner's own clip keeps its whole
recipe), its poster, and, for image-to-video, the start image's stored copy. Nothing else of the data
folder is named by a share, and once the row is gone none of them is.

A share's own files (`shared/<id>.jpg`, `shared/<id>.mp4`) are written only while it is shared:
making them and unsharing hold the share's lock, and the row is read again after writing (another
process's unshare takes no lock of ours), so a file never outlives its row. Files left without a row
all the same (an older version, a crash) are swept at start and by `python -m kling prune`.
"""

from __future__ import annotations

import io
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from kling.config import DataFolder
from kling.errors import FilmError, ShareRefused
from kling.media.poster_frame import video_size, write_poster
from kling.media.recipe import Recipe, copy_with_recipe, read_recipe
from kling.store.films import owned_film
from kling.store.journal import Job, Journal
from kling.store.share_links import CLIP, FILM, Share, ShareStore
from kling.store.stamps import job_recipe, stamp_clip

# Striped rather than one per id, so no table grows with the ids ever seen; re-entrant, so a
# resolve holding its share's lock may make the share's missing files.
_SHARE_LOCKS = tuple(threading.RLock() for _ in range(64))
# What a share resolves to is kept this long (the files' Cache-Control says the same): a clip
# flagged or pruned after sharing stops being served within it; an unshare, from the next request.
RESOLVED_TTL_S = 60.0
RESOLVED_KEPT = 512  # shares whose resolution is kept, least recently viewed dropped first


def share_lock(share_id: str) -> threading.RLock:
    """The lock that makes writing a share's files and unsharing it exclusive, in this process
    (every Sharing of it: the page's, the routes', the start-up sweep's)."""
    return _SHARE_LOCKS[hash(share_id) % len(_SHARE_LOCKS)]


def share_id_of(path: Path) -> str:
    """The share a file of the shared folder belongs to: `<id>.jpg`, `<id>.mp4`, `.<id>.mp4.x.part`."""
    return path.name.lstrip(".").split(".", 1)[0]


@dataclass(frozen=True)
class SharedClip:
    """What /clip/<id> serves for one share."""

    share: Share
    video: Path  # the shared copy: the clip's packets, its recipe without task ids
    poster: Path
    recipe: Recipe  # as the shared copy carries it: no task id
    size: tuple[int, int]  # the video's width and height
    poster_size: tuple[int, int]
    image: Path | None = None  # image-to-video: the stored copy of the start image
    poster_bytes: bytes = b""  # served from memory: a poster is tens of KB
    video_stat: os.stat_result | None = None  # taken once, so serving the file stats nothing
    image_stat: os.stat_result | None = None

    @property
    def film(self) -> bool:
        return self.share.kind == FILM


class Sharing:
    def __init__(self, folder: DataFolder, journal: Journal, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.folder = folder
        self.journal = journal
        self.store = ShareStore(folder.shares)
        self.posters = folder.posters
        self._clock = clock
        self._served: OrderedDict[str, tuple[float, SharedClip]] = OrderedDict()
        self._served_lock = threading.Lock()

    def poster_path(self, share_id: str) -> Path:
        return self.posters / f"{share_id}.jpg"

    def copy_path(self, share_id: str) -> Path:
        """The clip as the link serves it: named by the share, its recipe without task ids."""
        return self.posters / f"{share_id}.mp4"

    def own_clip(self, owner: str, task_id: str) -> Job:
        job = self.journal.get(task_id) if task_id else None
        if job is None or not owner or job.owner != owner:
            raise ShareRefused(f"Task {task_id} is not one of yours.", reason="not_yours")
        if job.nsfw:
            raise ShareRefused("WaveSpeed flagged this clip as NSFW: it cannot be shared.", reason="nsfw")
        if not job.clip_saved or job.pruned is not None:
            raise ShareRefused(f"Task {task_id} has no clip saved here.", reason="no_clip")
        return job

    def share_clip(self, owner: str, task_id: str) -> Share:
        """Share the owner's finished clip (the same link when it is already shared)."""
        job = self.own_clip(owner, task_id)
        stamp_clip(job)  # a clip saved before recipes were written gets its recipe now
        share = self.store.add(owner=owner, kind=CLIP, subject=job.id, title=str(job.params.get("prompt") or ""))
        return self._with_files(share, Path(job.local_path), job)

    def share_film(self, owner: str, name: str) -> Share:
        film = owned_film(Path(self.folder.root), owner, name or "")
        if film is None:
            raise ShareRefused(f"No film of yours is called {name!r}.", reason="not_yours")
        jobs = [self.journal.get(task) for task in film.tasks]
        if any(job is not None and job.nsfw for job in jobs):
            raise ShareRefused("WaveSpeed flagged a clip of this film as NSFW: it cannot be shared.", reason="nsfw")
        title = " / ".join(str(job.params.get("prompt") or "") for job in jobs if job is not None)
        share = self.store.add(owner=owner, kind=FILM, subject=film.name, title=title)
        return self._with_files(share, film.path(Path(self.folder.root)), None)

    def _with_files(self, share: Share, video: Path, job: Job | None) -> Share:
        try:
            self._make_files(share, video, job)
        except (FilmError, OSError):
            self.unshare(share.id, owner=None)
            raise ShareRefused("The clip could not be read, so it was not shared.", reason="no_clip") from None
        return share

    def _make_files(self, share: Share, video: Path, job: Job | None) -> bool:
        """The share's poster and its copy without task ids, each made once. False (and nothing
        left behind) when the share was removed meanwhile, by this process or another."""
        poster, copy = self.poster_path(share.id), self.copy_path(share.id)
        with share_lock(share.id):
            if not poster.is_file():
                write_poster(video, poster)
            if not copy.is_file():
                recipe = read_recipe(video) or (job_recipe(job) if job is not None else Recipe(prompt=share.title))
                copy_with_recipe(video, copy, recipe.without_ids())
            if self.store.get(share.id) is None:  # written after its row went: take it back
                self._remove_files(share.id)
                return False
        return True

    def _remove_files(self, share_id: str) -> None:
        for path in (self.poster_path(share_id), self.copy_path(share_id)):
            path.unlink(missing_ok=True)

    def share_of(self, kind: str, subject: str) -> Share | None:
        return self.store.of(kind, subject)

    def unshare(self, share_id: str, *, owner: str | None) -> bool:
        """Stop sharing (`owner` None: the operator's moderation). True when something was shared."""
        with share_lock(share_id):
            removed = self.store.remove(share_id, owner=owner)
            if removed:
                self._remove_files(share_id)
        self._forget(share_id)
        return removed

    def sweep_orphans(self, *, dry_run: bool = False) -> list[Path]:
        """Files of the shared folder whose share is gone (removed unless `dry_run`). The files are
        listed before the rows are read: a share's row is written before its files, so a share being
        made meanwhile is never taken for an orphan."""
        if not self.posters.is_dir():
            return []
        present = [path for path in self.posters.iterdir() if path.is_file()]
        ids = self.store.ids()
        going = [path for path in present if share_id_of(path) not in ids]
        if not dry_run:
            for path in going:
                path.unlink(missing_ok=True)
        return going

    def served(self, share_id: str) -> SharedClip | None:
        """`resolve`, kept RESOLVED_TTL_S: a call reads the share's row and nothing else (so an unshare,
        the command line's too, answers 404 from the next call); files are looked at once a TTL."""
        share = self.store.get(share_id)
        if share is None:
            self._forget(share_id)
            return None
        kept = self._kept(share)
        if kept is not None:
            return kept
        with share_lock(share_id):  # forty first views resolve once, the others wait for it
            kept = self._kept(share)
            if kept is None:
                kept = self.resolve(share_id)
                if kept is not None:
                    self._keep(kept)
        return kept

    def _kept(self, share: Share) -> SharedClip | None:
        with self._served_lock:
            entry = self._served.get(share.id)
            if entry is None or entry[1].share != share or self._clock() - entry[0] >= RESOLVED_TTL_S:
                return None
            self._served.move_to_end(share.id)
            return entry[1]

    def _keep(self, clip: SharedClip) -> None:
        with self._served_lock:
            self._served[clip.share.id] = (self._clock(), clip)
            while len(self._served) > RESOLVED_KEPT:
                self._served.popitem(last=False)

    def _forget(self, share_id: str) -> None:
        with self._served_lock:
            self._served.pop(share_id, None)

    def resolve(self, share_id: str) -> SharedClip | None:
        """What a share serves, read fresh: None once it is unshared (or its clip gone or flagged)."""
        share = self.store.get(share_id)
        if share is None:
            return None
        job = self.journal.get(share.subject) if share.kind == CLIP else None
        video = self._source(share, job)
        try:
            # A share made before shared copies existed gets its files here, once.
            if video is None or not self._make_files(share, video, job):
                return None
            return self._read_files(share, job)
        except (FilmError, OSError):
            return None

    def _source(self, share: Share, job: Job | None) -> Path | None:
        """The clip or film a share stands for, while it is there and not flagged."""
        if share.kind == CLIP:
            return Path(job.local_path) if job is not None and not job.nsfw and job.clip_saved else None
        film = owned_film(Path(self.folder.root), share.owner, share.subject)
        return film.path(Path(self.folder.root)) if film is not None else None

    def _read_files(self, share: Share, job: Job | None) -> SharedClip:
        copy, poster = self.copy_path(share.id), self.poster_path(share.id)
        poster_bytes = poster.read_bytes()
        with Image.open(io.BytesIO(poster_bytes)) as picture:
            poster_size = picture.size
        image = self._start_image(job)
        return SharedClip(
            share=share,
            video=copy,
            poster=poster,
            recipe=read_recipe(copy) or Recipe(prompt=share.title),
            size=video_size(copy),
            poster_size=poster_size,
            image=image,
            poster_bytes=poster_bytes,
            video_stat=copy.stat(),
            image_stat=image.stat() if image is not None else None,
        )

    def _start_image(self, job: Job | None) -> Path | None:
        """The stored copy of an image-to-video task's start image (never any other path)."""
        recorded = job.params.get("image") if job is not None else None
        if not isinstance(recorded, str) or not recorded or "://" in recorded:
            return None
        copy = Path(recorded)
        inside = copy.parent.resolve() == self.folder.inputs.resolve()
        return copy if inside and copy.is_file() else None
