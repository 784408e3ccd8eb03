"""What each control on the page does. Short on purpose: validation lives in `kling.api.params`, the
background job in `kling.jobs.runner`, the words in `kling.app.views`. Handlers that fill the page answer
with a dict keyed by component, so a component they leave out keeps its value.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import gradio as gr
import httpx
from PIL import Image

from kling.api.models import is_task_id
from kling.api.params import I2VRequest, T2VRequest
from kling.app.fairness import Fairness, Share
from kling.app.hf_user import HfUsers
from kling.app.identity import Identity, may_spend_server_key
from kling.app.views import (
    LAB_I2V,
    SHARED_SETTINGS,
    busy_label,
    clip_choice,
    clip_filename,
    clock,
    compose_brief,
    continuing_note,
    details_markdown,
    field_problem,
    film_choice,
    film_markdown,
    history_headers,
    history_rows,
    history_total,
    job_markdown,
    job_status,
    key_status,
    mode_banner,
    price_text,
    refusal_text,
    settings_from_query,
    share_link,
    showcase_details,
    showcase_status,
    status_markdown,
    task_id_in_status,
    video_label,
)
from kling.app.visitor import visitor
from kling.app.widgets import CROSSFADE_MAX_S, I2VForm, LabSlot, Parts, ResultPanel, RunButtons, T2VForm, thumbnails
from kling.config import Settings
from kling.errors import AuthenticationError, BusyRefused, FilmError, KlingError, SpendRefused, ValidationError
from kling.examples import STARTERS, T2V_EXAMPLES, Generable, Starter
from kling.jobs import lab
from kling.jobs.run import Run, RunState
from kling.jobs.runner import Runner
from kling.media.images import Preparer
from kling.media.video import save_last_frame, stitch_to_films
from kling.store.clips import ClipShelf
from kling.store.films import Film, films_for, frame_path, oldest_films_past, owned_film, pixel_digest, record_film
from kling.store.journal import Job, Journal
from kling.store.recipes import stamp_film
from kling.store.showcase import ShowcaseClip, clip_for
from kling.strings import Lang, example_title, language, say, spend_text, text, toast_text

log = logging.getLogger("kling.store.showcase")

HEADER_KEY = "x-wavespeed-key"  # lets scripts using gradio_client bring their own key
# {"token": the browser id this server signed (kling.app.identity), "key": the visitor's own key or "",
# "lang": the page's language for what handlers write, from the browser's Accept-Language}.
# Server-side (gr.State): a client cannot write it, only the restore handler does. An API or MCP
# caller has none of it: English, and a fresh id.
Session = dict[str, str]
Updates = dict[Any, Any]  # component -> new value or gr.update
Continuing = dict[str, str]  # {"task": the task continued, "pixels": pixel_digest of its last frame}


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


def lang_of(session: Session | None) -> Lang:
    """The language the page speaks to this visitor (English for an API or MCP caller)."""
    return (session or {}).get("lang") or "en"


def spend_refusal(exc: SpendRefused, lang: Lang) -> str:
    """A limit's refusal in the visitor's language (kling.jobs.guard writes it in English)."""
    return spend_text(lang, exc.reason, **dict(exc.values)) if exc.reason else str(exc)


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
        # Each visitor's share of the runs, decodes and free previews (kling/fairness.py).
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
            return f"### ⛔ {refusal_text(exc, lang)}", None, ""
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

    def follow_after_stop(self, status: str | None) -> gr.Timer:
        """After "Stop waiting", the result panel's timer follows the task it left running, if any."""
        return gr.Timer(active=task_id_in_status(status) is not None)

    def background_for(self, out: ResultPanel) -> Callable[..., Any]:
        """`background` for one result panel, as a function whose hints Gradio reads (a partial's it
        cannot), so it is handed the request and the signed-in profile."""

        async def background(
            status: str | None,
            session: Session | None,
            request: gr.Request,
            profile: gr.OAuthProfile | None,
        ) -> Updates:
            return await self.background(out, status, session, request, profile)

        return background

    async def background(
        self,
        out: ResultPanel,
        status: str | None,
        session: Session | None,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> Updates:
        """After "Stop waiting": the task's news, once it has some (the result panel's timer
        asks), then the timer stops. The task is read from the status line, and shown only to its owner."""
        task_id = task_id_in_status(status)
        job = self.runner.journal.get(task_id) if task_id and self.runner.journal else None
        if job is None or job.owner != (await self.who(request, profile, session)).owner:
            return {out.timer: gr.Timer(active=False)}
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

    def price(self, duration: int | str, session: Session | None) -> str:
        return price_text(duration, self.preview(session), lang_of(session))


class Visitor:
    """A browser arriving, saving or clearing its key, and following a shared link."""

    def __init__(self, generation: Generation, parts: Parts, showcase: dict[str, ShowcaseClip] | None = None) -> None:
        self.g = generation
        self.parts = parts
        self.showcase = showcase or {}

    async def restore(
        self,
        token: str | None,
        saved_key: str | None,
        i2v_duration: int | str,
        t2v_duration: int | str,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> Updates:
        """The browser's stored id, checked: a forged or missing one is replaced by a fresh signed
        one, which the browser stores. The session keeps the token, never an owner."""
        who = await self.g.who(request, profile, {"token": token or ""})
        lang = language(request.headers.get("accept-language") if request is not None else None)
        session = {"token": who.browser_token or "", "key": (saved_key or "").strip(), "lang": lang}
        if session["key"]:
            # Tasks paid with this browser's own key can only resume now that the key is back.
            self.g.runner.resume_unfinished(owner=who.owner, user_key=session["key"])
        updates = {self.parts.owner_store: who.browser_token, **self._session(session, i2v_duration, t2v_duration)}
        if lang != "en":  # the examples' captions (and alt texts) were built in English
            updates[self.parts.i2v.examples] = gr.Gallery(thumbnails(STARTERS, self.showcase, lang))
            updates[self.parts.t2v.examples] = gr.Gallery(thumbnails(T2V_EXAMPLES, self.showcase, lang))
        return updates

    async def save_key(
        self, typed: str | None, session: Session | None, i2v_duration: int | str, t2v_duration: int | str
    ) -> Updates:
        """Check the key with WaveSpeed (its balance, which is free) before keeping it: a refused
        key leaves the page as it was, in the mode it really is in."""
        key, session = (typed or "").strip(), session or {}
        lang = lang_of(session)
        if not key:
            gr.Warning(say(lang, "key.paste_first"))
        balance: float | None = None
        try:
            balance = await self.g.runner.backend.client(key).balance() if key else None
        except AuthenticationError:
            kept = session.get("key", "")
            return {
                self.parts.key.box: "",
                **self._session(session, i2v_duration, t2v_duration),
                self.parts.key.info: key_status(self.g.settings, kept, refused=True, lang=lang),
            }
        except (KlingError, httpx.HTTPError):  # WaveSpeed out of reach: the key may be fine
            gr.Warning(say(lang, "key.unchecked"))
        updates = {
            self.parts.key_store: key,
            self.parts.key.box: "",
            **self._session({**session, "key": key}, i2v_duration, t2v_duration),
        }
        updates[self.parts.key.info] = key_status(self.g.settings, key, balance, lang=lang)
        return updates

    def clear_key(self, session: Session | None, i2v_duration: int | str, t2v_duration: int | str) -> Updates:
        return {
            self.parts.key_store: "",
            self.parts.key.box: "",
            **self._session({**(session or {}), "key": ""}, i2v_duration, t2v_duration),
        }

    def _session(self, session: Session, i2v_duration: int | str, t2v_duration: int | str) -> Updates:
        """The session, and everything on the page that depends on live or preview: banner, key
        note, prices, clip labels."""
        p, key, preview, lang = self.parts, session.get("key", ""), self.g.preview(session), lang_of(session)
        guard = self.g.runner.guard
        label = video_label(preview, lang)
        return {
            p.session: session,
            p.banner: mode_banner(self.g.settings, key, guard.budget_left_cents() if guard else None, lang),
            p.key.info: key_status(self.g.settings, key, lang=lang),
            p.i2v.buttons.price: price_text(i2v_duration, preview, lang),
            p.t2v.buttons.price: price_text(t2v_duration, preview, lang),
            p.i2v.out.video: gr.Video(label=label),
            p.t2v.out.video: gr.Video(label=label),
        }

    def link(self, tab: str, page_url: str, *values: Any) -> str:
        """A link to this page with the tab's settings (the order of SHARED_SETTINGS[tab])."""
        return share_link(page_url, tab, dict(zip(SHARED_SETTINGS[tab], values)))

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

    def _job(self, task_id: str, who: Identity) -> Job | None:
        job = self.journal.get(task_id) if task_id else None
        return job if job is not None and job.owner == who.owner else None

    async def list(
        self, session: Session | None, request: gr.Request | None = None, profile: gr.OAuthProfile | None = None
    ) -> Updates:
        """The table, and the stitch panel's clips and films (a pick that still exists stays picked)."""
        who, lang = await self.g.who(request, profile, session), lang_of(session)
        jobs = self.journal.for_owner(who.owner)
        running = {job.id for job in jobs if self.g.runner.is_running(job.id)}
        view, stitch = self.parts.history, self.parts.history.stitch
        clips = [clip_choice(job) for job in jobs if job.clip_saved]
        films = [film_choice(film) for film in films_for(self.g.settings.data_dir, who.owner)]
        return {
            view.info: history_total(jobs, lang),
            view.table: gr.Dataframe(value=history_rows(jobs, running, lang), headers=history_headers(lang)),
            view.timer: gr.Timer(active=bool(running)),  # refreshes itself only while a task runs
            stitch.clips: gr.Dropdown(choices=clips),
            stitch.films: gr.Dropdown(choices=films),
        }

    async def select(
        self,
        session: Session | None,
        evt: gr.SelectData,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> Updates:
        view = self.parts.history
        row = evt.row_value or []
        job = self._job(str(row[-1]) if row else "", await self.g.who(request, profile, session))
        if job is None:
            return {view.selected_id: "", view.video: None, view.job: say(lang_of(session), "history.select")}
        name = clip_filename(job.params.get("prompt", ""), job.id)
        clip = self.g.clips.servable(Path(job.local_path), name) if job.clip_saved else None
        return {view.selected_id: job.id, view.video: clip, view.job: job_markdown(job, lang_of(session))}

    async def use_settings(
        self,
        task_id: str,
        session: Session | None,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> Updates:
        """Fill the form of the job's tab with its settings and switch to that tab."""
        job = self._job(task_id, await self.g.who(request, profile, session))
        if job is None:
            gr.Warning(say(lang_of(session), "history.select_first"))
            return {self.parts.tabs: gr.skip()}  # not {}: Gradio would take it for one output value
        p, i2v, t2v = job.params, self.parts.i2v, self.parts.t2v
        if job.model.endswith("i2v-master"):
            return {
                self.parts.tabs: gr.Tabs(selected="i2v"),
                i2v.image: self._input_copy(p.get("image")),
                i2v.text.prompt: p.get("prompt", ""),
                i2v.text.negative: p.get("negative_prompt", ""),
                i2v.guidance: p.get("guidance_scale", 0.5),
                i2v.duration: p.get("duration", 5),
                i2v.end_image: self._input_copy(p.get("end_image")),
            }
        return {
            self.parts.tabs: gr.Tabs(selected="t2v"),
            t2v.text.prompt: p.get("prompt", ""),
            t2v.text.negative: p.get("negative_prompt", ""),
            t2v.aspect_ratio: p.get("aspect_ratio", "16:9"),
            t2v.duration: p.get("duration", 5),
        }

    def _input_copy(self, recorded: str | None) -> str | None:
        """The journal's copy of an input image, as a file Gradio may serve: the copy itself is in
        the data folder, which Gradio's file routes refuse (the form would silently stay empty)."""
        if not recorded:
            return None
        copy = Path(recorded)
        if copy.is_file() and copy.parent == self.journal.inputs_dir:
            return self.g.clips.servable(copy)
        return recorded if "://" in recorded else None  # an http(s) URL sent as is; a copy since removed

    async def resume(
        self,
        task_id: str,
        session: Session | None,
        request: gr.Request | None = None,
        profile: gr.OAuthProfile | None = None,
    ) -> AsyncIterator[Updates]:
        task_id, lang = (task_id or "").strip(), lang_of(session)
        if not is_task_id(task_id):
            refusal = say(lang, "resume.not_an_id", text=toast_text(repr(task_id[:60])))
            raise gr.Error(refusal, title=say(lang, "resume.not_an_id_title"))
        who = await self.g.who(request, profile, session)
        job = self.journal.get(task_id)
        if job is not None and job.lost_submit:  # our name for a lost submit, not a task at WaveSpeed
            refusal = say(lang, "resume.not_an_id", text=repr(task_id[:60]))
            raise gr.Error(refusal, title=say(lang, "resume.not_an_id_title"))
        if job is not None and job.owner != who.owner:
            raise gr.Error(say(lang, "resume.not_yours"), title=say(lang, "resume.not_yours_title"))
        if job is not None and job.preview and job.unfinished:
            raise gr.Error(say(lang, "resume.preview_gone"))
        if job is None and any(claim.owner != who.owner for claim in self.journal.claims(task_id)):
            raise gr.Error(say(lang, "resume.claimed"), title=say(lang, "resume.not_yours_title"))
        try:
            run = self.g.runner.resume_typed(
                task_id, owner=who.owner, user_key=self.g.key(session, request), ip=who.address
            )
        except SpendRefused as exc:
            raise gr.Error(spend_refusal(exc, lang), title=say(lang, "refusal.limit_title")) from None
        view = self.parts.history
        async for state in run.watch(tick=1.0):
            yield {view.job: status_markdown(state, lang=lang), view.video: self.g.servable(state)}
        if state.error is not None:
            raise gr.Error(str(state.error), title=say(lang, "resume.failed_title"))


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

    async def run(
        self, values: dict[Any, Any], request: gr.Request | None = None, profile: gr.OAuthProfile | None = None
    ) -> AsyncIterator[Updates]:
        form, session = self.parts.lab, values[self.parts.session]
        who, user_key, lang = (
            await self.g.who(request, profile, session),
            self.g.key(session, request),
            lang_of(session),
        )
        if not self.g.may_spend(who, user_key):
            raise gr.Error(say(lang, "sign_in.refusal"), title=say(lang, "refusal.sign_in_title"))
        variants, image = self._variants(values), values[form.image]
        i2v = values[form.mode] == LAB_I2V
        if i2v and not image:
            raise gr.Error(say(lang, "lab.needs_image"))
        try:
            requests = lab.validated(variants, image=image if i2v else None, aspect_ratio=values[form.aspect_ratio])
        except ValidationError as exc:
            raise gr.Error(toast_text(refusal_text(exc, lang)), title=say(lang, "refusal.lab_title")) from None
        labels, runs, refused = lab.differences(variants, i2v=i2v, lang=lang), [], ""
        for checked in requests:
            try:
                runs.append(self.g.start(checked, who, user_key))
            except SpendRefused as exc:
                refused = say(lang, "lab.not_started", letter=lab.LETTERS[len(runs)], reason=spend_refusal(exc, lang))
                break
        while True:
            states = [run.state for run in runs]
            yield self._progress(labels, states, refused, lang)
            if all(state.finished for state in states):
                return
            await asyncio.sleep(0.5)

    def _progress(self, labels: list[str], states: list[RunState], refused: str, lang: Lang = "en") -> Updates:
        updates: Updates = {}
        for slot, label, state in zip(self.parts.lab.slots, labels, states):
            updates[slot.status] = f"**{label}**\n\n{status_markdown(state, lang=lang)}"
            updates[slot.video] = self.g.servable(state)
            updates[slot.task] = state.task_id or ""
        summary = say(lang, "lab.summary", done=sum(state.stage == "done" for state in states), total=len(states))
        updates[self.parts.lab.summary] = f"{summary}\n\n{refused}" if refused else summary
        return updates

    def stopped(self, session: Session | None) -> str:
        """What the Lab's "Stop waiting" says."""
        return say(lang_of(session), "lab.stopped")

    def layout(self, mode: str, count: int | str) -> Updates:
        """Show the slots in use, the image or the aspect ratio, and guidance only for I2V."""
        form, i2v = self.parts.lab, mode == LAB_I2V
        updates: Updates = {form.image: gr.Image(visible=i2v), form.aspect_ratio: gr.Radio(visible=not i2v)}
        for i, slot in enumerate(form.slots):
            updates[slot.column] = gr.Column(visible=i < int(count))
            updates[slot.guidance] = gr.Slider(visible=i2v)
            updates[slot.video] = gr.Video(visible=i < int(count))
        return updates

    def price(self, values: dict[Any, Any]) -> str:
        durations, session = [values[slot.duration] for slot in self._slots(values)], values[self.parts.session]
        return lab.total_price_text(durations, preview=self.g.preview(session), lang=lang_of(session))

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


class Examples:
    """Clicking an example: it fills the form, and when the showcase has its clip (made with the
    example's current settings), shows that clip at once. Reads only the showcase loaded at
    start-up: a click never calls the API and never starts a run."""

    def __init__(self, showcase: dict[str, ShowcaseClip], parts: Parts) -> None:
        self.showcase = showcase
        self.parts = parts

    def clip(self, example: Generable) -> ShowcaseClip | None:
        clip = clip_for(example, self.showcase)
        if clip is not None and not clip.clip_path.is_file():
            log.warning("Showcase clip %s is gone since start-up; not shown", clip.clip_path)
            return None
        return clip

    def pick_starter(self, session: Session | None, evt: gr.SelectData) -> Updates:
        """A thumbnail of the Image to Video gallery (it shows STARTERS in order)."""
        return self._pick(STARTERS, evt, lang_of(session))

    def pick_t2v(self, session: Session | None, evt: gr.SelectData) -> Updates:
        """A thumbnail of the Text to Video gallery (it shows T2V_EXAMPLES in order)."""
        return self._pick(T2V_EXAMPLES, evt, lang_of(session))

    def _pick(self, examples: Sequence[Generable], evt: gr.SelectData, lang: Lang) -> Updates:
        index = evt.index if isinstance(evt.index, int) else -1
        if not 0 <= index < len(examples):
            return {self.parts.tabs: gr.skip()}  # not {}: Gradio would take it for one output value
        return self.fill(examples[index], lang)

    def fill(self, example: Generable, lang: Lang = "en") -> Updates:
        i2v, t2v = self.parts.i2v, self.parts.t2v
        form: I2VForm | T2VForm
        if isinstance(example, Starter):
            form, updates = (
                i2v,
                {
                    i2v.image: str(example.image_path),
                    i2v.end_image: None,
                    i2v.text.prompt: example.prompt,
                    i2v.text.negative: example.negative_prompt,
                    i2v.guidance: example.guidance_scale,
                    i2v.duration: example.duration,
                },
            )
        else:
            form, updates = (
                t2v,
                {
                    t2v.text.prompt: example.prompt,
                    t2v.text.negative: example.negative_prompt,
                    t2v.aspect_ratio: example.aspect_ratio,
                    t2v.duration: example.duration,
                },
            )
        clip = self.clip(example)
        if clip is not None:
            updates |= {
                form.out.status: showcase_status(example_title(example.key, example.title, lang), clip, lang),
                form.out.video: str(clip.clip_path),
                form.out.details: showcase_details(clip, lang),
            }
        return updates


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
            gr.Warning(say(lang, "continue.none"))
            return {self.parts.tabs: gr.skip()}  # not {}: Gradio would take it for one output value
        frame = frame_path(self.data_dir, job.id)
        try:
            await asyncio.to_thread(save_last_frame, Path(job.local_path), frame)
            pixels = await asyncio.to_thread(pixel_digest, frame)
            await asyncio.to_thread(self.g.runner.disk.frames, frame)
        except FilmError as exc:
            refusal = say(lang, "continue.unreadable", reason=exc)
            raise gr.Error(refusal, title=say(lang, "continue.unreadable_title")) from None
        i2v = self.parts.i2v
        return {
            self.parts.tabs: gr.Tabs(selected="i2v"),
            i2v.image: self.g.clips.servable(frame),
            i2v.end_image: None,
            i2v.text.prompt: job.params.get("prompt", ""),
            i2v.text.negative: job.params.get("negative_prompt", ""),
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
    ) -> Updates:
        """One film from the picked clips, in the order picked; saved under films/ for this visitor."""
        owner, lang = (await self.g.who(request, profile, session)).owner, lang_of(session)
        title = say(lang, "stitch.title")
        picked = [str(task_id) for task_id in (task_ids or [])]
        if len(picked) < 2:
            raise gr.Error(say(lang, "stitch.too_few"), title=title)
        too_long = self._too_long(picked, owner, lang)
        if too_long:
            raise gr.Error(too_long, title=title)
        jobs = [self._clip(task_id, owner) for task_id in picked]
        missing = [task_id for task_id, job in zip(picked, jobs) if job is None]
        if missing:
            raise gr.Error(
                say(lang, "stitch.not_yours", ids=toast_text(", ".join(missing)[:120])),
                title=title,
            )
        clips = [Path(job.local_path) for job in jobs if job is not None]
        fade = float(crossfade or 0)
        if not 0 <= fade <= CROSSFADE_MAX_S:
            raise gr.Error(say(lang, "stitch.bad_fade", max=f"{CROSSFADE_MAX_S:g}", fade=f"{fade:g}"), title=title)
        if owner in self.stitching:
            raise gr.Error(say(lang, "stitch.busy"), title=title)
        self.stitching.add(owner)
        try:
            result = await asyncio.to_thread(stitch_to_films, clips, self.data_dir, fade)
        except FilmError as exc:
            raise gr.Error(str(exc), title=say(lang, "stitch.failed_title")) from None
        finally:
            self.stitching.discard(owner)
        film = record_film(
            result, owner=owner, tasks=picked, crossfade=fade, preview=any(job.preview for job in jobs if job)
        )
        await asyncio.to_thread(stamp_film, film.path(self.data_dir), [job for job in jobs if job], made=film.created)
        return self._showing(film, owner, self._keep_within_caps(film, owner, lang))

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


def _declared_seconds(job: Job | None) -> float:
    """A clip's length as its task asked for it (Kling makes 5 or 10 s); the longest when unknown."""
    try:
        return float((job.params if job else {}).get("duration", 10))
    except (TypeError, ValueError):
        return 10.0


class Handlers:
    """Every handler of the page, built once its components exist."""

    prompt_help: Any = None  # kling.app.prompt_help.PromptHelp, set by the page once it is wired

    def __init__(
        self, generation: Generation, journal: Journal, parts: Parts, showcase: dict[str, ShowcaseClip] | None = None
    ) -> None:
        self.generation = generation
        self.examples = Examples(showcase or {}, parts)
        self.visitor = Visitor(generation, parts, showcase)
        self.history = History(generation, journal, parts)
        self.lab = Lab(generation, parts)
        self.films = Films(generation, journal, parts)


def compose_into(*brief_then_prompt: str) -> Any:
    """The brief as the prompt, only over an empty one: the page's script empties a typed prompt
    only once the visitor agreed to replace it."""
    *brief, prompt = brief_then_prompt
    if (prompt or "").strip():
        return gr.skip()
    return compose_brief(*brief)
