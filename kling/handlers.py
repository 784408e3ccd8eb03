"""What each control on the page does. Short on purpose: validation lives in `kling.params`, the
background job in `kling.runner`, the words in `kling.views`. Handlers that fill the page answer
with a dict keyed by component, so a component they leave out keeps its value.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, NamedTuple

import gradio as gr
from PIL import Image

from . import lab
from .client import is_task_id
from .clips import ClipShelf
from .config import Settings
from .errors import FilmError, SpendRefused, ValidationError
from .film import save_last_frame, stitch_to_films
from .films import Film, films_for, frame_path, owned_film, pixel_digest, record_film
from .journal import Job, Journal
from .params import I2VRequest, T2VRequest
from .runner import Runner, RunState
from .views import (
    LAB_I2V,
    LIVE_VIDEO_LABEL,
    NO_FILMS,
    PREVIEW_VIDEO_LABEL,
    clip_choice,
    clock,
    continuing_note,
    details_markdown,
    film_choice,
    film_markdown,
    history_rows,
    history_total,
    job_markdown,
    key_status,
    mode_banner,
    price_text,
    refusal_text,
    settings_from_query,
    status_markdown,
)
from .widgets import CROSSFADE_MAX_S, LabSlot, Parts

HEADER_KEY = "x-wavespeed-key"  # lets scripts using gradio_client bring their own key
Session = dict[str, str]  # {"owner": opaque browser id, "key": the visitor's own key or ""}
Updates = dict[Any, Any]  # component -> new value or gr.update
Continuing = dict[str, str]  # {"task": the task continued, "pixels": pixel_digest of its last frame}


def client_address(request: gr.Request | None) -> str:
    """The visitor's address; behind the Spaces proxy, the first X-Forwarded-For hop."""
    if request is None:
        return ""
    forwarded = request.headers.get("x-forwarded-for", "")
    if forwarded:
        return forwarded.split(",")[0].strip()
    return request.client.host if request.client else ""


def continued_task(continuing: Continuing | None, image: str | None) -> str | None:
    """The task an Image to Video run continues: the one "Continue from the last frame" chose, as
    long as the start image is still that frame (the visitor may have swapped it since)."""
    if not continuing or not continuing.get("task") or not image or not Path(image).is_file():
        return None
    try:
        same = pixel_digest(image) == continuing.get("pixels")
    except (OSError, ValueError, Image.DecompressionBombError):  # not that frame, whatever it is
        return None
    return continuing["task"] if same else None


def field_checks(request: I2VRequest | T2VRequest, names: list[str]) -> list[dict[str, Any]]:
    """One gr.validate per input, so a refusal shows beside the field at fault."""
    try:
        request.validate()
    except ValidationError as exc:
        by_field: dict[str, list[str]] = {}
        for problem in exc.problems:
            by_field.setdefault(problem.field, []).append(problem.message)
        return [gr.validate(name not in by_field, "; ".join(by_field.get(name, []))) for name in names]
    return [gr.validate(True, "") for _ in names]


class Outputs(NamedTuple):
    """What a generation streams, in the API's order: `status`, `clip`, `details`, and the task id
    (page state for "Stop waiting", not part of the API)."""

    status: str
    clip: str | None
    details: str
    task_id: str


