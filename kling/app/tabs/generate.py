"""What both generate tabs share: their two public endpoints (`image_to_video`, `text_to_video`,
whose docstrings are the API's and the MCP tools' documentation), the validators that refuse a run
beside the field at fault, the price, and what follows a run after "Stop waiting". The form's values
become an unchecked request here; `kling.api.params` checks it, `kling.jobs.runner` runs it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, NamedTuple

import gradio as gr
from PIL import Image

from kling.api.params import I2VRequest, T2VRequest
from kling.app.fairness import Fairness, Share
from kling.app.hf_user import HfUsers
from kling.app.identity import Identity, may_spend_server_key
from kling.app.tabs.common import HEADER_KEY, Continuing, Session, Updates, lang_of, spend_refusal
from kling.app.views import (
    busy_label,
    clip_filename,
    clock,
    details_markdown,
    ended_status,
    field_problem,
    following_status,
    job_status,
    price_text,
    refusal_text,
    status_markdown,
    task_id_in_status,
)
from kling.app.visitor import visitor
from kling.app.widgets import ResultPanel, RunButtons
from kling.config import Settings
from kling.errors import BusyRefused, SpendRefused, ValidationError
from kling.jobs.run import Run, RunState
from kling.jobs.runner import Runner
from kling.media.images import Preparer
from kling.store.clips import ClipShelf
from kling.store.films import pixel_digest
from kling.store.journal import Job
from kling.strings import Lang, say, text, toast_text


def i2v_request(
    image: str | None,
    prompt: str | None,
    negative_prompt: str | None,
    guidance_scale: float,
    duration: int | str,
    end_image: str | None,
) -> I2VRequest:
    """The form's values as an unchecked request: `validate()` refuses what is missing or wrong
    (no image, a duration of "7"...) with a reason, so nothing is refused here."""
    return I2VRequest(
        image=image,  # type: ignore[arg-type]  # None is refused by validate(), with a reason
        prompt=prompt or "",
        negative_prompt=negative_prompt or "",
        guidance_scale=guidance_scale,
        duration=duration,  # type: ignore[arg-type]  # "5" is accepted and checked by validate()
        end_image=end_image or None,
    )


def t2v_request(prompt: str | None, negative_prompt: str | None, aspect_ratio: str, duration: int | str) -> T2VRequest:
    """The form's values as an unchecked request (see `i2v_request`)."""
    return T2VRequest(
        prompt=prompt or "",
        negative_prompt=negative_prompt or "",
        aspect_ratio=aspect_ratio,
        duration=duration,  # type: ignore[arg-type]  # "5" is accepted and checked by validate()
    )


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


def field_checks(
    request: I2VRequest | T2VRequest, names: list[str], lang: Lang = "en", prepare: Preparer | None = None
) -> list[dict[str, Any]]:
    """One gr.validate per input, so a refusal shows beside the field at fault. `prepare` reads
    the images (default prepare_image)."""
    try:
        request.validate(prepare)
    except ValidationError as exc:
        by_field: dict[str, list[str]] = {}
        for problem in exc.problems:
            by_field.setdefault(problem.field, []).append(field_problem(problem, lang))
        return [gr.validate(name not in by_field, "; ".join(by_field.get(name, []))) for name in names]
    return [gr.validate(True, "") for _ in names]


class Outputs(NamedTuple):
    """What a generation streams, in the API's order: `status`, `clip`, `details`. No gr.State among
    them: Gradio's MCP server drops State outputs from a result that has none left and fails."""

    status: str
    clip: str | None
    details: str


