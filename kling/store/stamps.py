"""A journal row's recipe, written into its clip (kling.media.recipe): the one place that turns a
task's row into the metadata every clip the app hands out carries."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from kling.errors import FilmError
from kling.media.recipe import Recipe, film_recipe, write_recipe
from kling.store.journal import Job

log = logging.getLogger(__name__)


def iso_utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def job_recipe(job: Job) -> Recipe:
    """The recipe of a task as the journal holds it (its settings, never its images or key)."""
    params = job.params

    def number(name: str) -> float | None:
        value = params.get(name)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    duration = number("duration")
    return Recipe(
        prompt=str(params.get("prompt") or ""),
        negative_prompt=str(params.get("negative_prompt") or ""),
        model=job.model,
        duration=int(duration) if duration is not None else None,
        guidance_scale=number("guidance_scale"),
        aspect_ratio=str(params.get("aspect_ratio") or ""),
        task_id=job.id,
        made=iso_utc(job.created),
        preview=job.preview,
    )


def stamp_clip(job: Job, clip: Path | None = None) -> bool:
    """Write the task's recipe into its clip (default: the journal's copy); False when there was
    nothing to change or the clip could not be read (a clip without a recipe is still a clip)."""
    path = Path(clip if clip is not None else job.local_path)
    if not str(path) or not path.is_file():
        return False
    try:
        return write_recipe(path, job_recipe(job))
    except (FilmError, OSError) as exc:
        log.warning("No recipe written into %s: %s", path.name, exc)
        return False


def stamp_film(film: Path, jobs: Sequence[Job], *, made: float) -> bool:
    """Write which clips a film joins (task id and prompt each, in play order) into the film."""
    recipe = film_recipe(
        [(job.id, str(job.params.get("prompt") or "")) for job in jobs],
        made=iso_utc(made),
        preview=any(job.preview for job in jobs),
    )
    try:
        return write_recipe(film, recipe)
    except (FilmError, OSError) as exc:
        log.warning("No recipe written into %s: %s", film.name, exc)
        return False