class Generation:
    """The two public endpoints and what sits beside them: validators, price, stop."""

    def __init__(self, settings: Settings, runner: Runner, clips: ClipShelf) -> None:
        self.settings = settings
        self.runner = runner
        self.clips = clips

    def key(self, session: Session | None, request: gr.Request | None) -> str | None:
        own = (session or {}).get("key") or ""
        header = request.headers.get(HEADER_KEY, "") if request is not None else ""
        return own.strip() or header.strip() or None

    def owner(self, session: Session | None, request: gr.Request | None) -> str:
        owner = (session or {}).get("owner") or ""
        if not owner and request is not None and request.session_hash:
            owner = f"api-{request.session_hash}"  # a script via gradio_client: no browser storage
        return owner

    def preview(self, session: Session | None) -> bool:
        return self.runner.backend.is_preview((session or {}).get("key"))

    def servable(self, state: RunState) -> str | None:
        return self.clips.servable(state.path) if state.stage == "done" and state.path is not None else None

    # The public endpoints. Their docstrings are the API's (and the MCP tools') documentation.

    async def image_to_video(
        self,
        image: str | None,
        prompt: str | None,
        negative_prompt: str | None,
        guidance_scale: float,
        duration: int | str,
        end_image: str | None,
        session: Session | None = None,
        continues: Continuing | None = None,
        request: gr.Request | None = None,
        progress: gr.Progress = gr.Progress(),
    ) -> AsyncIterator[Outputs]:
        """Animate a start image into a Kling v2.0 master clip (5 or 10 s) and stream its progress.

        Args:
            image: the start image (JPEG/PNG/WebP..., at least 300x300 px, aspect between 1:2.5 and 2.5:1), a file or an http(s) URL.
            prompt: what happens and how the camera moves, at most 2500 characters.
            negative_prompt: what to avoid, e.g. "blur, distort, low quality".
            guidance_scale: 0.0 to 1.0 (default 0.5); lower is more natural, higher follows the prompt more literally.
            duration: clip length in seconds, 5 or 10.
            end_image: optional end frame the motion should land on (same rules as image).
        Returns:
            Status updates, then the MP4 clip.
        """  # noqa: E501 (the API's documentation: one line per argument)
        checked = I2VRequest(
            image=image,  # type: ignore[arg-type]  # None is refused by validate(), with a reason
            prompt=prompt or "",
            negative_prompt=negative_prompt or "",
            guidance_scale=guidance_scale,
            duration=duration,  # type: ignore[arg-type]  # "5" is accepted and checked by validate()
            end_image=end_image or None,
        )
        continued = await asyncio.to_thread(continued_task, continues, image)
        async for outputs in self._generate(checked, session, request, progress, continues=continued):
            yield outputs

    async def text_to_video(
        self,
        prompt: str | None,
        negative_prompt: str | None,
        aspect_ratio: str,
        duration: int | str,
        session: Session | None = None,
        request: gr.Request | None = None,
        progress: gr.Progress = gr.Progress(),
    ) -> AsyncIterator[Outputs]:
        """Generate a Kling v2.0 master clip from a text prompt and stream its progress.

        Args:
            prompt: the scene, the action and the camera, at most 2500 characters.
            negative_prompt: what to avoid, e.g. "watermark, logo, subtitles, text artifacts".
            aspect_ratio: "16:9", "9:16" or "1:1".
            duration: clip length in seconds, 5 or 10.
        Returns:
            Status updates, then the MP4 clip.
        """
        checked = T2VRequest(
            prompt=prompt or "",
            negative_prompt=negative_prompt or "",
            aspect_ratio=aspect_ratio,
            duration=duration,  # type: ignore[arg-type]
        )
        async for outputs in self._generate(checked, session, request, progress):
            yield outputs

    async def _generate(
        self,
        unchecked: I2VRequest | T2VRequest,
        session: Session | None,
        request: gr.Request | None,
        progress: gr.Progress | None = None,
        *,
        continues: str | None = None,
    ) -> AsyncIterator[Outputs]:
        try:
            # In a thread: decoding and re-encoding a 12 MP photo takes ~0.2 s, and the event loop
            # is every other visitor's progress stream.
            validate: Callable[[], I2VRequest | T2VRequest] = unchecked.validate
            checked = await asyncio.to_thread(validate)
        except ValidationError as exc:
            raise gr.Error(refusal_text(exc), title="Check the input") from None
        try:
            run = self.runner.start(
                checked,
                owner=self.owner(session, request),
                user_key=self.key(session, request),
                ip=client_address(request),
                continues=continues,
            )
        except SpendRefused as exc:
            raise gr.Error(str(exc), title="Limit reached") from None
        async for state in run.watch(tick=1.0):
            if progress is not None:  # MCP clients receive these as progress notifications
                progress((state.polls, None), desc=f"{state.status_words} ({clock(state.elapsed())})")
            yield Outputs(status_markdown(state), self.servable(state), details_markdown(state), state.task_id or "")
        if state.error is not None:
            raise gr.Error(str(state.error), title="The generation failed")

    # Validators run before anything is queued: the refusal shows beside the input at fault.

    def check_i2v(
        self,
        image: str | None,
        prompt: str | None,
        negative_prompt: str | None,
        guidance_scale: float,
        duration: int | str,
        end_image: str | None,
        session: Session | None = None,
        continues: Continuing | None = None,
    ) -> list[dict[str, Any]]:
        request = I2VRequest(
            image=image,  # type: ignore[arg-type]
            prompt=prompt or "",
            negative_prompt=negative_prompt or "",
            guidance_scale=guidance_scale,
            duration=duration,  # type: ignore[arg-type]
            end_image=end_image or None,
        )
        return field_checks(
            request,
            ["image", "prompt", "negative_prompt", "guidance_scale", "duration", "end_image", "session", "continues"],
        )

    def check_t2v(
        self,
        prompt: str | None,
        negative_prompt: str | None,
        aspect_ratio: str,
        duration: int | str,
        session: Session | None = None,
    ) -> list[dict[str, Any]]:
        request = T2VRequest(
            prompt=prompt or "",
            negative_prompt=negative_prompt or "",
            aspect_ratio=aspect_ratio,
            duration=duration,  # type: ignore[arg-type]
        )
        return field_checks(request, ["prompt", "negative_prompt", "aspect_ratio", "duration", "session"])

    def stop_waiting(self, task_id: str, session: Session | None) -> str:
        if not task_id:
            return "Stopped. No task had been created yet, so nothing was sent or charged."
        billed = "It is a free preview." if self.preview(session) else "It is still billed."
        return (
            f"### ⏹ Stopped waiting\n\nTask `{task_id}` keeps running at WaveSpeed. {billed} "
            "Its clip is still saved when it finishes: find it in the History tab."
        )

    def price(self, duration: int | str, session: Session | None) -> str:
        return price_text(duration, self.preview(session))