class Generation:
    """The two public endpoints and what sits beside them: validators, price, stop."""

    def __init__(
        self,
        settings: Settings,
        runner: Runner,
        clips: ClipShelf,
        *,
        secret: bytes,
        hf_users: HfUsers | None = None,
        fairness: Fairness | None = None,
    ) -> None:
        self.settings = settings
        self.runner = runner
        self.clips = clips
        self.secret = secret  # signs browser ids (identity.state_secret)
        self.hf_users = hf_users  # who an API or MCP caller's Hugging Face token belongs to
        # Each visitor's share of the runs, decodes and free previews (kling/app/fairness.py).
        self.fairness = fairness or Fairness.from_settings(settings)

    def key(self, session: Session | None, request: gr.Request | None) -> str | None:
        own = (session or {}).get("key") or ""
        header = request.headers.get(HEADER_KEY, "") if request is not None else ""
        return own.strip() or header.strip() or None

    async def who(
        self, request: gr.Request | None, profile: gr.OAuthProfile | None, session: Session | None
    ) -> Identity:
        """Who is asking, decided on the server: the signed-in user, else the browser id this server
        signed, else a fresh one (an API or MCP caller). Never an owner the client sent."""
        token = (session or {}).get("token")
        return await visitor(
            request, profile, token, settings=self.settings, secret=self.secret, hf_users=self.hf_users
        )

    def start(
        self, checked: I2VRequest | T2VRequest, who: Identity, user_key: str | None, *, continues: str | None = None
    ) -> Run:
        """runner.start for this visitor (owner and address from `who`): SpendRefused when a limit says no.
        `continues`: the task whose last frame this run starts from."""
        return self.runner.start(checked, owner=who.owner, user_key=user_key, ip=who.address, continues=continues)

    def may_spend(self, who: Identity, user_key: str | None) -> bool:
        """KLING_REQUIRE_LOGIN: only signed-in visitors spend the Space's key."""
        return may_spend_server_key(
            require_login=self.settings.require_login,
            signed_in=who.signed_in,
            own_key=bool(user_key),
            preview=self.runner.backend.is_preview(user_key),
        )

    def preview(self, session: Session | None) -> bool:
        return self.runner.backend.is_preview((session or {}).get("key"))

    def servable(self, state: RunState, prompt: str = "") -> str | None:
        if state.stage != "done" or state.path is None:
            return None
        # Downloads are named from the prompt and the task id; the Lab's variants keep the clip's name.
        name = clip_filename(prompt, state.task_id or "") if prompt else None
        return self.clips.servable(state.path, name)

    # The public endpoints. Their docstrings are the API's (and the MCP tools') documentation.

    async def image_to_video(
        self,
        image: str | None,
        prompt: str | None,
        negative_prompt: str | None,
        guidance_scale: float,
        duration: int | str,
        end_image: str | None = None,
        session: Session | None = None,
        continues: Continuing | None = None,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
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
        checked = i2v_request(image, prompt, negative_prompt, guidance_scale, duration, end_image)
        continued = await asyncio.to_thread(continued_task, continues, image)
        async for outputs in self._generate(checked, session, request, profile, progress, continues=continued):
            yield outputs

    async def text_to_video(
        self,
        prompt: str | None,
        negative_prompt: str | None,
        aspect_ratio: str,
        duration: int | str,
        session: Session | None = None,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
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
        checked = t2v_request(prompt, negative_prompt, aspect_ratio, duration)
        async for outputs in self._generate(checked, session, request, profile, progress):
            yield outputs

    async def _generate(
        self,
        unchecked: I2VRequest | T2VRequest,
        session: Session | None,
        request: gr.Request | None,
        profile: gr.OAuthProfile | None,
        progress: gr.Progress | None = None,
        *,
        continues: str | None = None,
    ) -> AsyncIterator[Outputs]:
        who, user_key, lang = await self.who(request, profile, session), self.key(session, request), lang_of(session)
        if not self.may_spend(who, user_key):
            raise gr.Error(say(lang, "sign_in.refusal"), title=say(lang, "refusal.sign_in_title"))
        share = self.share(who, user_key, lang)
        try:
            checked, run = await self._started(unchecked, who, user_key, lang, continues)
        except BaseException:
            share.give_back()
            raise
        share.keep_until(run.job)
        async for state in run.watch(tick=1.0):
            if progress is not None:  # MCP clients receive these as progress notifications
                progress((state.polls, None), desc=f"{state.status_words} ({clock(state.elapsed())})")
            clip = self.servable(state, checked.prompt)
            yield Outputs(status_markdown(state, lang=lang), clip, details_markdown(state, lang))
        if state.error is not None:
            raise gr.Error(str(state.error), title=say(lang, "refusal.failed_title"))

    def share(self, who: Identity, user_key: str | None, lang: Lang) -> Share:
        """This run's place among its visitor's (gr.Error at once when they have all theirs under
        way, before any decode or request); a visitor's own key is not counted."""
        try:
            return self.fairness.take(who, counted=not user_key, preview=self.runner.backend.is_preview(user_key))
        except BusyRefused as exc:
            raise gr.Error(spend_refusal(exc, lang), title=say(lang, "refusal.limit_title")) from None

    async def _started(
        self, unchecked: I2VRequest | T2VRequest, who: Identity, user_key: str | None, lang: Lang, continues: str | None
    ) -> tuple[I2VRequest | T2VRequest, Run]:
        """The request checked (its images read once, within the visitor's share) and its run started."""
        try:
            # In a thread: decoding and re-encoding a 12 MP photo takes ~0.2 s, and the event loop
            # is every other visitor's progress stream.
            prepare = self.fairness.images.preparer(who)
            validate: Callable[[], I2VRequest | T2VRequest] = lambda: unchecked.validate(prepare)  # noqa: E731
            checked = await asyncio.to_thread(validate)
        except ValidationError as exc:
            raise gr.Error(toast_text(refusal_text(exc, lang)), title=say(lang, "refusal.title")) from None
        except BusyRefused as exc:
            raise gr.Error(spend_refusal(exc, lang), title=say(lang, "refusal.limit_title")) from None
        try:
            return checked, self.start(checked, who, user_key, continues=continues)
        except SpendRefused as exc:
            raise gr.Error(spend_refusal(exc, lang), title=say(lang, "refusal.limit_title")) from None

    # Validators run before anything is queued: the refusal shows beside the input at fault.

    async def check_i2v(
        self,
        image: str | None,
        prompt: str | None,
        negative_prompt: str | None,
        guidance_scale: float,
        duration: int | str,
        end_image: str | None = None,
        session: Session | None = None,
        continues: Continuing | None = None,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> list[dict[str, Any]]:
        """As the run is queued: a visitor with all their runs under way is refused here, before
        their image is read; else the images are read (once for the whole click, see `prepare`)."""
        form = i2v_request(image, prompt, negative_prompt, guidance_scale, duration, end_image)
        who, lang = await self.who(request, profile, session), lang_of(session)
        names = ["image", "prompt", "negative_prompt", "guidance_scale", "duration", "end_image"]
        names += ["session", "continues"]
        try:
            if not self.key(session, request):
                self.fairness.runs.check(who)
            return await asyncio.to_thread(field_checks, form, names, lang, self.fairness.images.preparer(who))
        except BusyRefused as exc:
            raise gr.Error(spend_refusal(exc, lang), title=say(lang, "refusal.limit_title")) from None

    def check_t2v(
        self,
        prompt: str | None,
        negative_prompt: str | None,
        aspect_ratio: str,
        duration: int | str,
        session: Session | None = None,
    ) -> list[dict[str, Any]]:
        request = t2v_request(prompt, negative_prompt, aspect_ratio, duration)
        return field_checks(
            request, ["prompt", "negative_prompt", "aspect_ratio", "duration", "session"], lang_of(session)
        )

    # What the result panel shows when Generate is refused: the refusal itself, where the eye is,
    # and no clip from an earlier run that could pass for this one's.

    async def refusal_i2v(
        self,
        image: str | None,
        prompt: str | None,
        negative_prompt: str | None,
        guidance_scale: float,
        duration: int | str,
        end_image: str | None,
        session: Session | None = None,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> tuple[Any, Any, Any]:
        form = i2v_request(image, prompt, negative_prompt, guidance_scale, duration, end_image)
        who = await self.who(request, profile, session)
        return await self._refusal(form, lang_of(session), self.fairness.images.preparer(who))

    async def refusal_t2v(
        self,
        prompt: str | None,
        negative_prompt: str | None,
        aspect_ratio: str,
        duration: int | str,
        session: Session | None = None,
    ) -> tuple[Any, Any, Any]:
        request = t2v_request(prompt, negative_prompt, aspect_ratio, duration)
        return await self._refusal(request, lang_of(session))

    async def _refusal(
        self, request: I2VRequest | T2VRequest, lang: Lang, prepare: Preparer | None = None
    ) -> tuple[Any, Any, Any]:
        """(status, clip, details): the refusal and an empty result, or skips when the run may go.
        `prepare`: the visitor's image reader, whose read the run itself then reuses."""
        try:
            await asyncio.to_thread(request.validate, prepare)
        except ValidationError as exc:
            return f"### ⛔ {refusal_text(exc, lang, page=True)}", None, ""
        except BusyRefused as exc:
            return f"### ⛔ {spend_refusal(exc, lang)}", None, ""
        return gr.skip(), gr.skip(), gr.skip()

    def busy(self, buttons: RunButtons, status: str, session: Session | None = None) -> Updates:
        """Generate and Stop follow the status panel: while a run is under way Generate is disabled
        and counts the time, and only then is Stop shown."""
        label = busy_label(status, lang_of(session))
        return {
            buttons.go: gr.Button(value=label or text("run.generate"), interactive=label is None),
            buttons.stop: gr.Button(visible=label is not None),
        }

    def stop_waiting(self, status: str | None, session: Session | None) -> str:
        """What "Stop waiting" says; the task id is read from the run's own status line."""
        task_id, lang = task_id_in_status(status), lang_of(session)
        if not task_id:
            return say(lang, "stop.no_task")
        return say(lang, "stop.preview" if self.preview(session) else "stop.live", task_id=task_id)

    def stopped(self, out: ResultPanel, status: str | None, session: Session | None) -> Updates:
        """ "Stop waiting" in one answer: what it says, the panel's timer following the task it left
        running (if any), and a reloaded page's task no longer streamed (see ResultPanel.following)."""
        return {
            out.status: self.stop_waiting(status, session),
            out.timer: gr.Timer(active=task_id_in_status(status) is not None),
            out.following: "",
        }

    def background_for(self, out: ResultPanel) -> Callable[..., Any]:
        """`background` for one result panel, as a function whose hints Gradio reads (a partial's it
        cannot), so it is handed the request and the signed-in profile."""

        async def background(
            status: str | None,
            session: Session | None,
            request: gr.Request,
            profile: gr.OAuthProfile | None,
            following: str | None = None,  # the third input: Gradio hands the request and profile by their hints
        ) -> Updates:
            return await self.background(out, status, session, request, profile, following=following)

        return background

    async def background(
        self,
        out: ResultPanel,
        status: str | None,
        session: Session | None,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
        *,
        following: str | None = None,
    ) -> Updates:
        """After "Stop waiting": the task's news, once it has some (the result panel's timer
        asks), then the timer stops. After a reload (`following` is the task's id): its status,
        streaming again. The task is read from the status line, and shown only to its owner."""
        task_id = task_id_in_status(status)
        job = self.runner.journal.get(task_id) if task_id and self.runner.journal else None
        if job is None or job.owner != (await self.who(request, profile, session)).owner:
            return {out.timer: gr.Timer(active=False)}
        if following and following == job.id:
            return self.follow(out, job, lang_of(session))
        if self.runner.is_running(job.id):  # said again: a late message of the stopped stream may have painted over it
            return {out.status: self.stop_waiting(status, session), out.timer: gr.Timer(active=True)}
        lang = lang_of(session)
        if job.clip_saved:
            return {
                out.status: say(lang, "background.done", task_id=task_id),
                out.video: self.clips.servable(
                    Path(job.local_path), clip_filename(job.params.get("prompt", ""), job.id)
                ),
                out.timer: gr.Timer(active=False),
            }
        ended = say(lang, "background.ended", task_id=task_id, status=job_status(job, lang=lang))
        return {out.status: ended, out.timer: gr.Timer(active=False)}

    def follow(self, out: ResultPanel, job: Job, lang: Lang) -> Updates:
        """A task of this visitor's on a reloaded page (the caller checked whose it is): its run's
        own status while this process still waits for it, then its clip or how it ended."""
        run = self.runner.run_of(job.id)
        if run is not None and not run.state.finished:
            return {
                out.status: following_status(run.state, lang),
                out.details: details_markdown(run.state, lang),
                out.timer: gr.Timer(active=True),
                out.following: job.id,
            }
        name = clip_filename(job.params.get("prompt", ""), job.id)
        return {
            out.status: ended_status(job, lang),
            out.video: self.clips.servable(Path(job.local_path), name) if job.clip_saved else None,
            out.timer: gr.Timer(active=False),
            out.following: "",
        }

    def price(self, duration: int | str, session: Session | None) -> str:
        return price_text(duration, self.preview(session), lang_of(session))
