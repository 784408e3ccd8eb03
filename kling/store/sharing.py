"""The rules of sharing, and what a shared link serves.

Only the owner shares or stops sharing (the owner is the one the server derived for the request,
never one a client sent); a clip WaveSpeed flagged as NSFW is never shared; nothing is sent to any
API. A share resolves to exactly three files: the clip (or film), its poster made when it was shared,
and, for image-to-video, the start image's stored copy. Nothing else of the data folder is named by
a share, and once the row is gone none of them is.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from kling.config import DataFolder
from kling.errors import FilmError, ShareRefused
from kling.media.poster_frame import video_size, write_poster
from kling.media.recipe import Recipe, read_recipe
from kling.store.films import owned_film
from kling.store.journal import Job, Journal
from kling.store.share_links import CLIP, FILM, Share, ShareStore
from kling.store.stamps import job_recipe, stamp_clip


@dataclass(frozen=True)
class SharedClip:
    """What /clip/<id> serves for one share."""

    share: Share
    video: Path
    poster: Path
    recipe: Recipe
    size: tuple[int, int]  # the video's width and height
    poster_size: tuple[int, int]
    image: Path | None = None  # image-to-video: the stored copy of the start image

    @property
    def film(self) -> bool:
        return self.share.kind == FILM


class Sharing:
    def __init__(self, folder: DataFolder, journal: Journal) -> None:
        self.folder = folder
        self.journal = journal
        self.store = ShareStore(folder.shares)
        self.posters = folder.posters

    def poster_path(self, share_id: str) -> Path:
        return self.posters / f"{share_id}.jpg"

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
        return self._with_poster(share, Path(job.local_path))

    def share_film(self, owner: str, name: str) -> Share:
        film = owned_film(Path(self.folder.root), owner, name or "")
        if film is None:
            raise ShareRefused(f"No film of yours is called {name!r}.", reason="not_yours")
        jobs = [self.journal.get(task) for task in film.tasks]
        if any(job is not None and job.nsfw for job in jobs):
            raise ShareRefused("WaveSpeed flagged a clip of this film as NSFW: it cannot be shared.", reason="nsfw")
        title = " / ".join(str(job.params.get("prompt") or "") for job in jobs if job is not None)
        share = self.store.add(owner=owner, kind=FILM, subject=film.name, title=title)
        return self._with_poster(share, film.path(Path(self.folder.root)))

    def _with_poster(self, share: Share, video: Path) -> Share:
        poster = self.poster_path(share.id)
        if not poster.is_file():
            try:
                write_poster(video, poster)
            except FilmError:
                self.store.remove(share.id)
                raise ShareRefused("The clip could not be read, so it was not shared.", reason="no_clip") from None
        return share

    def share_of(self, kind: str, subject: str) -> Share | None:
        return self.store.of(kind, subject)

    def unshare(self, share_id: str, *, owner: str | None) -> bool:
        """Stop sharing (`owner` None: the operator's moderation). True when something was shared."""
        removed = self.store.remove(share_id, owner=owner)
        if removed:
            with contextlib.suppress(FileNotFoundError):
                self.poster_path(share_id).unlink()
        return removed

    def resolve(self, share_id: str) -> SharedClip | None:
        """What a share serves, read fresh on every request: None once it is unshared (or its file gone)."""
        share = self.store.get(share_id)
        if share is None:
            return None
        job = self.journal.get(share.subject) if share.kind == CLIP else None
        if share.kind == CLIP:
            if job is None or job.nsfw or not job.clip_saved:
                return None
            video = Path(job.local_path)
        else:
            film = owned_film(Path(self.folder.root), share.owner, share.subject)
            if film is None:
                return None
            video = film.path(Path(self.folder.root))
        poster = self.poster_path(share.id)
        try:
            size = video_size(video)
            if not poster.is_file():
                write_poster(video, poster)
            with Image.open(poster) as picture:
                poster_size = picture.size
        except (FilmError, OSError):
            return None
        recipe = read_recipe(video) or (job_recipe(job) if job is not None else Recipe(prompt=share.title))
        return SharedClip(share, video, poster, recipe, size, poster_size, self._start_image(job))

    def _start_image(self, job: Job | None) -> Path | None:
        """The stored copy of an image-to-video task's start image (never any other path)."""
        recorded = job.params.get("image") if job is not None else None
        if not isinstance(recorded, str) or not recorded or "://" in recorded:
            return None
        copy = Path(recorded)
        inside = copy.parent.resolve() == self.folder.inputs.resolve()
        return copy if inside and copy.is_file() else None