class Visitor:
    """A browser arriving, saving or clearing its key, and following a shared link."""

    def __init__(self, generation: Generation, parts: Parts) -> None:
        self.g = generation
        self.parts = parts

    async def restore(
        self, owner: str | None, saved_key: str | None, i2v_duration: int | str, t2v_duration: int | str
    ) -> Updates:
        owner = owner or uuid.uuid4().hex
        session = {"owner": owner, "key": (saved_key or "").strip()}
        if session["key"]:
            # Tasks paid with this browser's own key can only resume now that the key is back.
            self.g.runner.resume_unfinished(owner=owner, user_key=session["key"])
        return {self.parts.owner_store: owner, **self._session(session, i2v_duration, t2v_duration)}

    def save_key(
        self, typed: str | None, session: Session | None, i2v_duration: int | str, t2v_duration: int | str
    ) -> Updates:
        key = (typed or "").strip()
        if not key:
            gr.Warning("Paste a WaveSpeed API key first.")
        return {
            self.parts.key_store: key,
            self.parts.key.box: "",
            **self._session({**(session or {}), "key": key}, i2v_duration, t2v_duration),
        }

    def clear_key(self, session: Session | None, i2v_duration: int | str, t2v_duration: int | str) -> Updates:
        return {
            self.parts.key_store: "",
            self.parts.key.box: "",
            **self._session({**(session or {}), "key": ""}, i2v_duration, t2v_duration),
        }

    def _session(self, session: Session, i2v_duration: int | str, t2v_duration: int | str) -> Updates:
        """The session, and everything on the page that depends on live or preview: banner, key
        note, prices, clip labels."""
        p, key, preview = self.parts, session.get("key", ""), self.g.preview(session)
        guard = self.g.runner.guard
        label = PREVIEW_VIDEO_LABEL if preview else LIVE_VIDEO_LABEL
        return {
            p.session: session,
            p.banner: mode_banner(self.g.settings, key, guard.budget_left_cents() if guard else None),
            p.key.info: key_status(self.g.settings, key),
            p.i2v.buttons.price: price_text(i2v_duration, preview),
            p.t2v.buttons.price: price_text(t2v_duration, preview),
            p.i2v.out.video: gr.Video(label=label),
            p.t2v.out.video: gr.Video(label=label),
        }

    def prefill(self, request: gr.Request | None = None) -> Updates:
        """Fill the form from a shared link's query parameters."""
        found = settings_from_query(dict(request.query_params) if request is not None else {})
        tab = found["tab"] or ("t2v" if "aspect_ratio" in found else "i2v" if len(found) > 1 else None)
        i2v, t2v = self.parts.i2v, self.parts.t2v
        fields = {
            "i2v": {"prompt": i2v.text.prompt, "negative_prompt": i2v.text.negative, "guidance_scale": i2v.guidance},
            "t2v": {"prompt": t2v.text.prompt, "negative_prompt": t2v.text.negative, "aspect_ratio": t2v.aspect_ratio},
        }
        fields["i2v"]["duration"], fields["t2v"]["duration"] = i2v.duration, t2v.duration
        # Never an empty dict: Gradio would take it for one output value, not for "no updates".
        updates: Updates = {self.parts.tabs: gr.Tabs(selected=tab) if tab else gr.skip()}
        for name, component in fields.get(tab or "", {}).items():
            if name in found:
                updates[component] = found[name]
        return updates


