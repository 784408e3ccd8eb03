"""Continue a clip from its last frame (under every clip, and in History) and stitch clips into a
film (History's stitch panel): their handlers and wiring. Nothing here calls the API.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import gradio as gr
from gradio.blocks import Block

from kling.app.tabs.common import Session, Updates, filling, lang_of, private, private_with_notices
from kling.app.tabs.generate import Generation
from kling.app.views import continuing_note, film_choice, film_markdown, task_id_in_status
from kling.app.widgets import CROSSFADE_MAX_S, Parts
from kling.errors import FilmError
from kling.media.start_frame import save_start_frame
from kling.media.video import OnClip, stitch_to_films
from kling.store.films import Film, films_for, frame_path, oldest_films_past, owned_film, pixel_digest, record_film
from kling.store.journal import Job, Journal
from kling.store.stamps import stamp_film
from kling.strings import Lang, literal, say


class Films:
    """Continue a clip from its last frame; stitch clips into a film. Nothing here calls the API,
    and a browser reaches only its own tasks and films: the page sends task ids and film names,
    looked up for this browser's owner, never paths."""

    def __init__(self, generation: Generation, journal: Journal, parts: Parts) -> None:
        self.g = generation
        self.journal = journal
        self.parts = parts
        self.stitching: set[str] = set()  # owners with a film being cut: one each, so nobody holds every slot

    @property
    def data_dir(self) -> Path:
        return self.g.settings.data_dir

    def _clip(self, task_id: str, owner: str) -> Job | None:
        """The visitor's own task with its clip saved here, or None."""
        job = self.journal.get(task_id) if task_id else None
        return job if job is not None and owner and job.owner == owner and job.clip_saved else None

    async def continue_from(
        self,
        status: str | None,
        session: Session | None,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> Updates:
        """Image to Video with the clip's last frame (full resolution, PNG) as the start image and
        its prompt to edit; the run then records which task it continues. The task is the one the
        result panel's status (or History's selection) names, looked up for this visitor only."""
        # From a result panel: its status line names the task; from History: the selected task's id.
        task_id, lang = task_id_in_status(status) or (status or "").strip(), lang_of(session)
        who = await self.g.who(request, profile, session)
        job = self._clip(task_id, who.owner)
        if job is None:
            gr.Warning(say(lang, "continue.none"), title=say(lang, "notice.title"))
            return {self.parts.tabs: gr.skip()}  # not {}: Gradio would take it for one output value
        frame = frame_path(self.data_dir, job.id)
        try:
            await asyncio.to_thread(save_start_frame, Path(job.local_path), frame, job.preview)
            pixels = await asyncio.to_thread(pixel_digest, frame)
            await asyncio.to_thread(self.g.runner.disk.frames, frame)
        except FilmError as exc:
            refusal = say(lang, "continue.unreadable", reason=exc)
            raise gr.Error(refusal, title=say(lang, "continue.unreadable_title")) from None
        i2v = self.parts.i2v
        settings = {
            "image": self.g.clips.servable(frame),
            "end_image": None,
            "prompt": job.params.get("prompt", ""),
            "negative_prompt": job.params.get("negative_prompt", ""),
        }
        return {
            **self.parts.fill("i2v", settings),
            i2v.continues: {"task": job.id, "pixels": pixels},
            i2v.out.status: continuing_note(job, lang),
        }

    async def stitch(
        self,
        task_ids: list[str] | None,
        crossfade: float,
        session: Session | None,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
        progress: gr.Progress = gr.Progress(),
    ) -> Updates:
        """One film from the picked clips, in the order picked; saved under films/ for this visitor.
        `progress` says which clip is being cut (a cross-faded film takes seconds a clip), then the
        saving; Gradio fills it in for the page's event, and a direct call may pass any callable."""
        owner, lang = (await self.g.who(request, profile, session)).owner, lang_of(session)
        picked = [str(task_id) for task_id in (task_ids or [])]
        jobs = [self._clip(task_id, owner) for task_id in picked]
        refused = self._stitch_refusal(picked, jobs, float(crossfade or 0), owner, lang)
        if refused:  # said in the panel, as the generate tabs say theirs: no red toast
            return {self.parts.history.stitch.about: f"### ⛔ {say(lang, 'stitch.refusal', problems=refused)}"}
        clips = [Path(job.local_path) for job in jobs if job is not None]
        fade = float(crossfade or 0)
        self.stitching.add(owner)
        try:
            result = await asyncio.to_thread(stitch_to_films, clips, self.data_dir, fade, cutting(progress, lang))
        except FilmError as exc:
            raise gr.Error(str(exc), title=say(lang, "stitch.failed_title")) from None
        finally:
            self.stitching.discard(owner)
        progress(1.0, desc=say(lang, "stitch.saving"))
        film = record_film(
            result, owner=owner, tasks=picked, crossfade=fade, preview=any(job.preview for job in jobs if job)
        )
        await asyncio.to_thread(stamp_film, film.path(self.data_dir), [job for job in jobs if job], made=film.created)
        return self._showing(film, owner, self._keep_within_caps(film, owner, lang))

    def _stitch_refusal(
        self, picked: list[str], jobs: list[Job | None], fade: float, owner: str, lang: Lang
    ) -> str | None:
        """Why these clips may not be stitched now, or None."""
        if len(picked) < 2:
            return say(lang, "stitch.too_few")
        too_long = self._too_long(picked, owner, lang)
        if too_long:
            return too_long
        missing = [task_id for task_id, job in zip(picked, jobs) if job is None]
        if missing:
            return say(lang, "stitch.not_yours", ids=literal(", ".join(missing)[:120]))
        if not 0 <= fade <= CROSSFADE_MAX_S:
            return say(lang, "stitch.bad_fade", max=f"{CROSSFADE_MAX_S:g}", fade=f"{fade:g}")
        if owner in self.stitching:
            return say(lang, "stitch.busy")
        return None

    def _too_long(self, picked: list[str], owner: str, lang: Lang) -> str | None:
        """The one-sentence refusal of a film past its caps, from the journal alone (nothing decoded).
        Another browser's task counts as the longest clip: its length is not this visitor's to learn."""
        settings = self.g.settings
        rows = [self._clip(task_id, owner) for task_id in picked[: settings.film_max_clips + 1]]
        seconds = sum(_declared_seconds(job) for job in rows)
        if len(picked) <= settings.film_max_clips and seconds <= settings.film_max_seconds:
            return None
        if len(picked) > len(rows):  # a thousand ids are not looked up one by one to say no
            seconds = max(seconds, settings.film_max_seconds + 1)
        return say(
            lang,
            "stitch.too_long",
            max_clips=settings.film_max_clips,
            max_seconds=settings.film_max_seconds,
            clips=len(picked),
            seconds=f"{seconds:g}" if len(picked) == len(rows) else f"> {settings.film_max_seconds}",
        )

    def _keep_within_caps(self, film: Film, owner: str, lang: Lang) -> str:
        """The visitor's oldest films past their count, then every film past the folder's cap; what
        the page says about it ("" when nothing of theirs went)."""
        keep = self.g.settings.films_per_visitor
        gone = oldest_films_past(self.data_dir, owner, keep)
        self.g.runner.disk.films(keep=film.path(self.data_dir))
        if not gone:
            return ""
        return say(lang, "stitch.oldest_removed", max=keep, names=", ".join(f"`{each.name}`" for each in gone))

    async def show(
        self,
        name: str | None,
        session: Session | None,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> Updates:
        """One of this visitor's films, by name."""
        owner = (await self.g.who(request, profile, session)).owner
        film = owned_film(self.data_dir, owner, name or "")
        stitch = self.parts.history.stitch
        if film is None:
            about = say(lang_of(session), "stitch.film_not_yours" if name else "stitch.none")
            return {stitch.film: None, stitch.about: about}
        return {stitch.film: self.g.clips.servable(film.path(self.data_dir)), stitch.about: film_markdown(film)}

    def _showing(self, film: Film, owner: str, note: str = "") -> Updates:
        stitch = self.parts.history.stitch
        films = [film_choice(each) for each in films_for(self.data_dir, owner)]
        return {
            stitch.film: self.g.clips.servable(film.path(self.data_dir)),
            stitch.about: film_markdown(film) + (f"\n\n{note}" if note else ""),
            stitch.films: gr.Dropdown(choices=films, value=film.name),
        }


def cutting(progress: gr.Progress, lang: Lang) -> OnClip:
    """The stitch's per-clip calls as progress on the page: "Cutting clip 2 of 4…" and the share of
    clips begun (called from the stitch's thread; Gradio only records it for the next update)."""

    def on_clip(clip: int, clips: int) -> None:
        progress((clip - 1) / clips, desc=say(lang, "stitch.cutting", clip=clip, clips=clips))

    return on_clip


def _declared_seconds(job: Job | None) -> float:
    """A clip's length as its task asked for it (Kling makes 5 or 10 s); the longest when unknown."""
    try:
        return float((job.params if job else {}).get("duration", 10))
    except (TypeError, ValueError):
        return 10.0


def wire_films(p: Parts, films: Films) -> None:
    """Continue from the last frame (under every clip, and in History) and Stitch (in History): no
    API call, no cost."""
    continued = [p.tabs, p.i2v.image, p.i2v.end_image, p.i2v.text.prompt, p.i2v.text.negative, p.i2v.continues]
    continued.append(p.i2v.out.status)
    # A result panel's status line names its task; a Lab variant keeps its task id.
    sources: list[tuple[gr.Video, gr.Button, Block]] = [
        (form.out.video, form.out.continue_button, form.out.status) for form in (p.i2v, p.t2v)
    ]
    sources += [(slot.video, slot.continue_button, slot.task) for slot in p.lab.slots]
    for video, button, clip_source in sources:
        video.change(lambda clip: gr.Button(visible=bool(clip)), video, button, **private())
        button.click(films.continue_from, [clip_source, p.session], continued, **filling(p), **private_with_notices())
    history = p.history
    history.continue_selected.click(
        films.continue_from, [history.selected_id, p.session], continued, **filling(p), **private_with_notices()
    )
    stitch = history.stitch
    stitch.go.click(
        films.stitch,
        [stitch.clips, stitch.crossfade, p.session],
        [stitch.film, stitch.about, stitch.films],
        api_visibility="private",
        # A few films at once, at most one per visitor (Films.stitch): one long film holds one slot.
        concurrency_limit=films.g.settings.stitch_workers,
        concurrency_id="stitch",
    )
    stitch.films.input(films.show, [stitch.films, p.session], [stitch.film, stitch.about], **private())