class History:
    """The History tab: a browser sees only its own rows."""

    def __init__(self, generation: Generation, journal: Journal, parts: Parts) -> None:
        self.g = generation
        self.journal = journal
        self.parts = parts

    def _job(self, task_id: str, session: Session | None) -> Job | None:
        job = self.journal.get(task_id) if task_id else None
        return job if job is not None and job.owner == (session or {}).get("owner") else None

    def list(self, session: Session | None) -> Updates:
        """The table, and the stitch panel's clips and films (a pick that still exists stays picked)."""
        owner = (session or {}).get("owner") or "-"
        jobs = self.journal.for_owner(owner)
        view, stitch = self.parts.history, self.parts.history.stitch
        clips = [clip_choice(job) for job in jobs if job.clip_saved]
        films = [film_choice(film) for film in films_for(self.g.settings.data_dir, owner)]
        return {
            view.info: history_total(jobs),
            view.table: history_rows(jobs),
            stitch.clips: gr.Dropdown(choices=clips),
            stitch.films: gr.Dropdown(choices=films),
        }

    def select(self, session: Session | None, evt: gr.SelectData) -> Updates:
        view = self.parts.history
        row = evt.row_value or []
        job = self._job(str(row[-1]) if row else "", session)
        if job is None:
            return {view.selected_id: "", view.video: None, view.job: "Select a row to see its clip and settings."}
        clip = self.g.clips.servable(Path(job.local_path)) if job.clip_saved else None
        return {view.selected_id: job.id, view.video: clip, view.job: job_markdown(job)}

    def use_settings(self, task_id: str, session: Session | None) -> Updates:
        """Fill the form of the job's tab with its settings and switch to that tab."""
        job = self._job(task_id, session)
        if job is None:
            gr.Warning("Select one of your tasks first.")
            return {self.parts.tabs: gr.skip()}  # not {}: Gradio would take it for one output value
        p, i2v, t2v = job.params, self.parts.i2v, self.parts.t2v
        if job.model.endswith("i2v-master"):
            return {
                self.parts.tabs: gr.Tabs(selected="i2v"),
                i2v.image: p.get("image") or None,
                i2v.text.prompt: p.get("prompt", ""),
                i2v.text.negative: p.get("negative_prompt", ""),
                i2v.guidance: p.get("guidance_scale", 0.5),
                i2v.duration: p.get("duration", 5),
                i2v.end_image: p.get("end_image") or None,
            }
        return {
            self.parts.tabs: gr.Tabs(selected="t2v"),
            t2v.text.prompt: p.get("prompt", ""),
            t2v.text.negative: p.get("negative_prompt", ""),
            t2v.aspect_ratio: p.get("aspect_ratio", "16:9"),
            t2v.duration: p.get("duration", 5),
        }

    async def resume(
        self, task_id: str, session: Session | None, request: gr.Request | None = None
    ) -> AsyncIterator[Updates]:
        task_id = (task_id or "").strip()
        if not is_task_id(task_id):
            raise gr.Error(f"{task_id[:60]!r} is not a task id (letters, digits, - and _).", title="Check the id")
        job = self.journal.get(task_id)
        if job is not None and job.owner != (session or {}).get("owner"):
            raise gr.Error("That task belongs to another browser.", title="Not yours")
        if job is not None and job.preview and job.unfinished:
            raise gr.Error("Preview tasks live only as long as the app that made them; this one cannot be resumed.")
        run = self.g.runner.resume(task_id, owner=self.g.owner(session, request), user_key=self.g.key(session, request))
        view = self.parts.history
        async for state in run.watch(tick=1.0):
            yield {view.job: status_markdown(state), view.video: self.g.servable(state)}
        if state.error is not None:
            raise gr.Error(str(state.error), title="Could not resume")


class Lab:
    """The Prompt Lab: variants validated together, started together, watched together. Its
    handlers receive their inputs as one dict keyed by component (Gradio does that when the
    inputs are given as a set), and read each variant from its slot."""

    def __init__(self, generation: Generation, parts: Parts) -> None:
        self.g = generation
        self.parts = parts

    def _slots(self, values: dict[Any, Any]) -> list[LabSlot]:
        return self.parts.lab.slots[: int(values[self.parts.lab.count])]

    def _variants(self, values: dict[Any, Any]) -> list[lab.Variant]:
        return [
            lab.Variant(
                prompt=values[slot.prompt] or "",
                negative_prompt=values[slot.negative] or "",
                guidance_scale=values[slot.guidance],
                duration=values[slot.duration],
            )
            for slot in self._slots(values)
        ]

    async def run(self, values: dict[Any, Any], request: gr.Request | None = None) -> AsyncIterator[Updates]:
        form, session = self.parts.lab, values[self.parts.session]
        variants, image = self._variants(values), values[form.image]
        i2v = values[form.mode] == LAB_I2V
        if i2v and not image:
            raise gr.Error("Image to Video needs a start image: add one above, or switch to Text to Video.")
        try:
            requests = lab.validated(variants, image=image if i2v else None, aspect_ratio=values[form.aspect_ratio])
        except ValidationError as exc:
            raise gr.Error(refusal_text(exc), title="Check the variants") from None
        labels, runs, refused = lab.differences(variants, i2v=i2v), [], ""
        for checked in requests:
            try:
                runs.append(
                    self.g.runner.start(
                        checked,
                        owner=self.g.owner(session, request),
                        user_key=self.g.key(session, request),
                        ip=client_address(request),
                    )
                )
            except SpendRefused as exc:
                refused = f"Variants from {lab.LETTERS[len(runs)]} on were not started: {exc}"
                break
        while True:
            states = [run.state for run in runs]
            yield self._progress(labels, states, refused)
            if all(state.finished for state in states):
                return
            await asyncio.sleep(0.5)

    def _progress(self, labels: list[str], states: list[RunState], refused: str) -> Updates:
        updates: Updates = {}
        for slot, label, state in zip(self.parts.lab.slots, labels, states):
            updates[slot.status] = f"**{label}**\n\n{status_markdown(state)}"
            updates[slot.video] = self.g.servable(state)
            updates[slot.task] = state.task_id or ""
        done = sum(state.stage == "done" for state in states)
        updates[self.parts.lab.summary] = f"{done} of {len(states)} variants done." + (
            f"\n\n{refused}" if refused else ""
        )
        return updates

    def layout(self, mode: str, count: int | str) -> Updates:
        """Show the slots in use, the image or the aspect ratio, and guidance only for I2V."""
        form, i2v = self.parts.lab, mode == LAB_I2V
        updates: Updates = {form.image: gr.Image(visible=i2v), form.aspect_ratio: gr.Radio(visible=not i2v)}
        for i, slot in enumerate(form.slots):
            updates[slot.column] = gr.Column(visible=i < int(count))
            updates[slot.guidance] = gr.Slider(visible=i2v)
        return updates

    def price(self, values: dict[Any, Any]) -> str:
        durations = [values[slot.duration] for slot in self._slots(values)]
        return lab.total_price_text(durations, preview=self.g.preview(values[self.parts.session]))

    def use(self, slot: LabSlot, values: dict[Any, Any]) -> Updates:
        """Copy one variant's settings to the main tab of its model."""
        form, i2v, t2v = self.parts.lab, self.parts.i2v, self.parts.t2v
        if values[form.mode] == LAB_I2V:
            return {
                self.parts.tabs: gr.Tabs(selected="i2v"),
                i2v.image: values[form.image],
                i2v.text.prompt: values[slot.prompt],
                i2v.text.negative: values[slot.negative],
                i2v.guidance: values[slot.guidance],
                i2v.duration: values[slot.duration],
            }
        return {
            self.parts.tabs: gr.Tabs(selected="t2v"),
            t2v.text.prompt: values[slot.prompt],
            t2v.text.negative: values[slot.negative],
            t2v.aspect_ratio: values[form.aspect_ratio],
            t2v.duration: values[slot.duration],
        }


class Films:
    """Continue a clip from its last frame; stitch clips into a film. Nothing here calls the API,
    and a browser reaches only its own tasks and films: the page sends task ids and film names,
    looked up for this browser's owner, never paths."""

    def __init__(self, generation: Generation, journal: Journal, parts: Parts) -> None:
        self.g = generation
        self.journal = journal
        self.parts = parts

    @property
    def data_dir(self) -> Path:
        return self.g.settings.data_dir

    def _clip(self, task_id: str, session: Session | None) -> Job | None:
        """The visitor's own task with its clip saved here, or None."""
        owner = (session or {}).get("owner")
        job = self.journal.get(task_id) if task_id else None
        return job if job is not None and owner and job.owner == owner and job.clip_saved else None

    async def continue_from(self, task_id: str, session: Session | None) -> Updates:
        """Image to Video with the clip's last frame (full resolution, PNG) as the start image and
        its prompt to edit; the run then records which task it continues."""
        job = self._clip((task_id or "").strip(), session)
        if job is None:
            gr.Warning("There is no finished clip of yours to continue here yet.")
            return {self.parts.tabs: gr.skip()}  # not {}: Gradio would take it for one output value
        frame = frame_path(self.data_dir, job.id)
        try:
            await asyncio.to_thread(save_last_frame, Path(job.local_path), frame)
            pixels = await asyncio.to_thread(pixel_digest, frame)
        except FilmError as exc:
            raise gr.Error(f"Could not read the clip's last frame: {exc}", title="Cannot continue") from None
        i2v = self.parts.i2v
        return {
            self.parts.tabs: gr.Tabs(selected="i2v"),
            i2v.image: self.g.clips.servable(frame),
            i2v.end_image: None,
            i2v.text.prompt: job.params.get("prompt", ""),
            i2v.text.negative: job.params.get("negative_prompt", ""),
            i2v.continues: {"task": job.id, "pixels": pixels},
            i2v.out.status: continuing_note(job),
        }

    async def stitch(self, task_ids: list[str] | None, crossfade: float, session: Session | None) -> Updates:
        """One film from the picked clips, in the order picked; saved under films/ for this browser."""
        owner = (session or {}).get("owner") or ""
        picked = [str(task_id) for task_id in (task_ids or [])]
        if len(picked) < 2:
            raise gr.Error("Pick at least two clips to stitch, in the order they should play.", title="Stitch")
        jobs = [self._clip(task_id, session) for task_id in picked]
        missing = [task_id for task_id, job in zip(picked, jobs) if job is None]
        if missing:
            raise gr.Error(
                f"Not one of this browser's finished clips: {', '.join(missing)[:120]}. Refresh and pick again.",
                title="Stitch",
            )
        clips = [Path(job.local_path) for job in jobs if job is not None]
        fade = float(crossfade or 0)
        if not 0 <= fade <= CROSSFADE_MAX_S:
            raise gr.Error(f"The cross-fade is 0 to {CROSSFADE_MAX_S:g} seconds, not {fade:g}.", title="Stitch")
        try:
            result = await asyncio.to_thread(stitch_to_films, clips, self.data_dir, fade)
        except FilmError as exc:
            raise gr.Error(str(exc), title="Could not stitch") from None
        film = record_film(
            result, owner=owner, tasks=picked, crossfade=fade, preview=any(job.preview for job in jobs if job)
        )
        return self._showing(film, owner)

    def show(self, name: str | None, session: Session | None) -> Updates:
        """One of this browser's films, by name."""
        owner = (session or {}).get("owner") or ""
        film = owned_film(self.data_dir, owner, name or "")
        stitch = self.parts.history.stitch
        if film is None:
            return {stitch.film: None, stitch.about: NO_FILMS if not name else "That film is not one of yours."}
        return {stitch.film: self.g.clips.servable(film.path(self.data_dir)), stitch.about: film_markdown(film)}

    def _showing(self, film: Film, owner: str) -> Updates:
        stitch = self.parts.history.stitch
        films = [film_choice(each) for each in films_for(self.data_dir, owner)]
        return {
            stitch.film: self.g.clips.servable(film.path(self.data_dir)),
            stitch.about: film_markdown(film),
            stitch.films: gr.Dropdown(choices=films, value=film.name),
        }


class Handlers:
    """Every handler of the page, built once its components exist."""

    def __init__(self, generation: Generation, journal: Journal, parts: Parts) -> None:
        self.generation = generation
        self.visitor = Visitor(generation, parts)
        self.history = History(generation, journal, parts)
        self.lab = Lab(generation, parts)
        self.films = Films(generation, journal, parts)
